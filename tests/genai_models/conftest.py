"""Fixtures for genai_models tests: tiny synthetic image sets made here with a seeded generator (no files)."""

from __future__ import annotations

import pytest
import torch


def _blobs(count: int, size: int, channels: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class k = a bright square at a class-specific position on a dark background, plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 4
    images = 0.05 * torch.rand(count, channels, size, size, generator=generator)
    half = size // 2
    for index, label in enumerate(labels.tolist()):
        top, left = (label // 2) * half, (label % 2) * half
        images[index, :, top + 1: top + half - 1, left + 1: left + half - 1] += 0.9
    return images.clamp(0, 1), labels


@pytest.fixture(scope="session")
def tiny_images() -> tuple[torch.Tensor, torch.Tensor]:
    """64 grey 16x16 images in 4 classes."""
    return _blobs(64, 16, 1, seed=0)


@pytest.fixture(scope="session")
def tiny_rgb() -> tuple[torch.Tensor, torch.Tensor]:
    """32 RGB 16x16 images in 4 classes."""
    return _blobs(32, 16, 3, seed=1)
