"""The radiology hub tab builds, and its run handler (called directly, oracle engine on the synthetic phantom)
returns a slice with the mask outline, the report, the draft and the downloads; the viewer follows the plane."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import nibabel as nib
import numpy as np
import torch

import domains.radiology.strip as strip_module
from apps.tabs import radiology
from domains.radiology.phantom import brain_mask_in_world, head_phantom, voxel_centres


class WorldOracle:
    name = "deepbet"
    spacing_mm = 2.0
    device = torch.device("cpu")

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        inside = brain_mask_in_world(voxel_centres(tuple(image.shape[1:]), image.affine.numpy()))
        return torch.from_numpy(inside.astype(np.float32))[None]


def _handlers(services) -> dict[str, object]:
    with gr.Blocks() as blocks:
        radiology.build(services)
    return {fn.fn.__name__: fn.fn for fn in blocks.fns.values()}


def test_tab_runs_strip_and_viewer(services, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(strip_module, "load_engine", lambda engine, device="cpu": WorldOracle())
    image, _, affine = head_phantom()
    path = tmp_path / "head.nii.gz"
    nib.save(nib.Nifti1Image(image, affine), path)
    handlers = _handlers(services)
    volume, picture, _, _, report, draft, files = handlers["run"](str(path), "", "deepbet", "", 0.5)
    assert picture.ndim == 3 and picture.shape[2] == 3
    assert (picture == [255, 40, 40]).all(-1).any()  # the mask outline is drawn
    assert report["draft"] is True and draft.startswith("DRAFT for radiologist review")
    assert {Path(f).name for f in files} >= {
        "brain_mask.nii.gz",
        "brain.nii.gz",
        "overlay.png",
        "report.json",
    }
    kept = services.settings.data_dir / "outputs" / "local" / "radiology"  # the user's own outputs folder
    assert {Path(f).name for f in files} <= {p.name for p in kept.glob("*/*")}
    assert not any(Path(f).is_relative_to(services.settings.data_dir) for f in files)  # served from copies
    sagittal, update = handlers["change_plane"](volume, "sagittal")
    assert sagittal.shape != picture.shape and update["maximum"] == volume.depth("sagittal") - 1
    assert handlers["show"](volume, "coronal", 3).ndim == 3


def test_outputs_clear_on_a_new_upload_and_before_each_run(services) -> None:
    """Review: after a new upload (or a failed run) the previous patient's viewer, draft and downloads stayed."""
    with gr.Blocks() as blocks:
        radiology.build(services)
    upload = next(b for b in blocks.blocks.values() if isinstance(b, gr.File) and b.file_types)
    run_button = next(b for b in blocks.blocks.values() if isinstance(b, gr.Button))
    clearing = [fn for fn in blocks.fns.values() if fn.fn is not None and fn.fn.__name__ == "clear"]
    triggers = {(target[0], target[1]) for fn in clearing for target in fn.targets}
    assert (upload._id, "change") in triggers and (run_button._id, "click") in triggers
    volume, picture, _, _, report, draft, files = clearing[0].fn()
    assert volume is None and picture is None and report is None and draft == "" and files is None


def test_tab_reports_bad_upload(services, tmp_path: Path) -> None:
    bad = tmp_path / "x.nii.gz"
    bad.write_bytes(b"junk")
    handlers = _handlers(services)
    for upload in (None, str(bad)):
        try:
            handlers["run"](upload, "", "deepbet", "", 0.5)
        except gr.Error as error:
            assert ".nii" in str(error) or "NIfTI" in str(error)
        else:
            raise AssertionError("a bad upload must raise gr.Error")
