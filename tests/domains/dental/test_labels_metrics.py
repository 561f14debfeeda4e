"""FDI channel mapping, the flip quadrant swap, and the Dice / numbering scores on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from domains.dental.labels import (
    CARIES_CODE_TO_INDEX,
    FDI_TEETH,
    INDEX_TO_FDI,
    TEETH_CLASSES,
    TEETH_FLIP_PERMUTATION,
    fdi_to_index,
    index_to_fdi,
)
from domains.dental.metrics import dice_from_counts, image_scores, numbering_counts, overlap_counts


def test_fdi_round_trip() -> None:
    assert TEETH_CLASSES == 33 and len(FDI_TEETH) == 32
    labels = np.array([[0, 11, 18], [21, 38, 48]], dtype=np.uint8)
    assert np.array_equal(index_to_fdi(fdi_to_index(labels)), labels)
    assert fdi_to_index(np.array([19, 50, 99], dtype=np.uint8)).tolist() == [0, 0, 0]


@pytest.mark.parametrize(("fdi", "mirrored"), [(11, 21), (18, 28), (21, 11), (31, 41), (48, 38), (0, 0)])
def test_flip_swaps_quadrants(fdi: int, mirrored: int) -> None:
    assert INDEX_TO_FDI[TEETH_FLIP_PERMUTATION[fdi_to_index(np.array([fdi]))[0]]] == mirrored


def test_caries_codes() -> None:
    assert CARIES_CODE_TO_INDEX[[0, 102, 153, 255, 7]].tolist() == [0, 1, 2, 3, 0]


def test_scores() -> None:
    truth = np.array([[0, 1, 1], [0, 2, 2]])
    assert image_scores(truth, truth, 3) == {"dice_mean_class": 1.0, "dice_foreground": 1.0}
    pred = np.array([[0, 1, 0], [0, 1, 2]])
    dice = dice_from_counts(overlap_counts(pred, truth, 3))
    assert dice[1] == pytest.approx(2 * 1 / (2 + 2)) and dice[2] == pytest.approx(2 * 1 / (1 + 2))
    assert numbering_counts(pred, truth) == (1, 2)  # class 2's region votes 1 vs 2: tie -> lowest label 1
    assert numbering_counts(np.zeros_like(truth), truth) == (0, 2)  # missed teeth count as wrong
