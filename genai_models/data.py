"""Training data for the generative models: every source becomes an ``ImageData`` — images ``(N, C, H, W)``
float32 in [0, 1], labels ``(N,)`` int64, class names — ready for ``torch.utils.data.TensorDataset``.

Sources (``load_dataset`` spec strings, as the CLI's ``--data`` takes them):
``digits`` (scikit-learn's 8x8 digits, upsampled), ``fashion-mnist`` or ``fashion-mnist:DIR`` (IDX files;
Debian's ``dataset-fashion-mnist`` installs them in ``/usr/share/datasets/fashion-mnist``), a path to an
``*-images-idx3-ubyte[.gz]`` file (labels read from the matching ``*-labels-idx1-ubyte`` beside it), or a folder
with one sub-folder per class. Folder images are read by ``data_connectors.images.read_image`` at full bit
depth and scaled to [0, 1] explicitly (a 16-bit PNG keeps its 65536 levels until this step); unreadable files
are listed in ``ImageData.skipped`` and the rest is used.

Sizing: IDX images (28x28) are zero-padded, centred, to ``image_size`` when it is larger (28 -> 32), else
resized; other sources are resized with antialiasing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from data_connectors.errors import BadInputError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot"]


@dataclass
class ImageData:
    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    class_names: list[str]
    source: str
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def dataset(self) -> torch.utils.data.TensorDataset:
        return torch.utils.data.TensorDataset(self.images, self.labels)

    def subset(self, index: torch.Tensor | np.ndarray | list[int]) -> ImageData:
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageData(self.images[index], self.labels[index], self.class_names, self.source, self.skipped)

    def describe(self) -> dict:
        """JSON-able summary for ``run.json``: skipped files as a count and a reason, never their names (clinical
        file names may identify patients; the CLI prints them once to the console instead)."""
        return {"source": self.source, "count": len(self), "shape": list(self.images.shape[1:]),
                "classes": self.class_names, "skipped_count": len(self.skipped),
                "skipped_reason": "unreadable or non-image files" if self.skipped else None}


# ---------------------------------------------------------------- helpers


def fit_size(images: torch.Tensor, image_size: int, *, pad: bool) -> torch.Tensor:
    """``(N, C, h, w)`` -> ``(N, C, image_size, image_size)``: centred zero padding when ``pad`` and the image is
    not larger than the target, else antialiased bilinear resizing."""
    height, width = images.shape[-2:]
    if (height, width) == (image_size, image_size):
        return images
    if pad and height <= image_size and width <= image_size:
        top, left = (image_size - height) // 2, (image_size - width) // 2
        return F.pad(images, [left, image_size - width - left, top, image_size - height - top])
    return F.interpolate(images, size=(image_size, image_size), mode="bilinear", antialias=True,
                         align_corners=False).clamp(0, 1)


def _labels_beside(images_path: Path) -> Path | None:
    name = images_path.name.replace("images-idx3", "labels-idx1")
    for candidate in (images_path.with_name(name), images_path.with_name(name.removesuffix(".gz")),
                      images_path.with_name(name + ".gz")):
        if candidate != images_path and candidate.is_file():
            return candidate
    return None


# An RGB file holds grey content when almost no pixel has channels apart (|channel - channel mean| in [0, 1]
# units): JPEG noise stays far below the step, and a small coloured marker on a white page is far above the share.
COLOUR_STEP, COLOUR_SHARE = 0.05, 0.001


def check_channels(channels: int | None) -> None:
    """``channels`` must be None (as the data), 1 (grey) or 3 (RGB): other counts have no model behind them."""
    if channels is not None and (isinstance(channels, bool) or channels not in (1, 3)):
        raise BadInputError(f"--channels must be 1 (grey) or 3 (RGB); received {channels!r}; leave it out to "
                            "follow the data.")


def _colour_planes(unit: torch.Tensor) -> torch.Tensor:
    """``(C, H, W)`` as read -> 1 plane for grey content, 3 for colour: alpha is dropped, and an RGB file with
    (almost) no coloured pixel (a grey radiograph saved as RGB JPEG) counts as grey, so one such file does not
    turn a grey folder into colour; a few coloured pixels (a red marker) keep it colour."""
    if unit.shape[0] in (1, 2):  # L or LA
        return unit[:1]
    rgb = unit[:3]
    spread = (rgb - rgb.mean(dim=0, keepdim=True)).abs().amax(dim=0)
    if (spread > COLOUR_STEP).float().mean() <= COLOUR_SHARE:
        return rgb.mean(dim=0, keepdim=True)
    return rgb


def _channels(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    check_channels(channels)
    if channels is None or images.shape[1] == channels:
        return images
    if channels == 3:
        return images.repeat(1, 3, 1, 1)
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


# PUBLIC API


def load_idx(images_path: str | Path, *, image_size: int = 32, limit: int | None = None,
             class_names: list[str] | None = None) -> ImageData:
    """An IDX image file (+ its labels file beside it, else all labels 0) -> ``ImageData``."""
    from data_connectors.idx import read_idx

    images_path = Path(images_path)
    array = read_idx(images_path)[:limit]
    if array.ndim != 3:
        raise BadInputError(f"{images_path.name} holds shape {array.shape}; an (N, H, W) image file is expected.")
    labels_path = _labels_beside(images_path)
    labels = read_idx(labels_path)[:limit].astype(np.int64) if labels_path else np.zeros(len(array), np.int64)
    images = torch.from_numpy(array.astype(np.float32) / 255.0).unsqueeze(1)
    names = class_names or [str(k) for k in range(int(labels.max()) + 1)]
    return ImageData(fit_size(images, image_size, pad=True), torch.from_numpy(labels), names, str(images_path))


def load_fashion_mnist(directory: str | Path | None = None, *, split: str = "train", image_size: int = 32,
                       limit: int | None = None) -> ImageData:
    """Fashion-MNIST ``train`` (60k) or ``test`` (10k) from ``directory`` (default: the Debian package's).

    Raises:
        BadInputError: the files are missing (the message says how to install them).
    """
    directory = Path(directory) if directory else FASHION_MNIST_DIR
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise BadInputError(f"split={split!r} is not accepted; use 'train' or 't10k'/'test'.")
    candidates = [directory / f"{prefix}-images-idx3-ubyte{ext}" for ext in (".gz", "")]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise BadInputError(
            f"Fashion-MNIST {split} files are not in {directory}; install them with "
            "`apt-get install dataset-fashion-mnist` or pass fashion-mnist:DIR with the IDX files."
        )
    data = load_idx(found, image_size=image_size, limit=limit, class_names=FASHION_MNIST_CLASSES)
    data.source = f"fashion-mnist:{split}"
    return data


def load_digits(*, image_size: int = 32, limit: int | None = None) -> ImageData:
    """scikit-learn's 1,797 8x8 handwritten digits (values 0..16), upsampled to ``image_size``."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = torch.from_numpy(bunch.images[:limit].astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target[:limit].astype(np.int64))
    return ImageData(fit_size(images, image_size, pad=False), labels, [str(k) for k in range(10)], "digits")


def load_image_folder(root: str | Path, *, image_size: int = 64, channels: int | None = None,
                      limit: int | None = None, seed: int = 0) -> ImageData:
    """``root/<class>/<image>`` -> ``ImageData``; unreadable images are skipped and listed.

    ``channels`` None keeps the data's own: RGB when any image holds colour content, else grey (an RGB file with
    equal channels is grey, see ``_colour_planes``). ``limit`` takes a
    seeded random subset (the records are sorted by class, so the first N would be the first classes only).
    """
    from data_connectors.image_datasets import read_class_folders
    from data_connectors.images import read_image, to_unit_range

    check_channels(channels)
    index = read_class_folders(root)
    records = index.records
    if limit is not None and limit < len(records):
        picked = sorted(random.Random(seed).sample(range(len(records)), limit))
        records = [records[i] for i in picked]
    units, labels, skipped = [], [], list(index.skipped)
    for record in records:
        try:
            array, meta = read_image(record.image)
        except (ValueError, OSError) as error:  # BadInputError is a ValueError
            skipped.append(f"{record.image.name}: {error}")
            continue
        unit = torch.from_numpy(to_unit_range(array, meta))
        units.append(_colour_planes(unit.unsqueeze(0) if unit.ndim == 2 else unit.permute(2, 0, 1)))  # hwc -> chw
        labels.append(index.categories.index(record.label))
    if not units:
        raise BadInputError(f"No readable images in {root} ({len(skipped)} skipped: {'; '.join(skipped[:3])}).")
    channels = channels or max(unit.shape[0] for unit in units)
    tensors = [fit_size(_channels(unit.unsqueeze(0), channels), image_size, pad=False) for unit in units]
    return ImageData(torch.cat(tensors), torch.tensor(labels, dtype=torch.long), index.categories, str(root),
                     skipped)


def load_dataset(spec: str, *, image_size: int = 32, channels: int | None = None, split: str = "train",
                 limit: int | None = None) -> ImageData:
    """Parse a ``--data`` value (see the module docstring) and load it.

    Raises:
        BadInputError: unknown spec or unreadable source; the message lists the accepted forms.
    """
    check_channels(channels)
    if spec == "digits":
        data = load_digits(image_size=image_size, limit=limit)
    elif spec == "fashion-mnist" or spec.startswith("fashion-mnist:"):
        directory = spec.partition(":")[2] or None
        data = load_fashion_mnist(directory, split=split, image_size=image_size, limit=limit)
    elif Path(spec).is_dir():
        data = load_image_folder(spec, image_size=image_size, channels=channels, limit=limit)
    elif Path(spec).is_file():
        data = load_idx(spec, image_size=image_size, limit=limit)
    else:
        raise BadInputError(
            f"--data {spec!r} is not recognised; use 'digits', 'fashion-mnist[:DIR]', an image folder with one "
            "sub-folder per class, or an *-images-idx3-ubyte[.gz] file."
        )
    data.images = _channels(data.images, channels)
    return data


def split_train_val(data: ImageData, *, val_fraction: float = 0.1, seed: int = 0) -> tuple[ImageData, ImageData]:
    """Seeded random split; at least one validation image."""
    if not 0 < val_fraction < 1:
        raise BadInputError(f"val_fraction must lie in (0, 1); received {val_fraction!r}; e.g. 0.1.")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, round(len(data) * val_fraction))
    return data.subset(order[n_val:]), data.subset(order[:n_val])
