"""Segmentation scores used by training, the benchmark and tests (numpy only, GPU-machine safe).

``dice_per_class`` sums intersections and sizes; callers pool them over a split (pooled Dice: one number per
class, robust when a class is absent from most images, as caries classes are) or average per image.
Numbering accuracy is per ground-truth tooth: the majority predicted FDI label inside the true tooth must be
the true number; a tooth with no predicted tooth pixels counts as wrong.
"""

from __future__ import annotations

import numpy as np


def overlap_counts(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, 3)`` int64 array of [intersection, predicted pixels, true pixels] per class index."""
    pred, truth = pred.ravel().astype(np.int64), truth.ravel().astype(np.int64)
    both = np.bincount(truth[pred == truth], minlength=n_classes)[:n_classes]
    return np.stack(
        [
            both,
            np.bincount(pred, minlength=n_classes)[:n_classes],
            np.bincount(truth, minlength=n_classes)[:n_classes],
        ],
        axis=1,
    )


def dice_from_counts(counts: np.ndarray) -> np.ndarray:
    """Dice per class from :func:`overlap_counts` (NaN where a class is neither predicted nor true)."""
    denominator = counts[:, 1] + counts[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2.0 * counts[:, 0] / denominator, np.nan)


def image_scores(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> dict[str, float]:
    """Per image: mean Dice over foreground classes in truth or prediction, and binary foreground Dice."""
    dice = dice_from_counts(overlap_counts(pred, truth, n_classes))[1:]
    foreground = overlap_counts(pred > 0, truth > 0, 2)
    return {
        "dice_mean_class": float(np.nanmean(dice)) if np.isfinite(dice).any() else float("nan"),
        "dice_foreground": float(dice_from_counts(foreground)[1]),
    }


def numbering_counts(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """(correctly numbered true teeth, true teeth) for one image of class indices."""
    correct = total = 0
    for label in np.unique(truth):
        if label == 0:
            continue
        inside = pred[truth == label]
        inside = inside[inside > 0]
        total += 1
        if inside.size and np.bincount(inside.astype(np.int64)).argmax() == label:
            correct += 1
    return correct, total
