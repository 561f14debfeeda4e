"""Caries class balancing with a class-conditional GAN, and a measurement of whether it helps.

The seed book's CranexD chapter, done for real on DC1000:

1. ``extract_patches``: 32x32 patches (at the 1024-px-wide image scale) centred on every lesion (each class's
   regions on their own, so touching regions of two classes are two patches), labelled with its class, plus
   "healthy" patches centred on bright (tooth) pixels far from any lesion: the majority class.
   ``lesion_source`` reads the lesions from the DC1000 layout (classes caries-1/2/3) or from any labelled
   layout of ``data_connectors.image_datasets``: images + masks, COCO JSON, YOLO txt (Roboflow exports).
2. The split is by *image*, before any patch is made: test patches come from held-out radiographs only, and no
   synthetic patch ever enters a test set.
3. ``balance_dataset``: ``genai_models.ConditionalGAN`` trained on the training patches, by default with
   DiffAugment and the SNGAN recipe (a few hundred patches per class: with the DCGAN defaults it collapses to
   near-identical patches; ``GENERATOR_RECIPES`` lists the others); each class with fewer training patches
   than ``target_per_class`` is topped up to it with generated patches, larger classes are kept as they are.
   Every file is listed in ``manifest.csv`` with ``synthetic`` = 1/0, synthetic files are also named
   ``syn_*``: never mixed in silently.
4. ``evaluate_balance``: a small MONAI ``Classifier`` CNN trained three ways on the same training images --
   original (imbalanced), classical (minority classes oversampled with MONAI random transforms), classical +
   synthetic (GAN patches fill the gap, same transforms) -- per-class precision/recall/F1 and macro-F1 on the
   real test patches, over several seeds (mean +- sd), plus FID-EffNetLite0 of real vs synthetic per class.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from data_connectors.errors import BadInputError
from domains.dental.labels import CARIES_CODE_TO_INDEX
from domains.dental.preprocess import normalise_radiograph, resize_image, resize_labels, to_uint8

PATCH = 32
WORKING_WIDTH = 1024  # images are brought to this width before patches are cut (DC1000's images_1024 scale)
HEALTHY = "healthy"
CLASS_NAMES = (HEALTHY, "caries-1", "caries-2", "caries-3")  # the DC1000 layout's classes
REGIMES = ("original", "classical", "classical+synthetic")


# ---------------------------------------------------------------- patches


def balanced_root(data_dir: Path) -> Path:
    """Where balanced datasets go by default; the hub shows only folders under it."""
    return Path(data_dir) / "dental" / "balanced"


def balanced_datasets(data_dir: Path) -> list[str]:
    """Names of the balanced datasets under ``balanced_root`` (folders holding a ``balance.json``)."""
    root = balanced_root(data_dir)
    return sorted(path.parent.name for path in root.glob("*/balance.json")) if root.is_dir() else []


def _crop(image: np.ndarray, centre: tuple[int, int]) -> np.ndarray:
    half = PATCH // 2
    padded = np.pad(image, half, mode="constant")
    row, col = centre[0] + half, centre[1] + half
    return padded[row - half : row + half, col - half : col + half]


Lesion = tuple[tuple[int, int], int]  # ((row, col) centre, class index)


def image_patches(
    grey: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    healthy: int,
    lesions: list[Lesion] | None = None,
) -> list:
    """(patch uint8, class) centred on every lesion and ``healthy`` lesion-free patches.

    ``lesions`` (annotated datasets: one per COCO/YOLO annotation) gives the centres; without it (masks) the
    lesions are the connected components of each class on its own, so touching regions of different classes
    (the teeth of an FDI label map, a deep lesion beside a shallow one) are one patch each, labelled with their
    own class, never merged into one patch of the majority class. ``labels`` also keeps the healthy patches
    away from every lesion."""
    from scipy import ndimage

    image = to_uint8(normalise_radiograph(grey))
    found = [(_crop(image, centre), label) for centre, label in lesions or []]
    for label in np.unique(labels[labels > 0]) if lesions is None else []:
        components, _ = ndimage.label(labels == label)
        for number, box in enumerate(ndimage.find_objects(components), start=1):
            if box is None:
                continue
            rows, cols = np.nonzero(components[box] == number)
            centre = (box[0].start + int(rows.mean()), box[1].start + int(cols.mean()))
            found.append((_crop(image, centre), int(label)))
    far = ~ndimage.binary_dilation(labels > 0, iterations=PATCH)
    bright = image >= np.percentile(image, 85)
    rows, cols = np.nonzero(far & bright)
    if len(rows):
        for pick in rng.choice(len(rows), size=min(healthy, len(rows)), replace=False):
            found.append((_crop(image, (int(rows[pick]), int(cols[pick]))), 0))
    return found


@dataclass
class LesionSource:
    """Labelled radiographs in any layout: ``names`` to split on, ``classes`` (HEALTHY first, then the lesion
    classes, whose indices the label maps use; 0 = no lesion), ``load(name)`` -> (grey float32 image,
    uint8 class-index map, the lesion centres of an annotated dataset or None), all at the working width,
    ``image_file(name)`` (for its content hash, the
    pseudonymous id written to outputs) and ``skipped``: (one sentence, the radiograph it concerns or None) per
    item already found unusable; ``pseudonymous_skips`` takes the file names out before anything is written."""

    root: Path
    names: list[str]
    classes: list[str]
    load: Callable[[str], tuple[np.ndarray, np.ndarray, list[Lesion] | None]]
    image_file: Callable[[str], Path]
    skipped: list[tuple[str, Path | None]] = field(default_factory=list)


def _at_working_width(grey: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = grey.shape
    size = (max(1, round(height * WORKING_WIDTH / width)), WORKING_WIDTH)
    return resize_image(grey, size), resize_labels(labels, size)


def _read_radiograph(path: Path, *, labelled: bool = False) -> np.ndarray:
    """Grey float32 in the file's full range (a 16-bit radiograph is not cut to 8 bits).

    ``labelled``: its lesions are drawn in a mask or annotations, so an EXIF orientation (the reader turns the
    image as viewers do) is refused: whether the labels follow the stored or the displayed pixels is unknown,
    and a square image would pass every size check with its lesions in the wrong place."""
    from data_connectors.images import read_image, to_grey

    array, meta = read_image(path)
    if labelled and meta.get("exif_orientation") not in (None, 1):
        raise BadInputError(
            f"The image has an EXIF orientation tag ({meta['exif_orientation']}: shown rotated or mirrored), so "
            "its mask or annotations may follow either the stored or the shown pixels; re-export the image "
            "without it (Roboflow: auto-orient) and label it as shown."
        )
    return to_grey(array)


def _dc1000_source(root: Path) -> LesionSource:
    from domains.dental.train import dataset_names

    def image_file(name: str) -> Path:
        return root / "images_1024" / f"{name}.png"

    def load(name: str) -> tuple[np.ndarray, np.ndarray, None]:
        grey = _read_radiograph(image_file(name))
        codes = _read_grey_png(root / "colors" / f"{name}.png", "colour map")
        return *_at_working_width(grey, CARIES_CODE_TO_INDEX[resize_labels(codes, grey.shape)]), None

    return LesionSource(root, dataset_names("caries", root), list(CLASS_NAMES), load, image_file)


def _file_id(path: Path) -> str:
    """The file's content hash (``content_id``), the id outputs use for it; "unreadable" when it cannot be read."""
    from data_connectors.images import content_id

    try:
        return content_id(path)
    except OSError:
        return "unreadable"


