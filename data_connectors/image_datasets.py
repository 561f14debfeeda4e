"""Labelled 2D image datasets in the layouts people export (Roboflow and friends) -> one record type.

Four layouts: a folder of images with a parallel folder of masks (matched by file stem), one sub-folder per
class, COCO JSON (boxes and polygons) and YOLO txt (``class cx cy w h`` boxes or ``class x1 y1 x2 y2 ...``
polygons, normalised to [0, 1], with ``data.yaml`` class names). Readers only index files; pixels are read
later with :func:`data_connectors.images.read_image`. Anything unusable (missing image, malformed line) is
listed in ``DatasetIndex.skipped`` with the reason, and the rest is kept: one bad file never sinks a dataset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError
from data_connectors.images import IMAGE_SUFFIXES

LOSSY_SUFFIXES = (".jpg", ".jpeg")  # never for label masks: compression invents values between the labels


@dataclass
class Annotation:
    category: str
    box_xyxy: tuple[float, float, float, float] | None = None  # pixels
    polygons: list[list[tuple[float, float]]] = field(
        default_factory=list
    )  # pixels, (x, y); parts of one object


@dataclass
class ImageRecord:
    image: Path
    mask: Path | None = None
    label: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    split: str | None = None
    size_hw: tuple[int, int] | None = None


@dataclass
class DatasetIndex:
    layout: str
    records: list[ImageRecord]
    categories: list[str]
    skipped: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Images per class label (class folders) or annotations per category (COCO/YOLO)."""
        totals: dict[str, int] = dict.fromkeys(self.categories, 0)
        for record in self.records:
            if record.label is not None:
                totals[record.label] = totals.get(record.label, 0) + 1
            for annotation in record.annotations:
                totals[annotation.category] = totals.get(annotation.category, 0) + 1
        return totals


