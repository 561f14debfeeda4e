"""Portfolio preparation with day-first dates whose first day is 12 or less (a three-row table written here):
no row is dropped and the gaps stay days, not months."""

from __future__ import annotations

import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.insurance.underwriting import prepare_portfolio


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
    frame, skipped = prepare_portfolio(
        _portfolio(
            loss_date=["03/04/2025", "20/04/2025", "05/05/2025"],
            reported_date=["06/04/2025", "25/04/2025", "07/05/2025"],
            closed_date=["10/04/2025", "30/04/2025", "09/05/2025"],
        )
    )
    assert skipped == 0
    assert frame["days_to_report"].tolist() == [3, 5, 2] and frame["processing_days"].tolist() == [4, 5, 2]


def test_dates_that_read_both_ways_are_refused():
    with pytest.raises(BadInputError, match=r"Column loss_date .* ISO dates \(YYYY-MM-DD\)"):
        prepare_portfolio(
            _portfolio(loss_date=["03/04/2025"], reported_date=["2025-04-06"], closed_date=["2025-04-10"])
        )
