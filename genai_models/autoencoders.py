"""Convolutional autoencoder and its denoising variant.

``encode``: ``(B, C, H, W)`` in [0, 1] -> ``(B, latent_dim)``; ``decode``: ``(B, latent_dim)`` -> ``(B, C, H, W)``
in [0, 1] (sigmoid output). The loss is the per-pixel mean squared error. The denoising autoencoder corrupts its
input with Gaussian noise during training only and is scored against the clean image.

Stable API: ``ConvAutoencoder(image_size=64, channels=1, latent_dim=32)``; ``reconstruct(images)``;
``reconstruction_error(images) -> (B,)`` per-image MSE (used by ``anomaly.ImageAnomalyDetector``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genai_models.base import Batch, GenerativeModel, constructor_config
from genai_models.blocks import ConvEncoder, UpStack, check_image_geometry, check_positive


class ConvAutoencoder(GenerativeModel):
    """Deterministic convolutional autoencoder.

    Args:
        image_size: int or (height, width), multiples of ``2**depth``.
        channels: 1 (grey) or 3 (RGB).
        latent_dim: bottleneck size (default 32).
        base_channels: width of the first conv block (default 32).
        depth: number of stride-2 blocks (default 3).
        noise_std: std of the Gaussian noise added to inputs while training (0 = plain autoencoder).
    """

    name = "autoencoder"
    monitor = "val_mse"
    has_latent = True

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 32,
                 base_channels: int = 32, depth: int = 3, noise_std: float = 0.0) -> None:
        self.config = constructor_config(locals())
        super().__init__()
        height, width = check_image_geometry(image_size=image_size, channels=channels, depth=depth)
        check_positive("latent_dim", latent_dim)
        check_positive("noise_std", noise_std, integer=False, allow_zero=True)
        self.noise_std = float(noise_std)
        self.encoder = ConvEncoder(in_channels=channels, height=height, width=width, base_channels=base_channels,
                                   depth=depth, out_dim=latent_dim)
        self.decoder = UpStack(latent_dim=latent_dim, out_channels=channels, height=height, width=width,
                               base_channels=base_channels, depth=depth)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(latent))

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        clean = batch[0]
        noisy = (clean + self.noise_std * torch.randn_like(clean)).clamp(0, 1) if self.noise_std else clean
        loss = F.mse_loss(self.reconstruct(noisy).float(), clean.float())
        return {"loss": loss, "mse": loss}

    @torch.no_grad()
    def reconstruction_error(self, images: torch.Tensor) -> torch.Tensor:
        """Per-image mean squared error ``(B,)`` between the images and their reconstructions."""
        return (self.reconstruct(images).float() - images.float()).pow(2).flatten(1).mean(dim=1)

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        return {"val_mse": float(self.reconstruction_error(batch[0]).mean())}

    @torch.no_grad()
    def preview(self, images: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Originals in the top half of the grid, their reconstructions in the bottom half."""
        recon = self.reconstruct(images)
        half = images.shape[0] // 2 or 1
        return torch.cat([images[:half], recon[:half]])


class DenoisingAutoencoder(ConvAutoencoder):
    """``ConvAutoencoder`` trained to remove Gaussian noise (default std 0.3) from its input."""

    name = "denoising-autoencoder"

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 32,
                 base_channels: int = 32, depth: int = 3, noise_std: float = 0.3) -> None:
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth, noise_std=noise_std)