# ---------------------------------------------------------------- helpers


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _require_dir(path: Path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise BadInputError(f"{what} {path} is not a folder; give the dataset's folder path.")
    return path


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size[1], image.size[0]
    except (OSError, UnidentifiedImageError):
        return None


def _yolo_names(root: Path) -> dict[int, str]:
    """Class id -> name from ``data.yaml`` (a list, or a dict keyed by id: ints or digit strings, maybe sparse);
    BadInputError when it is malformed."""
    for name in ("data.yaml", "data.yml", "dataset.yaml"):
        if (root / name).is_file():
            import yaml

            try:
                document = yaml.safe_load((root / name).read_text()) or {}
            except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
                raise BadInputError(
                    f"{name} is not readable YAML ({type(error).__name__}); export the YOLO dataset again."
                ) from None
            names = document.get("names", []) if isinstance(document, dict) else None
            if not isinstance(names, (list, dict)):
                raise BadInputError(
                    f"{name} has no 'names' list of class names (expected e.g. names: [caries, ...]); export the "
                    "YOLO dataset again."
                )
            if isinstance(names, list):
                return {index: str(name) for index, name in enumerate(names)}
            try:
                return {int(key): str(value) for key, value in sorted(names.items(), key=lambda kv: int(kv[0]))}
            except (TypeError, ValueError):
                raise BadInputError(
                    f"{name} names classes by keys that are not class ids ({list(names)[:3]}); export the YOLO "
                    "dataset again."
                ) from None
    return {}


def _outside(xs: list[float], ys: list[float], size_hw: tuple[int, int]) -> bool:
    """Coordinates beyond the image by more than 2 % of its size (exports round a little past the edge)."""
    height, width = size_hw
    return (
        min(xs) < -0.02 * width or max(xs) > 1.02 * width or min(ys) < -0.02 * height or max(ys) > 1.02 * height
    )


def _yolo_annotations(
    text: str, names: dict[int, str], size_hw: tuple[int, int]
) -> tuple[list[Annotation], list[str]]:
    height, width = size_hw
    annotations, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            class_id, values = int(parts[0]), [float(v) for v in parts[1:]]
        except ValueError:
            problems.append(f"line {number}: not numbers")
            continue
        if len(values) < 4 or (len(values) > 4 and len(values) % 2):
            problems.append(f"line {number}: expected 4 box values or an even number of polygon values")
            continue
        if names and class_id not in names:
            problems.append(f"line {number}: class {class_id} is not among data.yaml's {len(names)} names")
            continue
        category = names.get(class_id, str(class_id))
        if len(values) == 4:
            cx, cy, w, h = values
            box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
            xs, ys, polygons = [box[0], box[2]], [box[1], box[3]], []
            empty = not (w > 0 and h > 0)
        else:
            points = [(values[i] * width, values[i + 1] * height) for i in range(0, len(values), 2)]
            xs, ys, polygons = [p[0] for p in points], [p[1] for p in points], [points]
            box, empty = (min(xs), min(ys), max(xs), max(ys)), False
        if not all(np.isfinite(values)) or _outside(xs, ys, size_hw) or empty:
            problems.append(f"line {number}: coordinates outside 0-1 or an empty box (YOLO values are normalised)")
            continue
        annotations.append(Annotation(category, box, polygons))
    return annotations, problems


# PUBLIC API


def read_mask_folder(images_dir: str | Path, masks_dir: str | Path) -> DatasetIndex:
    """Images paired with masks of the same file stem (any image extension on either side)."""
    images_dir, masks_dir = _require_dir(images_dir, "Images folder"), _require_dir(masks_dir, "Masks folder")
    masks = {p.stem: p for p in _images_in(masks_dir)}
    records, skipped = [], []
    for image in _images_in(images_dir):
        mask = masks.get(image.stem)
        if mask is None:
            skipped.append(f"{image.name}: no mask named {image.stem}.* in {masks_dir.name}")
        elif mask.suffix.lower() in LOSSY_SUFFIXES:
            skipped.append(
                f"{image.name}: its mask {mask.name} is a JPEG, whose compression turns label values into "
                "noise; save masks as PNG"
            )
        elif (image_size := _image_size(image)) != (mask_size := _image_size(mask)) and None not in (
            image_size,
            mask_size,
        ):
            skipped.append(
                f"{image.name}: its mask {mask.name} is {mask_size[1]}x{mask_size[0]} pixels but the image is "
                f"{image_size[1]}x{image_size[0]}; a label mask must match its image pixel for pixel"
            )
        else:
            records.append(ImageRecord(image=image, mask=mask, size_hw=image_size))
    if not records:
        why = f" ({skipped[0]})" if skipped and "is a JPEG" in skipped[0] else ""
        raise BadInputError(f"No image in {images_dir} has a usable mask with the same name in {masks_dir}{why}.")
    return DatasetIndex("mask-folder", records, [], skipped)


def read_class_folders(root: str | Path) -> DatasetIndex:
    """``root/<class>/<image>``: one sub-folder per class; empty sub-folders are listed as skipped."""
    root = _require_dir(root, "Dataset folder")
    records, categories, skipped = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = _images_in(folder)
        if not images:
            skipped.append(f"{folder.name}/: no images")
            continue
        categories.append(folder.name)
        records += [ImageRecord(image=image, label=folder.name) for image in images]
    if not records:
        raise BadInputError(
            f"{root} holds no labelled dataset: expected images/ + masks/ (same file names), a COCO JSON file, "
            "YOLO [split/]images/ + [split/]labels/ with data.yaml, or one sub-folder of images per class."
        )
    return DatasetIndex("class-folders", records, categories, skipped)


def _coco_annotation(
    annotation: dict[str, Any], categories: dict[int, str], size_hw: tuple[int, int]
) -> Annotation:
    """One COCO annotation: its box and every polygon of a multi-part segmentation (an RLE mask, a dict,
    keeps only the box). ValueError for an unknown category or coordinates that are not on the image."""
    category_id = int(annotation.get("category_id", -1))
    if categories and category_id not in categories:
        raise ValueError(f"category_id {category_id} is not among the file's categories")
    category = categories.get(category_id, str(category_id))
    x, y, w, h = (float(v) for v in annotation.get("bbox", (0, 0, 0, 0)))
    if w < 0 or h < 0:
        raise ValueError(f"bbox has a negative width or height ({w:g} x {h:g})")
    segmentation = annotation.get("segmentation")
    polygons = []
    if isinstance(segmentation, list):
        for flat in segmentation:
            if isinstance(flat, list):
                polygons.append([(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat) - 1, 2)])
    xs = [x, x + w, *(p[0] for polygon in polygons for p in polygon)]
    ys = [y, y + h, *(p[1] for polygon in polygons for p in polygon)]
    if not all(np.isfinite(xs + ys)) or _outside(xs, ys, size_hw):
        raise ValueError("coordinates lie outside the image")
    return Annotation(category, (x, y, x + w, y + h), polygons)


def _image_id(value: Any) -> str | None:
    """A COCO image id as a key: numbers and digit strings alike ("7" is 7), other strings as written ("img-A");
    None when missing, not finite or not a scalar."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, float):
        return str(int(value)) if np.isfinite(value) and value.is_integer() else None
    if isinstance(value, int):
        return str(value)
    text = value.strip()
    return str(int(text)) if text.lstrip("-").isdigit() else (text or None)


def _as_int(value: Any) -> int | None:
    """A COCO id or size as an int; None when it is missing or not a number (``null``, ``"abc"``)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # null, "abc", Infinity
        return None