def _read_grey_png(path: Path, what: str) -> np.ndarray:
    """An 8-bit grey image or mask; BadInputError naming it by ``what`` and content hash (not by file name: it can
    carry the patient's name) when it cannot be decoded."""
    from PIL import UnidentifiedImageError

    try:
        with Image.open(path) as file:
            return np.asarray(file.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        raise BadInputError(
            f"The {what} {_file_id(path)} is not a readable image ({type(error).__name__}); re-export it or "
            "remove it."
        ) from None


MAX_MASK_VALUES = 64  # background + lesion classes; more is image content, not labels
COLOUR_CODE = 1 << 32  # colour-mask values start here, above any 16- or 32-bit grey label


def _read_mask(path: Path) -> np.ndarray:
    """A label mask's values as stored: 16-bit masks keep theirs (converting to 8 bits would turn 1000, 2000
    and 3000 into one class 255), palette masks their indices (VOC style: two colours of one grey level stay
    two classes), colour masks one value per colour (``COLOUR_CODE`` + 0xRRGGBB; a grey mask saved as RGB
    keeps its grey values)."""
    from PIL import UnidentifiedImageError

    try:
        with Image.open(path) as file:
            if file.mode.startswith("I") or file.mode == "P":  # a palette mask's labels are its indices
                return np.asarray(file).astype(np.int64)
            if file.mode in ("RGB", "RGBA"):
                rgb = np.asarray(file.convert("RGB")).astype(np.int64)
                if not ((rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])).all():
                    colour = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
                    return np.where(colour > 0, COLOUR_CODE + colour, 0)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        pass  # _read_grey_png names the file in its error
    return _read_grey_png(path, "mask").astype(np.int64)


