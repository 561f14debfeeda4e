"""The claims anomaly score: the tabular autoencoder of ``genai_models.anomaly`` trained on the insurer's past
claims (the portfolio table), scoring a new claim's ``ANOMALY_FEATURES`` against what normal claims look like.

Trained on claims that were not flagged as fraud, with the alert threshold at the 99th percentile of held-out
normal claims' scores; one model per portfolio file per process (training takes a few seconds on CPU). A
portfolio that cannot train it (too few usable claims, unreadable columns) gives an ``UnusablePortfolio``:
triage goes on without the anomaly indicator and says why.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from data_connectors.errors import BadInputError
from domains.insurance.fraud import ANOMALY_FEATURES, AnomalyResult
from domains.insurance.underwriting import load_portfolio

_LOG_SCALED = ("amount", "days_to_report", "policy_age_days")  # heavy-tailed: compared on a log scale
MIN_NORMAL_CLAIMS = 20  # 80 % of them train the model (it needs 10), 20 % set the threshold


def _model_inputs(features: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    scaled = features[names or list(ANOMALY_FEATURES)].astype(float).copy()
    for name in _LOG_SCALED:
        if name in scaled:
            scaled[name] = np.log1p(scaled[name].clip(lower=0))
    return scaled


class UnusablePortfolio:
    """Stands in for the scorer when the portfolio cannot train it: no anomaly result, and ``problem`` says
    why in plain words for the triage warnings."""

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def __call__(self, features: dict[str, float]) -> None:
        return None


class ClaimsAnomalyScorer:
    """Callable: features of one claim -> ``AnomalyResult`` (score, threshold, flag, most unusual features)."""

    problem: str | None = None

    def __init__(
        self, history: pd.DataFrame, *, epochs: int = 40, seed: int = 0, quantile: float = 0.99
    ) -> None:
        """Raises:
        BadInputError: fewer than ``MIN_NORMAL_CLAIMS`` usable claims not flagged as fraud."""
        from genai_models.anomaly import TabularAnomalyDetector

        normal = _model_inputs(history.loc[history["fraud_flag"] == 0]).dropna()
        if len(normal) < MIN_NORMAL_CLAIMS:
            raise BadInputError(
                f"it has {len(normal)} usable claim(s) not flagged as fraud, and the anomaly model needs at "
                f"least {MIN_NORMAL_CLAIMS}"
            )
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
def _cached(path: str, modified: float, epochs: int) -> ClaimsAnomalyScorer | UnusablePortfolio:
    try:
        frame, _ = load_portfolio(path)
        return ClaimsAnomalyScorer(portfolio_features(frame), epochs=epochs)
    except BadInputError as error:
        reason = str(error).rstrip(".")
        return UnusablePortfolio(
            f"the claims portfolio {Path(path).name} could not train the anomaly model ({reason}), so the "
            "fraud score leaves out the comparison with past claims"
        )


def train_claims_anomaly(
    portfolio: Path | str, *, epochs: int = 40
) -> ClaimsAnomalyScorer | UnusablePortfolio:
    """The scorer trained on ``portfolio`` (a claims CSV), reused while the file is unchanged; an
    ``UnusablePortfolio`` (with the reason) when the file's content cannot train it.

    Raises:
        BadInputError: the file does not exist (a mistyped path is an error, not a warning).
    """
    path = Path(portfolio).resolve()
    if not path.is_file():
        raise BadInputError(
            f"Portfolio file {portfolio} does not exist; pass a claims CSV or leave --portfolio out for the sample."
        )
    return _cached(str(path), path.stat().st_mtime, epochs)
