"""Seeded panoramic-like phantoms with FDI labels, for tests, CI and demos without patient data.

Geometry mimics a panoramic radiograph: dark background, a bright jaw band, two arches of 16 teeth each.
The image's left is the patient's right: upper row 18..11 then 21..28, lower row 48..41 then 31..38. Missing
teeth are drawn as gaps, so numbering must come from position, not from counting. Caries phantoms add small
dark (radiolucent) spots on teeth, coded like DC1000's colour maps.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

UPPER = (18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28)
LOWER = (48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38)


def make_phantom(
    seed: int = 0, size_hw: tuple[int, int] = (256, 512), missing: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 grey image, uint8 FDI label map) of ``size_hw``; ``missing`` random teeth are left out."""
    rng = np.random.default_rng(seed)
    height, width = size_hw
    image = Image.new("L", (width, height), 15)
    labels = Image.new("L", (width, height), 0)
    draw_image, draw_labels = ImageDraw.Draw(image), ImageDraw.Draw(labels)
    draw_image.ellipse([0.05 * width, 0.15 * height, 0.95 * width, 0.95 * height], fill=70)
    absent = set(rng.choice(UPPER + LOWER, size=missing, replace=False).tolist()) if missing else set()
    tooth_w = 0.8 * width / 16
    for row, (numbers, top, bottom) in enumerate(((UPPER, 0.22, 0.48), (LOWER, 0.52, 0.8))):
        for i, fdi in enumerate(numbers):
            if fdi in absent:
                continue
            curve = 0.06 * height * ((i - 7.5) / 7.5) ** 2 * (1 if row == 0 else -1)
            x0 = 0.1 * width + i * tooth_w + rng.uniform(0, 0.1) * tooth_w
            box = [x0, (top * height) - curve, x0 + 0.85 * tooth_w, (bottom * height) - curve]
            draw_image.rounded_rectangle(box, radius=tooth_w * 0.3, fill=int(rng.integers(170, 230)))
            draw_labels.rounded_rectangle(box, radius=tooth_w * 0.3, fill=fdi)
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float32)
    noisy = np.clip(blurred + rng.normal(0, 6, blurred.shape), 0, 255).astype(np.uint8)
    return noisy, np.asarray(labels)


def write_phantom_dataset(root, count: int = 12, size_hw: tuple[int, int] = (256, 512)) -> None:
    """A UFBA-425-shaped folder: ``images/cateK-NNNNN.png`` + ``fdi_labelmaps/`` (two categories)."""
    from pathlib import Path

    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "fdi_labelmaps").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        grey, labels = make_phantom(index, size_hw)
        name = f"cate{1 + index % 2}-{index:05d}"
        Image.fromarray(grey).save(root / "images" / f"{name}.png")
        Image.fromarray(labels).save(root / "fdi_labelmaps" / f"{name}.png")


def write_phantom_caries_dataset(root, count: int = 8, size_hw: tuple[int, int] = (256, 512)) -> None:
    """A DC1000-shaped folder: ``images_1024/NNN.png`` + ``colors/NNN.png`` whose pixels are the caries codes
    (102 / 153 / 255, one code per image in turn) on three dark spots per image, 0 elsewhere."""
    from pathlib import Path

    from domains.dental.labels import CARIES_CODES

    root = Path(root)
    (root / "images_1024").mkdir(parents=True, exist_ok=True)
    (root / "colors").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        rng = np.random.default_rng(1000 + index)
        grey, teeth = make_phantom(index, size_hw)
        codes = np.zeros(size_hw, dtype=np.uint8)
        rows, cols = np.nonzero(teeth)
        radius = max(2, size_hw[0] // 40)
        for spot in rng.choice(len(rows), size=3, replace=False):
            row, col = rows[spot], cols[spot]
            codes[max(row - radius, 0) : row + radius, max(col - radius, 0) : col + radius] = CARIES_CODES[
                index % len(CARIES_CODES)
            ]
        grey = np.where(codes > 0, grey // 3, grey).astype(np.uint8)
        Image.fromarray(grey).save(root / "images_1024" / f"{index:03d}.png")
        Image.fromarray(codes).save(root / "colors" / f"{index:03d}.png")