def _class_name(value: int) -> str:
    """``class-<value>``, or ``class-#rrggbb`` for a colour of a colour mask."""
    return f"class-#{value - COLOUR_CODE:06x}" if value >= COLOUR_CODE else f"class-{value}"


def _mask_values(mask: Path) -> set[int]:
    return {int(value) for value in np.unique(_read_mask(mask))}


def _annotated_source(path: Path) -> LesionSource:
    """Images + masks (classes = the masks' non-zero values), COCO or YOLO (classes = annotated categories, one
    lesion per annotation). ``path`` is the dataset folder or one COCO JSON file (its images lie beside it)."""
    from data_connectors.image_datasets import annotation_centre, rasterise, read_image_dataset

    index = read_image_dataset(path)
    root = path.parent if path.is_file() else path
    if index.layout == "class-folders":
        raise BadInputError(
            f"{root} holds one folder per class, which says nothing about where the lesions are; balancing "
            "needs lesion masks (images/ + masks/), COCO JSON or YOLO txt annotations, or the DC1000 layout."
        )
    if not index.records:
        missing = sum("image file not found" in reason for reason in index.skipped)
        raise BadInputError(
            f"None of the images that {path.name}'s annotations list was found"
            + (f" ({missing} missing from {root}: the images must sit beside the COCO JSON file)" if missing else "")
            + "; nothing to balance."
        )
    records = {str(r.image.relative_to(root).with_suffix("")).replace("/", "__"): r for r in index.records}
    skipped: list[tuple[str, Path | None]] = [(reason, None) for reason in index.skipped]
    if index.layout == "mask-folder":
        found: list[set[int]] = []
        for name, record in list(records.items()):
            try:
                mask_values = _mask_values(record.mask)
            except BadInputError as error:  # one unreadable mask is reported, the rest balanced
                skipped.append((str(error), record.image))
                del records[name]
                continue
            if len(mask_values) > MAX_MASK_VALUES:
                skipped.append(
                    (
                        f"its mask has {len(mask_values)} different values, more than a label mask has (is it a "
                        "photo, or a mask saved with lossy compression?)",
                        record.image,
                    )
                )
                del records[name]
                continue
            found.append(mask_values)
        codes = np.array([0, *sorted(set().union(*found) - {0})])  # mask value -> class index (its position)
        lesion_classes = [_class_name(int(value)) for value in codes[1:]]
    else:
        lesion_classes = [name for name, count in index.counts().items() if count > 0]
    if not lesion_classes:
        raise BadInputError(f"{root} has no labelled lesion in any image; nothing to balance.")

    def load(name: str) -> tuple[np.ndarray, np.ndarray, list[Lesion] | None]:
        record = records[name]
        grey = _read_radiograph(record.image, labelled=True)
        if record.mask is not None:
            mask = _read_mask(record.mask)
            if mask.shape != grey.shape:  # sizes the index could not read: never stretch lesions out of place
                raise BadInputError(
                    f"Its mask is {mask.shape[1]}x{mask.shape[0]} pixels but the image reads as "
                    f"{grey.shape[1]}x{grey.shape[0]}; a label mask must match its image pixel for pixel."
                )
            index = np.minimum(np.searchsorted(codes, mask), len(codes) - 1)
            return *_at_working_width(grey, np.where(codes[index] == mask, index, 0).astype(np.uint8)), None
        drawn = rasterise(record, lesion_classes)  # in the annotations' pixels (the entry's size)
        if abs(drawn.shape[0] / drawn.shape[1] - grey.shape[0] / grey.shape[1]) > 0.02 * grey.shape[0] / grey.shape[1]:
            raise BadInputError(
                f"Its annotations are for a {drawn.shape[1]}x{drawn.shape[0]} image but the image is "
                f"{grey.shape[1]}x{grey.shape[0]}, another shape; export the annotations with the images they "
                "were drawn on."
            )
        scaled, labels = _at_working_width(grey, resize_labels(drawn, grey.shape))
        height, width = labels.shape
        lesions = []
        for annotation in record.annotations:
            if annotation.category in lesion_classes:
                x, y = annotation_centre(annotation)
                row = min(max(int(y * height / drawn.shape[0]), 0), height - 1)
                col = min(max(int(x * width / drawn.shape[1]), 0), width - 1)
                lesions.append(((row, col), lesion_classes.index(annotation.category) + 1))
        return scaled, labels, lesions

    def image_file(name: str) -> Path:
        return records[name].image

    return LesionSource(root, sorted(records), [HEALTHY, *lesion_classes], load, image_file, skipped)


