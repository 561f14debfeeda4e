"""Panoramic radiograph -> numbered teeth (and, with a user-trained model, caries regions).

Resize-and-restore inference: the radiograph is normalised (percentiles), resized to the network's training
size and segmented (a network trained on crops slides its window over that image), by default averaged with
the segmentation of its mirror image (FDI quadrants swapped back: per-class Dice +0.02 on the held-out
UFBA-425 split for twice the time). The class map is scaled back to the input's exact size with nearest
neighbour, so ``teeth.png`` overlays the upload pixel for pixel. Teeth are connected components per FDI class;
a number occurs once per mouth, so the largest component keeps the number, and a "tooth" under a fifth of the
image's median tooth area is dropped as noise. Near each tooth, where its own number is the likeliest, tooth
versus background is then decided by the summed tooth probability (see :func:`grow_into_teeth`). Confidence is
the mean softmax probability of the tooth's class over its network-size pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError
from data_connectors.images import read_image, to_grey
from domains.dental import DRAFT_NOTICE
from domains.dental.labels import CARIES_NAMES, INDEX_TO_FDI
from domains.dental.preprocess import normalise_radiograph, resize_image, resize_labels
from domains.dental.quality import check_radiograph, looks_upside_down, segmentation_warnings

PACKAGED_WEIGHTS = Path(__file__).parent / "weights" / "teeth_unet.pt"
# Chosen on the training split (0.1-0.3 all best there); on the held-out split it lifts per-class Dice by 0.02:
# spurious small islands of a tooth number the truth does not have score 0 and sink images with few teeth.
MIN_TOOTH_FRACTION = 0.2
# How far (network pixels, 512 grid) a tooth may grow into tooth probability the argmax gave to background: an
# interproximal gap, not a neighbour the network left unnumbered. 2, 3 and 5 scored alike on the training split.
MAX_GROWTH_PX = 3


@dataclass
class Tooth:
    fdi: int
    box_xyxy: tuple[int, int, int, int]
    area_px: int
    confidence: float
    area_mm2: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fdi": self.fdi,
            "box_xyxy": list(self.box_xyxy),
            "area_px": self.area_px,
            "area_mm2": self.area_mm2,
            "confidence": round(self.confidence, 4),
        }


@dataclass
class DentalResult:
    """Everything one analysis produced; ``to_json`` is what the CLI prints and the tab renders. ``input``
    identifies the upload by content hash, format and bit depth: never by file name, which in clinics often
    is the patient's name."""

    input: dict[str, Any]
    grey: np.ndarray  # (H, W) float32 in [0, 1], for overlays
    teeth_map: np.ndarray  # (H, W) uint8, pixel = FDI number, 0 background
    teeth: list[Tooth]
    model: dict[str, Any]
    quality: dict[str, Any]
    spacing_mm: tuple[float, float] | None = None
    spacing_source: str | None = None  # where spacing_mm came from: DICOM tag or the file's DPI
    caries_map: np.ndarray | None = None  # (H, W) uint8 caries class index, when a caries model was given
    caries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self.quality.get("warnings", []))

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": True,
            "notice": DRAFT_NOTICE,
            "input": self.input,
            "input_size_hw": list(self.teeth_map.shape),
            "spacing_mm": list(self.spacing_mm) if self.spacing_mm else None,
            "spacing_source": self.spacing_source if self.spacing_mm else None,
            "teeth_count": len(self.teeth),
            "teeth": [tooth.to_json() for tooth in self.teeth],
            "caries": self.caries if self.caries_map is not None else None,
            "model": self.model,
            "quality": self.quality,
            "warnings": self.warnings,
        }


@dataclass
class LoadedNetwork:
    network: Any
    spec: dict[str, Any]
    device: str
    weights: Path


# ---------------------------------------------------------------- helpers


