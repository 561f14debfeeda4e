"""Gaussian VAE (Kingma & Welling 2014) and beta-VAE with KL warm-up or cyclical annealing (Fu et al. 2019).

Per sample, ``-ELBO = sum_pixels BCE(x, decoder(z)) + sum_latent KL(q(z|x) || N(0, I))`` and the training loss
is its batch mean with the KL term weighted by ``kl_weight(step)``; both terms are *summed* over their
dimensions (the book averaged them, which silently rescales the KL by 1/latent_dim and the likelihood by
1/pixels). ``z = mu + exp(logvar / 2) * eps`` (reparameterisation) keeps the sample differentiable.

``encode``: ``(B, C, H, W)`` in [0, 1] -> ``(B, latent_dim)`` posterior mean; ``decode``: ``(B, latent_dim)`` ->
``(B, C, H, W)`` in [0, 1]; ``sample(n)`` decodes prior draws.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genai_models.base import Batch, GenerativeModel, constructor_config
from genai_models.blocks import ConvEncoder, UpStack, check_choice, check_image_geometry, check_positive

KL_SCHEDULES = ("constant", "linear", "cyclical")

# ---------------------------------------------------------------- helpers


def bernoulli_nll(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` logits and targets in [0, 1] -> ``(B,)`` negative log-likelihood summed over pixels."""
    nll = F.binary_cross_entropy_with_logits(logits.float(), images.float(), reduction="none")
    return nll.flatten(1).sum(dim=1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` summed over latent dimensions -> ``(B,)``."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def kl_weight(step: int, *, beta: float, schedule: str, warmup_steps: int, cycle_steps: int) -> float:
    """KL weight at ``step``: constant ``beta``; linear warm-up to ``beta`` over ``warmup_steps``; or cyclical
    annealing (ramp 0 -> beta over the first half of each ``cycle_steps`` cycle, then hold)."""
    if schedule == "linear":
        return beta * min(1.0, step / warmup_steps)
    if schedule == "cyclical":
        position = (step % cycle_steps) / cycle_steps
        return beta * min(1.0, 2.0 * position)
    return beta


# ---------------------------------------------------------------- classes


class VAE(GenerativeModel):
    """Convolutional Gaussian VAE; ``beta`` and ``kl_schedule`` turn it into a beta-VAE.

    Args:
        image_size: int or (height, width), multiples of ``2**depth``.
        channels: 1 (grey) or 3 (RGB).
        latent_dim: latent size (default 16).
        base_channels, depth: conv widths and number of stride-2 blocks.
        beta: KL weight once annealing is done (1 = the true ELBO).
        kl_schedule: "constant", "linear" (warm-up over ``warmup_steps``) or "cyclical" (``cycle_steps``).
        warmup_steps, cycle_steps: schedule lengths in optimizer steps (>= 1).
    """

    name = "vae"
    monitor = "val_neg_elbo"
    has_latent = True

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 16,
                 base_channels: int = 32, depth: int = 3, beta: float = 1.0, kl_schedule: str = "constant",
                 warmup_steps: int = 1000, cycle_steps: int = 2000) -> None:
        self.config = constructor_config(locals())
        super().__init__()
        self.height, self.width = check_image_geometry(image_size=image_size, channels=channels, depth=depth)
        check_positive("latent_dim", latent_dim)
        check_positive("beta", beta, integer=False, allow_zero=True)
        check_choice("kl_schedule", kl_schedule, KL_SCHEDULES)
        check_positive("warmup_steps", warmup_steps)
        check_positive("cycle_steps", cycle_steps)
        self.latent_dim, self.channels = latent_dim, channels
        self.schedule = dict(beta=float(beta), schedule=kl_schedule, warmup_steps=warmup_steps,
                             cycle_steps=cycle_steps)
        self.encoder = self.build_encoder(base_channels=base_channels, depth=depth)
        self.decoder = UpStack(latent_dim=latent_dim, out_channels=channels, height=self.height,
                               width=self.width, base_channels=base_channels, depth=depth)

    def build_encoder(self, *, base_channels: int, depth: int) -> nn.Module:
        """``(B, C, H, W)`` -> ``(B, 2 * latent_dim)`` (mu and logvar); transformer VAEs override this."""
        return ConvEncoder(in_channels=self.channels, height=self.height, width=self.width,
                           base_channels=base_channels, depth=depth, out_dim=2 * self.latent_dim)

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.posterior(images)[0]

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(latent))

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    def elbo_terms(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample ``(reconstruction NLL, KL)``, each ``(B,)``, with one reparameterised latent draw."""
        mu, logvar = self.posterior(images)
        latent = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return bernoulli_nll(self.decoder(latent), images), gaussian_kl(mu, logvar)

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        recon, kl = self.elbo_terms(batch[0])
        weight = kl_weight(step, **self.schedule)
        loss = (recon + weight * kl).mean()
        return {"loss": loss, "recon": recon.mean(), "kl": kl.mean(), "kl_weight": torch.tensor(weight)}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        images = batch[0]
        recon, kl = self.elbo_terms(images)
        mse = (self.reconstruct(images).float() - images.float()).pow(2).mean()
        return {"val_neg_elbo": float((recon + kl).mean()), "val_mse": float(mse),
                "val_nats_per_pixel": float((recon + kl).mean()) / math.prod(images.shape[1:])}

    def prior_sample(self, count: int, *, device: torch.device | str,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(count, self.latent_dim, device=device, generator=generator)

    @torch.no_grad()
    def sample(self, count: int, *, labels: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return self.decode(self.prior_sample(count, device=device, generator=generator))

    @torch.no_grad()
    def preview(self, images: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        return self.sample(images.shape[0], generator=generator)


class BetaVAE(VAE):
    """``VAE`` with ``beta=4`` and cyclical KL annealing by default (disentanglement without KL collapse)."""

    name = "beta-vae"

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 16,
                 base_channels: int = 32, depth: int = 3, beta: float = 4.0, kl_schedule: str = "cyclical",
                 warmup_steps: int = 1000, cycle_steps: int = 2000) -> None:
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth, beta=beta, kl_schedule=kl_schedule,
                         warmup_steps=warmup_steps, cycle_steps=cycle_steps)
