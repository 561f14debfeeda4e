"""Train the dental segmentation networks against a wall-clock budget: ``teeth`` (UFBA-425, 33 classes:
background + 32 FDI teeth) or ``caries`` (DC1000, background + 3 caries classes).

Built to finish inside a fixed time on one GPU *including* start-up: the whole dataset is preloaded to the
device as uint8 tensors, augmentation runs on the GPU with torch ops (left-right flip with FDI quadrant swap
1<->2 / 4<->3, rotation/scale/shift, gamma, contrast, noise), bf16 autocast, channels_last, fused AdamW with a
time-based warm-up + cosine schedule, and an EMA of the weights. The deadline counts from process start, so
``--minutes 3.5`` means the process exits ~3.5 minutes after Python started.

``--patch H W`` (caries default 256x256) trains on crops of the preloaded images instead of whole images, two
thirds of them centred near a labelled pixel (caries cover ~0.1 % of a panoramic, so whole-image batches are
almost all background), and the network is scored and later run with sliding-window inference over the whole
image. On DC1000, same network and 30 CPU minutes, this lifted pooled caries Dice from 0.00 / 0.00 / 0.26 to
0.12 / 0.24 / 0.65 (docs/dental.md).

Runs on a bare machine with only torch, numpy and pillow plus the monai wheel (pure Python)::

    pip install --no-deps .whl/monai-1.6.1-py3-none-any.whl
    python -m domains.dental.train teeth --data /path/ufba425 --out runs/teeth --minutes 3.5 --device cuda

Writes ``<out>/<task>_unet.pt`` (fp16 state dict), ``<task>_unet.json`` (network spec, input size, split,
metrics) and ``<task>_metrics.json``; held-out metrics come from a seeded split that is never trained on.
"""

from __future__ import annotations

import time

_PROCESS_START = time.monotonic()

import argparse  # noqa: E402 - the clock above must start before the heavy imports
import copy  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from data_connectors.errors import BadInputError  # noqa: E402
from domains.dental.labels import (  # noqa: E402
    CARIES_CLASSES,
    CARIES_CODE_TO_INDEX,
    CARIES_NAMES,
    INDEX_TO_FDI,
    TEETH_CLASSES,
    fdi_to_index,
    flip_permutation,
)
from domains.dental.metrics import dice_from_counts, image_scores, numbering_counts, overlap_counts  # noqa: E402
from domains.dental.network import build_network, infer_logits, size_multiple  # noqa: E402
from domains.dental.preprocess import normalise_radiograph, resize_image, resize_labels, to_uint8  # noqa: E402

TASKS = ("teeth", "caries")
# Share of --patch crops centred near a labelled pixel, as MONAI's RandCropByPosNegLabeld does.
POSITIVE_CROP_FRACTION = 2 / 3
DEFAULTS: dict[str, dict[str, Any]] = {
    "teeth": {
        "size": (512, 512),
        "channels": (32, 64, 128, 192, 256, 256),
        "res_units": 2,
        "val_fraction": 0.15,
    },
    "caries": {
        "size": (512, 1024),
        "patch": (256, 256),
        "channels": (32, 64, 128, 192, 256, 256),
        "res_units": 2,
        "val_fraction": 0.2,
    },
}


@dataclass
class Sample:
    name: str
    group: str
    image: np.ndarray  # uint8 (H, W) at the training size
    labels: np.ndarray  # uint8 class indices (H, W) at the training size
    native_labels: np.ndarray  # uint8 class indices at the image's own size, for held-out scoring


# ---------------------------------------------------------------- data


