"""Gaussian-mixture baseline, as the book compares it: PCA on flattened images, a scikit-learn
``GaussianMixture`` in PCA space, samples mapped back to pixels. Not an ``nn.Module``: it is fitted in one
call, not trained by the ``Trainer``.

``fit``: ``(N, C, H, W)`` float array/tensor in [0, 1]; ``sample(n)`` -> ``(n, C, H, W)`` float32 tensor in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from genai_models.blocks import check_choice, check_positive

COVARIANCES = ("full", "diag", "tied", "spherical")


class GMMBaseline:
    """PCA + Gaussian mixture image model.

    Args:
        n_components: mixture components (default 10).
        pca_components: PCA dimensions before the mixture (default 50; capped by the data).
        covariance_type: "full", "diag", "tied" or "spherical".
        seed: random state for PCA, mixture initialisation and sampling.
    """

    name = "gmm"
    conditional = False
    has_latent = False

    def __init__(self, *, n_components: int = 10, pca_components: int = 50, covariance_type: str = "full",
                 seed: int = 0) -> None:
        check_positive("n_components", n_components)
        check_positive("pca_components", pca_components)
        check_choice("covariance_type", covariance_type, COVARIANCES)
        self.config = dict(n_components=n_components, pca_components=pca_components,
                           covariance_type=covariance_type, seed=seed)
        self.shape: tuple[int, int, int] | None = None

    def fit(self, images: np.ndarray | torch.Tensor) -> GMMBaseline:
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        array = np.asarray(images, dtype=np.float32)
        if array.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W); received shape {array.shape}; add the channel axis.")
        self.shape = tuple(array.shape[1:])
        flat = array.reshape(len(array), -1)
        dims = min(self.config["pca_components"], flat.shape[0] - 1, flat.shape[1])
        self.pca = PCA(n_components=dims, random_state=self.config["seed"]).fit(flat)
        self.mixture = GaussianMixture(n_components=self.config["n_components"],
                                       covariance_type=self.config["covariance_type"], reg_covar=1e-4,
                                       random_state=self.config["seed"]).fit(self.pca.transform(flat))
        return self

    def sample(self, count: int, *, seed: int | None = None) -> torch.Tensor:
        if self.shape is None:
            raise RuntimeError("GMMBaseline.sample called before fit; call fit(images) first.")
        self.mixture.random_state = self.config["seed"] if seed is None else seed
        codes, _ = self.mixture.sample(count)
        pixels = self.pca.inverse_transform(codes).clip(0, 1).astype(np.float32)
        return torch.from_numpy(pixels.reshape(count, *self.shape))

    def score(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """Per-image log-likelihood in PCA space (higher = more typical)."""
        flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
        return self.mixture.score_samples(self.pca.transform(flat))
