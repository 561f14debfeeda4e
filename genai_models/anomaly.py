"""Autoencoder anomaly detectors: train on normal data only, score by reconstruction error, alert above a
threshold calibrated on held-out normal data.

Stable API (shared by both detectors; used by the finance, insurance and dental flows)::

    detector = TabularAnomalyDetector(epochs=30).fit(X_train)          # DataFrame or (n, d) array
    detector.calibrate_threshold(X_val, quantile=0.99)                  # threshold = 99th pct of normal scores
    detector.threshold_for_alert_rate(0.02)                             # or: alert on ~2 % of normal rows
    scores = detector.score(X_new)                                      # (n,) reconstruction error
    flags = detector.predict(X_new)                                     # (n,) bool, score > threshold
    detector.explain(X_new.iloc[[0]])                                   # {feature: error}, largest first

``ImageAnomalyDetector`` has the same methods on ``(N, C, H, W)`` images in [0, 1]; its ``explain`` returns the
``(H, W)`` per-pixel squared-error map. Both train through ``genai_models.trainer.Trainer`` (in memory) with a
fixed seed, so the same data gives the same scores.

Tabular preprocessing: numeric columns are standardised with training mean/std (missing values become the
mean); other columns (object, category, bool) are one-hot encoded with the categories seen in training (an
unseen category encodes as all zeros and therefore scores high). A feature's error is its squared error in
standardised units (numeric) or the summed squared error of its one-hot block (categorical); a row's score is
the mean over the original features, so ``score == mean(explain.values())``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data_connectors.errors import BadInputError
from genai_models.autoencoders import ConvAutoencoder
from genai_models.base import Batch, GenerativeModel, constructor_config
from genai_models.blocks import check_positive
from genai_models.trainer import TrainConfig, Trainer, seed_everything

# ---------------------------------------------------------------- helpers


class DenseAutoencoder(GenerativeModel):
    """MLP autoencoder for feature vectors ``(B, in_dim)`` -> ``(B, in_dim)`` (linear output, MSE loss)."""

    name = "dense-autoencoder"
    monitor = "val_mse"
    has_latent = True

    def __init__(self, *, in_dim: int, hidden_dims: tuple[int, ...] = (64, 32), latent_dim: int = 8) -> None:
        self.config = constructor_config(locals())
        super().__init__()
        check_positive("in_dim", in_dim)
        check_positive("latent_dim", latent_dim)
        widths = [in_dim, *hidden_dims, latent_dim]
        encoder: list[nn.Module] = []
        decoder: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            encoder += [nn.Linear(a, b), nn.ReLU()]
        for a, b in zip(widths[::-1][:-1], widths[::-1][1:], strict=True):
            decoder += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder[:-1])
        self.decoder = nn.Sequential(*decoder[:-1])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return self.decoder(latent)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def training_step(self, batch: Batch, *, phase: str, step: int) -> dict[str, torch.Tensor]:
        loss = F.mse_loss(self.reconstruct(batch[0]).float(), batch[0].float())
        return {"loss": loss}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, float]:
        return {"val_mse": float(F.mse_loss(self.reconstruct(batch[0]).float(), batch[0].float()))}


class _ThresholdMixin:
    """Threshold bookkeeping shared by both detectors (scores: higher = more anomalous)."""

    threshold: float | None = None
    calibration_scores: np.ndarray | None = None

    def calibrate_threshold(self, x_val: Any, quantile: float = 0.99) -> float:
        """Set the threshold to the ``quantile`` of the scores of held-out *normal* data; returns it."""
        if not 0 < quantile < 1:
            raise BadInputError(f"quantile must lie in (0, 1); received {quantile!r}; e.g. 0.99.")
        self.calibration_scores = np.sort(self.score(x_val))
        self.threshold = float(np.quantile(self.calibration_scores, quantile))
        return self.threshold

    def threshold_for_alert_rate(self, rate: float) -> float:
        """Threshold that flags a fraction ``rate`` of the calibration data (call ``calibrate_threshold``
        first); sets and returns it."""
        if self.calibration_scores is None:
            raise BadInputError("No calibration scores yet; call calibrate_threshold(X_val) before this.")
        if not 0 < rate < 1:
            raise BadInputError(f"rate must lie in (0, 1); received {rate!r}; e.g. 0.01 for one alert in 100.")
        self.threshold = float(np.quantile(self.calibration_scores, 1 - rate))
        return self.threshold

    def predict(self, x: Any) -> np.ndarray:
        """``score(x) > threshold`` as a bool array."""
        if self.threshold is None:
            raise BadInputError("No threshold yet; call calibrate_threshold(X_val) first.")
        return self.score(x) > self.threshold


def _train(model: GenerativeModel, train: torch.Tensor, val: torch.Tensor | None, config: TrainConfig) -> Any:
    datasets = [torch.utils.data.TensorDataset(t, torch.zeros(len(t), dtype=torch.long)) if t is not None else None
                for t in (train, val)]
    return Trainer(model, config=config).fit(datasets[0], datasets[1])


# PUBLIC API


class TabularAnomalyDetector(_ThresholdMixin):
    """Dense-autoencoder anomaly detector for mixed numeric + categorical feature tables.

    Args:
        hidden_dims: encoder widths (decoder mirrors them); default (64, 32).
        latent_dim: bottleneck (default 8; keep it below the number of encoded columns).
        epochs, batch_size, lr, patience: training options (early stopping on 10 % held out from fit data).
        seed: seeds weights and data order.
        device: "auto", "cpu" or "cuda".
    """

    def __init__(self, *, hidden_dims: tuple[int, ...] = (64, 32), latent_dim: int = 8, epochs: int = 50,
                 batch_size: int = 256, lr: float = 1e-3, patience: int = 5, seed: int = 0,
                 device: str = "cpu") -> None:
        check_positive("latent_dim", latent_dim)
        self.options = dict(hidden_dims=tuple(hidden_dims), latent_dim=latent_dim)
        self.train_config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed,
                                        device=device, show_progress=False, log_every=10**9)
        self.model: DenseAutoencoder | None = None

    # -- preprocessing

    def _frame(self, x: Any):
        import pandas as pd

        if isinstance(x, pd.DataFrame):
            return x
        array = np.asarray(x)
        if array.ndim == 1:
            array = array[None, :]
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _learn_encoding(self, frame) -> None:
        import pandas as pd

        self.numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
                        and not pd.api.types.is_bool_dtype(frame[c])]
        self.categorical = {c: sorted(frame[c].astype(str).unique()) for c in frame.columns if c not in self.numeric}
        values = frame[self.numeric].astype(float)
        self.mean = values.mean().fillna(0.0)
        self.std = values.std(ddof=0).replace(0.0, 1.0).fillna(1.0)
        self.features = list(frame.columns)

    def _encode(self, x: Any) -> torch.Tensor:
        frame = self._frame(x)
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise BadInputError(f"Columns {missing} are missing; score tables with the training columns {self.features}.")
        blocks = [((frame[self.numeric].astype(float) - self.mean) / self.std).fillna(0.0).to_numpy()]
        for column, categories in self.categorical.items():
            values = frame[column].astype(str).to_numpy()
            blocks.append((values[:, None] == np.asarray(categories)[None, :]).astype(np.float64))
        return torch.from_numpy(np.concatenate(blocks, axis=1).astype(np.float32))

    def _feature_errors(self, x: Any) -> tuple[np.ndarray, list[str]]:
        """``(n, n_features)`` per-feature errors in the original feature order."""
        if self.model is None:
            raise BadInputError("The detector is not fitted; call fit(X_train) first.")
        encoded = self._encode(x)
        with torch.no_grad():
            squared = (self.model.reconstruct(encoded.to(self.device)).cpu() - encoded).pow(2).numpy()
        columns = {name: [i] for i, name in enumerate(self.numeric)}
        offset = len(self.numeric)
        for name, categories in self.categorical.items():
            columns[name] = list(range(offset, offset + len(categories)))
            offset += len(categories)
        errors = np.stack([squared[:, columns[name]].sum(axis=1) for name in self.features], axis=1)
        return errors, self.features

    # -- public

    def fit(self, x_train: Any, x_val: Any | None = None) -> TabularAnomalyDetector:
        """Learn the encoding and train on normal rows (10 % held out for early stopping when no ``x_val``)."""
        frame = self._frame(x_train)
        if len(frame) < 10:
            raise BadInputError(f"fit needs at least 10 normal rows; received {len(frame)}.")
        self._learn_encoding(frame)
        encoded = self._encode(frame)
        if x_val is None:
            order = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(self.train_config.seed))
            cut = max(1, len(encoded) // 10)
            train, val = encoded[order[cut:]], encoded[order[:cut]]
        else:
            train, val = encoded, self._encode(x_val)
        seed_everything(self.train_config.seed)
        self.model = DenseAutoencoder(in_dim=encoded.shape[1], **self.options)
        self.result = _train(self.model, train, val, self.train_config)
        self.device = next(self.model.parameters()).device
        self.model.eval()
        return self

    def score(self, x: Any) -> np.ndarray:
        """Per-row reconstruction error ``(n,)`` (mean of the per-feature errors)."""
        errors, _ = self._feature_errors(x)
        return errors.mean(axis=1)

    def explain(self, x_row: Any) -> dict[str, float]:
        """Per-feature errors of one row, largest first (what made this row unusual)."""
        errors, names = self._feature_errors(x_row)
        if errors.shape[0] != 1:
            raise BadInputError(f"explain takes one row; received {errors.shape[0]}; pass X.iloc[[i]].")
        return dict(sorted(zip(names, map(float, errors[0]), strict=True), key=lambda item: -item[1]))


class ImageAnomalyDetector(_ThresholdMixin):
    """Convolutional-autoencoder anomaly detector for ``(N, C, H, W)`` images in [0, 1].

    Args:
        image_size, channels, latent_dim, base_channels, depth: as ``ConvAutoencoder``.
        denoising: train as a denoising autoencoder (noise std 0.2), often sharper scores on texture.
        epochs, batch_size, lr, patience, seed, device: training options.
    """

    def __init__(self, *, image_size: int = 32, channels: int = 1, latent_dim: int = 32, base_channels: int = 32,
                 depth: int = 3, denoising: bool = False, epochs: int = 20, batch_size: int = 64,
                 lr: float = 1e-3, patience: int = 5, seed: int = 0, device: str = "auto") -> None:
        self.options = dict(image_size=image_size, channels=channels, latent_dim=latent_dim,
                            base_channels=base_channels, depth=depth, noise_std=0.2 if denoising else 0.0)
        ConvAutoencoder(**self.options)  # validate the geometry now, not after loading data
        self.train_config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed,
                                        device=device, show_progress=False, log_every=10**9)
        self.model: ConvAutoencoder | None = None

    def _tensor(self, images: Any) -> torch.Tensor:
        tensor = torch.as_tensor(np.asarray(images, dtype=np.float32))
        if tensor.ndim == 3:
            tensor = tensor.unsqueeze(0)
        expected = (self.options["channels"], *([self.options["image_size"]] * 2))
        if tensor.ndim != 4 or tuple(tensor.shape[1:]) != expected:
            raise BadInputError(
                f"images must be (N, {expected[0]}, {expected[1]}, {expected[2]}) in [0, 1]; received "
                f"{tuple(tensor.shape)}; resize with genai_models.data.fit_size."
            )
        return tensor

    def fit(self, images: Any, val_images: Any | None = None) -> ImageAnomalyDetector:
        """Train on normal images (10 % held out for early stopping when no ``val_images``)."""
        tensor = self._tensor(images)
        if val_images is None:
            order = torch.randperm(len(tensor), generator=torch.Generator().manual_seed(self.train_config.seed))
            cut = max(1, len(tensor) // 10)
            train, val = tensor[order[cut:]], tensor[order[:cut]]
        else:
            train, val = tensor, self._tensor(val_images)
        seed_everything(self.train_config.seed)
        self.model = ConvAutoencoder(**self.options)
        self.result = _train(self.model, train, val, self.train_config)
        self.model.eval()
        return self

    def _errors(self, images: Any, batch_size: int = 256) -> torch.Tensor:
        if self.model is None:
            raise BadInputError("The detector is not fitted; call fit(images) first.")
        tensor = self._tensor(images)
        device = next(self.model.parameters()).device
        with torch.no_grad():
            parts = [(self.model.reconstruct(chunk.to(device)) - chunk.to(device)).pow(2).cpu()
                     for chunk in tensor.split(batch_size)]
        return torch.cat(parts)

    def score(self, images: Any) -> np.ndarray:
        """Per-image mean squared reconstruction error ``(N,)``."""
        return self._errors(images).flatten(1).mean(dim=1).numpy()

    def explain(self, image: Any) -> np.ndarray:
        """``(H, W)`` squared-error map of one image (mean over channels): where it looks abnormal."""
        errors = self._errors(image)
        if errors.shape[0] != 1:
            raise BadInputError(f"explain takes one image; received {errors.shape[0]}.")
        return errors[0].mean(dim=0).numpy()
