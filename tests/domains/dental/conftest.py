"""Dental fixtures: seeded phantoms (domains/dental/phantom.py) and a tiny network trained on them in seconds.

The tiny network is not accurate; it exercises the real train -> save -> load -> segment path on CPU.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def phantom_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from domains.dental.phantom import write_phantom_dataset

    root = tmp_path_factory.mktemp("phantom-ufba")
    write_phantom_dataset(root, count=10, size_hw=(128, 256))
    return root


def _tiny_run(task: str, data: Path, out: Path, **options) -> Path:
    """Seconds of CPU training of a 3-level network; returns the weights file."""
    from domains.dental.train import train

    train(
        task, data, out, device="cpu", channels=(4, 8, 16), res_units=1, batch=4, eval_reserve_s=2.0,
        started=time.monotonic(), progress=lambda message: None, **options,
    )  # fmt: skip
    return out / f"{task}_unet.pt"


@pytest.fixture(scope="session")
def tiny_teeth_weights(phantom_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_run(
        "teeth", phantom_dataset, tmp_path_factory.mktemp("tiny-teeth"), minutes=0.12, size=(64, 128)
    )


@pytest.fixture(scope="session")
def phantom_caries_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from domains.dental.phantom import write_phantom_caries_dataset

    root = tmp_path_factory.mktemp("phantom-dc1000")
    write_phantom_caries_dataset(root, count=8, size_hw=(128, 256))
    return root


@pytest.fixture(scope="session")
def tiny_caries_weights(phantom_caries_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A caries network trained for seconds on crops of DC1000-shaped phantoms (sliding-window inference)."""
    out = tmp_path_factory.mktemp("tiny-caries")
    return _tiny_run("caries", phantom_caries_dataset, out, minutes=0.1, size=(128, 256), patch=(64, 64))
