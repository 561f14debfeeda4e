"""Fraud-risk indicators a claims handler can read and check, plus an anomaly score from the claims table.

Each indicator states whether it fired, its weight and the evidence; the score is the capped sum of the
weights that fired, so a reviewer can see exactly why a claim scored what it did. The anomaly score comes
from a model trained on the insurer's past claims (``genai_models``) and enters as one more indicator.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from domains.insurance.extraction import ClaimRecord

# Features the claims-table anomaly model sees; ``claim_features`` builds them for a new claim.
ANOMALY_FEATURES = ("amount", "amount_to_limit", "days_to_report", "prior_claims", "policy_age_days")
DEFAULT_NOTICE_DAYS = 30


class Indicator(BaseModel):
    name: str
    fired: bool
    weight: float
    detail: str


class AnomalyResult(BaseModel):
    score: float
    threshold: float
    flagged: bool
    top_features: list[str] = Field(default_factory=list)


class PolicyHistory(BaseModel):
    """What the insurer's records say about the policy (from the claims/portfolio table)."""

    prior_claims: int = 0
    policy_start: date | None = None
    policy_limit: float | None = None


class FraudAssessment(BaseModel):
    score: float = Field(ge=0, le=1)
    level: Literal["low", "medium", "high"]
    indicators: list[Indicator]
    anomaly: AnomalyResult | None = None


def _days(later: object, earlier: object) -> int | None:
    return (later - earlier).days if isinstance(later, date) and isinstance(earlier, date) else None


def _unknown(*values: tuple[str, bool]) -> str:
    """ "date of loss unknown": names the values that are missing, not the ones that are known."""
    return " and ".join(name for name, known in values if not known) + " unknown"


# PUBLIC API


def claim_features(record: ClaimRecord, history: PolicyHistory, *, limit: float | None) -> dict[str, float]:
    """The claim as one row of ``ANOMALY_FEATURES`` (unknown values become neutral defaults)."""
    amount = float(record.amount_claimed.value) if isinstance(record.amount_claimed.value, float) else 0.0
    limit = limit or history.policy_limit
    age = _days(record.date_of_loss.value, history.policy_start)
    return {
        "amount": amount,
        "amount_to_limit": amount / limit if limit else 0.5,
        "days_to_report": float(_days(record.date_reported.value, record.date_of_loss.value) or 0),
        "prior_claims": float(history.prior_claims),
        "policy_age_days": float(age if age is not None else 365),  # a loss on day 0 is 0 days, not unknown
    }


def assess_fraud(
    record: ClaimRecord,
    history: PolicyHistory,
    *,
    limit: float | None,
    notice_days: int | None,
    anomaly: AnomalyResult | None = None,
) -> FraudAssessment:
    """Explainable indicators: late reporting, a report dated before the loss, amount vs limit, prior claims,
    inconsistencies, new policy, anomaly. Score = sum of fired weights, capped at 1; level low < 0.3 <= medium < 0.6 <= high."""
    notice = notice_days or DEFAULT_NOTICE_DAYS
    delay = _days(record.date_reported.value, record.date_of_loss.value)
    amount = record.amount_claimed.value if isinstance(record.amount_claimed.value, float) else None
    limit = limit or history.policy_limit
    ratio = amount / limit if amount is not None and limit else None
    age = _days(record.date_of_loss.value, history.policy_start)
    indicators = [
        Indicator(
            name="late reporting",
            fired=delay is not None and delay > notice,
            weight=0.3,  # a breached claims condition alone needs a handler's review
            detail=f"reported {delay} days after the loss; the policy asks for notice within {notice} days"
            if delay is not None
            else "dates of loss or report missing",
        ),
        Indicator(
            name="reported before the loss",
            fired=delay is not None and delay < 0,
            weight=0.3,  # impossible dates: misread, mistyped or altered, a handler must check them
            detail=f"the report date is {-delay} days before the date of loss"
            if delay is not None and delay < 0
            else "report date is not before the loss",
        ),
        Indicator(
            name="amount near or over the limit",
            fired=ratio is not None and ratio >= 0.8,
            weight=0.3 if ratio is not None and ratio > 1 else 0.2,
            detail=f"claimed {amount:,.2f} = {ratio:.0%} of the {limit:,.2f} limit"
            if ratio is not None
            else "amount or limit unknown",
        ),
        Indicator(
            name="prior claims",
            fired=history.prior_claims >= 2,
            weight=0.2,
            detail=f"{history.prior_claims} earlier claim(s) on this policy",
        ),
        Indicator(
            name="inconsistent documents",
            fired=bool(record.inconsistencies),
            weight=min(0.3, 0.15 * len(record.inconsistencies)),
            detail="; ".join(i.detail for i in record.inconsistencies) or "documents agree",
        ),
        Indicator(
            name="loss soon after inception",
            fired=age is not None and 0 <= age < 30,
            weight=0.15,
            detail=f"loss {age} days after the policy started"
            if age is not None
            else _unknown(
                ("date of loss", isinstance(record.date_of_loss.value, date)),
                ("policy start", history.policy_start is not None),
            ),
        ),
    ]
    if anomaly is not None:
        indicators.append(
            Indicator(
                name="unusual compared with past claims",
                fired=anomaly.flagged,
                weight=0.2,
                detail=f"anomaly score {anomaly.score:.3f} vs threshold {anomaly.threshold:.3f}"
                + (f" (most unusual: {', '.join(anomaly.top_features)})" if anomaly.top_features else ""),
            )
        )
    score = round(min(1.0, sum(i.weight for i in indicators if i.fired)), 3)
    level = "high" if score >= 0.6 else "medium" if score >= 0.3 else "low"
    return FraudAssessment(score=score, level=level, indicators=indicators, anomaly=anomaly)
