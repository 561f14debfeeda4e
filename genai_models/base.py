"""The protocol every trainable model follows, so one ``Trainer`` fits GANs, AEs and VAEs alike.

A model is an ``nn.Module`` that says which parameter groups get their own optimizer
(``optimizer_groups``), which groups step at a given training step (``phases``; a GAN returns
``("discriminator", "generator")``), and computes a loss dict for one phase (``training_step``; key ``"loss"``
is back-propagated, the others are logged). ``validation_step`` returns floats averaged over the validation
set; ``monitor`` names the one that early stopping minimises. ``preview`` returns images for the PNG grid.

Batches are ``(images, labels)``: images ``(B, C, H, W)`` float in [0, 1], labels ``(B,)`` int64.
``config`` holds the constructor's keyword arguments (primitives only), so a run folder can rebuild the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

Batch = tuple[torch.Tensor, torch.Tensor]


def constructor_config(local_vars: dict[str, Any]) -> dict[str, Any]:
    """``locals()`` at the top of ``__init__`` -> the keyword arguments, for ``run.json`` and checkpoints."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in local_vars.items()
            if k not in ("self", "__class__")}


class GenerativeModel(nn.Module):
    """Base class for trainable models; subclasses set ``config`` and implement ``training_step``."""

    name: ClassVar[str] = "model"
    monitor: ClassVar[str] = "val_loss"  # minimised by early stopping
    conditional: ClassVar[bool] = False  # preview/sample accept class labels
    has_latent: ClassVar[bool] = False  # encode/decode exist (AE, VAE): latent interpolation works
    betas: tuple[float, float] = (0.9, 0.999)  # Adam betas; a model may set its own per instance

    config: dict[str, Any]

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"model": [p for p in self.parameters() if p.requires_grad]}

    def phases(self, step: int) -> tuple[str, ...]:
        """Optimizer groups that take a step at ``step`` (all of them by default)."""
        return tuple(self.optimizer_groups())

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        raise NotImplementedError

    @torch.no_grad()
    def preview(self, images: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Images for the sample grid: samples for generative models, reconstructions for autoencoders."""
        raise NotImplementedError


def rbf_mmd2(a: torch.Tensor, b: torch.Tensor) -> float:
    """Biased squared MMD with an RBF kernel (median-distance bandwidth) between two flattened image sets.

    Cheap enough to run every epoch, so GANs have a validation metric for early stopping; FID comes later.
    """
    x, y = a.flatten(1).float(), b.flatten(1).float()
    joint = torch.cat([x, y])
    distances = torch.cdist(joint, joint).pow(2)
    bandwidth = distances[distances > 0].median().clamp_min(1e-6)
    kernel = torch.exp(-distances / bandwidth)
    n = x.shape[0]
    return float(kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean())
