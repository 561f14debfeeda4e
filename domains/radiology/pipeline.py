"""The skull-stripping use case: read (NIfTI or DICOM) -> strip -> write mask, stripped volume, overlay, report.

Everything is written inside ``out_dir`` under fixed names (input names never become paths), so a hostile
upload cannot write elsewhere; a rerun into the same folder first removes the earlier run's outputs. ``report.json`` is the one result object the CLI prints, the hub renders and the
report drafter reads; it holds no patient identifier.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from data_connectors.errors import BadInputError
from domains.radiology.config import DEFAULT_ENGINE, DEFAULT_MASK_THRESHOLD

DRAFT_LABEL = "DRAFT for radiologist review"
REPORT_NAME = "report.json"
MASK_NAME = "brain_mask.nii.gz"
BRAIN_NAME = "brain.nii.gz"
OVERLAY_NAME = "overlay.png"
DICOM_DIR = "brain_dicom"
SEG_NAME = "brain_mask_seg.dcm"
DRAFT_REPORT_NAME = "draft_report.txt"
# report.json keeps only these descriptions of the input: the file name, SeriesDescription and Series UID are
# left out, as PACS exports often name files and series after the patient.
REPORTED_INPUT_KEYS = ("format", "modality", "slices")
VOLUME_NOTE = (
    "volume of the brain mask: brain plus the ventricles and sulcal CSF enclosed by it (close to the total "
    "intracranial volume)"
)

Progress = Callable[[float, str], None]


class StripReport(BaseModel):
    """What ``genai radiology strip --json`` prints and ``report.json`` holds."""

    label: str = DRAFT_LABEL
    draft: bool = True
    engine: str
    device: str
    mask_threshold: float = Field(
        DEFAULT_MASK_THRESHOLD,
        description="brain probability cut-off, lower = larger outline (0.5 in reports older than the option)",
    )
    seconds: float = Field(description="skull stripping time, reading and writing excluded")
    brain_volume_ml: float
    volume_note: str = VOLUME_NOTE
    spacing_mm: list[float]
    shape: list[int]
    orientation: str
    input: dict[str, Any]
    warnings: list[str]
    edges_reached: list[str] = Field(
        default_factory=list, description="sides where the brain mask meets the edge of the field of view"
    )
    outputs: dict[str, str]


def _toolkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-toolkit")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _no_progress(fraction: float, message: str) -> None:
    return None


def _earlier_outputs(out: Path) -> list[Path]:
    """The paths a run writes into ``out`` (resolved), whether or not they exist yet."""
    names = (
        REPORT_NAME,
        MASK_NAME,
        BRAIN_NAME,
        OVERLAY_NAME,
        SEG_NAME,
        DRAFT_REPORT_NAME,
        f"{DICOM_DIR}.zip",
    )
    return [(out / name).resolve() for name in (*names, DICOM_DIR)]


def _remove_earlier_outputs(out: Path) -> None:
    """Delete what an earlier run wrote into ``out``, so a folder never mixes two patients' outputs."""
    for path in _earlier_outputs(out):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


# PUBLIC API


