"""Class-conditional GAN for class balancing: a label-conditioned generator and a projection discriminator
(Miyato & Koyama 2018) trained with the hinge loss.

Generator: noise ``(B, latent_dim)`` and labels ``(B,)`` -> ``(B, C, H, W)`` in [0, 1]; the label embedding is
concatenated to the noise. Discriminator: ``logit = w . h(x) + <embed(y), h(x)>`` with spectral-normalised
convolutions, where ``h(x)`` is the ``(B, F)`` feature vector. Use ``sample(n, labels=...)`` to generate a
chosen class, e.g. to top up a rare class in a training set. With ``diff_augment=True`` the discriminator sees
every image through DiffAugment (``genai_models.diffaugment``): use it when each class has only hundreds of
images, where the plain GAN collapses to near-identical samples.

Stable API for other flows::

    model = ConditionalGAN(image_size=64, channels=1, num_classes=5)
    Trainer(model, config=TrainConfig(epochs=20)).fit(train_set, val_set)
    images = model.sample(32, labels=torch.full((32,), 3))   # (32, 1, 64, 64) in [0, 1]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genai_models.base import Batch, GenerativeModel, constructor_config, rbf_mmd2
from genai_models.blocks import ConvEncoder, UpStack, check_image_geometry, check_positive
from genai_models.diffaugment import diff_augment


class ConditionalGenerator(nn.Module):
    """``(B, latent_dim)``, ``(B,)`` -> ``(B, channels, H, W)`` in [0, 1]."""

    def __init__(self, *, latent_dim: int, num_classes: int, channels: int, height: int, width: int,
                 base_channels: int, depth: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, latent_dim)
        self.body = UpStack(latent_dim=2 * latent_dim, out_channels=channels, height=height, width=width,
                            base_channels=base_channels, depth=depth, norm="batch")

    def forward(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.body(torch.cat([noise, self.embed(labels)], dim=1))) + 1) / 2


class ProjectionDiscriminator(nn.Module):
    """``(B, C, H, W)`` in [-1, 1], ``(B,)`` -> ``(B,)`` logits."""

    def __init__(self, *, num_classes: int, channels: int, height: int, width: int, base_channels: int,
                 depth: int) -> None:
        super().__init__()
        self.encoder = ConvEncoder(in_channels=channels, height=height, width=width, base_channels=base_channels,
                                   depth=depth, out_dim=1, norm="none", spectral=True)
        self.embed = nn.utils.parametrizations.spectral_norm(nn.Embedding(num_classes, self.encoder.flat_dim))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        features = self.encoder.features(images)  # (B, F)
        return self.encoder.head(features).squeeze(1) + (self.embed(labels) * features).sum(dim=1)


class ConditionalGAN(GenerativeModel):
    """Class-conditional GAN with a projection discriminator and hinge loss.

    Args:
        image_size: int or (height, width), multiples of ``2**depth``.
        channels: 1 (grey) or 3 (RGB).
        num_classes: number of classes (>= 2); labels must lie in ``0 .. num_classes-1``.
        latent_dim, base_channels, depth: as for ``DCGAN``.
        diff_augment: show the discriminator real and generated images through DiffAugment (small datasets).
        n_dis: discriminator steps per generator step.
        betas: Adam betas of both players; ``n_dis=2, betas=(0.0, 0.9)`` is the SNGAN recipe (Miyato et al.
            2018), which keeps samples diverse on a few hundred images where the default collapses.
    """

    name = "conditional-gan"
    monitor = "val_mmd"
    conditional = True

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, num_classes: int = 10,
                 latent_dim: int = 64, base_channels: int = 32, depth: int = 3, diff_augment: bool = False,
                 n_dis: int = 1, betas: tuple[float, float] = (0.5, 0.999)) -> None:
        self.config = constructor_config(locals())
        super().__init__()
        height, width = check_image_geometry(image_size=image_size, channels=channels, depth=depth)
        check_positive("latent_dim", latent_dim)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2; received {num_classes!r}; count your classes.")
        check_positive("n_dis", n_dis)
        if not isinstance(diff_augment, bool):
            raise ValueError(f"diff_augment must be True or False; received {diff_augment!r}; e.g. diff_augment=True.")
        if (not isinstance(betas, tuple | list) or len(betas) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"betas must be two numbers in [0, 1) (Adam's beta1, beta2); received {betas!r}; "
                             "e.g. betas=(0.0, 0.9).")
        self.latent_dim, self.num_classes, self.diff_augment = latent_dim, num_classes, diff_augment
        self.n_dis, self.betas = n_dis, (float(betas[0]), float(betas[1]))
        common = dict(channels=channels, height=height, width=width, base_channels=base_channels, depth=depth)
        self.generator = ConditionalGenerator(latent_dim=latent_dim, num_classes=num_classes, **common)
        self.discriminator = ProjectionDiscriminator(num_classes=num_classes, **common)

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"discriminator": list(self.discriminator.parameters()),
                "generator": list(self.generator.parameters())}

    def phases(self, step: int) -> tuple[str, ...]:
        return ("discriminator", "generator") if (step + 1) % self.n_dis == 0 else ("discriminator",)

    def _check_labels(self, labels: torch.Tensor) -> None:
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"labels must lie in 0..{self.num_classes - 1}; received {int(labels.min())}..{int(labels.max())}; "
                "remap the classes or build the model with a larger num_classes."
            )

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        real, labels = batch
        noise = torch.randn(real.shape[0], self.latent_dim, device=real.device)
        fake = self.generator(noise, labels)
        if phase == "discriminator":
            real_logits = self._judge(real, labels)
            fake_logits = self._judge(fake.detach(), labels)
            loss = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()  # hinge
            return {"loss": loss, "d_loss": loss}
        loss = -self._judge(fake, labels).mean()
        return {"loss": loss, "g_loss": loss}

    def _judge(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Discriminator logits for ``[0, 1]`` images, through DiffAugment when enabled."""
        scaled = images * 2 - 1
        return self.discriminator(diff_augment(scaled) if self.diff_augment else scaled, labels)

    @torch.no_grad()
    def sample(self, count: int, *, labels: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """``count`` images of classes ``labels`` ``(count,)``; random balanced classes when None."""
        device = next(self.parameters()).device
        if labels is None:
            labels = torch.arange(count, device=device) % self.num_classes
        labels = torch.as_tensor(labels, device=device).long()
        if labels.ndim == 0:
            labels = labels.expand(count)
        self._check_labels(labels)
        noise = torch.randn(count, self.latent_dim, device=device, generator=generator)
        return self.generator(noise, labels)

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        real, labels = batch
        return {"val_mmd": rbf_mmd2(real, self.sample(real.shape[0], labels=labels))}

    @torch.no_grad()
    def preview(self, images: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        rows = torch.arange(images.shape[0]) % self.num_classes  # class k in column k of the grid
        return self.sample(images.shape[0], labels=rows, generator=generator)
