"""``genai models``: train the generative vision models (GANs, autoencoders, VAEs) on your images, sample
from a run and evaluate it with the metrics that fit its kind (FID-EffNetLite0 is not Inception FID)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json

app = typer.Typer(help="Generative vision models: train, sample, evaluate, list.", no_args_is_help=True)

DataOption = Annotated[
    str,
    typer.Option("--data", help="digits, fashion-mnist[:DIR], an *-images-idx3-ubyte[.gz] file or an image "
                 "folder with one sub-folder per class"),
]
DeviceOption = Annotated[str | None, typer.Option(help="auto, cpu or cuda (default from settings)")]
RunArgument = Annotated[Path, typer.Argument(help="run folder written by `genai models train`")]


def _device(services, device: str | None) -> str:
    from genai_models.runtime import resolve_device

    return resolve_device(device or services.settings.device)


def _run_dir(path: Path) -> Path:
    from data_connectors.errors import BadInputError

    if not (path / "run.json").is_file():
        raise BadInputError(f"{path} is not a training run (no run.json); train one with `genai models train`.")
    return path


def _classes(text: str | None) -> list[int] | None:
    from data_connectors.errors import BadInputError

    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise BadInputError(f"--classes {text!r} is not a comma-separated list of class numbers; e.g. 0,1,2.") from None


def _options(pairs: list[str] | None) -> dict[str, str]:
    """``["base_channels=16", "diff_augment=false"]`` -> ``{key: text}``; ``train_run`` converts each text to the
    type the model's constructor declares (``coerce_model_options``) and refuses what does not fit."""
    from data_connectors.errors import BadInputError

    options: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--option {pair!r} is not KEY=VALUE; e.g. --option base_channels=16.")
        options[key.strip()] = value
    return options


def _grid_path(out: Path | None, run_dir: Path) -> Path:
    """Where `sample` writes: --out, or samples.png inside it when it is a folder, else RUN_DIR/sampled.png."""
    if out is None:
        return run_dir / "sampled.png"
    return out / "samples.png" if out.is_dir() else out


@app.command("list")
@guarded
def list_models(as_json: JsonOption = False) -> None:
    """Models that `genai models train` accepts, with their kind (gan, autoencoder, vae)."""
    from genai_models.runs import TRAINABLE, model_kind
    from genai_models.zoo import model_class

    rows = [{"name": name, "kind": model_kind(name), "conditional": bool(model_class(name).conditional),
             "has_latent": bool(model_class(name).has_latent)} for name in TRAINABLE]
    if as_json:
        print_json({"models": rows})
        return
    for row in rows:
        extra = ", conditional" if row["conditional"] else ""
        typer.echo(f"{row['name']:<22} {row['kind']}{extra}")