def lesion_source(root: Path) -> LesionSource:
    """The lesions of a dataset folder: the DC1000 layout (``images_1024/`` + ``colors/``) or any labelled
    layout that ``read_image_dataset`` recognises, or one COCO JSON file (its readers' BadInputError
    otherwise)."""
    root = Path(root)
    if (root / "images_1024").is_dir() and (root / "colors").is_dir():
        return _dc1000_source(root)
    return _annotated_source(root)


# A file name the dataset readers may quote: images, annotations, label files, YOLO's data.yaml.
_FILE_NAME = re.compile(r"[^\s/\\:'\"]+\.(?:png|jpe?g|bmp|tiff?|dcm|dicom|json|txt|ya?ml)\b", re.IGNORECASE)
# The names export tools give their own files: they say nothing about a patient, and the user needs them.
_EXPORT_FILES = frozenset({"data.yaml", "data.yml", "dataset.yaml", "_annotations.coco.json"})


def pseudonymous_skips(skipped: list[tuple[str, Path | None]], root: Path) -> list[dict[str, str | None]]:
    """``{"image": content hash, "reason": ...}`` per skipped input, as every dental output names a radiograph.

    Clinics name files after patients, and the readers' reasons quote file names: every name of a file in the
    dataset (an image's also as a stem followed by a dot, "no mask named X.*") becomes that file's content hash,
    any other file name "(name withheld)", except the names export tools give their own files (``data.yaml``).
    ``image`` is the hash of the radiograph concerned, else of the first image the reason named, else of the
    first other dataset file it named, else None."""
    from data_connectors.images import IMAGE_SUFFIXES

    folder = root.parent if root.is_file() else root
    names: dict[str, Path] = {}  # built once, and only when a reason needs it
    entries = []
    for reason, image in skipped:
        if image is None and not names:
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in _EXPORT_FILES):
                names.setdefault(path.name, path)
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    names.setdefault(path.stem, path)
        own = {image.name: image, image.stem: image} if image is not None else {}
        quoted = [(key, path) for key, path in {**names, **own}.items() if key in reason]
        named_files = []
        for key, path in sorted(quoted, key=lambda item: -len(item[0])):  # "a.png" before "a"
            # whole names only; a stem only as readers quote one ("no mask named X.*"), so "000" in "200,000" stays
            after = r"(?=\.(?!\w))" if key == path.stem else r"(?![\w-])"
            reason, found = re.subn(rf"(?<![\w.-]){re.escape(key)}{after}", _file_id(path), reason)
            named_files += [path] if found else []
        images = [path for path in named_files if path.suffix.lower() in IMAGE_SUFFIXES]
        named = image or next(iter(images + named_files), None)
        reason = _FILE_NAME.sub(lambda m: m[0] if m[0] in _EXPORT_FILES else "(name withheld)", reason)
        entries.append({"image": _file_id(named) if named is not None else None, "reason": reason})
    return entries


def extract_patches(
    source: LesionSource, names: list[str], *, healthy_per_image: int = 10, seed: int = 0
) -> dict:
    """Patches of the named images: images, labels (indices into ``source.classes``), sources (the image's
    content hash: file names can carry patient names), and (reason, radiograph) per unusable image skipped."""
    from data_connectors.images import content_id

    rng = np.random.default_rng(seed)
    images, labels, sources, skipped = [], [], [], []
    for name in names:
        try:
            grey, classes, lesions = source.load(name)
            source_id = content_id(source.image_file(name))
        except (BadInputError, OSError, ValueError) as error:  # one bad radiograph is reported, the rest used
            reason = str(error) if isinstance(error, BadInputError) else f"{type(error).__name__}: {error}"
            skipped.append((reason, source.image_file(name)))
            continue
        for patch, label in image_patches(grey, classes, rng, healthy_per_image, lesions):
            images.append(patch)
            labels.append(label)
            sources.append(source_id)
    if not images:
        raise BadInputError(f"No patch could be cut from the {len(names)} image(s) of {source.root.name}.")
    return {
        "images": np.stack(images),
        "labels": np.array(labels, dtype=np.int64),
        "sources": sources,
        "skipped": skipped,
    }


