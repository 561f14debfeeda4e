"""Underwriting risk profile and claims KPIs from a claims/portfolio table.

Input columns: claim_id, segment, loss_date, reported_date, closed_date, amount, policy_limit, prior_claims,
decision (approved/denied), fraud_flag (0/1); optional region and policy_start. The KPIs are the ones claims
managers ask for: volume, average processing time, approval rate, flagged-fraud rate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_timestamps
from domains.insurance import DRAFT_NOTICE

REQUIRED_COLUMNS = (
    "claim_id",
    "segment",
    "loss_date",
    "reported_date",
    "closed_date",
    "amount",
    "policy_limit",
    "prior_claims",
    "decision",
    "fraud_flag",
)
PORTFOLIO_FILE = Path(__file__).resolve().parents[2] / "samples" / "claims" / "portfolio.csv"


class SegmentProfile(BaseModel):
    segment: str
    claims: int
    total_amount: float
    mean_amount: float
    mean_amount_to_limit: float
    approval_rate: float
    fraud_flag_rate: float
    late_report_rate: float
    mean_processing_days: float
    mean_prior_claims: float
    risk_score: float  # 0..1, relative to the other segments
    risk_band: str


class PortfolioProfile(BaseModel):
    rows: int
    skipped_rows: int
    segments: list[SegmentProfile]
    draft: bool = True
    notice: str = DRAFT_NOTICE


# PUBLIC API


def load_portfolio(path: Path | str) -> tuple[pd.DataFrame, int]:
    """The table with derived columns (processing_days, days_to_report, amount_to_limit, month), and how many
    rows were dropped because a date or amount could not be read.

    Raises:
        BadInputError: the file is missing or lacks required columns.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(
            f"Portfolio file {path} does not exist; generate one with samples/claims/make_portfolio.py."
        )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise BadInputError(f"Portfolio file {path} is not a readable CSV ({error}).") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise BadInputError(
            f"Portfolio file {path} lacks column(s) {', '.join(missing)}; see REQUIRED_COLUMNS."
        )
    return prepare_portfolio(frame)


def prepare_portfolio(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    frame = frame.copy()
    for column in ("loss_date", "reported_date", "closed_date", "policy_start"):
        if column in frame:
            frame[column] = parse_timestamps(frame[column])
    for column in ("amount", "policy_limit", "prior_claims", "fraud_flag"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    before = len(frame)
    frame = frame.dropna(subset=["loss_date", "reported_date", "closed_date", "amount", "policy_limit"])
    frame["processing_days"] = (frame["closed_date"] - frame["reported_date"]).dt.days
    frame["days_to_report"] = (frame["reported_date"] - frame["loss_date"]).dt.days
    frame["amount_to_limit"] = frame["amount"] / frame["policy_limit"].where(frame["policy_limit"] > 0)
    if "policy_start" in frame:
        frame["policy_age_days"] = (frame["loss_date"] - frame["policy_start"]).dt.days
    frame["month"] = frame["reported_date"].dt.to_period("M").dt.to_timestamp()
    frame["approved"] = frame["decision"].astype(str).str.lower().eq("approved")
    return frame, before - len(frame)


def risk_profile(
    frame: pd.DataFrame, *, skipped_rows: int = 0, late_after_days: int = 30
) -> PortfolioProfile:
    """Per-segment profile; the risk score ranks segments by mean severity, fraud rate, late reporting and
    prior claims (each min-max scaled across segments, equally weighted)."""
    if frame.empty:
        raise BadInputError("The portfolio has no usable rows; check its dates and amounts.")
    grouped = frame.groupby("segment")
    table = pd.DataFrame(
        {
            "claims": grouped.size(),
            "total_amount": grouped["amount"].sum(),
            "mean_amount": grouped["amount"].mean(),
            "mean_amount_to_limit": grouped["amount_to_limit"].mean(),
            "approval_rate": grouped["approved"].mean(),
            "fraud_flag_rate": grouped["fraud_flag"].mean(),
            "late_report_rate": grouped["days_to_report"].apply(lambda d: (d > late_after_days).mean()),
            "mean_processing_days": grouped["processing_days"].mean(),
            "mean_prior_claims": grouped["prior_claims"].mean(),
        }
    )
    drivers = table[["mean_amount_to_limit", "fraud_flag_rate", "late_report_rate", "mean_prior_claims"]]
    spread = (drivers.max() - drivers.min()).replace(0, 1)
    table["risk_score"] = ((drivers - drivers.min()) / spread).mean(axis=1)
    table["risk_band"] = pd.cut(
        table["risk_score"], [-0.01, 0.34, 0.67, 1.01], labels=["low", "medium", "high"]
    )
    segments = []
    for name, row in table.sort_values("risk_score", ascending=False).iterrows():
        values = {k: round(float(row[k]), 4) for k in table.columns if k not in ("claims", "risk_band")}
        segments.append(
            SegmentProfile(
                segment=str(name), claims=int(row["claims"]), risk_band=str(row["risk_band"]), **values
            )
        )
    return PortfolioProfile(rows=len(frame), skipped_rows=skipped_rows, segments=segments)


def kpi_tables(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Long-format tables for the dashboard plots: monthly volume, and per segment processing time, approval
    rate and flagged-fraud rate."""
    volume = frame.groupby(["month", "segment"]).size().rename("claims").reset_index()
    by_segment = (
        frame.groupby("segment")
        .agg(
            mean_processing_days=("processing_days", "mean"),
            approval_rate=("approved", "mean"),
            fraud_flag_rate=("fraud_flag", "mean"),
        )
        .reset_index()
    )
    monthly_processing = (
        frame.groupby("month")["processing_days"].mean().rename("mean_processing_days").reset_index()
    )
    return {"volume": volume, "by_segment": by_segment.round(4), "processing_trend": monthly_processing}
