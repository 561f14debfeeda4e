"""Transformer-encoder VAEs: the book's "TransVAE" (ViT encoder) and Swin-transformer VAE, both built from
``transformers`` configurations and trained from scratch (no hub weights: ``from_pretrained`` is never called).

Encoder: ``(B, C, H, W)`` in [0, 1] -> patch tokens ``(B, (H/p)(W/p), hidden)`` -> one pooled vector ``(B, F)``
(ViT: the CLS token; Swin: mean of the last stage) -> linear to ``(B, 2 * latent_dim)`` (mu, logvar). The
decoder and the ELBO are the convolutional ``VAE``'s, so the two families compare like for like.
``image_size`` must be a multiple of ``patch_size`` and of ``2**depth`` (the decoder's upsampling blocks).
"""

from __future__ import annotations

import torch
from torch import nn

from genai_models.blocks import check_positive
from genai_models.vae import VAE

# ---------------------------------------------------------------- helpers


def _check_patches(height: int, width: int, patch_size: int) -> None:
    check_positive("patch_size", patch_size)
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"image_size {height}x{width} is not a multiple of patch_size={patch_size}; "
            "choose a patch size that divides both sides or resize the images."
        )


class ViTEncoder(nn.Module):
    """``(B, C, H, W)`` -> ``(B, out_dim)`` through a from-scratch ``transformers.ViTModel`` (CLS token)."""

    def __init__(self, *, channels: int, height: int, width: int, patch_size: int, hidden_size: int,
                 num_layers: int, num_heads: int, out_dim: int) -> None:
        super().__init__()
        from transformers import ViTConfig, ViTModel

        config = ViTConfig(image_size=(height, width), patch_size=patch_size, num_channels=channels,
                           hidden_size=hidden_size, num_hidden_layers=num_layers, num_attention_heads=num_heads,
                           intermediate_size=4 * hidden_size, hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0)
        self.backbone = ViTModel(config, add_pooling_layer=False)
        self.head = nn.Linear(hidden_size, out_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.backbone(pixel_values=images * 2 - 1).last_hidden_state  # (B, 1 + patches, hidden)
        return self.head(tokens[:, 0])


class SwinEncoder(nn.Module):
    """``(B, C, H, W)`` -> ``(B, out_dim)`` through a from-scratch ``transformers.SwinModel`` (pooled output)."""

    def __init__(self, *, channels: int, height: int, width: int, patch_size: int, embed_dim: int,
                 depths: tuple[int, ...], num_heads: tuple[int, ...], window_size: int, out_dim: int) -> None:
        super().__init__()
        from transformers import SwinConfig, SwinModel

        config = SwinConfig(image_size=(height, width), patch_size=patch_size, num_channels=channels,
                            embed_dim=embed_dim, depths=list(depths), num_heads=list(num_heads),
                            window_size=window_size, drop_path_rate=0.0, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0)
        self.backbone = SwinModel(config)
        self.head = nn.Linear(self.backbone.num_features, out_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(pixel_values=images * 2 - 1).pooler_output)  # (B, num_features)


# ---------------------------------------------------------------- classes


class ViTVAE(VAE):
    """VAE with a Vision-Transformer encoder ("TransVAE").

    Args:
        image_size, channels, latent_dim, base_channels, depth, beta, kl_schedule, warmup_steps, cycle_steps:
            as ``VAE`` (``base_channels``/``depth`` shape the conv decoder).
        patch_size: side of the square patches (default 4).
        hidden_size: token width (default 64; a multiple of ``num_heads``).
        num_layers, num_heads: transformer depth and attention heads (default 4, 4).
    """

    name = "vit-vae"

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 16,
                 base_channels: int = 32, depth: int = 3, patch_size: int = 4, hidden_size: int = 64,
                 num_layers: int = 4, num_heads: int = 4, beta: float = 1.0, kl_schedule: str = "constant",
                 warmup_steps: int = 1000, cycle_steps: int = 2000) -> None:
        check_positive("num_heads", num_heads)
        if not isinstance(hidden_size, int) or hidden_size % num_heads:
            raise ValueError(f"hidden_size must be a multiple of num_heads={num_heads}; received {hidden_size!r}.")
        self._encoder_args = dict(patch_size=patch_size, hidden_size=hidden_size, num_layers=num_layers,
                                  num_heads=num_heads)
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth, beta=beta, kl_schedule=kl_schedule,
                         warmup_steps=warmup_steps, cycle_steps=cycle_steps)
        self.config.update(self._encoder_args)

    def build_encoder(self, *, base_channels: int, depth: int) -> nn.Module:
        _check_patches(self.height, self.width, self._encoder_args["patch_size"])
        return ViTEncoder(channels=self.channels, height=self.height, width=self.width,
                          out_dim=2 * self.latent_dim, **self._encoder_args)


class SwinVAE(VAE):
    """VAE with a Swin-transformer encoder (shifted-window attention, hierarchical patch merging).

    Args:
        image_size, channels, latent_dim, base_channels, depth, beta, kl_schedule, warmup_steps, cycle_steps:
            as ``VAE``.
        patch_size: patch side (default 2).
        embed_dim: width of the first stage (default 48), doubled per stage.
        stage_depths: blocks per stage (default (2, 2)); ``num_heads`` gives heads per stage (default (3, 6)).
        window_size: attention window side in tokens (default 4).
    """

    name = "swin-vae"

    def __init__(self, *, image_size: int | tuple[int, int] = 32, channels: int = 1, latent_dim: int = 16,
                 base_channels: int = 32, depth: int = 3, patch_size: int = 2, embed_dim: int = 48,
                 stage_depths: tuple[int, ...] = (2, 2), num_heads: tuple[int, ...] = (3, 6),
                 window_size: int = 4, beta: float = 1.0, kl_schedule: str = "constant",
                 warmup_steps: int = 1000, cycle_steps: int = 2000) -> None:
        if len(stage_depths) != len(num_heads):
            raise ValueError(
                f"stage_depths {tuple(stage_depths)} and num_heads {tuple(num_heads)} must have the same length "
                "(one entry per Swin stage)."
            )
        check_positive("window_size", window_size)
        self._encoder_args = dict(patch_size=patch_size, embed_dim=embed_dim, depths=tuple(stage_depths),
                                  num_heads=tuple(num_heads), window_size=window_size)
        super().__init__(image_size=image_size, channels=channels, latent_dim=latent_dim,
                         base_channels=base_channels, depth=depth, beta=beta, kl_schedule=kl_schedule,
                         warmup_steps=warmup_steps, cycle_steps=cycle_steps)
        self.config.update(patch_size=patch_size, embed_dim=embed_dim, stage_depths=list(stage_depths),
                           num_heads=list(num_heads), window_size=window_size)

    def build_encoder(self, *, base_channels: int, depth: int) -> nn.Module:
        _check_patches(self.height, self.width, self._encoder_args["patch_size"])
        return SwinEncoder(channels=self.channels, height=self.height, width=self.width,
                           out_dim=2 * self.latent_dim, **self._encoder_args)
