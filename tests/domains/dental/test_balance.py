"""Balancing pieces on a self-made radiograph: lesion-centred and healthy patches, oversampling, the
classifier training call; plus the shipped weights on one real UFBA image (skipped without shared data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from domains.dental.balance import PATCH, _oversample, image_patches, train_classifier
from domains.dental.phantom import make_phantom


def test_lesion_and_healthy_patches() -> None:
    grey, _ = make_phantom(0, (256, 512))
    caries = np.zeros(grey.shape, dtype=np.uint8)
    caries[60:66, 100:106] = 2
    caries[180:184, 400:404] = 3
    patches = image_patches(grey.astype(np.float32), caries, np.random.default_rng(0), healthy=5)
    labels = [label for _, label in patches]
    assert sorted(labels) == [0, 0, 0, 0, 0, 2, 3]
    assert all(patch.shape == (PATCH, PATCH) and patch.dtype == np.uint8 for patch, _ in patches)


def test_oversample_and_classifier() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, PATCH, PATCH), dtype=np.uint8)
    labels = np.array([0] * 6 + [1] * 3 + [2] * 2 + [3])
    x, y = _oversample(images, labels, 6, rng)
    assert np.bincount(y).tolist() == [6, 6, 6, 6]
    model = train_classifier(x, y, augment=True, epochs=1, seed=0, device="cpu")
    assert model(__import__("torch").zeros(2, 1, PATCH, PATCH)).shape == (2, 4)


@pytest.mark.shared_data
@pytest.mark.slow
def test_shipped_weights_on_real_radiograph(shared_data: Path, tmp_path: Path) -> None:
    from domains.dental.segment import PACKAGED_WEIGHTS, analyse_radiograph

    if not PACKAGED_WEIGHTS.is_file():
        pytest.skip("no shipped teeth weights")
    image = shared_data / "dental" / "ufba425" / "images" / "cate1-00002.jpg"
    result = analyse_radiograph(image)
    assert result.teeth_map.shape == (512, 512) and len(result.teeth) >= 20
