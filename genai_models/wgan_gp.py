"""WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gradient penalty instead of weight clipping.

Same generator as DCGAN. The critic uses layer normalisation (GroupNorm with one group), never batch norm,
because the penalty is defined per sample. The critic steps every training step, the generator every
``n_critic``-th step. Layouts as in ``dcgan``.
"""

from __future__ import annotations

import torch

from genai_models.base import Batch
from genai_models.blocks import ConvEncoder, check_positive, image_hw
from genai_models.dcgan import DCGAN


class WGANGP(DCGAN):
    """DCGAN generator + layer-normalised critic trained with the Wasserstein loss and gradient penalty.

    Args:
        image_size, channels, latent_dim, base_channels, depth: as for ``DCGAN``.
        gp_weight: gradient-penalty weight lambda (default 10).
        n_critic: critic steps per generator step (default 5; >= 1).
    """

    name = "wgan-gp"
    betas = (0.0, 0.9)

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 64,
                 base_channels: int = 32, depth: int = 3, gp_weight: float = 10.0, n_critic: int = 5) -> None:
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth)
        self.config.update(gp_weight=gp_weight, n_critic=n_critic)
        check_positive("gp_weight", gp_weight, integer=False, allow_zero=True)
        check_positive("n_critic", n_critic)
        self.gp_weight, self.n_critic = float(gp_weight), n_critic
        height, width = image_hw(image_size)
        self.discriminator = ConvEncoder(in_channels=channels, height=height, width=width,
                                         base_channels=base_channels, depth=depth, out_dim=1, norm="layer")

    def phases(self, step: int) -> tuple[str, ...]:
        return ("discriminator", "generator") if step % self.n_critic == 0 else ("discriminator",)

    def gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """``E[(||grad_x critic(x_hat)||_2 - 1)^2]`` on random interpolates ``x_hat`` of real and fake."""
        mix = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        mixed = (mix * real + (1 - mix) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.critic(mixed).sum(), mixed, create_graph=True)
        return (grad.float().flatten(1).norm(dim=1) - 1).pow(2).mean()

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        real = batch[0]
        fake = self.generator(self.noise(real.shape[0], device=real.device))
        if phase == "discriminator":
            fake = fake.detach()
            wasserstein = self.critic(real).mean() - self.critic(fake).mean()
            penalty = self.gradient_penalty(real, fake)
            return {"loss": -wasserstein + self.gp_weight * penalty, "w_distance": wasserstein, "gp": penalty}
        loss = -self.critic(fake).mean()
        return {"loss": loss, "g_loss": loss}