@app.command()
@guarded
def train(
    model: Annotated[str, typer.Argument(help="model name (see `genai models list`)")],
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="run folder to create (weights, metrics.csv, PNGs)")],
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    lr: Annotated[float, typer.Option(min=0.0, help="peak learning rate (Adam)")] = 2e-4,
    lr_schedule: Annotated[str, typer.Option(help="constant, cyclic (triangular2) or onecycle")] = "constant",
    image_size: Annotated[int, typer.Option(help="side in pixels (a multiple of 8 for the default depth)", min=8)
                          ] = 32,
    channels: Annotated[int | None, typer.Option(help="1 grey or 3 RGB (default: as the data)")] = None,
    classes: Annotated[str | None, typer.Option(help="train on these classes only, e.g. 0,1,2,3,4 "
                                                "(evaluate then reports anomaly AUROC on the others)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="use at most this many images")] = None,
    patience: Annotated[int, typer.Option(min=0, help="early-stopping patience in epochs (0 = off)")] = 5,
    max_steps: Annotated[int | None, typer.Option(min=1, help="stop after this many steps")] = None,
    max_seconds: Annotated[float | None, typer.Option(min=0.1, help="training time budget")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="model constructor argument "
                                                     "KEY=VALUE, repeatable (e.g. -o base_channels=16 -o beta=4)")
                      ] = None,
    seed: int = 0,
    resume: Annotated[bool, typer.Option(help="continue the run in --out from its checkpoint.pt (same data, "
                                         "classes, seed, batch size, image size and -o options)")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace the run already in --out (its run files are "
                                            "removed first)")] = False,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train MODEL on --data into --out with the one Trainer (checkpoints, metrics CSV, sample grids, curves)."""
    from genai_models.runs import train_run
    from genai_models.trainer import TrainConfig

    services = make_services(config)
    train_config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, lr_schedule=lr_schedule, seed=seed,
                               device=_device(services, device), patience=patience, max_steps=max_steps,
                               max_seconds=max_seconds, show_progress=not as_json)
    summary = train_run(model, data, out, config=train_config, image_size=image_size, channels=channels,
                        classes=_classes(classes), limit=limit, model_options=_options(option),
                        resume=resume, overwrite=overwrite)
    if as_json:
        print_json(summary)
        return
    for reason in summary["skipped_files"]:  # shown once here; run.json keeps only the count
        typer.echo(f"skipped {reason}", err=True)
    result = summary["result"]
    typer.echo(f"{model}: {result['epochs_completed']} epochs, {result['steps']} steps "
               f"({result['stopped_reason']}); best {result['monitor']} = {result['best_metric']}")
    typer.echo(f"run folder: {summary['run_dir']}")


@app.command()
@guarded
def sample(
    run_dir: RunArgument,
    count: Annotated[int, typer.Option("-n", "--count", min=1, max=4096, help="number of images")] = 64,
    class_index: Annotated[int | None, typer.Option("--class", help="class number (conditional models only)")
                           ] = None,
    out: Annotated[Path | None, typer.Option(help="image grid to write (.png, .jpg, .tif, .bmp; a folder gets "
                                             "samples.png inside; default RUN_DIR/sampled.png)")] = None,
    columns: Annotated[int, typer.Option(min=1)] = 8,
    seed: int = 0,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw N images from a trained GAN or VAE and write them as one PNG grid."""
    from genai_models.blocks import check_grid_path, save_grid
    from genai_models.runs import sample_run
    from genai_models.trainer import load_run

    services = make_services(config)
    target = _grid_path(out, run_dir)
    check_grid_path(target)  # before the model loads and samples
    model, info = load_run(_run_dir(run_dir), device=_device(services, device))
    images = sample_run(model, info, count, class_index=class_index, seed=seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_grid(images, target, columns=columns)
    if as_json:
        print_json({"run_dir": str(run_dir), "model": info["model"], "count": count, "class": class_index,
                    "seed": seed, "shape": list(images.shape[1:]), "out": str(target)})
        return
    typer.echo(f"wrote {count} {info['model']} samples to {target}")


@app.command()
@guarded
def evaluate(
    run_dir: RunArgument,
    data: Annotated[str | None, typer.Option(help="evaluation images (default: the run's held-out split; "
                                             "Fashion-MNIST: its test split)")] = None,
    anomalies: Annotated[str | None, typer.Option(help="images to score as anomalies (AUROC)")] = None,
    count: Annotated[int, typer.Option(min=5, help="evaluation images (and samples) at most")] = 500,
    seed: int = 0,
    device: DeviceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score a run with the metrics that fit its kind.

    FID-EffNetLite0, KID and precision/recall for GANs and VAEs (EfficientNet-Lite0 features: NOT comparable
    with Inception FID); reconstruction MSE/SSIM/PSNR for autoencoders and VAEs; anomaly AUROC for runs
    trained on a class subset or with --anomalies.
    """
    from genai_models.runs import evaluate_run

    services = make_services(config)
    report = evaluate_run(_run_dir(run_dir), data_spec=data, anomalies_spec=anomalies, count=count,
                          device=_device(services, device), data_dir=services.settings.data_dir, seed=seed)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{report['model']} ({report['kind']}) on {report['eval_images']} images of {report['data']}:")
    for name, value in report["metrics"].items():
        typer.echo(f"  {name:<18} {value:.4f}")
    for note in report["notes"]:
        typer.echo(f"note: {note}")
