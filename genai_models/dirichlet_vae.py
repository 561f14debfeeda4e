"""Dirichlet VAE: the posterior is a true Dirichlet, ``q(z|x) = Dir(alpha(x))``, sampled with the implicit
reparameterisation gradient of ``torch.distributions.Dirichlet.rsample``, and regularised by the analytic
``KL(Dir(alpha(x)) || Dir(prior_alpha))``. (The book sampled a Gaussian and called it Dirichlet.)

Latents live on the probability simplex: ``z`` is ``(B, latent_dim)`` with ``z >= 0`` and ``z.sum(1) == 1``, so a
latent reads as a mixture over ``latent_dim`` prototypes. ``encode`` returns the posterior mean
``alpha / alpha.sum()``; interpolating two such points stays on the simplex.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Dirichlet, kl_divergence

from genai_models.blocks import check_positive
from genai_models.vae import VAE, bernoulli_nll


class DirichletVAE(VAE):
    """Convolutional VAE with a Dirichlet posterior and prior.

    Args:
        image_size, channels, base_channels, depth, beta, kl_schedule, warmup_steps, cycle_steps: as ``VAE``.
        latent_dim: number of simplex components K (>= 2, default 10).
        prior_alpha: symmetric prior concentration (default 0.98: mildly sparse mixtures).
    """

    name = "dirichlet-vae"

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 10,
                 base_channels: int = 32, depth: int = 3, prior_alpha: float = 0.98, beta: float = 1.0,
                 kl_schedule: str = "constant", warmup_steps: int = 1000, cycle_steps: int = 2000) -> None:
        if not isinstance(latent_dim, int) or latent_dim < 2:
            raise ValueError(f"latent_dim must be an int >= 2 (simplex components); received {latent_dim!r}.")
        check_positive("prior_alpha", prior_alpha, integer=False)
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth, beta=beta, kl_schedule=kl_schedule,
                         warmup_steps=warmup_steps, cycle_steps=cycle_steps)
        self.config["prior_alpha"] = prior_alpha
        self.register_buffer("prior_alpha", torch.full((latent_dim,), float(prior_alpha)))

    def build_encoder(self, *, base_channels: int, depth: int):
        encoder = super().build_encoder(base_channels=base_channels, depth=depth)
        encoder.head = torch.nn.Linear(encoder.head.in_features, self.latent_dim)  # one concentration per component
        return encoder

    def concentration(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, K)`` Dirichlet concentrations, float32, in [0.01, 1000]."""
        return (F.softplus(self.encoder(images).float()) + 0.01).clamp(max=1000.0)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        alpha = self.concentration(images)
        return alpha / alpha.sum(dim=1, keepdim=True)

    def posterior_sample(self, images: torch.Tensor) -> torch.Tensor:
        """One reparameterised draw ``z ~ Dir(alpha(x))``, ``(B, K)`` on the simplex."""
        with torch.autocast(images.device.type, enabled=False):
            return Dirichlet(self.concentration(images)).rsample()

    def elbo_terms(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = self.concentration(images)
        with torch.autocast(images.device.type, enabled=False):
            posterior = Dirichlet(alpha)
            latent = posterior.rsample()
            kl = kl_divergence(posterior, Dirichlet(self.prior_alpha.expand_as(alpha)))
        return bernoulli_nll(self.decoder(latent), images), kl

    def prior_sample(self, count: int, *, device: torch.device | str,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """Prior draws ``(count, K)`` on the simplex; torch's Gamma sampler takes no ``generator``, so these
        come from the global RNG (seeded by the trainer)."""
        return Dirichlet(self.prior_alpha.to(device)).sample((count,))
