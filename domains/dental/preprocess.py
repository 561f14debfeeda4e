"""Intensity and size handling shared by training and inference (numpy + pillow only, GPU-machine safe).

One normalisation for every source: percentiles 0.5/99.5 -> [0, 1]. A 16-bit DICOM and an 8-bit JPG of the
same radiograph then look alike to the network, and the model never depends on the file's bit depth.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def normalise_radiograph(grey: np.ndarray) -> np.ndarray:
    """``(H, W)`` grey image in any range -> float32 in [0, 1] by its 0.5 / 99.5 percentiles."""
    low, high = (np.float32(value) for value in np.percentile(grey, (0.5, 99.5)))
    scale = high - low if high > low else np.float32(1.0)
    return np.clip((grey.astype(np.float32) - low) / scale, 0.0, 1.0)  # float32 scalars keep it float32


def resize_image(unit: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a [0, 1] float image to ``(height, width)``."""
    image = Image.fromarray(unit.astype(np.float32), mode="F")
    return np.asarray(image.resize((size_hw[1], size_hw[0]), Image.BILINEAR), dtype=np.float32)


def resize_labels(labels: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an integer label map (labels never blend)."""
    image = Image.fromarray(labels.astype(np.uint8), mode="L")
    return np.asarray(image.resize((size_hw[1], size_hw[0]), Image.NEAREST), dtype=np.uint8)


def to_uint8(unit: np.ndarray) -> np.ndarray:
    return np.round(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)