def read_coco(annotation_file: str | Path, images_dir: str | Path | None = None) -> DatasetIndex:
    """COCO detection/segmentation JSON (Roboflow "COCO" export: ``_annotations.coco.json`` beside images)."""
    annotation_file = Path(annotation_file)
    try:
        document = json.loads(annotation_file.read_text())
        images, annotations = document["images"], document.get("annotations", [])
        categories = {int(c["id"]): str(c["name"]) for c in document.get("categories", [])}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadInputError(
            f"{annotation_file.name} is not a COCO annotation file ({type(error).__name__}: {error}); "
            "export the dataset again in COCO JSON format."
        ) from None
    folder = Path(images_dir) if images_dir else annotation_file.parent
    by_image: dict[str, list[dict[str, Any]]] = {}
    records, skipped = [], []
    orphans = 0
    for annotation in annotations:
        image_id = _image_id(annotation.get("image_id")) if isinstance(annotation, dict) else None
        if image_id is None:
            orphans += 1
            continue
        by_image.setdefault(image_id, []).append(annotation)
    if orphans:
        skipped.append(f"{orphans} annotation(s) without a valid image_id were left out")
    listed = {_image_id(image.get("id")) for image in images if isinstance(image, dict)}
    unlisted = sum(len(found) for image_id, found in by_image.items() if image_id not in listed)
    if unlisted:
        skipped.append(f"{unlisted} annotation(s) name an image_id that no image entry has; they were left out")
    for image in images:
        if not isinstance(image, dict):
            skipped.append(f"an image entry is not an object ({type(image).__name__}); it was left out")
            continue
        path = folder / str(image.get("file_name", ""))
        if not path.is_file():
            lost = len(by_image.get(_image_id(image.get("id")), []))
            skipped.append(
                f"image id {image.get('id')} ({image.get('file_name')}): image file not found in {folder}; its "
                f"{lost} annotation(s) were left out"
            )
            continue
        size_hw = (_as_int(image.get("height")) or 0, _as_int(image.get("width")) or 0)
        if min(size_hw) <= 0:  # not in the entry: the file itself says
            size_hw = _image_size(path)
            if size_hw is None:
                skipped.append(f"{image.get('file_name')}: unreadable image")
                continue
        record = ImageRecord(image=path, size_hw=size_hw)
        for number, annotation in enumerate(by_image.get(_image_id(image.get("id")), []), start=1):
            try:
                record.annotations.append(_coco_annotation(annotation, categories, size_hw))
            except (ValueError, TypeError, AttributeError) as error:  # one malformed annotation is skipped
                skipped.append(
                    f"{image.get('file_name')}: annotation {number} is malformed "
                    f"({type(error).__name__}: {error}); it was left out"
                )
        records.append(record)
    return DatasetIndex("coco", records, list(dict.fromkeys(categories[k] for k in sorted(categories))), skipped)


def read_yolo(root: str | Path) -> DatasetIndex:
    """YOLO txt export: ``[split/]images/*`` + ``[split/]labels/*.txt``, class names from ``data.yaml``."""
    root = _require_dir(root, "YOLO dataset folder")
    names = _yolo_names(root)
    image_dirs = [root / "images"] if (root / "images").is_dir() else []
    image_dirs += sorted(p / "images" for p in root.iterdir() if p.is_dir() and (p / "images").is_dir())
    if not image_dirs:
        raise BadInputError(f"{root} has no images/ folder (expected [split/]images and [split/]labels).")
    records, skipped = [], []
    for image_dir in image_dirs:
        split = image_dir.parent.name if image_dir.parent != root else None
        images = _images_in(image_dir)
        for image in images:
            label_file = image_dir.parent / "labels" / f"{image.stem}.txt"
            size = _image_size(image)
            if size is None:
                skipped.append(f"{image.name}: unreadable image")
                continue
            text = label_file.read_text() if label_file.is_file() else ""
            annotations, problems = _yolo_annotations(text, names, size)
            skipped += [f"{image.name}: {label_file.name} {problem}" for problem in problems]
            records.append(ImageRecord(image=image, annotations=annotations, split=split, size_hw=size))
        stems = {image.stem for image in images}
        labels_dir = image_dir.parent / "labels"
        for label_file in sorted(labels_dir.glob("*.txt")) if labels_dir.is_dir() else []:
            lines = sum(1 for line in label_file.read_text().splitlines() if line.strip())
            if label_file.stem not in stems and lines:
                where = f"{split}/images" if split else "images"
                skipped.append(
                    f"{label_file.name}: no image named {label_file.stem}.* in {where}; its {lines} "
                    "annotation(s) were left out"
                )
    return DatasetIndex(
        "yolo", records, list(names.values()) or sorted({a.category for r in records for a in r.annotations}), skipped
    )