def _spec_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def tooth_instances(
    indices: np.ndarray, probability: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """Instance-id map (0 = none) keeping the largest component per class, and (class, confidence) per id.

    A kept component smaller than ``MIN_TOOTH_FRACTION`` of the image's median tooth is dropped as noise.
    """
    from scipy import ndimage

    candidates: list[tuple[int, np.ndarray, float]] = []
    for label in np.unique(indices):
        if label == 0:
            continue
        components, count = ndimage.label(indices == label)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())[1:]
        keep = components == (int(np.argmax(sizes)) + 1)
        candidates.append((int(label), keep, float(sizes.max())))
    median_area = float(np.median([area for _, _, area in candidates])) if candidates else 0.0
    instances = np.zeros(indices.shape, dtype=np.int32)
    found: list[tuple[int, float]] = []
    for label, keep, area in candidates:
        if area < MIN_TOOTH_FRACTION * median_area:
            continue
        found.append((label, float(probability[keep].mean())))
        instances[keep] = len(found)
    return instances, found


def grow_into_teeth(
    instances: np.ndarray, instance_classes: np.ndarray, probabilities: np.ndarray, size_hw: tuple[int, int]
) -> np.ndarray:
    """Input-size instance map: each kept tooth also takes the pixels within ``MAX_GROWTH_PX`` (network pixels)
    of it where the tooth classes together outweigh background and its own number is the likeliest tooth
    number, keeping only the pieces joined to its own pixels.

    Why: the argmax over 33 classes lets background win where a tooth's probability is split between its
    number and a neighbour's (interproximal edges, roots); the summed tooth probability is the
    tooth-versus-background posterior, and resized bilinearly it gives smooth outlines on a full-size upload.
    Growing only into its own likeliest number, near it, means a tooth the network did not number (a
    restored crown) stays unnumbered rather than shared out among its neighbours, and no tooth ends up in
    pieces. ``instance_classes[i]`` is instance ``i``'s class index (0 for none); ``probabilities`` is the
    ``(classes, h, w)`` softmax at the network's size.
    """
    from scipy import ndimage

    if not instances.any():
        return np.zeros(size_hw, dtype=np.uint8)
    distance, (rows, cols) = ndimage.distance_transform_edt(instances == 0, return_indices=True)
    nearest = np.where(distance <= MAX_GROWTH_PX, instances[rows, cols], 0)
    likeliest_tooth = probabilities[1:].argmax(0) + 1
    nearest = np.where(instance_classes[nearest] == likeliest_tooth, nearest, 0).astype(np.uint8)  # < 33 teeth
    tooth = resize_image(1.0 - probabilities[0], size_hw) > 0.5
    grown = np.where(tooth, resize_labels(nearest, size_hw), 0).astype(np.uint8)
    kept = resize_labels(instances.astype(np.uint8), size_hw)
    for number, box in enumerate(ndimage.find_objects(grown), start=1):
        if box is None:
            continue
        pieces, _ = ndimage.label(grown[box] == number)
        own = np.unique(pieces[(kept[box] == number) & (pieces > 0)])
        grown[box][(pieces > 0) & ~np.isin(pieces, own)] = 0
    return grown


# PUBLIC API


@lru_cache(maxsize=4)
def load_network(weights: Path = PACKAGED_WEIGHTS, device: str = "cpu") -> LoadedNetwork:
    """A network from ``<name>.pt`` (fp16 state dict) + ``<name>.json`` (the spec train.py wrote).

    Raises:
        BadInputError: the weights or their JSON spec are missing or do not match.
    """
    import torch

    from domains.dental.network import build_network

    weights = Path(weights)
    if weights.is_dir():
        candidates = sorted(weights.glob("*_unet.pt"))
        if not candidates:
            raise BadInputError(f"No *_unet.pt weights in {weights}; train one with `genai dental train`.")
        weights = candidates[0]
    spec_file = _spec_path(weights)
    if not weights.is_file() or not spec_file.is_file():
        raise BadInputError(
            f"Model files {weights.name} and {spec_file.name} are needed in {weights.parent}; "
            "train them with `genai dental train teeth|caries --data DIR --out DIR`."
        )
    spec = json.loads(spec_file.read_text())
    network = build_network(spec)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (RuntimeError, OSError, ValueError) as error:
        raise BadInputError(
            f"{weights} does not match its spec {spec_file.name} ({error}); retrain it."
        ) from None
    return LoadedNetwork(network.to(device).eval(), spec, device, weights)