def _grey(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        return np.asarray(
            image.convert("L") if image.mode not in ("L", "I;16", "I") else image, dtype=np.float32
        )


def _load_teeth(root: Path, size: tuple[int, int]) -> Callable[[str], Sample]:
    def load(name: str) -> Sample:
        image_path = next((root / "images").glob(f"{name}.*"))
        unit = normalise_radiograph(_grey(image_path))
        with Image.open(root / "fdi_labelmaps" / f"{name}.png") as label_image:
            native = fdi_to_index(np.asarray(label_image.convert("L")))
        if native.shape != unit.shape:
            native = resize_labels(native, unit.shape)
        return Sample(
            name, name.split("-")[0], to_uint8(resize_image(unit, size)), resize_labels(native, size), native
        )

    return load


def _load_caries(root: Path, size: tuple[int, int]) -> Callable[[str], Sample]:
    def load(name: str) -> Sample:
        unit = normalise_radiograph(_grey(root / "images_1024" / f"{name}.png"))
        with Image.open(root / "colors" / f"{name}.png") as colours:
            codes = np.asarray(colours.convert("L"))
        native = CARIES_CODE_TO_INDEX[resize_labels(codes, unit.shape)]
        return Sample(name, "all", to_uint8(resize_image(unit, size)), resize_labels(native, size), native)

    return load


def dataset_names(task: str, root: Path) -> list[str]:
    """Names with both an image and a label map, sorted (the order the split is drawn from)."""
    if task == "teeth":
        labels = {p.stem for p in (root / "fdi_labelmaps").glob("*.png")}
        return sorted(p.stem for p in (root / "images").iterdir() if p.stem in labels)
    colours = {p.stem for p in (root / "colors").glob("*.png")}
    return sorted(p.stem for p in (root / "images_1024").glob("*.png") if p.stem in colours)


def name_groups(names: list[str]) -> list[str]:
    """The stratum of each name: the prefix before ``-`` when it is a real category (UFBA ``cateN``, or prefixes
    shared by 3+ names on average), else one group for all. Per-patient prefixes (``P001-pano``) would
    otherwise make groups of one, which hold nothing out."""
    prefixes = [name.split("-")[0] if "-" in name else None for name in names]
    if names and all(prefix is not None for prefix in prefixes):
        ufba = all(re.fullmatch(r"cate\d+", prefix) for prefix in prefixes)
        if ufba or len(names) >= 3 * len(set(prefixes)):
            return prefixes
    return ["all"] * len(names)


def source_radiograph(name: str) -> str:
    """The radiograph a file was made from: Roboflow exports save each augmented copy as
    ``<original>_<ext>.rf.<hash>.<ext>`` ("1008_png.rf.3f2a.jpg"), and all copies must fall on one side of a
    split, or the held-out score measures memory."""
    return name.split(".rf.")[0]


def split_names(names: list[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Seeded split by source radiograph (:func:`source_radiograph`), stratified by :func:`name_groups` (UFBA
    ``cateN``): (train, held-out).

    Raises:
        BadInputError: too few names to leave images on both sides.
    """
    copies: dict[str, list[str]] = {}  # source radiograph -> its file names (augmented exports hold several)
    for name in names:
        copies.setdefault(source_radiograph(name), []).append(name)
    sources = list(copies)  # first-appearance order: without copies the split is the same as before
    groups: dict[str, list[str]] = {}
    for source, group in zip(sources, name_groups(sources), strict=True):
        groups.setdefault(group, []).append(source)
    rng = random.Random(seed)
    held_out: list[str] = []
    for members in groups.values():
        shuffled = sorted(members)
        rng.shuffle(shuffled)
        chosen = shuffled[: max(1, round(len(shuffled) * val_fraction))] if len(shuffled) >= 3 else []
        held_out += [name for source in chosen for name in copies[source]]
    held = set(held_out)
    train = [n for n in names if n not in held]
    if not train or not held:
        raise BadInputError(
            f"{len(names)} labelled image(s) cannot be split into training and held-out images "
            f"({val_fraction:.0%} held out); at least 3 are needed, more for a meaningful score."
        )
    return train, sorted(held_out)


def load_samples(
    task: str, root: Path, names: list[str], size: tuple[int, int], workers: int = 8
) -> list[Sample]:
    loader = (_load_teeth if task == "teeth" else _load_caries)(root, size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(loader, names))


# ---------------------------------------------------------------- GPU augmentation and loss


def augment(images, labels, flip_perm, *, strength: float = 1.0):
    """uint8 ``(B,1,H,W)`` images and ``(B,H,W)`` labels on any device -> float [0,1] images, long labels."""
    import torch
    import torch.nn.functional as F

    batch, _, height, width = images.shape
    device = images.device
    x = images.float() / 255.0
    y = labels.long()
    flip = torch.rand(batch, device=device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    y = torch.where(flip[:, None, None], flip_perm[y.flip(-1)], y)

    def uniform(limit: float):
        return (torch.rand(batch, device=device) * 2 - 1) * limit * strength

    active = (torch.rand(batch, device=device) < 0.8).float()
    angle = uniform(math.radians(10)) * active
    scale = torch.exp(uniform(math.log(1.15)) * active)
    shift_x, shift_y = uniform(0.06) * active, uniform(0.06) * active
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin * height / width, shift_x], 1),
            torch.stack([sin * width / height, cos, shift_y], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, [batch, 1, height, width], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    y = F.grid_sample(y[:, None].float(), grid, mode="nearest", padding_mode="zeros", align_corners=False)[
        :, 0
    ]
    gamma = torch.exp(torch.randn(batch, device=device) * 0.25 * strength).clamp(0.6, 1.7)
    x = x.clamp_min(1e-6) ** gamma[:, None, None, None]
    contrast = 1 + uniform(0.2)[:, None, None, None]
    brightness = uniform(0.08)[:, None, None, None]
    x = (x - 0.5) * contrast + 0.5 + brightness
    x = x + torch.randn_like(x) * (torch.rand(batch, 1, 1, 1, device=device) * 0.03 * strength)
    return x.clamp(0, 1), y.long()


def foreground_points(labels: np.ndarray) -> list[np.ndarray]:
    """``(N, 2)`` row/column coordinates of the labelled pixels of each map in a ``(B, H, W)`` stack."""
    return [np.argwhere(label_map > 0) for label_map in labels]


def sample_crops(images, labels, points: list[np.ndarray], index: list[int], patch_hw: tuple[int, int], rng):
    """``patch_hw`` crops of the images ``index`` from uint8 ``(N,1,H,W)`` images and ``(N,H,W)`` labels.

    ``POSITIVE_CROP_FRACTION`` of them are centred within a quarter patch of a random labelled pixel
    (``points`` from :func:`foreground_points`), the rest anywhere, so rare small lesions are seen every
    batch.
    """
    import torch

    height, width = images.shape[-2:]
    patch_h, patch_w = patch_hw
    crop_images, crop_labels = [], []
    for i in index:
        if len(points[i]) and rng.random() < POSITIVE_CROP_FRACTION:
            row, col = points[i][rng.randrange(len(points[i]))]
            row += rng.randint(-patch_h // 4, patch_h // 4)
            col += rng.randint(-patch_w // 4, patch_w // 4)
            top = min(max(int(row) - patch_h // 2, 0), height - patch_h)
            left = min(max(int(col) - patch_w // 2, 0), width - patch_w)
        else:
            top, left = rng.randint(0, height - patch_h), rng.randint(0, width - patch_w)
        crop_images.append(images[i, :, top : top + patch_h, left : left + patch_w])
        crop_labels.append(labels[i, top : top + patch_h, left : left + patch_w])
    return torch.stack(crop_images), torch.stack(crop_labels)


def dice_ce_loss(logits, target, n_classes: int):
    """Cross-entropy + soft Dice over the foreground classes present in the batch (float32)."""
    import torch.nn.functional as F

    logits = logits.float()
    ce = F.cross_entropy(logits, target)
    probs = logits.softmax(1)
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    intersection = (probs * onehot).sum(dims)
    truth = onehot.sum(dims)
    dice = (2 * intersection + 1.0) / (probs.sum(dims) + truth + 1.0)
    present = truth[1:] > 0
    dice_loss = 1 - dice[1:][present].mean() if present.any() else logits.new_zeros(())
    return ce + dice_loss


# ---------------------------------------------------------------- evaluation


def predict_indices(
    model, spec: dict[str, Any], images_u8, native_shapes, device: str, batch: int = 16
) -> list[np.ndarray]:
    """Class-index maps at each image's native size: logits upsampled bilinearly, then argmax."""
    import torch
    import torch.nn.functional as F

    results = []
    model.eval()
    with torch.no_grad(), _autocast(device):
        for start in range(0, len(images_u8), batch):
            x = images_u8[start : start + batch].float() / 255.0 * 2 - 1
            logits = infer_logits(model, x.contiguous(memory_format=torch.channels_last), spec).float()
            for offset, logit in enumerate(logits):
                shape = native_shapes[start + offset]
                up = F.interpolate(logit[None], size=shape, mode="bilinear", align_corners=False)
                results.append(up[0].argmax(0).to(torch.uint8).cpu().numpy())
    return results


def evaluate(task: str, predictions: list[np.ndarray], samples: list[Sample]) -> dict[str, Any]:
    n_classes = TEETH_CLASSES if task == "teeth" else CARIES_CLASSES
    pooled = np.zeros((n_classes, 3), dtype=np.int64)
    per_image = []
    correct = total = 0
    for pred, sample in zip(predictions, samples, strict=True):
        pooled += overlap_counts(pred, sample.native_labels, n_classes)
        per_image.append(image_scores(pred, sample.native_labels, n_classes))
        if task == "teeth":
            c, t = numbering_counts(pred, sample.native_labels)
            correct, total = correct + c, total + t
    pooled_dice = dice_from_counts(pooled)
    metrics: dict[str, Any] = {
        "n_held_out": len(samples),
        "dice_mean_class": float(np.nanmean([s["dice_mean_class"] for s in per_image])),
        "dice_foreground": float(np.nanmean([s["dice_foreground"] for s in per_image])),
    }
    if task == "teeth":
        metrics["numbering_accuracy"] = correct / total if total else float("nan")
        metrics["teeth_scored"] = total
        metrics["dice_pooled_per_fdi"] = {
            str(int(INDEX_TO_FDI[i])): _finite(pooled_dice[i]) for i in range(1, n_classes)
        }
    else:
        metrics["dice_pooled_per_class"] = {
            CARIES_NAMES[i]: _finite(pooled_dice[i]) for i in range(1, n_classes)
        }
    return metrics


def _time_inference(model, spec: dict[str, Any], image_u8, device: str, repeats: int = 10) -> float:
    """Seconds per single-image forward pass (the network only, batch 1, after one warm-up)."""
    import torch

    x = (image_u8.float() / 255.0 * 2 - 1).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), _autocast(device):
        infer_logits(model, x, spec)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            infer_logits(model, x, spec)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    return round((time.perf_counter() - start) / repeats, 5)


def _init_spec(
    init: Path, task: str, channels: tuple[int, ...] | None, res_units: int | None
) -> dict[str, Any]:
    """The spec of the weights to fine-tune from, checked against the task and any network options given."""
    spec_file = Path(init).with_suffix(".json")
    if not Path(init).is_file() or not spec_file.is_file():
        raise ValueError(f"--init needs {Path(init).name} and {spec_file.name} side by side.")
    spec = json.loads(spec_file.read_text())
    if spec.get("task") != task:
        raise ValueError(f"--init {Path(init).name} is a {spec.get('task')!r} model, not {task!r}.")
    fixed = (channels and list(channels) != spec["channels"]) or res_units not in (None, spec["res_units"])
    if fixed:
        raise ValueError(
            f"--init {Path(init).name} fixes the network (channels {spec['channels']}, res_units "
            f"{spec['res_units']}); leave --channels and --res-units out."
        )
    return spec


def _finite(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


def _autocast(device: str):
    import contextlib

    import torch

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# PUBLIC API


def train(
    task: str,
    data: Path,
    out: Path,
    *,
    minutes: float = 3.5,
    device: str = "cuda",
    size: tuple[int, int] | None = None,
    patch: tuple[int, int] | None = None,
    channels: tuple[int, ...] | None = None,
    res_units: int | None = None,
    batch: int | None = None,
    lr: float = 2e-3,
    seed: int = 0,
    init: Path | None = None,
    val_fraction: float | None = None,
    eval_reserve_s: float | None = None,
    progress: Callable[[str], None] = print,
    started: float | None = None,
) -> dict[str, Any]:
    """Train one network until the wall-clock deadline, score it on the held-out split, write the files.

    Args:
        task: ``"teeth"`` (UFBA-425 folder with ``images/`` and ``fdi_labelmaps/``) or ``"caries"`` (DC1000
            folder with ``images_1024/`` and ``colors/``).
        minutes: wall-clock budget counted from ``started`` (default: process start), evaluation included.
        size: training ``(height, width)``, multiples of 32; defaults 512x512 (teeth), 512x1024 (caries).
        patch: train on ``(height, width)`` crops of the ``size`` images (see the module docstring); default
            256x256 for caries (at most ``size``), whole images for teeth. ``patch == size`` trains on whole
            images.

    Raises:
        ValueError: unknown task, missing folders, or a size or patch that is not a multiple of the network's
            stride (or a patch larger than the size).
    """
    import torch

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}.")
    defaults = DEFAULTS[task]
    start_spec = _init_spec(init, task, channels, res_units) if init is not None else {}
    channels = tuple(start_spec.get("channels", channels or defaults["channels"]))
    res_units = start_spec.get("res_units", res_units)
    size = tuple(size or defaults["size"])
    if patch is None and "patch_hw" in start_spec:
        patch = tuple(start_spec["patch_hw"])
    elif patch is None and "patch" in defaults:
        patch = tuple(min(side, limit) for side, limit in zip(defaults["patch"], size, strict=True))
    spec = {
        "task": task,
        "n_classes": TEETH_CLASSES if task == "teeth" else CARIES_CLASSES,
        "channels": list(channels),
        "strides": [2] * (len(channels) - 1),
        "res_units": res_units if res_units is not None else defaults["res_units"],
        "in_channels": 1,
        "size_hw": list(size),
        "input": "percentile 0.5/99.5 -> [0,1] -> x*2-1",
    }
    multiple = size_multiple(spec)
    if size[0] % multiple or size[1] % multiple:
        raise ValueError(
            f"size must be a multiple of {multiple} for channels {spec['channels']}, got {size}."
        )
    if patch is not None:
        patch = tuple(patch)
        if patch[0] % multiple or patch[1] % multiple or patch[0] > size[0] or patch[1] > size[1]:
            raise ValueError(f"patch must be a multiple of {multiple} and fit in size {size}, got {patch}.")
        spec["patch_hw"] = list(patch)
    required = ("images", "fdi_labelmaps") if task == "teeth" else ("images_1024", "colors")
    missing = [sub for sub in required if not (Path(data) / sub).is_dir()]
    if missing:
        raise ValueError(f"--data {data} lacks the folder(s) {missing} that a {task} dataset needs.")
    clock_start = _PROCESS_START if started is None else started
    budget_s = minutes * 60
    reserve = eval_reserve_s if eval_reserve_s is not None else min(30.0, 5.0 + 0.06 * budget_s)
    deadline = clock_start + budget_s - reserve
    torch.manual_seed(seed)
    random.seed(seed)
    on_gpu = device.startswith("cuda")
    if on_gpu:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    names = dataset_names(task, Path(data))
    train_names, held_names = split_names(names, val_fraction or defaults["val_fraction"], seed)
    train_samples = load_samples(task, Path(data), train_names, size)
    held_samples = load_samples(task, Path(data), held_names, size)
    progress(
        f"{task}: {len(train_samples)} train / {len(held_samples)} held-out images at {size}, "
        f"loaded {time.monotonic() - clock_start:.1f}s after start"
    )
    images = torch.from_numpy(np.stack([s.image for s in train_samples])[:, None]).to(device)
    label_stack = np.stack([s.labels for s in train_samples])
    labels = torch.from_numpy(label_stack).to(device)
    flip_perm = torch.as_tensor(flip_permutation(task), device=device)
    points = foreground_points(label_stack) if patch else []
    crop_rng = random.Random(seed)

    model = build_network(spec)
    if init is not None:
        state = torch.load(init, map_location="cpu", weights_only=True)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        leaked = set(start_spec.get("train_names", [])) & set(held_names)
        spec["init"] = {"weights": Path(init).name, "held_out_images_it_trained_on": len(leaked)}
        if leaked:
            progress(
                f"warning: {Path(init).name} was trained on {len(leaked)} of the held-out images, so the "
                "held-out scores will be optimistic"
            )
    model = model.to(device).to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model)
    for parameter in ema.parameters():
        parameter.requires_grad_(False)
    ema_tensors = [t for t in ema.state_dict().values() if t.dtype.is_floating_point]
    live_tensors = [t for t in model.state_dict().values() if t.dtype.is_floating_point]
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4, fused=on_gpu)
    batch = batch or (32 if on_gpu else 4)
    batch = min(batch, len(train_samples))

    step = seen = 0
    train_start = time.monotonic()
    order = torch.randperm(len(train_samples), device=device)
    cursor = 0
    model.train()
    while step == 0 or time.monotonic() < deadline:  # at least one step, even on a tiny budget
        fraction = (time.monotonic() - train_start) / max(deadline - train_start, 1e-6)
        warm = min(1.0, fraction / 0.04)
        for group in optimiser.param_groups:
            group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))
        if cursor + batch > len(order):
            order, cursor = torch.randperm(len(train_samples), device=device), 0
        index = order[cursor : cursor + batch]
        cursor += batch
        if patch:
            x, y = sample_crops(images, labels, points, index.tolist(), patch, crop_rng)
        else:
            x, y = images[index], labels[index]
        x, y = augment(x, y, flip_perm)
        x = (x * 2 - 1).contiguous(memory_format=torch.channels_last)
        with _autocast(device):
            logits = model(x)
        loss = dice_ce_loss(logits, y, spec["n_classes"])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        decay = min(0.998, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema_tensors, live_tensors, 1 - decay)
        step += 1
        seen += batch
        if step % 50 == 0 or step == 1:
            progress(
                f"step {step} loss {loss.item():.4f} lr {optimiser.param_groups[0]['lr']:.2e} "
                f"{seen / (time.monotonic() - train_start):.1f} img/s"
            )
    if on_gpu:
        torch.cuda.synchronize()
    train_seconds = time.monotonic() - train_start
    chosen = ema if step >= 100 else model

    held_images = torch.from_numpy(np.stack([s.image for s in held_samples])[:, None]).to(device)
    native_shapes = [s.native_labels.shape for s in held_samples]
    predictions = predict_indices(chosen, spec, held_images, native_shapes, device)
    metrics = evaluate(task, predictions, held_samples)
    metrics["inference_s_per_image"] = _time_inference(chosen, spec, held_images[:1], device)
    metrics.update(
        task=task,
        device=torch.cuda.get_device_name(0) if on_gpu else "cpu",
        steps=step,
        epochs=round(seen / len(train_samples), 2),
        batch=batch,
        train_images_per_s=round(seen / train_seconds, 2),
        train_seconds=round(train_seconds, 2),
        weights="ema" if chosen is ema else "last",
        parameters=sum(p.numel() for p in model.parameters()),
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.dtype.is_floating_point else v).cpu() for k, v in chosen.state_dict().items()}
    torch.save(state, out / f"{task}_unet.pt")
    metrics["total_seconds"] = round(time.monotonic() - clock_start, 2)
    config = {
        **spec,
        "seed": seed,
        "train_names": train_names,
        "held_out_names": held_names,
        "data": Path(data).name,
        "metrics": metrics,
    }
    (out / f"{task}_unet.json").write_text(json.dumps(config, indent=1))
    (out / f"{task}_metrics.json").write_text(json.dumps(metrics, indent=1))
    summary = {
        k: metrics[k] for k in ("dice_mean_class", "dice_foreground", "numbering_accuracy") if k in metrics
    }
    progress(f"done in {metrics['total_seconds']}s: {summary}")
    return metrics


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=3.5, help="wall-clock budget from process start")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None)
    parser.add_argument("--patch", type=int, nargs=2, metavar=("H", "W"), default=None)
    parser.add_argument("--channels", type=lambda s: tuple(int(c) for c in s.split(",")), default=None)
    parser.add_argument("--res-units", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, default=None, help="fine-tune from these *_unet.pt weights")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse()
    train(
        args.task, args.data, args.out, minutes=args.minutes, device=args.device,
        size=tuple(args.size) if args.size else None, patch=tuple(args.patch) if args.patch else None,
        channels=args.channels, res_units=args.res_units,
        batch=args.batch, lr=args.lr, seed=args.seed, init=args.init,
    )  # fmt: skip
