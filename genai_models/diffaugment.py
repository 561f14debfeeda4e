"""Differentiable augmentation for GANs trained on a few hundred images (DiffAugment, Zhao et al.,
NeurIPS 2020).

A discriminator that sees the same few hundred real images for thousands of steps memorises them; the
generator then collapses onto the few outputs that fool it (every synthetic patch alike). DiffAugment applies
the same random, differentiable transforms to every image the discriminator sees, real and generated, in both
the discriminator's and the generator's step, so the discriminator cannot memorise and the generator still
gets gradients through the transforms. Policy as in the paper: colour (brightness, contrast), translation by
up to 1/8 of the size with zero fill, and cutout of a half-size square.

Images are ``(B, C, H, W)`` in ``[-1, 1]`` (what discriminators here see); each image draws its own
parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_brightness_contrast(images: torch.Tensor) -> torch.Tensor:
    """Add a brightness offset in [-0.5, 0.5), then scale the contrast about the image mean by [0.5, 1.5)."""
    batch = images.shape[0]
    shape = (batch, 1, 1, 1)
    images = images + (torch.rand(shape, dtype=images.dtype, device=images.device) - 0.5)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (torch.rand(shape, dtype=images.dtype, device=images.device) + 0.5) + mean


def random_translation(images: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its height and width; uncovered pixels become 0."""
    batch, _, height, width = images.shape
    max_dy, max_dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (batch, 1, 1), device=images.device)
    dx = torch.randint(-max_dx, max_dx + 1, (batch, 1, 1), device=images.device)
    index_b, rows, cols = torch.meshgrid(
        torch.arange(batch, device=images.device),
        torch.arange(height, device=images.device),
        torch.arange(width, device=images.device),
        indexing="ij",
    )
    rows = torch.clamp(rows + dy + 1, 0, height + 1)  # +1: index into the zero-padded image
    cols = torch.clamp(cols + dx + 1, 0, width + 1)
    padded = F.pad(images, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[index_b, rows, cols].permute(0, 3, 1, 2).contiguous()


def random_cutout(images: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ``ratio`` x the size per image, centred anywhere in it (clipped at the border)."""
    batch, _, height, width = images.shape
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    centre_y = torch.randint(0, height, (batch, 1, 1), device=images.device)
    centre_x = torch.randint(0, width, (batch, 1, 1), device=images.device)
    rows = torch.arange(height, device=images.device).view(1, height, 1)
    cols = torch.arange(width, device=images.device).view(1, 1, width)
    inside = (
        (rows >= centre_y - cut_h // 2)
        & (rows < centre_y - cut_h // 2 + cut_h)
        & (cols >= centre_x - cut_w // 2)
        & (cols < centre_x - cut_w // 2 + cut_w)
    )
    return images * (~inside).unsqueeze(1).to(images.dtype)


def diff_augment(images: torch.Tensor) -> torch.Tensor:
    """Colour, translation and cutout, each with its own random parameters per image (differentiable)."""
    return random_cutout(random_translation(random_brightness_contrast(images)))
