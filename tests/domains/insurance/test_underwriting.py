"""Portfolio preparation (tables written here): day-first dates whose first day is 12 or less, money with
separators and currencies, unreadable and duplicated rows, blank flags and zero limits."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.insurance.underwriting import load_portfolio, prepare_portfolio, risk_profile


def _portfolio(**dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": [1, 2, 3][: len(dates["loss_date"])],
            "segment": "home",
            **dates,
            "amount": 100,
            "policy_limit": 1000,
            "prior_claims": 0,
            "decision": "approved",
            "fraud_flag": 0,
        }
    )


def test_day_first_dates_are_read_for_the_whole_column():
    frame, issues = prepare_portfolio(
        _portfolio(
            loss_date=["03/04/2025", "20/04/2025", "05/05/2025"],
            reported_date=["06/04/2025", "25/04/2025", "07/05/2025"],
            closed_date=["10/04/2025", "30/04/2025", "09/05/2025"],
        )
    )
    assert issues.skipped_rows == 0
    assert frame["days_to_report"].tolist() == [3, 5, 2] and frame["processing_days"].tolist() == [4, 5, 2]


def test_dates_that_read_both_ways_are_refused():
    with pytest.raises(BadInputError, match=r"Column loss_date .* ISO dates \(YYYY-MM-DD\)"):
        prepare_portfolio(
            _portfolio(loss_date=["03/04/2025"], reported_date=["2025-04-06"], closed_date=["2025-04-10"])
        )


def test_amounts_with_separators_and_currency_are_read_and_decisions_trimmed():
    """Money goes through parse_money like everywhere else: no row is dropped for "4,250.50"."""
    frame, issues = prepare_portfolio(
        _portfolio(
            loss_date=["2025-04-03", "2025-04-20", "2025-05-05"],
            reported_date=["2025-04-06", "2025-04-25", "2025-05-07"],
            closed_date=["2025-04-10", "2025-04-30", "2025-05-09"],
        ).assign(
            amount=["4,250.50", "$60,000", "2.775,04 €"],
            policy_limit=["$100,000", "100000", "100.000,00 €"],
            decision=["approved ", "Approved", " APPROVED"],
        )
    )
    assert issues.skipped_rows == 0 and not issues.warnings
    assert frame["amount"].tolist() == [4250.5, 60000.0, 2775.04] and frame["policy_limit"].eq(100000).all()
    assert risk_profile(frame).segments[0].approval_rate == 1.0


def _dated(rows: int) -> pd.DataFrame:
    return _portfolio(
        loss_date=["2025-04-03"] * rows,
        reported_date=["2025-04-06"] * rows,
        closed_date=["2025-04-10"] * rows,
    )


def test_a_portfolio_with_no_usable_row_says_which_column_and_what_it_held():
    with pytest.raises(
        BadInputError, match=r"no usable rows: amount unreadable in 3 row\(s\) \(e\.g\. 'lots'\)"
    ):
        prepare_portfolio(_dated(3).assign(amount="lots"))


def test_skipped_rows_are_counted_and_explained():
    frame, issues = prepare_portfolio(_dated(3).assign(policy_limit=["1000", "n.a.", "?"]))
    assert len(frame) == 1 and issues.skipped_rows == 2
    assert issues.warnings == [
        "2 of 3 row(s) (67%) were skipped and are not in the profile: policy_limit unreadable in 2 row(s) "
        "(e.g. 'n.a.')"
    ]
    profile = risk_profile(frame, issues=issues)
    assert profile.skipped_rows == 2 and profile.warnings == issues.warnings


def test_exact_duplicates_are_counted_once_with_a_warning():
    base = _dated(3)
    frame, issues = prepare_portfolio(pd.concat([base, base.iloc[:2]], ignore_index=True))
    assert len(frame) == 3 and issues.duplicate_rows == 2
    assert issues.warnings == ["2 row(s) repeat another row exactly and were counted once"]


def test_blank_flags_and_a_zero_limit_give_no_nan_and_do_not_flatten_the_scores():
    """pf_nan: a zero limit and blank prior_claims/fraud_flag in one segment; a 100 % fraud-flag segment."""
    frame, issues = prepare_portfolio(
        pd.DataFrame(
            {
                "claim_id": ["A1", "A2"],
                "segment": ["motor", "home"],
                "loss_date": "2025-01-01",
                "reported_date": "2025-01-02",
                "closed_date": "2025-01-09",
                "amount": [100, 200],
                "policy_limit": [0, 1000],
                "prior_claims": [None, 1],
                "decision": ["approved", "denied"],
                "fraud_flag": [None, 1],
            }
        )
    )
    assert "policy_limit of 0 or less" in issues.warnings[0]
    profile = risk_profile(frame, issues=issues)
    json.dumps(profile.model_dump(mode="json"), allow_nan=False)  # valid JSON: no NaN or inf
    home, motor = profile.segments
    assert (home.segment, home.fraud_flag_rate, motor.fraud_flag_rate) == ("home", 1.0, 0.0)
    assert motor.mean_amount_to_limit is None and home.risk_score > motor.risk_score
    assert home.risk_band != "low"


def test_a_missing_column_lists_the_required_and_the_found_columns(tmp_path):
    (tmp_path / "p.csv").write_text("claim_id,segment,amount\n1,home,100\n")
    with pytest.raises(
        BadInputError, match=r"lacks column\(s\) loss_date, .*fraud_flag; found claim_id, segment"
    ):
        load_portfolio(tmp_path / "p.csv")


def test_true_false_fraud_flags_are_read_as_one_and_zero():
    """A bool column or Excel TRUE/FALSE text (regression review, 27 Nov)."""
    frame = _dated(3).astype({"fraud_flag": object})
    frame["fraud_flag"] = [True, "FALSE", "yes"]
    parsed, _ = prepare_portfolio(frame)
    assert parsed["fraud_flag"].tolist() == [1.0, 0.0, 1.0]
