"""Underwriting risk profile and claims KPIs from a claims/portfolio table.

Input columns: claim_id, segment, loss_date, reported_date, closed_date, amount, policy_limit, prior_claims,
decision (approved/denied), fraud_flag (0/1); optional region and policy_start. The KPIs are the ones claims
managers ask for: volume, average processing time, approval rate, flagged-fraud rate.

Amounts and limits are read by ``data_connectors.tables.parse_money`` ("4,250.50", "$60,000", "2.775,04 €"), as
everywhere else. A row whose date, amount or limit cannot be read is skipped and counted, with the column and
an example value in ``warnings``; rows repeated verbatim are counted once. A blank prior_claims or fraud_flag
reads as 0 (no prior claims, not flagged), as in the policy register.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, parse_timestamps, read_table
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
_MONEY_COLUMNS = ("amount", "policy_limit")
_NEEDED = ("loss_date", "reported_date", "closed_date", *_MONEY_COLUMNS)  # a row without one is skipped
_DRIVERS = ["mean_amount_to_limit", "fraud_flag_rate", "late_report_rate", "mean_prior_claims"]


class SegmentProfile(BaseModel):
    segment: str
    claims: int
    total_amount: float
    mean_amount: float
    mean_amount_to_limit: float | None  # None: no claim in the segment has a positive limit
    approval_rate: float
    fraud_flag_rate: float | None  # None: no readable flag in the segment
    late_report_rate: float
    mean_processing_days: float
    mean_prior_claims: float | None
    risk_score: float  # 0..1, relative to the other segments
    risk_band: str


class PortfolioIssues(BaseModel):
    """What reading the portfolio left out, and why (column and an example value)."""

    skipped_rows: int = 0
    duplicate_rows: int = 0
    warnings: list[str] = Field(default_factory=list)


class PortfolioProfile(BaseModel):
    rows: int
    skipped_rows: int
    duplicate_rows: int = 0
    warnings: list[str] = Field(default_factory=list)
    segments: list[SegmentProfile]
    draft: bool = True
    notice: str = DRAFT_NOTICE


# PUBLIC API


def load_portfolio(path: Path | str) -> tuple[pd.DataFrame, PortfolioIssues]:
    """The table with derived columns (processing_days, days_to_report, amount_to_limit, month), and what was
    left out (rows whose date, amount or limit could not be read; verbatim repeats).

    Raises:
        BadInputError: the file is missing, lacks required columns or has no usable row.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(
            f"Portfolio file {path} does not exist; generate one with samples/claims/make_portfolio.py."
        )
    # Money as text: parse_money, not pandas, reads "4,250.50" and "2.775,04 €" (and refuses "1.234").
    frame = read_table(path, required=REQUIRED_COLUMNS, what="portfolio", text_columns=_MONEY_COLUMNS)
    return prepare_portfolio(frame)


def _money(value: object, column: str) -> float | None:
    try:
        return parse_money(value, what=column)
    except BadInputError:  # "1.234": 1234 or 1.234; the row is skipped and reported, not guessed
        return None


_FLAG_WORDS = {"true": 1.0, "yes": 1.0, "false": 0.0, "no": 0.0}  # fraud_flag as Excel TRUE/FALSE or yes/no


def _count(value: object) -> float:
    """prior_claims / fraud_flag: blank is 0, True/False and yes/no are 1/0, unreadable text NaN (left out of
    the means)."""
    if isinstance(value, bool):
        return float(value)
    if pd.isna(value) or not str(value).strip():
        return 0.0
    text = str(value).strip()
    return _FLAG_WORDS.get(text.lower(), float(pd.to_numeric(text, errors="coerce")))


def _unreadable(raw: pd.DataFrame, parsed: pd.DataFrame) -> list[str]:
    """Per needed column: how many rows it made unusable, with an example of what it held."""
    notes = []
    for column in _NEEDED:
        bad = parsed[column].isna()
        if bad.any():
            examples = raw.loc[bad, column].dropna().astype(str).str.strip()
            examples = examples[examples != ""]
            example = f"e.g. {examples.iloc[0]!r}" if len(examples) else "empty"
            notes.append(f"{column} unreadable in {int(bad.sum()):,} row(s) ({example})")
    return notes


