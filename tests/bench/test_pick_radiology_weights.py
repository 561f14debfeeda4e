"""bench/gpu/pick_radiology_weights.py: the GPU session benchmarks new skull-stripper weights only when they
beat the shipped ones on held-out ch2 (cards written here, weights as stand-in bytes)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

PICK = runpy.run_path(str(Path(__file__).parents[2] / "bench" / "gpu" / "pick_radiology_weights.py"))["main"]


def _weights(folder: Path, dice: float, content: bytes) -> Path:
    folder.mkdir()
    (folder / "unet_skullstrip.json").write_text(json.dumps({"dice_ch2_vs_ch2bet": dice}))
    (folder / "unet_skullstrip.pt").write_bytes(content)
    return folder


@pytest.mark.parametrize(("new_dice", "kept"), [(0.95, b"new"), (0.94, b"shipped")])
def test_new_weights_replace_shipped_only_when_better(
    tmp_path: Path, capsys, new_dice: float, kept: bytes
) -> None:
    new = _weights(tmp_path / "new", new_dice, b"new")
    shipped = _weights(tmp_path / "shipped", 0.9475, b"shipped")

    PICK(new, shipped)

    assert (shipped / "unet_skullstrip.pt").read_bytes() == kept
    assert f"unet weights: {kept.decode()}" in capsys.readouterr().out


def test_no_new_run_keeps_shipped(tmp_path: Path, capsys) -> None:
    shipped = _weights(tmp_path / "shipped", 0.9475, b"shipped")

    PICK(tmp_path / "missing", shipped)

    assert (shipped / "unet_skullstrip.pt").read_bytes() == b"shipped"
    assert "shipped (no new card" in capsys.readouterr().out