def predict_probabilities(net: LoadedNetwork, unit: np.ndarray, *, mirror_average: bool = True) -> np.ndarray:
    """``(H, W)`` [0, 1] image -> ``(classes, h, w)`` float32 softmax probabilities at the network's size.

    ``mirror_average`` also segments the left-right mirror image and averages the two probability maps, with
    the mirror's classes mapped back (the FDI quadrants swap in a mirror), so the result is mirror-consistent.
    """
    import torch

    from domains.dental.labels import flip_permutation
    from domains.dental.network import infer_logits

    height, width = net.spec["size_hw"]
    x = torch.from_numpy(resize_image(unit, (height, width)) * 2 - 1)[None, None].to(net.device)
    if mirror_average:
        x = torch.cat([x, x.flip(-1)])
    with torch.no_grad():
        probabilities = infer_logits(net.network, x, net.spec).float().softmax(1)
    if mirror_average:
        swap_back = torch.as_tensor(flip_permutation(net.spec.get("task", "teeth")), device=net.device)
        probabilities = (probabilities[0] + probabilities[1].flip(-1)[swap_back]) / 2
    else:
        probabilities = probabilities[0]
    return probabilities.cpu().numpy()


def predict_classes(
    net: LoadedNetwork, unit: np.ndarray, *, mirror_average: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W)`` [0, 1] image -> (class-index map, max softmax probability), both at the network's size."""
    probabilities = predict_probabilities(net, unit, mirror_average=mirror_average)
    return probabilities.argmax(0).astype(np.uint8), probabilities.max(0)


def segment_teeth(
    net: LoadedNetwork, grey: np.ndarray, *, mirror_average: bool = True
) -> tuple[np.ndarray, list[Tooth]]:
    """``(H, W)`` grey radiograph in any range -> (FDI label map at the input size, teeth sorted by FDI)."""
    from scipy import ndimage

    unit = normalise_radiograph(grey)
    probabilities = predict_probabilities(net, unit, mirror_average=mirror_average)
    instances, found = tooth_instances(probabilities.argmax(0).astype(np.uint8), probabilities.max(0))
    instance_classes = np.array([0] + [label for label, _ in found], dtype=np.int64)
    full = grow_into_teeth(instances, instance_classes, probabilities, unit.shape)
    fdi_of_instance = np.array([0] + [int(INDEX_TO_FDI[label]) for label, _ in found], dtype=np.uint8)
    teeth_map = fdi_of_instance[full]
    teeth = []
    for number, box in enumerate(ndimage.find_objects(full), start=1):
        if box is None:
            continue  # a sliver that vanished in the resize
        rows, cols = box
        area = int(np.count_nonzero(full[box] == number))
        teeth.append(
            Tooth(
                fdi=int(fdi_of_instance[number]),
                box_xyxy=(cols.start, rows.start, cols.stop - 1, rows.stop - 1),
                area_px=area,
                confidence=found[number - 1][1],
            )
        )
    return teeth_map, sorted(teeth, key=lambda tooth: tooth.fdi)


