"""Shared building blocks: argument checks, conv down/up stacks, image grids.

Layout everywhere: images are ``(B, C, H, W)`` float tensors in ``[0, 1]`` (grey C=1 or RGB C=3); latents are
``(B, D)``. A stack of ``depth`` stride-2 blocks needs ``H`` and ``W`` to be multiples of ``2**depth`` (a 28x28
Fashion-MNIST image allows depth 2; padded to 32x32 it allows depth 3).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from data_connectors.errors import BadInputError

NORMS = ("batch", "layer", "none")
GRID_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

# ---------------------------------------------------------------- helpers


def check_choice(name: str, value: str, accepted: Iterable[str]) -> None:
    """Raise ``BadInputError`` naming argument, accepted values, received value and the fix."""
    accepted = tuple(accepted)
    if value not in accepted:
        raise BadInputError(f"{name}={value!r} is not accepted; use one of {', '.join(map(repr, accepted))}.")


def check_positive(name: str, value: float, *, integer: bool = True, allow_zero: bool = False) -> None:
    ok_type = isinstance(value, int) and not isinstance(value, bool) if integer else isinstance(value, int | float)
    if not ok_type or value < 0 or (value == 0 and not allow_zero):
        kind = "integer" if integer else "number"
        bound = ">= 0" if allow_zero else "> 0"
        raise BadInputError(f"{name} must be a {kind} {bound}; received {value!r}; pass e.g. {name}=1.")


def check_grid_path(path) -> None:
    """Refuse a file name whose suffix names no image format ``save_grid`` writes."""
    from pathlib import Path

    if Path(path).suffix.lower() not in GRID_SUFFIXES:
        raise BadInputError(f"Cannot write the image grid to {Path(path).name!r}: end the file name with one of "
                            f"{', '.join(GRID_SUFFIXES)}, e.g. samples.png.")


def image_hw(image_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``32`` or ``(32, 48)`` -> ``(height, width)``."""
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        return image_size, image_size
    if isinstance(image_size, tuple | list) and len(image_size) == 2 and all(isinstance(v, int) for v in image_size):
        return int(image_size[0]), int(image_size[1])
    raise BadInputError(
        f"image_size must be an int or (height, width) ints; received {image_size!r}; pass e.g. image_size=32."
    )


def check_image_geometry(
    *, image_size: int | tuple[int, int] | list[int], channels: int, depth: int
) -> tuple[int, int]:
    """Validate the shared image arguments of every conv model; returns ``(height, width)``."""
    check_positive("depth", depth)
    if channels not in (1, 3):
        raise BadInputError(f"channels must be 1 (grey) or 3 (RGB); received {channels!r}; convert the images.")
    height, width = image_hw(image_size)
    factor = 2**depth
    if height % factor or width % factor or height < factor or width < factor:
        raise BadInputError(
            f"image_size {height}x{width} is not a multiple of 2**depth={factor}; pad or resize the images "
            f"(e.g. to {max(factor, (height + factor - 1) // factor * factor)}) or lower depth."
        )
    return height, width


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # no batch statistics: required by the WGAN-GP penalty
    return nn.Identity()


def channel_plan(base_channels: int, depth: int, max_channels: int = 512) -> list[int]:
    """Channels after each down block: base, 2*base, 4*base, ... capped at ``max_channels``."""
    return [min(base_channels * 2**i, max_channels) for i in range(depth)]


# ---------------------------------------------------------------- classes


