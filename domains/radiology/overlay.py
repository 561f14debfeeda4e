"""Quick visual check: orthogonal slices of the input with the brain-mask outline, as RGB arrays or one PNG.

Slices are cut from the volume reoriented to RAS and stretched by the voxel spacing, so anatomy looks right
whatever the input's orientation or voxel shape. Pure numpy + Pillow: the hub's slice viewer calls this per
slider move.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

Plane = Literal["axial", "coronal", "sagittal"]
PLANES: tuple[Plane, ...] = ("axial", "coronal", "sagittal")
_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}  # RAS axis the plane is perpendicular to
OUTLINE_RGB = (255, 40, 40)


@dataclass
class DisplayVolume:
    """Image (0..255 uint8) and mask in RAS voxel order with their spacing."""

    image: np.ndarray
    mask: np.ndarray
    spacing: tuple[float, float, float]

    def depth(self, plane: Plane) -> int:
        return self.image.shape[_AXIS[plane]]

    def centre(self, plane: Plane) -> int:
        """The slice through the mask's centre of mass (the volume's centre when the mask is empty)."""
        axis = _AXIS[plane]
        if self.mask.any():
            coords = np.nonzero(self.mask.any(axis=tuple(a for a in range(3) if a != axis)))[0]
            return round(coords.mean())
        return self.depth(plane) // 2


def display_volume(image: torch.Tensor, mask: torch.Tensor) -> DisplayVolume:
    """Reorient a (1, X, Y, Z) image and mask pair to RAS and window the image to its 1..99.5 percentiles."""
    from monai.data import MetaTensor
    from monai.transforms import Orientation

    orient = Orientation(axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))
    ras_image = orient(MetaTensor(torch.as_tensor(image).as_tensor().float(), affine=image.affine.clone()))
    ras_mask = orient(MetaTensor(torch.as_tensor(mask).as_tensor().float(), affine=image.affine.clone()))
    array = ras_image.numpy()[0]
    low, high = np.percentile(array, [1, 99.5])
    scaled = np.clip((array - low) / max(high - low, 1e-6), 0, 1) * 255
    spacing = tuple(float(s) for s in ras_image.pixdim[:3])
    return DisplayVolume(scaled.astype(np.uint8), ras_mask.numpy()[0] > 0.5, spacing)  # type: ignore[arg-type]


def slice_rgb(
    volume: DisplayVolume, plane: Plane, index: int | None = None, *, target_mm: float = 1.0
) -> np.ndarray:
    """One plane as an (H, W, 3) uint8 image, superior/anterior up, outline in red, resampled to square pixels."""
    from PIL import Image
    from scipy import ndimage

    axis = _AXIS[plane]
    index = volume.centre(plane) if index is None else int(np.clip(index, 0, volume.depth(plane) - 1))
    image = np.take(volume.image, index, axis=axis)
    mask = np.take(volume.mask, index, axis=axis)
    outline = mask & ~ndimage.binary_erosion(mask)
    rgb = np.repeat(image[..., None], 3, axis=-1)
    rgb[outline] = OUTLINE_RGB
    rgb = np.flipud(np.transpose(rgb, (1, 0, 2)))  # rows: second in-plane axis, top = superior/anterior
    in_plane = [volume.spacing[a] for a in range(3) if a != axis]
    width = max(1, round(rgb.shape[1] * in_plane[0] / target_mm))
    height = max(1, round(rgb.shape[0] * in_plane[1] / target_mm))
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.NEAREST))


def save_overlay_png(image: torch.Tensor, mask: torch.Tensor, path: str | Path, *, title: str = "") -> Path:
    """Axial, coronal and sagittal slices through the mask's centre, side by side, with a caption strip."""
    from PIL import Image, ImageDraw

    volume = display_volume(image, mask)
    panels = [slice_rgb(volume, plane) for plane in PLANES]
    height = max(panel.shape[0] for panel in panels)
    canvas = Image.new("RGB", (sum(p.shape[1] for p in panels) + 20, height + 24), (0, 0, 0))
    x = 5
    for panel in panels:
        canvas.paste(Image.fromarray(panel), (x, 24 + (height - panel.shape[0]) // 2))
        x += panel.shape[1] + 5
    ImageDraw.Draw(canvas).text(
        (5, 5), title or "axial | coronal | sagittal (RAS, R on the right)", fill="white"
    )
    path = Path(path)
    canvas.save(path)
    return path