def segment_caries(
    net: LoadedNetwork, grey: np.ndarray, *, mirror_average: bool = True
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Caries class map at the input size + a list of regions (class, box, area, confidence).

    Regions are the connected components of that input-size map (as for teeth), so every box and area matches
    ``caries.png`` pixel for pixel; a region's confidence is the mean probability of the network-size pixels
    its pixels were resized from (nearest neighbour, the same mapping ``resize_labels`` uses).
    """
    from scipy import ndimage

    unit = normalise_radiograph(grey)
    indices, probability = predict_classes(net, unit, mirror_average=mirror_average)
    full = resize_labels(indices, unit.shape)
    source_rows = _nearest_source(indices.shape[0], unit.shape[0])
    source_cols = _nearest_source(indices.shape[1], unit.shape[1])
    regions = []
    for label in range(1, int(net.spec["n_classes"])):
        components, _ = ndimage.label(full == label)
        for number, box in enumerate(ndimage.find_objects(components), start=1):
            if box is None:
                continue
            mask = components[box] == number
            rows, cols = box
            sampled = probability[np.ix_(source_rows[rows], source_cols[cols])]
            regions.append(
                {
                    "class": CARIES_NAMES[label] if label < len(CARIES_NAMES) else str(label),
                    "box_xyxy": [cols.start, rows.start, cols.stop - 1, rows.stop - 1],
                    "area_px": int(mask.sum()),
                    "confidence": round(float(sampled[mask].mean()), 4),
                }
            )
    return full, regions


def _nearest_source(source: int, target: int) -> np.ndarray:
    """For each of ``target`` output pixels, the source pixel Pillow's NEAREST resize copies from (asked of
    Pillow itself, on a ramp: its rounding at exact pixel boundaries is its own)."""
    from PIL import Image

    ramp = Image.fromarray(np.arange(source, dtype=np.int32)[None])  # mode "I"
    return np.asarray(ramp.resize((target, 1), Image.NEAREST), dtype=np.int64)[0]


def analyse_radiograph(
    path: str | Path,
    *,
    teeth_weights: Path = PACKAGED_WEIGHTS,
    caries_weights: Path | None = None,
    device: str = "cpu",
    mirror_average: bool = True,
) -> DentalResult:
    """Read, check, segment teeth (and caries when ``caries_weights`` is given) -> :class:`DentalResult`.

    Raises:
        BadInputError: not an image, corrupt, not a radiograph (colour photo, thumbnail), or missing weights.
    """
    array, meta = read_image(path)
    quality = check_radiograph(array, meta)
    grey = to_grey(array)
    net = load_network(Path(teeth_weights), device)
    teeth_map, teeth = segment_teeth(net, grey, mirror_average=mirror_average)
    upside_down = looks_upside_down(teeth, None, teeth_map.shape)
    if upside_down:  # the arches frown: a second look at the image turned over confirms it or clears it
        turned = segment_teeth(net, np.ascontiguousarray(grey[::-1, ::-1]), mirror_average=mirror_average)[1]
        upside_down = looks_upside_down(teeth, turned, teeth_map.shape)
    quality.warnings += segmentation_warnings(teeth, teeth_map.shape, upside_down=upside_down)
    spacing = meta.get("spacing_mm")
    if spacing:
        for tooth in teeth:
            tooth.area_mm2 = round(tooth.area_px * spacing[0] * spacing[1], 2)
    metrics = net.spec.get("metrics", {})
    model = {
        "weights": net.weights.name,
        "network": f"MONAI UNet channels={net.spec['channels']}",
        "trained_on": net.spec.get("data", "unknown"),
        "held_out_dice_mean_class": metrics.get("dice_mean_class"),
        "held_out_numbering_accuracy": metrics.get("numbering_accuracy"),
        "mirror_average": mirror_average,
    }
    result = DentalResult(
        input={"sha256_12": meta["sha256_12"], "format": meta["format"], "bit_depth": meta["bit_depth"]},
        grey=normalise_radiograph(grey),
        teeth_map=teeth_map,
        teeth=teeth,
        model=model,
        quality=quality.to_json(),
        spacing_mm=tuple(spacing) if spacing else None,
        spacing_source=meta.get("spacing_source"),
    )
    if caries_weights is not None:
        caries_net = load_network(Path(caries_weights), device)
        result.caries_map, result.caries = segment_caries(caries_net, grey, mirror_average=mirror_average)
        for region in result.caries:
            region["area_mm2"] = round(region["area_px"] * spacing[0] * spacing[1], 2) if spacing else None
        result.model["caries_weights"] = caries_net.weights.name
    return result