class DownStack(nn.Module):
    """``(B, C, H, W)`` -> ``(B, plan[-1], H / 2**depth, W / 2**depth)`` with stride-2 4x4 convolutions.

    Args:
        in_channels: image channels.
        base_channels: channels of the first block; doubled each block.
        depth: number of stride-2 blocks.
        norm: "batch", "layer" (GroupNorm with one group) or "none"; the first block is never normalised.
        spectral: wrap convolutions in spectral normalisation (GAN discriminators).
    """

    def __init__(self, *, in_channels: int, base_channels: int, depth: int, norm: str = "batch",
                 spectral: bool = False) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        layers: list[nn.Module] = []
        previous = in_channels
        for index, channels in enumerate(channel_plan(base_channels, depth)):
            conv = nn.Conv2d(previous, channels, 4, stride=2, padding=1, bias=norm == "none" or index == 0)
            layers += [
                nn.utils.parametrizations.spectral_norm(conv) if spectral else conv,
                nn.Identity() if index == 0 else _norm(norm, channels),
                nn.LeakyReLU(0.2),
            ]
            previous = channels
        self.out_channels = previous
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class UpStack(nn.Module):
    """``(B, D)`` latent -> ``(B, out_channels, H, W)`` logits: linear to a ``H/2**depth`` grid, then
    stride-2 transposed convolutions, then a 3x3 conv to the image channels (no output activation)."""

    def __init__(self, *, latent_dim: int, out_channels: int, height: int, width: int, base_channels: int,
                 depth: int, norm: str = "batch") -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        plan = channel_plan(base_channels, depth)[::-1]
        self.grid = (plan[0], height // 2**depth, width // 2**depth)
        self.project = nn.Sequential(nn.Linear(latent_dim, plan[0] * self.grid[1] * self.grid[2]), nn.ReLU())
        layers: list[nn.Module] = []
        for index, channels in enumerate(plan):
            following = plan[index + 1] if index + 1 < len(plan) else base_channels
            layers += [
                nn.ConvTranspose2d(channels, following, 4, stride=2, padding=1, bias=norm == "none"),
                _norm(norm, following),
                nn.ReLU(),
            ]
        layers.append(nn.Conv2d(base_channels, out_channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        channels, h, w = self.grid
        grid = self.project(latent).view(-1, channels, h, w)  # b (c h w) -> b c h w
        return self.net(grid)


class ConvEncoder(nn.Module):
    """``(B, C, H, W)`` -> ``(B, out_dim)``: a ``DownStack`` then a linear head on the flattened grid."""

    def __init__(self, *, in_channels: int, height: int, width: int, base_channels: int, depth: int,
                 out_dim: int, norm: str = "batch", spectral: bool = False) -> None:
        super().__init__()
        self.stack = DownStack(in_channels=in_channels, base_channels=base_channels, depth=depth, norm=norm,
                               spectral=spectral)
        flat = self.stack.out_channels * (height // 2**depth) * (width // 2**depth)
        head = nn.Linear(flat, out_dim)
        self.head = nn.utils.parametrizations.spectral_norm(head) if spectral else head
        self.flat_dim = flat

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.stack(images).flatten(1)  # b c h w -> b (c h w)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


# PUBLIC API


def make_grid(images: torch.Tensor, *, columns: int = 8, padding: int = 2) -> torch.Tensor:
    """``(N, C, H, W)`` in [0, 1] -> one ``(H', W', 3)`` uint8 image for a PNG (grey is repeated to RGB)."""
    images = images.detach().float().clamp(0, 1).cpu()
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    count = images.shape[0]
    rows = (count + columns - 1) // columns
    blank = torch.ones(rows * columns - count, *images.shape[1:])
    images = torch.nn.functional.pad(torch.cat([images, blank]), [padding] * 4, value=1.0)
    _, channels, height, width = images.shape  # (r k) c h w -> (r h) (k w) c
    grid = images.view(rows, columns, channels, height, width).permute(0, 3, 1, 4, 2)
    grid = grid.reshape(rows * height, columns * width, channels)
    return (grid * 255).round().to(torch.uint8)


def save_grid(images: torch.Tensor, path, *, columns: int = 8) -> None:
    """Write ``(N, C, H, W)`` images in [0, 1] as one image grid (PNG, or JPEG/TIFF/BMP by the file suffix).

    Raises:
        BadInputError: the suffix is not an image format listed in ``GRID_SUFFIXES``.
    """
    from PIL import Image

    check_grid_path(path)
    Image.fromarray(make_grid(images, columns=columns).numpy()).save(path)