def prepare_portfolio(frame: pd.DataFrame) -> tuple[pd.DataFrame, PortfolioIssues]:
    """Parsed, derived and de-duplicated portfolio rows, and what was left out.

    Raises:
        BadInputError: no row is usable; the message names the columns and an example value.
    """
    warnings = []
    total = len(frame)
    frame = frame.drop_duplicates()  # the same claim exported twice must not count twice
    duplicates = total - len(frame)
    if duplicates:
        warnings.append(f"{duplicates:,} row(s) repeat another row exactly and were counted once")
    if "claim_id" in frame and (repeated := int(frame["claim_id"].duplicated().sum())):
        warnings.append(
            f"{repeated:,} row(s) reuse a claim_id with different values; all are counted, check the file"
        )
    raw = frame
    frame = frame.copy()
    for column in ("loss_date", "reported_date", "closed_date", "policy_start"):
        if column in frame:
            frame[column] = parse_timestamps(frame[column])
    for column in _MONEY_COLUMNS:
        frame[column] = pd.to_numeric(frame[column].map(lambda v, c=column: _money(v, c)), errors="coerce")
    for column in ("prior_claims", "fraud_flag"):
        frame[column] = frame[column].map(_count).astype(float)
    unreadable = _unreadable(raw, frame)
    before = len(frame)
    frame = frame.dropna(subset=list(_NEEDED))
    skipped = before - len(frame)
    if frame.empty and before:
        raise BadInputError(f"The portfolio has no usable rows: {'; '.join(unreadable)}; fix those columns.")
    if skipped:
        warnings.append(
            f"{skipped:,} of {before:,} row(s) ({skipped / before:.0%}) were skipped and are not in the "
            f"profile: {'; '.join(unreadable)}"
        )
    if (limits := int((frame["policy_limit"] <= 0).sum())) > 0:
        warnings.append(f"{limits:,} row(s) have a policy_limit of 0 or less; left out of amount/limit")
    frame["processing_days"] = (frame["closed_date"] - frame["reported_date"]).dt.days
    frame["days_to_report"] = (frame["reported_date"] - frame["loss_date"]).dt.days
    frame["amount_to_limit"] = frame["amount"] / frame["policy_limit"].where(frame["policy_limit"] > 0)
    if "policy_start" in frame:
        frame["policy_age_days"] = (frame["loss_date"] - frame["policy_start"]).dt.days
    frame["month"] = frame["reported_date"].dt.to_period("M").dt.to_timestamp()
    frame["approved"] = frame["decision"].astype(str).str.strip().str.lower().eq("approved")
    return frame, PortfolioIssues(skipped_rows=skipped, duplicate_rows=duplicates, warnings=warnings)


def _risk_scores(drivers: pd.DataFrame) -> pd.Series:
    """Mean of the min-max scaled drivers a segment has a value for. A driver known for fewer than two
    segments ranks nothing and is left out: scaled alone it would be 0 and pull a risky segment down."""
    comparable = drivers.loc[:, drivers.notna().sum() >= 2]
    spread = (comparable.max() - comparable.min()).replace(0, 1)
    return ((comparable - comparable.min()) / spread).mean(axis=1).fillna(0.0)


def _number(value: object) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def risk_profile(
    frame: pd.DataFrame, *, issues: PortfolioIssues | None = None, late_after_days: int = 30
) -> PortfolioProfile:
    """Per-segment profile; the risk score ranks segments by mean severity, fraud rate, late reporting and
    prior claims (each min-max scaled across segments, equally weighted)."""
    issues = issues or PortfolioIssues()
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
    table["risk_score"] = _risk_scores(table[_DRIVERS])
    table["risk_band"] = pd.cut(
        table["risk_score"], [-0.01, 0.34, 0.67, 1.01], labels=["low", "medium", "high"]
    )
    segments = []
    for name, row in table.sort_values("risk_score", ascending=False).iterrows():
        values = {k: _number(row[k]) for k in table.columns if k not in ("claims", "risk_band")}
        segments.append(
            SegmentProfile(
                segment=str(name), claims=int(row["claims"]), risk_band=str(row["risk_band"]), **values
            )
        )
    return PortfolioProfile(rows=len(frame), **issues.model_dump(), segments=segments)


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
