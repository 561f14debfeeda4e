"""`genai radiology strip|report|train`: outputs on the input grid, DICOM in/out without identifiers, bad input
(exit 2, one line, nothing written outside DIR). Fast tests run the CLI in-process with an oracle engine on the
synthetic phantom (domains/radiology/phantom.py, DICOM written with pydicom); the slow one runs deepbet on ch2
(Debian mricron-data) in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch

import domains.radiology.strip as strip_module
from apps.cli import main
from domains.radiology.phantom import (
    FAKE_PATIENT,
    FAKE_STUDY,
    brain_mask_in_world,
    head_phantom,
    voxel_centres,
    write_synthetic_series,
)

CH2 = Path("/usr/share/mricron/templates/ch2.nii.gz")


class WorldOracle:
    name = "deepbet"  # stands in for the default engine so the CLI path is the real one
    spacing_mm = 2.0
    device = torch.device("cpu")

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        inside = brain_mask_in_world(voxel_centres(tuple(image.shape[1:]), image.affine.numpy()))
        return torch.from_numpy(inside.astype(np.float32))[None]


@pytest.fixture
def oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strip_module, "load_engine", lambda engine, device="cpu": WorldOracle())


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path):
    monkeypatch.setenv("GENAI_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["genai", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        return int(exit_info.value.code or 0), captured.out, captured.err

    return run


@pytest.fixture
def phantom_nifti(tmp_path: Path) -> tuple[Path, np.ndarray]:
    image, _, affine = head_phantom()
    path = tmp_path / "head.nii.gz"
    nib.save(nib.Nifti1Image(image, affine), path)
    return path, affine


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_strip_nifti_writes_outputs_on_the_input_grid(cli, oracle, phantom_nifti, tmp_path: Path) -> None:
    path, affine = phantom_nifti
    code, out, err = cli(
        "radiology", "strip", str(path), "--out", str(tmp_path / "out"), "--device", "cpu", "--json",
        "--threshold", "0.4",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["draft"] is True and report["label"] == "DRAFT for radiologist review"
    assert report["mask_threshold"] == 0.4
    assert report["engine"] == "deepbet" and report["brain_volume_ml"] > 500 and report["seconds"] >= 0
    assert report["spacing_mm"] == [4.0, 4.0, 4.5] and report["orientation"] == "LAS"
    source = nib.load(path)
    for name in ("brain_mask.nii.gz", "brain.nii.gz"):
        written = nib.load(tmp_path / "out" / name)
        assert written.shape == source.shape
        np.testing.assert_allclose(written.affine, affine, atol=1e-5)
    mask = np.asarray(nib.load(tmp_path / "out" / "brain_mask.nii.gz").dataobj)
    brain = np.asarray(nib.load(tmp_path / "out" / "brain.nii.gz").dataobj)
    np.testing.assert_allclose(brain, np.asarray(source.dataobj) * mask, rtol=1e-6)  # voxel for voxel
    assert (tmp_path / "out" / "overlay.png").stat().st_size > 1000
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report


def test_strip_dicom_zip_writes_anonymous_dicom(cli, oracle, phantom_nifti, tmp_path: Path) -> None:
    image, _, affine = head_phantom((40, 48, 30), (5.0, 5.0, 6.0))
    # A series description naming the patient, as PACS exports sometimes do: it must not reach any output.
    write_synthetic_series(image, affine, tmp_path / "series", description=FAKE_STUDY["StudyDescription"])
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for file in (tmp_path / "series").iterdir():
            handle.write(file, f"PACS/{file.name}")
    code, out, err = cli("radiology", "strip", str(archive), "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["input"]["format"] == "dicom" and report["input"]["modality"] == "MR"
    dicoms = sorted((tmp_path / "out" / "brain_dicom").glob("*.dcm"))
    assert len(dicoms) == 30 and (tmp_path / "out" / "brain_dicom.zip").is_file()
    assert report["outputs"]["brain_mask_seg"] == "brain_mask_seg.dcm"
    seg = pydicom.dcmread(tmp_path / "out" / "brain_mask_seg.dcm")
    assert seg.Modality == "SEG" and int(seg.NumberOfFrames) <= 30
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == pydicom.dcmread(dicoms[0]).SeriesInstanceUID
    everything = (
        out
        + err
        + "".join(p.read_bytes().decode("latin-1") for p in (tmp_path / "out").rglob("*") if p.is_file())
    )
    assert not any(value in everything for value in [*FAKE_PATIENT.values(), *FAKE_STUDY.values()])
    assert pydicom.dcmread(dicoms[0]).SeriesDescription.startswith("DRAFT for radiologist review")
    for name in ("brain_mask.nii.gz", "brain.nii.gz"):
        assert nib.load(tmp_path / "out" / name).header["descrip"].item().startswith(b"DRAFT for radiologist")
    (tmp_path / "out" / "draft_report.txt").write_text("the DICOM patient's draft")
    code, _, err = cli("radiology", "strip", str(phantom_nifti[0]), "--out", str(tmp_path / "out"))
    assert code == 0, err  # another patient's NIfTI into the same folder: none of the DICOM run's files stay
    assert _tree(tmp_path / "out") == {"brain_mask.nii.gz", "brain.nii.gz", "overlay.png", "report.json"}


def test_ct_series_warns_outside_training_domain(cli, oracle, tmp_path: Path) -> None:
    image, _, affine = head_phantom((40, 48, 30), (5.0, 5.0, 6.0))
    write_synthetic_series(image * 8 - 1000, affine, tmp_path / "ct", modality="CT")
    code, out, _ = cli("radiology", "strip", str(tmp_path / "ct"), "--out", str(tmp_path / "out"), "--json")
    assert code == 0
    assert any("outside the training domain" in w for w in json.loads(out)["warnings"])


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    corrupt = tmp_path / "corrupt.nii.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00broken")
    text = tmp_path / "notes.pdf"
    text.write_text("not an image")
    flat = tmp_path / "slice.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((32, 32), np.float32), np.eye(4)), flat)
    (tmp_path / "empty").mkdir()
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as handle:
        handle.writestr("../../escape.dcm", b"DICM")
    return {
        "corrupt": (corrupt, "cannot be read as NIfTI"),
        "non-image": (text, "neither NIfTI"),
        "2d": (flat, "2D image"),
        "empty": (tmp_path / "empty", "is empty"),
        "traversal": (evil, "member #1 has an unsafe name"),
    }


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(cli, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = _bad_inputs(inputs)
    before = _tree(tmp_path)
    for name, (path, expected) in cases.items():
        code, _, err = cli("radiology", "strip", str(path), "--out", str(tmp_path / "out"))
        assert code == 2, name
        assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1, (
            name,
            err,
        )
    assert _tree(tmp_path) == before  # no output folder, nothing extracted anywhere
    assert not (tmp_path.parent / "escape.dcm").exists()


def test_a_failed_run_leaves_no_earlier_patients_outputs(cli, oracle, phantom_nifti, tmp_path: Path) -> None:
    path, _ = phantom_nifti
    out = tmp_path / "out"
    assert cli("radiology", "strip", str(path), "--out", str(out), "--device", "cpu")[0] == 0
    broken = tmp_path / "Doe_Janet_PID987654.nii.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00broken")
    code, _, err = cli("radiology", "strip", str(broken), "--out", str(out), "--device", "cpu")
    assert code == 2 and "Doe" not in err and "987654" not in err  # the upload's name is never echoed
    assert not any(out.iterdir())  # a report run on this folder now cannot pair old outputs with new notes


def test_an_input_inside_out_named_like_an_output_is_never_deleted(
    cli, oracle, phantom_nifti, tmp_path: Path
) -> None:
    path, _ = phantom_nifti
    out = tmp_path / "out"
    out.mkdir()
    own = out / "brain.nii.gz"
    own.write_bytes(path.read_bytes())
    code, _, err = cli("radiology", "strip", str(own), "--out", str(out), "--device", "cpu")
    assert code == 2 and "choose another --out" in err and own.read_bytes() == path.read_bytes()


def test_unknown_engine_and_unet_without_weights(cli, phantom_nifti, tmp_path: Path) -> None:
    path, _ = phantom_nifti
    code, _, err = cli("radiology", "strip", str(path), "--out", str(tmp_path / "o"), "--engine", "bet")
    assert code == 2 and "unknown --engine 'bet'" in err
    if not (strip_module.WEIGHTS_DIR / "unet_skullstrip.pt").is_file():
        code, _, err = cli("radiology", "strip", str(path), "--out", str(tmp_path / "o"), "--engine", "unet")
        assert code == 2 and "no trained weights" in err


def test_report_template_from_notes(cli, oracle, phantom_nifti, tmp_path: Path) -> None:
    path, _ = phantom_nifti
    assert cli("radiology", "strip", str(path), "--out", str(tmp_path / "out"))[0] == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("Indication: headaches for 3 weeks. 54-year-old woman, no prior imaging.")
    code, out, err = cli(
        "radiology", "report", str(tmp_path / "out"), "--notes", str(notes), "--no-llm", "--json"
    )
    assert code == 0, err
    draft = json.loads(out)
    assert draft["text"].startswith("DRAFT for radiologist review") and draft["written_by"] == "template"
    assert draft["age"] == 54 and draft["sex"] == "female" and draft["reference_range_ml"] == [1067.0, 1511.0]
    assert '"Indication: headaches for 3 weeks."' in draft["text"]
    assert (tmp_path / "out" / "draft_report.txt").is_file()
    code, _, err = cli("radiology", "report", str(tmp_path / "nothing"), "--no-llm")
    assert code == 2 and "has no report.json" in err


def test_train_cli_tiny_cpu_run(cli, tmp_path: Path) -> None:
    """A few CPU steps on one small synthetic label map, then a second run continuing from the first's weights
    (the real maps: test_train.py, slow)."""
    labels = np.zeros((48, 48, 48), np.uint8)
    labels[8:40, 8:40, 8:40] = 64  # head
    labels[14:34, 14:34, 14:34] = 3  # brain
    is_brain = np.zeros(256, np.uint8)
    is_brain[1:64] = 1
    data = tmp_path / "labels.npz"
    np.savez_compressed(data, is_brain=is_brain, names=np.array(["cube"]), cube=labels)
    code, out, err = cli(
        "radiology",
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "w"),
        "--minutes",
        "0.02",
        "--size",
        "32",
        "--spacing",
        "4",
        "--batch",
        "1",
        "--device",
        "cpu",
        "--json",
    )
    assert code == 0, err
    info = json.loads(out)
    assert info["steps"] >= 1 and info["parameters"] == 4806481
    weights = tmp_path / "w" / "unet_skullstrip.pt"
    assert weights.stat().st_size < 12e6
    assert all(v.dtype == torch.float16 for v in torch.load(weights, weights_only=True).values())
    assert "ch2" in (tmp_path / "w" / "unet_skullstrip.md").read_text()

    tiny = ["--data", str(data), "--minutes", "0.02", "--size", "32", "--spacing", "4", "--batch", "1"]
    code, out, err = cli(
        "radiology",
        "train",
        *tiny,
        "--out",
        str(tmp_path / "w2"),
        "--init",
        str(weights.parent),
        "--json",  # a folder: its weights file
    )
    assert code == 0, err
    assert json.loads(out)["init"]["steps"] == info["steps"]  # a second session adds to the first's steps
    assert "continuing from unet_skullstrip.pt" in (tmp_path / "w2" / "unet_skullstrip.md").read_text()
    code, _, err = cli(
        "radiology", "train", *tiny, "--out", str(tmp_path / "w3"), "--init", str(tmp_path / "no.pt")
    )
    assert code == 2 and "--init needs" in err


@pytest.mark.slow
def test_deepbet_cli_on_ch2_keeps_grid(tmp_path: Path) -> None:
    if not CH2.is_file():
        pytest.skip("Debian mricron-data (ch2.nii.gz) is not installed")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "genai"),  # the console script, as users run it
            "radiology",
            "strip",
            str(CH2),
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GENAI_DATA_DIR": str(tmp_path / "d")},
    )
    assert result.returncode == 0, result.stderr
    assert 1500 < json.loads(result.stdout)["brain_volume_ml"] < 2300
    mask = nib.load(tmp_path / "brain_mask.nii.gz")
    np.testing.assert_allclose(mask.affine, nib.load(CH2).affine, atol=1e-5)
    assert mask.shape == nib.load(CH2).shape
    assert int(mask.header["sform_code"]) == int(nib.load(CH2).header["sform_code"])  # MNI stays MNI
