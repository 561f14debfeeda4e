"""DiffAugment: per-image random transforms that keep gradients, on hand-made tensors with known answers."""

from __future__ import annotations

import torch

from genai_models.diffaugment import (
    diff_augment,
    random_brightness_contrast,
    random_cutout,
    random_translation,
)
from genai_models.trainer import seed_everything
from genai_models.zoo import build_model


def test_translation_moves_a_dot_by_at_most_an_eighth_and_fills_with_zeros() -> None:
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 32, 32)
    images[:, :, 16, 16] = 1.0
    moved = random_translation(images)
    assert moved.shape == images.shape
    for image in moved[:, 0]:
        ((row, col),) = (image == 1.0).nonzero().tolist()
        assert abs(row - 16) <= 4 and abs(col - 16) <= 4
    offsets = {tuple(image.nonzero()[0].tolist()) for image in moved[:, 0]}
    assert len(offsets) > 10  # each image draws its own shift


def test_cutout_zeroes_one_square_of_at_most_half_the_size() -> None:
    torch.manual_seed(0)
    cut = random_cutout(torch.ones(64, 2, 16, 16))
    zeros = (cut[:, 0] == 0).flatten(1).sum(1)
    assert bool(((zeros > 0) & (zeros <= 64)).all())  # an 8x8 square, clipped at the border
    assert torch.equal(cut[:, 0], cut[:, 1])  # the same square in every channel
    assert bool((zeros == 64).any()) and bool((zeros < 64).any())


def test_brightness_and_contrast_shift_a_flat_image_by_at_most_half() -> None:
    torch.manual_seed(0)
    flat = torch.full((64, 1, 8, 8), 0.25)
    out = random_brightness_contrast(flat)
    offsets = out[:, 0, 0, 0] - 0.25
    assert torch.allclose(out, out[:, :, :1, :1].expand_as(out))  # contrast about the mean keeps it flat
    assert bool((offsets >= -0.5).all()) and bool((offsets < 0.5).all()) and float(offsets.std()) > 0.1


def test_gradients_flow_through_the_whole_policy() -> None:
    images = torch.rand(8, 1, 16, 16, requires_grad=True)
    diff_augment(images * 2 - 1).sum().backward()
    assert images.grad is not None and float(images.grad.abs().sum()) > 0


def test_conditional_gan_with_diff_augment_trains_and_keeps_the_setting() -> None:
    seed_everything(0)
    model = build_model(
        "conditional-gan", image_size=16, depth=2, base_channels=8, latent_dim=8, num_classes=3,
        diff_augment=True,
    )  # fmt: skip
    images, labels = torch.rand(16, 1, 16, 16), torch.arange(16) % 3
    d_loss = model.training_step((images, labels), phase="discriminator", step=0)["loss"]
    d_loss.backward()
    assert torch.isfinite(d_loss)
    model.generator.zero_grad()
    model.training_step((images, labels), phase="generator", step=0)["loss"].backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.generator.parameters())
    assert model.config["diff_augment"] is True