def run_strip(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    engine: str = DEFAULT_ENGINE,
    device: str = "auto",
    series: str | None = None,
    threshold: float = DEFAULT_MASK_THRESHOLD,
    progress: Progress = _no_progress,
) -> StripReport:
    """Skull-strip one brain MRI and write its outputs into ``out_dir`` (created if needed). Outputs of an
    earlier run in ``out_dir`` are removed first, even when this run then fails on its input.

    Raises:
        BadInputError: unreadable input, several DICOM series without ``series``, unknown engine/device, a
            threshold outside (0, 1), or ``out_dir`` is an existing file.
    """
    import nibabel as nib

    from data_connectors.volumes import read_volume, write_dicom_seg, write_dicom_series, write_nifti
    from domains.radiology.overlay import save_overlay_png
    from domains.radiology.strip import strip
    from genai_models.runtime import resolve_device

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out} is an existing file; pass a folder for the outputs.")
    if out.is_dir():
        source = Path(input_path).resolve()
        if any(source == path or path in source.parents for path in _earlier_outputs(out)):
            raise BadInputError(
                f"The input is one of the outputs a run into --out {out} replaces; choose another --out."
            )
        # first, so that a run failing on its input leaves no earlier patient's outputs behind
        _remove_earlier_outputs(out)
    device = resolve_device(device)
    progress(0.05, "reading the input")
    image = read_volume(input_path, series=series)
    progress(0.25, f"skull stripping with {engine} on {device}")
    result = strip(image, engine=engine, device=device, threshold=threshold)
    progress(0.8, "writing outputs")
    out.mkdir(parents=True, exist_ok=True)
    codes = image.meta["source"].get("nifti_codes")
    outputs = {
        "mask": write_nifti(
            result.mask,
            out / MASK_NAME,
            dtype=np.uint8,
            description=f"{DRAFT_LABEL}: brain mask",
            codes=codes,
        ).name,
        "brain": write_nifti(
            result.brain, out / BRAIN_NAME, description=f"{DRAFT_LABEL}: skull-stripped", codes=codes
        ).name,
        "overlay": save_overlay_png(
            image,
            result.mask,
            out / OVERLAY_NAME,
            title=f"{DRAFT_LABEL} - {result.engine} - {result.brain_volume_ml:.0f} mL",
        ).name,
    }
    headers = image.meta.get("dicom_headers")
    if headers:
        series_paths = write_dicom_series(
            result.brain, headers, out / DICOM_DIR, description=f"{DRAFT_LABEL}: skull-stripped brain"
        )
        outputs["brain_dicom"] = DICOM_DIR
        outputs["brain_mask_seg"] = write_dicom_seg(
            result.mask,
            series_paths,
            out / SEG_NAME,
            label=f"Brain ({DRAFT_LABEL})",
            algorithm=f"genai-toolkit {result.engine} skull stripping",
            version=_toolkit_version(),
        ).name
        outputs["brain_dicom_zip"] = Path(
            shutil.make_archive(str(out / DICOM_DIR), "zip", out / DICOM_DIR)
        ).name
    source = {k: v for k, v in image.meta["source"].items() if v is not None and k in REPORTED_INPUT_KEYS}
    report = StripReport(
        engine=result.engine,
        device=device,
        mask_threshold=threshold,
        seconds=round(result.seconds, 3),
        brain_volume_ml=round(result.brain_volume_ml, 1),
        spacing_mm=[round(float(s), 4) for s in image.pixdim[:3]],
        shape=[int(n) for n in image.shape[1:]],
        orientation="".join(nib.aff2axcodes(image.affine.numpy())),
        input=source,
        warnings=result.warnings,
        edges_reached=result.edges_reached,
        outputs=outputs,
    )
    (out / REPORT_NAME).write_text(report.model_dump_json(indent=2))
    progress(1.0, "done")
    return report


def load_strip_report(out_dir: str | Path) -> StripReport:
    """The ``report.json`` of an earlier ``run_strip``.

    Raises:
        BadInputError: the folder has no (valid) report.json.
    """
    path = Path(out_dir) / REPORT_NAME
    if not path.is_file():
        raise BadInputError(
            f"{out_dir} has no {REPORT_NAME}; run `genai radiology strip INPUT --out {out_dir}` first."
        )
    try:
        return StripReport.model_validate_json(path.read_text())
    except ValueError:
        raise BadInputError(
            f"{path} is not a report written by `genai radiology strip`; run it again."
        ) from None


def viewer_volume(input_path: str | Path, out_dir: str | Path, *, series: str | None = None):
    """The input and the mask written by ``run_strip``, ready for the slice viewer (``overlay.slice_rgb``)."""
    from monai.data import MetaTensor

    from data_connectors.volumes import read_nifti, read_volume
    from domains.radiology.overlay import display_volume

    image = read_volume(input_path, series=series)
    mask = read_nifti(Path(out_dir) / MASK_NAME)
    return display_volume(image, MetaTensor(mask.as_tensor(), affine=image.affine.clone()))