def image_split(
    source: LesionSource, *, test_fraction: float = 0.3, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(train, test) image names: the split is made on radiographs, never on patches."""
    from domains.dental.train import split_names

    return split_names(source.names, test_fraction, seed)


def counts(labels: np.ndarray, classes: list[str]) -> dict[str, int]:
    return {name: int((labels == index).sum()) for index, name in enumerate(classes)}


# ---------------------------------------------------------------- balancing


# How the conditional GAN is trained (``ConditionalGAN`` keyword arguments). The default is the one that gave
# varied, lesion-like patches on DC1000's few hundred patches per class; with the DCGAN defaults, 15 CPU
# minutes collapsed to near-identical patches. The others stay selectable so the comparison can be rerun
# (bench/dental_balancing_generators.py).
GENERATOR_RECIPES: dict[str, dict[str, Any]] = {
    "sngan+diffaugment": {"diff_augment": True, "n_dis": 2, "betas": (0.0, 0.9)},
    "dcgan+diffaugment": {"diff_augment": True},
    "dcgan": {},
}
DEFAULT_RECIPE = "sngan+diffaugment"


def train_generator(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int,
    minutes: float,
    device: str,
    seed: int = 0,
    recipe: str = DEFAULT_RECIPE,
):
    """A ``ConditionalGAN`` (``n_classes``, 32x32 grey, trained the ``GENERATOR_RECIPES[recipe]`` way) trained
    on the patches within ``minutes``."""
    import torch

    from genai_models.conditional_gan import ConditionalGAN
    from genai_models.trainer import TrainConfig, Trainer, seed_everything

    seed_everything(seed)
    model = ConditionalGAN(
        image_size=PATCH,
        channels=1,
        num_classes=n_classes,
        latent_dim=64,
        depth=3,
        **GENERATOR_RECIPES[recipe],
    )
    data = torch.utils.data.TensorDataset(
        torch.from_numpy(images[:, None].astype(np.float32) / 255.0), torch.from_numpy(labels)
    )
    config = TrainConfig(
        epochs=10_000, batch_size=64, lr=2e-4, seed=seed, device=device, patience=0,
        max_seconds=minutes * 60, show_progress=False,
    )  # fmt: skip
    Trainer(model, config=config).fit(data)
    return model.eval()


def balance_dataset(
    root: Path,
    out: Path,
    *,
    target_per_class: int,
    gan_minutes: float = 3.0,
    generator: str = DEFAULT_RECIPE,
    device: str = "cpu",
    seed: int = 0,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Write ``out/{train,test}/<class>/*.png`` (real + ``syn_*`` synthetic in train only), ``manifest.csv``,
    ``balance.json`` (counts before/after, FID-EffNetLite0 per class) and ``samples_<class>.png`` grids.

    A re-run into the same ``out`` first removes the earlier run's patch files, grids, evaluation and manifest
    (by their names, only in a folder its ``balance.json`` marks as a balance run), so no stale patch sits
    beside the new manifest; an ``out`` that overlaps the dataset, or holds ``train``/``test`` folders without
    a ``balance.json``, is refused, so nothing else is ever deleted. Patch files and the manifest name each source radiograph
    by its content hash, never by its file name, and so do the skipped inputs, which the returned report and
    ``balance.json`` list alike (``pseudonymous_skips``). Classes with fewer training patches than
    ``target_per_class`` are topped up to it with synthetic patches; larger classes are kept as they are.

    Raises:
        BadInputError: ``root`` is not a labelled dataset (see ``lesion_source``), ``target_per_class`` < 1,
            ``generator`` is not a ``GENERATOR_RECIPES`` name, or ``out`` overlaps the dataset or holds split
            folders no balance run wrote.
    """
    import torch

    if target_per_class < 1:
        raise BadInputError(f"--target-per-class must be >= 1; received {target_per_class}.")
    if generator not in GENERATOR_RECIPES:
        raise BadInputError(
            f"--generator must be one of {', '.join(GENERATOR_RECIPES)}; received {generator!r}."
        )
    root, out = Path(root), Path(out)
    source = lesion_source(root)
    _check_out(root, out)
    classes = source.classes
    train_names, test_names = image_split(source, seed=seed)
    train = extract_patches(source, train_names, seed=seed)
    test = extract_patches(source, test_names, seed=seed + 1)
    skipped = pseudonymous_skips(source.skipped + train["skipped"] + test["skipped"], source.root)
    progress(f"patches: train {counts(train['labels'], classes)}, test {counts(test['labels'], classes)}")
    started = time.monotonic()
    gan = train_generator(
        train["images"],
        train["labels"],
        n_classes=len(classes),
        minutes=gan_minutes,
        device=device,
        seed=seed,
        recipe=generator,
    )
    progress(f"conditional GAN trained in {time.monotonic() - started:.0f}s")
    _clear_previous_run(out)
    out.mkdir(parents=True, exist_ok=True)
    # The marker that makes the folder this tool's, written before any patch (an interrupted run keeps it).
    (out / "balance.json").write_text(
        json.dumps({"tool": BALANCE_TOOL, "status": "incomplete", "classes": classes})
    )
    rows: list[dict[str, Any]] = []
    for split, data in (("train", train), ("test", test)):
        for index, (patch, label) in enumerate(zip(data["images"], data["labels"], strict=True)):
            path = out / split / classes[label] / f"real_{data['sources'][index]}_{index:05d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(patch).save(path)
            rows.append({"file": str(path.relative_to(out)), "split": split, "class": classes[label],
                         "synthetic": 0, "source": data["sources"][index]})  # fmt: skip
    before = counts(train["labels"], classes)
    generated: dict[str, np.ndarray] = {}
    gen = torch.Generator(device=device).manual_seed(seed)
    for label, name in enumerate(classes):
        missing = max(0, target_per_class - before[name])
        if missing == 0 or before[name] == 0:  # a class with no training patch cannot be generated
            continue
        samples = gan.sample(missing, labels=torch.full((missing,), label), generator=gen).cpu()
        generated[name] = np.round(samples[:, 0].numpy() * 255).astype(np.uint8)
        for index, patch in enumerate(generated[name]):
            path = out / "train" / name / f"syn_{index:05d}.png"
            Image.fromarray(patch).save(path)
            rows.append({"file": str(path.relative_to(out)), "split": "train", "class": name,
                         "synthetic": 1, "source": f"conditional-gan seed {seed}"})  # fmt: skip
    with (out / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "split", "class", "synthetic", "source"])
        writer.writeheader()
        writer.writerows(rows)
    report = {
        "tool": BALANCE_TOOL,
        "dataset": root.name,
        "classes": classes,
        "skipped_images": skipped,
        "patch": PATCH,
        "train_images": len(train_names),
        "test_images": len(test_names),
        "counts_before": before,
        "counts_after": {n: before[n] + len(generated.get(n, [])) for n in classes},
        "test_counts": counts(test["labels"], classes),
        "synthetic_counts": {n: len(v) for n, v in generated.items()},
        "gan_minutes": gan_minutes,
        "generator": "conditional GAN (projection discriminator, hinge loss)",
        "generator_recipe": {"name": generator, **GENERATOR_RECIPES[generator]},
        "fid_effnetlite0": _fid_and_grids(train, generated, classes, out, device),
    }
    (out / "balance.json").write_text(json.dumps(report, indent=1))
    return report


