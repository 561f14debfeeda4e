"""The claims anomaly score: the tabular autoencoder of ``genai_models.anomaly`` trained on the insurer's past
claims (the portfolio table), scoring a new claim's ``ANOMALY_FEATURES`` against what normal claims look like.

Trained on claims that were not flagged as fraud, with the alert threshold at the 99th percentile of held-out
normal claims' scores; one model per portfolio file per process (training takes a few seconds on CPU).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from domains.insurance.fraud import ANOMALY_FEATURES, AnomalyResult
from domains.insurance.underwriting import load_portfolio

_LOG_SCALED = ("amount", "days_to_report", "policy_age_days")  # heavy-tailed: compared on a log scale


def _model_inputs(features: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    scaled = features[names or list(ANOMALY_FEATURES)].astype(float).copy()
    for name in _LOG_SCALED:
        if name in scaled:
            scaled[name] = np.log1p(scaled[name].clip(lower=0))
    return scaled


class ClaimsAnomalyScorer:
    """Callable: features of one claim -> ``AnomalyResult`` (score, threshold, flag, most unusual features)."""

    def __init__(
        self, history: pd.DataFrame, *, epochs: int = 40, seed: int = 0, quantile: float = 0.99
    ) -> None:
        from genai_models.anomaly import TabularAnomalyDetector

        normal = _model_inputs(history.loc[history["fraud_flag"] == 0]).dropna()
        # A feature the portfolio cannot vary (no policy_start column: every policy age the same) would make
        # every real claim look unusual: the model leaves it out.
        self.features = [name for name in normal.columns if normal[name].nunique() > 1]
        normal = normal[self.features]
        validation = normal.sample(frac=0.2, random_state=seed)
        self.detector = TabularAnomalyDetector(epochs=epochs, seed=seed, latent_dim=3, hidden_dims=(16, 8))
        self.detector.fit(normal.drop(validation.index))
        self.threshold = float(self.detector.calibrate_threshold(validation, quantile=quantile))

    def __call__(self, features: dict[str, float]) -> AnomalyResult:
        row = _model_inputs(
            pd.DataFrame([{name: float(features[name]) for name in self.features}]), self.features
        )
        score = float(self.detector.score(row)[0])
        explained = self.detector.explain(row)
        flagged = score > self.threshold
        return AnomalyResult(
            score=round(score, 4),
            threshold=round(self.threshold, 4),
            flagged=flagged,
            top_features=[name for name, _ in list(explained.items())[:2]] if flagged else [],
        )


def portfolio_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The anomaly features of every claim in a prepared portfolio table (see ``underwriting.prepare_portfolio``)."""
    # Without policy_start there is no policy age: a constant the scorer then leaves out.
    features = frame.assign(policy_age_days=frame.get("policy_age_days", pd.Series(365.0, index=frame.index)))
    return features[[*ANOMALY_FEATURES, "fraud_flag"]]


# PUBLIC API


@lru_cache(maxsize=4)
def _cached(path: str, modified: float, epochs: int) -> ClaimsAnomalyScorer:
    frame, _ = load_portfolio(path)
    return ClaimsAnomalyScorer(portfolio_features(frame), epochs=epochs)


def train_claims_anomaly(portfolio: Path | str, *, epochs: int = 40) -> ClaimsAnomalyScorer:
    """The scorer trained on ``portfolio`` (a claims CSV), reused while the file is unchanged."""
    path = Path(portfolio).resolve()
    return _cached(str(path), path.stat().st_mtime if path.exists() else 0.0, epochs)
