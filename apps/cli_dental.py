"""``genai dental``: segment and number teeth, train tooth/caries models, balance caries patches with a
conditional GAN and measure it, and search similar cases. Every clinical output is a draft for review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, make_services, print_json

app = typer.Typer(help="Dental panoramic radiographs: teeth + FDI numbers, caries, GAN balancing, search.")

DeviceOption = Annotated[str | None, typer.Option(help="auto, cpu or cuda (default from settings)")]


def _device(services, device: str | None) -> str:
    from genai_models.runtime import resolve_device

    return resolve_device(device or services.settings.dental.device)


@app.command()
def segment(
    image: Annotated[Path, typer.Argument(help="panoramic radiograph: PNG/JPG/BMP/TIFF (8/16-bit) or DICOM")],
    out: Annotated[Path, typer.Option(help="folder for teeth.png, overlay.png, teeth.json")] = Path(
        "dental-out"
    ),
    weights: Annotated[Path | None, typer.Option(help="teeth *_unet.pt (default: packaged)")] = None,
    caries_weights: Annotated[Path | None, typer.Option(help="caries *_unet.pt from `train caries`")] = None,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Outline and number every tooth (FDI), plus caries when a caries model was trained."""
    from domains.dental.render import write_outputs
    from domains.dental.segment import analyse_radiograph

    services = make_services(config)
    dental = services.settings.dental
    result = analyse_radiograph(
        image,
        teeth_weights=weights or dental.teeth_path(),
        caries_weights=caries_weights or dental.caries_path(services.settings.data_dir),
        device=_device(services, device),
        mirror_average=dental.mirror_average,
    )
    files = write_outputs(result, out)
    if as_json:
        print_json({**result.to_json(), "files": files})
        return
    typer.echo(result.to_json()["notice"])
    typer.echo(f"{len(result.teeth)} teeth: {' '.join(str(t.fdi) for t in result.teeth)}")
    if result.caries_map is not None:
        typer.echo(f"{len(result.caries)} suspected caries regions")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {', '.join(files.values())}")


@app.command()
def train(
    task: Annotated[str, typer.Argument(help="teeth (UFBA-425 layout) or caries (DC1000 layout)")],
    data: Annotated[Path, typer.Option(help="dataset folder", exists=True, file_okay=False)],
    out: Annotated[
        Path | None, typer.Option(help="output folder (caries default: <data_dir>/dental/caries)")
    ] = None,
    minutes: Annotated[float, typer.Option(help="wall-clock budget, evaluation included", min=0.05)] = 3.5,
    size: Annotated[
        tuple[int, int] | None, typer.Option(help="training height width (multiples of 32)")
    ] = None,
    patch: Annotated[
        tuple[int, int] | None,
        typer.Option(help="train on crops of this height width, sliding-window inference (caries: 256 256)"),
    ] = None,
    batch: Annotated[int | None, typer.Option(min=1)] = None,
    lr: Annotated[float, typer.Option(help="peak learning rate (fine-tuning: ~5e-4)", min=0.0)] = 2e-3,
    init: Annotated[
        str | None,
        typer.Option(
            help="fine-tune from these *_unet.pt weights (with their .json); 'shipped' = the teeth model"
        ),
    ] = None,
    seed: int = 0,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train a segmentation network against a time budget and report held-out Dice (and FDI numbering).

    With ``--init`` it fine-tunes existing weights, e.g. the shipped teeth model on a clinic's own labelled
    panoramics."""
    import time

    from data_connectors.errors import BadInputError
    from domains.dental.segment import PACKAGED_WEIGHTS
    from domains.dental.train import TASKS
    from domains.dental.train import train as run_training

    if task not in TASKS:
        raise BadInputError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    services = make_services(config)
    target = out or services.settings.data_dir / "dental" / task
    try:
        metrics = run_training(
            task, data, target, minutes=minutes, device=_device(services, device), size=size, patch=patch,
            batch=batch, lr=lr, seed=seed, started=time.monotonic(),
            init=PACKAGED_WEIGHTS if init == "shipped" else (Path(init) if init else None),
            progress=(lambda m: None) if as_json else typer.echo,
        )  # fmt: skip
    except ValueError as error:
        raise BadInputError(str(error)) from None
    if as_json:
        print_json({"out": str(target), **metrics})


@app.command()
def balance(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="labelled radiographs: DC1000 layout (images_1024/, colors/), images/ + masks/, or a COCO or "
            "YOLO export (Roboflow)"
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="folder for the balanced patch dataset (default: <data_dir>/dental/balanced/<name>; "
            "the hub's balancing page lists the folders there)"
        ),
    ] = None,
    target_per_class: Annotated[
        int,
        typer.Option(
            help="training classes with fewer patches are topped up to this many with synthetic ones; larger "
            "classes (usually healthy) keep all their real patches, and the test split stays real only",
            min=1,
        ),
    ] = 300,
    gan_minutes: Annotated[float, typer.Option(help="conditional GAN training budget", min=0.05)] = 3.0,
    generator: Annotated[
        str,
        typer.Option(
            help="how the conditional GAN is trained: sngan+diffaugment (varied patches from a few hundred per "
            "class), dcgan+diffaugment or dcgan (these collapsed on DC1000; kept for comparison)"
        ),
    ] = "sngan+diffaugment",
    seed: int = 0,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lesion-centred patches; conditional-GAN top-up of the smaller classes; manifest marks every synthetic file.

    Classes come from the dataset: caries-1/2/3 for DC1000, the annotated categories of a COCO or YOLO export,
    the mask values of images + masks (one patch per region of each class); "healthy" patches are the majority
    class. Skipped inputs are reported by content hash with the reason, never by file name."""
    from domains.dental.balance import balance_dataset, balanced_root

    services = make_services(config)
    out = out or balanced_root(services.settings.data_dir) / dataset.resolve().name
    report = balance_dataset(
        dataset, out, target_per_class=target_per_class, gan_minutes=gan_minutes, generator=generator,
        device=_device(services, device), seed=seed, progress=(lambda m: None) if as_json else typer.echo,
    )  # fmt: skip
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"before {report['counts_before']} -> after {report['counts_after']}; manifest {out}/manifest.csv"
    )
    for skip in report["skipped_images"]:
        image, reason = skip["image"] or "(unknown image)", skip["reason"]
        typer.echo(f"skipped {reason if reason.startswith(f'{image}: ') else f'{image}: {reason}'}", err=True)