# The files a balance run writes: patches in out/<split>/<class>/ and grids, evaluation and manifest in out/.
_PATCH_FILE = re.compile(r"(?:real_[0-9a-f]{12}_\d{5}|syn_\d{5})\.png")
BALANCE_TOOL = "genai dental balance"


def _balance_marker(out: Path) -> dict[str, Any] | None:
    """The ``balance.json`` this tool wrote into ``out`` (it names the tool), else None."""
    try:
        marker = json.loads((out / "balance.json").read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("tool") == BALANCE_TOOL else None


def _check_out(root: Path, out: Path) -> None:
    """Refuse an ``out`` that is, holds or lies in the dataset, or is a non-empty folder this tool did not write
    (no ``balance.json`` naming it): a Roboflow export has ``train/`` and ``test/`` folders of its own.

    Raises:
        BadInputError: such an ``out``.
    """
    dataset = (root.parent if root.is_file() else root).resolve()
    target = out.resolve()
    if target == dataset or dataset in target.parents or target in dataset.parents:
        raise BadInputError(
            f"--out {out} overlaps the dataset {root}; write the balanced dataset to a folder outside it."
        )
    if out.is_dir() and any(out.iterdir()) and _balance_marker(out) is None:
        raise BadInputError(
            f"--out {out} is not empty and no balance run wrote it (no balance.json of {BALANCE_TOOL!r}); "
            "pick a new or empty folder."
        )


def _clear_previous_run(out: Path) -> None:
    """In a folder a balance run owns (its ``balance.json`` names this tool; written first as a marker), remove
    that run's files and nothing else: patch files named as this module names them, in ``out/<split>/<class>/``
    (never through a symlink), the class and split folders left empty, and the run's grids (one per class the
    marker lists), evaluation and manifest.
    An interrupted run leaves its marker, so the next run still clears it."""
    marker = _balance_marker(out)
    if marker is None:
        return
    for split in ("train", "test"):
        folder = out / split
        if not folder.is_dir() or folder.is_symlink():
            continue
        for class_folder in folder.iterdir():
            if not class_folder.is_dir() or class_folder.is_symlink():
                continue
            for file in class_folder.iterdir():
                if file.is_file() and not file.is_symlink() and _PATCH_FILE.fullmatch(file.name):
                    file.unlink()
            if not any(class_folder.iterdir()):
                class_folder.rmdir()
        if not any(folder.iterdir()):
            folder.rmdir()
    grids = [f"{kind}_{name}.png" for name in marker.get("classes", []) for kind in ("samples", "real")]
    for name in [*grids, "evaluation.json", "manifest.csv"]:
        stale = out / name
        if stale.is_file() and not stale.is_symlink():
            stale.unlink()


def _fid_and_grids(
    train: dict, generated: dict[str, np.ndarray], classes: list[str], out: Path, device: str
) -> dict:
    """FID-EffNetLite0 per class (real train patches vs synthetic; None below 2 images) + a sample grid each."""
    import tempfile

    import torch

    from genai_models.blocks import save_grid
    from genai_models.metrics import effnet_extractor, frechet_distance

    extractor = effnet_extractor(Path(tempfile.gettempdir()) / "genai-dental-effnet", device=device)
    scores: dict[str, float | None] = {}
    for name, fake in generated.items():
        label = classes.index(name)
        real = torch.from_numpy(train["images"][train["labels"] == label][:, None] / 255.0).float()
        fake_t = torch.from_numpy(fake[:, None] / 255.0).float()
        save_grid(fake_t[:64], out / f"samples_{name}.png")
        save_grid(real[:64], out / f"real_{name}.png")
        enough = len(real) >= 2 and len(fake_t) >= 2
        scores[name] = (
            round(frechet_distance(extractor(real), extractor(fake_t[:500])), 2) if enough else None
        )
    return scores


# ---------------------------------------------------------------- evaluation


def _read_split(out: Path, split: str, synthetic: bool, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with (out / "manifest.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["split"] == split and (synthetic or row["synthetic"] == "0"):
                images.append(np.asarray(Image.open(out / row["file"]).convert("L")))
                labels.append(classes.index(row["class"]))
    return np.stack(images), np.array(labels, dtype=np.int64)


def _classical_transform(seed: int):
    from monai.transforms import (
        Compose,
        RandAdjustContrast,
        RandAffine,
        RandFlip,
        RandGaussianNoise,
    )

    transform = Compose(
        [
            RandFlip(prob=0.5, spatial_axis=1),
            RandAffine(
                prob=0.8, rotate_range=0.3, scale_range=0.1, translate_range=(2, 2), padding_mode="border"
            ),
            RandAdjustContrast(prob=0.5, gamma=(0.75, 1.35)),
            RandGaussianNoise(prob=0.3, std=0.03),
        ]
    )
    transform.set_random_state(seed)
    return transform


def _oversample(images: np.ndarray, labels: np.ndarray, target: int, rng: np.random.Generator) -> tuple:
    """Repeat minority-class images (random picks) up to ``target`` per class; the augmentation varies them."""
    picks = [np.arange(len(labels))]
    for label in np.unique(labels):
        members = np.nonzero(labels == label)[0]
        if 0 < len(members) < target:
            picks.append(rng.choice(members, size=target - len(members), replace=True))
    index = np.concatenate(picks)
    return images[index], labels[index]


def train_classifier(images, labels, *, n_classes: int, augment: bool, epochs: int, seed: int, device: str):
    """A MONAI ``Classifier`` CNN (32x32 grey -> ``n_classes``), unweighted cross-entropy, Adam."""
    import torch
    from monai.networks.nets import Classifier

    torch.manual_seed(seed)
    model = Classifier(in_shape=(1, PATCH, PATCH), classes=n_classes, channels=(16, 32, 64),
                       strides=(2, 2, 2), num_res_units=1).to(device)  # fmt: skip
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    transform = _classical_transform(seed) if augment else None
    x_all = torch.from_numpy(images[:, None].astype(np.float32) / 255.0)
    y_all = torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y_all), generator=generator)
        for start in range(0, len(order), 64):
            index = order[start : start + 64]
            x = x_all[index]
            if transform is not None:
                x = torch.stack([torch.as_tensor(transform(sample)) for sample in x]).clamp(0, 1)
            loss = torch.nn.functional.cross_entropy(model(x.to(device)), y_all[index].to(device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def _scores(model, images: np.ndarray, labels: np.ndarray, classes: list[str], device: str) -> dict[str, Any]:
    import torch
    from sklearn.metrics import precision_recall_fscore_support

    with torch.no_grad():
        logits = model(torch.from_numpy(images[:, None].astype(np.float32) / 255.0).to(device))
    predicted = logits.argmax(1).cpu().numpy()
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=list(range(len(classes))), zero_division=0
    )
    present = set(np.unique(labels).tolist())
    none = {"precision": None, "recall": None, "f1": None}
    per_class = {
        name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i])}
        if i in present
        else none
        for i, name in enumerate(classes)
    }
    # A class with no test patch has no F1 to measure: counting it as 0 would sink the macro mean.
    return {
        "per_class": per_class,
        "macro_f1": float(np.mean([f1[i] for i in sorted(present)])),
        "absent_classes": [name for i, name in enumerate(classes) if i not in present],
    }


