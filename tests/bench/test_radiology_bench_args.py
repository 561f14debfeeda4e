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