def _is_coco(path: Path) -> bool:
    """A JSON file whose top level has the COCO ``images`` list (not any stray JSON beside the images)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("images"), list)


def _has_yolo_labels(folder: Path) -> bool:
    return (folder / "labels").is_dir() and any((folder / "labels").glob("*.txt"))


def read_image_dataset(path: str | Path) -> DatasetIndex:
    """Guess the layout: COCO JSON, YOLO (``labels/*.txt`` or ``data.yaml``), images + masks, class folders.

    A Roboflow COCO export has one ``_annotations.coco.json`` per split folder (train/, valid/, test/): all of
    them are read, each record keeping its split.

    Raises:
        BadInputError: the path matches none of the four layouts.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return read_coco(path)
    root = _require_dir(path, "Dataset folder")
    coco = [p for p in [*sorted(root.glob("*.json")), *sorted(root.glob("*/*.json"))] if _is_coco(p)]
    if coco:
        return _merge_coco(coco, root)
    subfolders = [p for p in root.iterdir() if p.is_dir()]
    if _yolo_names(root) or _has_yolo_labels(root) or any(_has_yolo_labels(p) for p in subfolders):
        return read_yolo(root)
    for images, masks in (("images", "masks"), ("images", "labels"), ("images", "fdi_labelmaps")):
        if (root / images).is_dir() and (root / masks).is_dir():
            return read_mask_folder(root / images, root / masks)
    return read_class_folders(root)


def _merge_coco(files: list[Path], root: Path) -> DatasetIndex:
    indexes = [read_coco(file) for file in files]
    for file, index in zip(files, indexes, strict=True):
        for record in index.records:
            record.split = file.parent.name if file.parent != root else None
    return DatasetIndex(
        "coco",
        [record for index in indexes for record in index.records],
        list(dict.fromkeys(category for index in indexes for category in index.categories)),
        [item for index in indexes for item in index.skipped],
    )


def annotation_centre(annotation: Annotation) -> tuple[float, float]:
    """``(x, y)`` pixel centre of one annotation: the area centroid of its polygons (all parts, weighted by area),
    else the middle of its box. Each annotation has its own centre even where it overlaps or touches
    another, which a rasterised mask would merge or hide."""
    total, cx, cy = 0.0, 0.0, 0.0
    for polygon in annotation.polygons:
        if len(polygon) < 3:
            continue
        xs, ys = np.array([p[0] for p in polygon]), np.array([p[1] for p in polygon])
        cross = xs * np.roll(ys, -1) - np.roll(xs, -1) * ys  # shoelace terms
        area = cross.sum() / 2
        if abs(area) > 1e-9:  # each part's centroid, weighted by its area whichever way it winds
            total += abs(area)
            cx += abs(area) * ((xs + np.roll(xs, -1)) * cross).sum() / (6 * area)
            cy += abs(area) * ((ys + np.roll(ys, -1)) * cross).sum() / (6 * area)
    box = annotation.box_xyxy
    if total > 1e-9:
        x, y = float(cx / total), float(cy / total)
        inside = box is None or (box[0] - 1 <= x <= box[2] + 1 and box[1] - 1 <= y <= box[3] + 1)
        if inside:  # a self-intersecting polygon's "centroid" can fall off the lesion: then its box's centre
            return x, y
    if box is not None:
        return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    points = [p for polygon in annotation.polygons for p in polygon]
    if not points:
        raise ValueError("the annotation has neither a box nor a polygon")
    return float(np.mean([p[0] for p in points])), float(np.mean([p[1] for p in points]))


def rasterise(record: ImageRecord, categories: list[str]) -> np.ndarray:
    """A ``(H, W)`` uint8 mask from COCO/YOLO polygons, every part of a multi-part object (its box when it has
    no polygon of 3+ points): value = category index + 1."""
    from PIL import Image, ImageDraw

    if record.size_hw is None:
        raise BadInputError(f"{record.image.name} has no known size; read it with read_coco or read_yolo.")
    mask = Image.new("L", (record.size_hw[1], record.size_hw[0]), 0)
    draw = ImageDraw.Draw(mask)
    for annotation in record.annotations:
        value = categories.index(annotation.category) + 1 if annotation.category in categories else 255
        polygons = [polygon for polygon in annotation.polygons if len(polygon) >= 3]
        for polygon in polygons:
            draw.polygon(polygon, fill=value)
        if not polygons and annotation.box_xyxy:
            draw.rectangle(annotation.box_xyxy, fill=value)
    return np.asarray(mask)