def _mean_sd(values: list[float | None]) -> dict[str, float | None] | None:
    """Mean and sd over the runs that measured the value (sd None from one run: no spread is measured); None
    when none did (a class absent from the test)."""
    measured = [value for value in values if value is not None]
    if not measured:
        return None
    return {
        "mean": round(float(np.mean(measured)), 4),
        "sd": round(float(np.std(measured, ddof=1)), 4) if len(measured) > 1 else None,
    }


def evaluate_balance(
    balanced: Path,
    *,
    seeds: int = 3,
    epochs: int = 15,
    device: str = "cpu",
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the patch classifier three ways x ``seeds`` and score it on the real test patches.

    Raises:
        BadInputError: ``balanced`` lacks the ``manifest.csv`` that ``balance_dataset`` writes.
    """
    balanced = Path(balanced)
    if not (balanced / "manifest.csv").is_file():
        raise BadInputError(f"{balanced} has no manifest.csv; create it with `genai dental balance` first.")
    written = (
        json.loads((balanced / "balance.json").read_text()) if (balanced / "balance.json").is_file() else {}
    )
    classes = list(written.get("classes", CLASS_NAMES))  # files written before 27 Nov 2026 are DC1000's
    real_x, real_y = _read_split(balanced, "train", False, classes)
    all_x, all_y = _read_split(balanced, "train", True, classes)
    test_x, test_y = _read_split(balanced, "test", False, classes)
    target = int(max(np.bincount(all_y, minlength=len(classes))))
    runs: dict[str, list[dict[str, Any]]] = {regime: [] for regime in REGIMES}
    synthetic = len(all_y) - len(real_y)
    if not synthetic:
        progress("no synthetic patches in this dataset: classical+synthetic trains exactly as classical")
    for seed in range(seeds):
        plans = {
            "original": (real_x, real_y, False),
            "classical": (*_oversample(real_x, real_y, target, np.random.default_rng(seed)), True),
            # topped up to the same count per class as "classical", so the two differ only in what fills the gap;
            # the same draws, so without synthetic patches the two are the same run
            "classical+synthetic": (*_oversample(all_x, all_y, target, np.random.default_rng(seed)), True),
        }
        for regime, (x, y, augment) in plans.items():
            started = time.monotonic()
            model = train_classifier(
                x, y, n_classes=len(classes), augment=augment, epochs=epochs, seed=seed, device=device
            )
            runs[regime].append(_scores(model, test_x, test_y, classes, device))
            progress(f"seed {seed} {regime}: macro-F1 {runs[regime][-1]['macro_f1']:.3f} "
                     f"({time.monotonic() - started:.0f}s)")  # fmt: skip
    table = {
        regime: {
            "macro_f1": _mean_sd([r["macro_f1"] for r in results]),
            "per_class": {
                name: {
                    m: _mean_sd([r["per_class"][name][m] for r in results])
                    for m in ("precision", "recall", "f1")
                }
                for name in classes
            },
        }
        for regime, results in runs.items()
    }
    report = {
        "seeds": seeds,
        "epochs": epochs,
        "train_counts_real": counts(real_y, classes),
        "train_counts_balanced": counts(all_y, classes),  # as `balance` wrote them, real + synthetic
        "synthetic_patches": synthetic,
        "train_per_class_balanced_regimes": target,  # classical and classical+synthetic are topped up to this
        "test_counts": counts(test_y, classes),
        "absent_from_test": [name for name, n in counts(test_y, classes).items() if n == 0],
        "results": table,
    }
    (balanced / "evaluation.json").write_text(json.dumps(report, indent=1))
    return report