@app.command("evaluate-balance")
def evaluate_balance(
    balanced: Annotated[Path, typer.Argument(help="folder written by `genai dental balance`")],
    seeds: Annotated[int, typer.Option(min=1)] = 3,
    epochs: Annotated[int, typer.Option(min=1)] = 15,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Patch classifier trained original / classical / classical+synthetic; P/R/F1 on real test patches."""
    from domains.dental.balance import evaluate_balance as run

    services = make_services(config)
    report = run(balanced, seeds=seeds, epochs=epochs, device=_device(services, device),
                 progress=(lambda m: None) if as_json else typer.echo)  # fmt: skip
    if as_json:
        print_json(report)
        return
    for regime, row in report["results"].items():
        f1 = row["macro_f1"]
        spread = f"± {f1['sd']:.3f}" if f1["sd"] is not None else "(one seed: no sd)"
        typer.echo(f"{regime:<22} macro-F1 {f1['mean']:.3f} {spread}")


@app.command()
def index(
    folder: Annotated[
        Path,
        typer.Argument(
            help="folder of radiographs (label = UFBA cateN prefix; cases are kept by content hash)"
        ),
    ],
    collection: Annotated[str, typer.Option(help="image collection name")] = "dental-cases",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Embed radiographs (packaged EfficientNet-Lite0) into a Chroma image collection for similar-case search.

    Each case is stored under a hash of its content, never its file name; files that are not radiographs are
    skipped with the reason and their position in sorted order ("file #3"), not their name."""
    from data_connectors.errors import BadInputError
    from data_connectors.images import IMAGE_SUFFIXES
    from domains.dental.search import category_of, index_cases
    from genai_models.metrics import effnet_extractor
    from rag.image_collections import ImageCollection

    services = make_services(config)
    if not folder.is_dir():
        raise BadInputError(f"{folder} is not a folder; pass the folder of radiographs to index.")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    paths = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]  # "file #N" counts these, in this order
    ignored = len(files) - len(paths)
    if not paths:
        raise BadInputError(f"{folder} holds no radiograph ({', '.join(IMAGE_SUFFIXES)}); nothing to index.")
    store = ImageCollection(collection, data_dir=services.settings.data_dir, config=services.settings.chroma,
                            create=True)  # fmt: skip
    written, skipped = index_cases(store, paths, effnet_extractor(services.settings.data_dir),
                                   [category_of(p.name) for p in paths])  # fmt: skip
    if as_json:
        print_json({"collection": collection, "indexed": written, "skipped": skipped, "not_images": ignored})
        return
    typer.echo(f"indexed {written} radiographs into {collection}")
    for reason in skipped:
        typer.echo(f"skipped: {reason} (numbered among the image files, in sorted order)", err=True)
    if ignored:
        typer.echo(
            f"not read: {ignored} file(s) without an image extension ({', '.join(IMAGE_SUFFIXES)})", err=True
        )


@app.command()
def similar(
    image: Annotated[Path, typer.Argument(help="radiograph to look up")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="how many similar prior cases")] = 5,
    collection: Annotated[str, typer.Option(help="image collection name")] = "dental-cases",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The k most similar indexed radiographs (content-hash ids), with their labels: a draft for review."""
    from domains.dental.search import similar_cases
    from genai_models.metrics import effnet_extractor
    from rag.image_collections import ImageCollection

    services = make_services(config)
    store = ImageCollection(collection, data_dir=services.settings.data_dir, config=services.settings.chroma)
    result = similar_cases(store, image, effnet_extractor(services.settings.data_dir), k=k)
    if as_json:
        print_json(result.to_json())
        return
    typer.echo(result.to_json()["notice"])
    for case in result.cases:
        typer.echo(f"{case.similarity:.3f}  {case.label or '-':<8} {case.id}")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
