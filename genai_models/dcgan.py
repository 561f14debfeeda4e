"""DCGAN (Radford et al. 2016) with the non-saturating loss, for any image size that is a multiple of
``2**depth``, grey or RGB.

Generator: ``(B, latent_dim)`` noise -> ``(B, C, H, W)`` in [0, 1] (tanh output mapped from [-1, 1]).
Discriminator: ``(B, C, H, W)`` in [0, 1] -> ``(B,)`` logits. Both get their own Adam (betas 0.5, 0.999).
The generator's loss flows through the discriminator (its parameters are not updated in that phase) — the
book's version froze the generator by mistake.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genai_models.base import Batch, GenerativeModel, constructor_config, rbf_mmd2
from genai_models.blocks import ConvEncoder, UpStack, check_image_geometry, check_positive


class Generator(nn.Module):
    """``(B, latent_dim)`` -> ``(B, channels, H, W)`` in [0, 1]."""

    def __init__(self, *, latent_dim: int, channels: int, height: int, width: int, base_channels: int,
                 depth: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = UpStack(latent_dim=latent_dim, out_channels=channels, height=height, width=width,
                            base_channels=base_channels, depth=depth, norm="batch")

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.body(noise)) + 1) / 2


class DCGAN(GenerativeModel):
    """Unconditional DCGAN.

    Args:
        image_size: int or (height, width), multiples of ``2**depth``.
        channels: 1 (grey) or 3 (RGB).
        latent_dim: noise dimension (default 64).
        base_channels: width of the first conv block (default 32), doubled per block.
        depth: number of stride-2 blocks (default 3).
    """

    name = "dcgan"
    monitor = "val_mmd"
    betas = (0.5, 0.999)

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 64,
                 base_channels: int = 32, depth: int = 3) -> None:
        self.config = constructor_config(locals())
        super().__init__()
        height, width = check_image_geometry(image_size=image_size, channels=channels, depth=depth)
        check_positive("latent_dim", latent_dim)
        check_positive("base_channels", base_channels)
        self.latent_dim = latent_dim
        self.generator = Generator(latent_dim=latent_dim, channels=channels, height=height, width=width,
                                   base_channels=base_channels, depth=depth)
        self.discriminator = ConvEncoder(in_channels=channels, height=height, width=width,
                                         base_channels=base_channels, depth=depth, out_dim=1, norm="batch")

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"discriminator": list(self.discriminator.parameters()),
                "generator": list(self.generator.parameters())}

    def noise(self, count: int, *, device: torch.device | str, generator: torch.Generator | None = None):
        return torch.randn(count, self.latent_dim, device=device, generator=generator)

    def critic(self, images: torch.Tensor) -> torch.Tensor:
        return self.discriminator(images * 2 - 1).squeeze(1)

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        real = batch[0]
        fake = self.generator(self.noise(real.shape[0], device=real.device))
        if phase == "discriminator":
            real_logits, fake_logits = self.critic(real), self.critic(fake.detach())
            loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()  # BCE, real=1 fake=0
            return {"loss": loss, "d_loss": loss}
        loss = F.softplus(-self.critic(fake)).mean()  # non-saturating: -log D(G(z))
        return {"loss": loss, "g_loss": loss}

    @torch.no_grad()
    def sample(self, count: int, *, labels: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return self.generator(self.noise(count, device=device, generator=generator))

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        real = batch[0]
        return {"val_mmd": rbf_mmd2(real, self.sample(real.shape[0], labels=batch[1]))}

    @torch.no_grad()
    def preview(self, images: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        return self.sample(images.shape[0], labels=labels, generator=generator)
