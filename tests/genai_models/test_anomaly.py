"""Autoencoder anomaly detectors: the threshold is the validation quantile of normal scores and anomalies
score higher. Fixtures: the seeded square-blob images of conftest.py (normal = squares in the top row,
anomalies = squares in the bottom row) and a seeded Gaussian table made here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from genai_models.anomaly import ImageAnomalyDetector, TabularAnomalyDetector
from genai_models.metrics import anomaly_auroc


def test_image_detector_threshold_is_the_validation_quantile(tiny_images):
    images, labels = tiny_images
    normal, anomalous = images[labels < 2].numpy(), images[labels >= 2].numpy()
    detector = ImageAnomalyDetector(image_size=16, channels=1, latent_dim=4, base_channels=8, depth=2, epochs=40,
                                    batch_size=8, lr=3e-3, patience=0, device="cpu")
    detector.fit(normal[:24], normal[24:])
    threshold = detector.calibrate_threshold(normal[24:], quantile=0.75)
    assert threshold == pytest.approx(float(np.quantile(detector.score(normal[24:]), 0.75)))
    assert detector.predict(normal[24:]).mean() == pytest.approx(0.25)
    normal_scores, anomalous_scores = detector.score(normal[24:]), detector.score(anomalous)
    assert anomalous_scores.mean() > normal_scores.mean()
    assert anomaly_auroc(normal_scores, anomalous_scores) > 0.9
    assert detector.explain(anomalous[:1]).shape == (16, 16)
    with pytest.raises(BadInputError, match="quantile"):
        detector.calibrate_threshold(normal[24:], quantile=1.5)


def test_tabular_detector_scores_outliers_higher_and_explains_them():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(100, 10, 400), "hour": rng.normal(12, 2, 400),
                          "channel": rng.choice(["web", "shop"], 400)})
    outliers = pd.DataFrame({"amount": [400.0, 100.0], "hour": [12.0, 3.0], "channel": ["web", "phone"]})
    detector = TabularAnomalyDetector(hidden_dims=(16,), latent_dim=2, epochs=40, batch_size=64, lr=3e-3,
                                      patience=0).fit(frame[:300])
    detector.calibrate_threshold(frame[300:], quantile=0.95)
    assert detector.predict(frame[300:]).mean() <= 0.1
    assert detector.predict(outliers).all()
    assert next(iter(detector.explain(outliers.iloc[[0]]))) == "amount"
    assert detector.threshold_for_alert_rate(0.5) < detector.calibrate_threshold(frame[300:], quantile=0.95)


def test_detector_needs_a_threshold_before_predicting():
    detector = TabularAnomalyDetector(epochs=1)
    with pytest.raises(BadInputError, match="not fitted"):
        detector.score(np.zeros((2, 3)))
    with pytest.raises(BadInputError, match="threshold"):
        detector.predict(np.zeros((2, 3)))
