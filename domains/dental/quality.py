"""Is this a panoramic radiograph? Cheap checks run before any model, because a network trained on X-rays
answers confidently on anything: a face photo would come back with 32 "teeth".

Rejections (BadInputError) are inputs no model output could be trusted for: strongly coloured photographs,
thumbnails, blank images. Warnings are kept with the result and shown to the dentist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError

MIN_SIDE = 64  # below this no tooth is more than a few pixels wide
SMALL_SIDE = 256
LARGE_SIDE = 8000
PANORAMIC_ASPECT = (0.8, 3.2)  # width / height; UFBA is stretched to 1:1, raw panoramics are ~2:1
COLOUR_REJECT = 0.25  # mean saturation of a colour photograph (faces, intraoral shots) is well above this
COLOUR_WARN = 0.06
# Left-right correlation of the image with its mirror (at 64x128): a panoramic shows both sides of the jaw.
# Lowest on real radiographs 0.33 (all 325 UFBA-425 images; DC1000's 70: 0.73); grey photographs and scenes
# 0.0-0.25 (a portrait 0.05). Below this the image probably is not a panoramic: a warning, not a rejection,
# because symmetric non-dental images (0.4-0.9) pass anyway and a lopsided real panoramic must not be refused.
MIN_MIRROR_SYMMETRY = 0.3
# The dental arches of an upright panoramic curve like a smile: tooth centres rise towards the molars, so a
# parabola through them (x and y as fractions of the width and height, y downwards) has a negative square
# term. Measured with the shipped network on 12 UFBA-425 and 12 DC1000 images: upright -0.4 to -3.3 (sum of
# both arches' terms), the same images rotated 180 degrees -0.15 to +4.4 (23 of 24 above 0). Above 0 on 6 of
# 150 upright images, which the second look in ``looks_upside_down`` clears (0 of 150 warned; 30 of 30 other
# images rotated 180 degrees warned).
UPSIDE_DOWN_CURVATURE = 0.0
FEW_TEETH = 8  # an adult panoramic shows 20-32; fewer often means an inverted, cropped or non-dental image


@dataclass
class QualityReport:
    warnings: list[str] = field(default_factory=list)
    colour_saturation: float = 0.0
    aspect_ratio: float = 1.0
    mirror_symmetry: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "colour_saturation": round(self.colour_saturation, 4),
            "aspect_ratio": round(self.aspect_ratio, 3),
            "mirror_symmetry": round(self.mirror_symmetry, 3),
        }


def colour_saturation(array: np.ndarray) -> float:
    """Mean HSV saturation of an ``(H, W, 3)`` image (0 for grey images), on a subsample for speed."""
    if array.ndim == 2 or array.shape[2] < 3:
        return 0.0
    step = max(1, int(np.sqrt(array.shape[0] * array.shape[1] / 250_000)))
    rgb = array[::step, ::step, :3].astype(np.float32)
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    return float(np.mean(np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)))


def mirror_symmetry(grey: np.ndarray) -> float:
    """Correlation of the percentile-normalised grey image with its left-right mirror, at 64x128 (1 = mirror
    image of itself, about 0 for a scene with no left-right structure)."""
    from domains.dental.preprocess import normalise_radiograph, resize_image

    small = resize_image(normalise_radiograph(grey), (64, 128))
    mirrored = small[:, ::-1]
    if small.std() < 1e-6:
        return 1.0
    return float(np.corrcoef(small.ravel(), mirrored.ravel())[0, 1])


def check_radiograph(array: np.ndarray, meta: dict[str, Any]) -> QualityReport:
    """Checks on a freshly read image (``data_connectors.images.read_image`` output).

    Raises:
        BadInputError: a colour photograph, an image under 64 pixels on a side, or a blank image.
    """
    name = "The image"  # never the file name: clinics name files after the patient
    height, width = array.shape[:2]
    report = QualityReport(colour_saturation=colour_saturation(array), aspect_ratio=width / max(height, 1))
    if min(height, width) < MIN_SIDE:
        raise BadInputError(
            f"{name} is only {width}x{height} pixels (a thumbnail); upload the full-resolution panoramic "
            f"radiograph (at least {MIN_SIDE} px, ideally 1000+ px wide)."
        )
    if report.colour_saturation > COLOUR_REJECT:
        raise BadInputError(
            f"{name} is a colour photograph (mean saturation {report.colour_saturation:.2f}), not an X-ray; "
            "upload a panoramic radiograph (grey-scale PNG/JPG/TIFF or DICOM)."
        )
    grey = array if array.ndim == 2 else array[..., :3].mean(axis=2)
    step = max(1, int(np.sqrt(height * width / 250_000)))
    sample = grey[::step, ::step]
    spread = float(np.percentile(sample, 99) - np.percentile(sample, 1))
    if spread <= 1e-6 * max(1.0, float(np.abs(sample).max())):
        raise BadInputError(f"{name} is blank (a single intensity); upload the radiograph itself.")
    report.warnings += list(meta.get("warnings", []))  # the reader's own, e.g. an applied EXIF rotation
    report.mirror_symmetry = mirror_symmetry(sample)
    if report.mirror_symmetry < MIN_MIRROR_SYMMETRY:
        report.warnings.append(
            f"The image is not left-right symmetric (mirror correlation {report.mirror_symmetry:.2f}, "
            f"panoramic radiographs >= {MIN_MIRROR_SYMMETRY}); it may not be a panoramic radiograph (a grey "
            "photograph, a scan of another kind, a crop), so the result may be meaningless."
        )
    if report.colour_saturation > COLOUR_WARN:
        report.warnings.append(
            f"The image has colour (saturation {report.colour_saturation:.2f}); radiographs are grey, so "
            "this may be a photograph or an annotated export and the result may be meaningless."
        )
    if min(height, width) < SMALL_SIDE:
        report.warnings.append(f"Small image ({width}x{height}): small teeth and caries may be missed.")
    if max(height, width) > LARGE_SIDE:
        report.warnings.append(
            f"Very large image ({width}x{height}): it is analysed at reduced resolution and the masks "
            "are scaled back to the input size."
        )
    low, high = PANORAMIC_ASPECT
    if not low <= report.aspect_ratio <= high:
        report.warnings.append(
            f"Unusual aspect ratio {report.aspect_ratio:.2f} (panoramic radiographs are {low}-{high}); "
            "this may be a periapical/bitewing image, a crop or a photograph: numbering may be wrong."
        )
    dark = float(np.mean(sample <= np.percentile(sample, 1) + 0.1 * spread))
    if dark < 0.02:
        report.warnings.append(
            "The intensity histogram has almost no dark background, unlike a panoramic radiograph; check the "
            "image type (an inverted or a photographic image gives unreliable results)."
        )
    return report


def arch_curvature(teeth: list[Any], shape: tuple[int, int]) -> float | None:
    """Sum over the upper and lower arch of the square term of a parabola through the tooth centres (``teeth``
    need ``fdi`` and ``box_xyxy``); None unless both arches have at least four teeth. One arch alone (a crop
    of one jaw) curves either way with the crop, so it cannot tell upright from upside down."""
    height, width = shape
    total = 0.0
    for quadrants in ((1, 2), (3, 4)):
        arch = [t for t in teeth if t.fdi // 10 in quadrants]
        if len(arch) < 4:
            return None
        xs = [((t.box_xyxy[0] + t.box_xyxy[2]) / 2) / width - 0.5 for t in arch]
        ys = [((t.box_xyxy[1] + t.box_xyxy[3]) / 2) / height for t in arch]
        total += float(np.polyfit(xs, ys, 2)[0])
    return total


def looks_upside_down(teeth: list[Any], turned: list[Any] | None, shape: tuple[int, int]) -> bool:
    """The arches frown, and (when the teeth found on the image turned 180 degrees are given) the turned image
    smiles more and its teeth are found more confidently. The curvature alone flags 6 of 150 upright real
    radiographs (few or unusual teeth); the second look clears those and keeps the true upside-down ones."""
    curvature = arch_curvature(teeth, shape)
    if curvature is None or curvature <= UPSIDE_DOWN_CURVATURE:
        return False
    if turned is None:
        return True
    turned_curvature = arch_curvature(turned, shape)

    def confidence(found: list[Any]) -> float:
        return float(np.mean([t.confidence for t in found])) if found else 0.0

    return (
        turned_curvature is not None
        and turned_curvature < curvature
        and confidence(turned) > confidence(teeth)
    )


def segmentation_warnings(teeth: list[Any], shape: tuple[int, int], *, upside_down: bool) -> list[str]:
    """Checks on the teeth found, for what the image checks cannot see: an upside-down film (the network
    numbers whatever row is on top as the upper jaw; see :func:`looks_upside_down`) and an image with almost
    no teeth found."""
    warnings = []
    if upside_down:
        warnings.append(
            "The tooth rows curve like a frown, not the smile of an upright panoramic: the image is probably "
            "upside down (rotated or flipped), and then every FDI number is wrong. Turn it upright and run "
            "again."
        )
    if len(teeth) < FEW_TEETH:
        warnings.append(
            f"Only {len(teeth)} {'tooth was' if len(teeth) == 1 else 'teeth were'} found: check that this is a "
            "whole panoramic radiograph, not an inverted (negative), cropped or non-dental image; a patient "
            "with few teeth is fine."
        )
    return warnings
