"""Transaction anomalies: features per layout, alert rate, explanations, metrics for both methods. Data: the
seeded simulator (samples/finance/make_transactions.py), cut to the first 1,500 rows, and a synthetic table
in the credit-card-fraud layout (random, generated here)."""

from __future__ import annotations

import runpy

import numpy as np
import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.finance.anomalies import build_features, detect_anomalies, load_transactions, plot_report

from .conftest import SAMPLES


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return load_transactions(SAMPLES / "finance" / "transactions.csv").head(1500)


def test_simulator_is_reproducible_and_labelled():
    script = runpy.run_path(str(SAMPLES / "finance" / "make_transactions.py"))
    shipped = load_transactions(SAMPLES / "finance" / "transactions.csv")
    regenerated = script["make_transactions"]()
    assert regenerated["amount"].head(200).tolist() == shipped["amount"].head(200).tolist()
    assert set(shipped["fraud_pattern"].dropna()) == {
        "card_testing",
        "account_takeover",
        "skimming",
        "unusual_merchant",
    }


def test_transaction_features(transactions):
    layout, features, labels = build_features(transactions)
    assert layout == "transactions" and labels is not None and len(features) == len(transactions)
    assert {
        "payments_previous_hour",
        "amount_vs_customer_median",
        "foreign_country",
        "merchant_category",
    } <= set(features.columns)
    testing = transactions.index[transactions["fraud_pattern"] == "card_testing"]
    if len(testing):  # bursts: several payments within the hour
        assert features.loc[testing, "payments_previous_hour"].max() >= 2


def test_previous_hour_counts_mixed_offsets_and_missing_countries():
    """One customer paying at 10:00, 10:20, 10:50 and 12:30 (the last two written with a +01:00 offset, as
    after a daylight-saving change); another with no country on any row."""
    table = pd.DataFrame(
        {
            "transaction_id": ["T1", "T2", "T3", "T4", "T5"],
            "customer_id": ["C1", "C1", "C1", "C1", "C2"],
            "timestamp": [
                "2025-03-30T10:00:00+00:00",
                "2025-03-30T10:20:00+00:00",
                "2025-03-30T11:50:00+01:00",
                "2025-03-30T13:30:00+01:00",
                "2025-03-30T09:00:00+00:00",
            ],
            "amount": [10.0, 12.0, 11.0, 9.0, 50.0],
            "country": ["PT", "PT", "PT", "PT", None],
            "merchant_category": ["grocery"] * 5,
            "channel": ["card"] * 5,
        }
    )
    _, features, _ = build_features(table)
    assert features["payments_previous_hour"].tolist() == [0, 1, 2, 0, 0]
    assert features["foreign_country"].tolist()[:4] == ["False"] * 4


def test_alerts_rate_explanations_and_metrics(transactions):
    report = detect_anomalies(transactions, alert_rate=0.02, epochs=3)
    assert abs(len(report.alerts) - 0.02 * len(transactions)) <= 3
    first = report.alerts[0]
    assert first.record_id.startswith("T") and len(first.top_features) == 3
    assert all(name in report.features for name, _ in first.top_features)
    assert set(report.metrics) == {"autoencoder", "isolation_forest"}
    assert 0 <= report.metrics["isolation_forest"].pr_auc <= 1
    assert "autoencoder_scores" not in report.to_dict()
    assert plot_report(report).axes  # two panels: scores and PR curves


def test_creditcard_layout():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(300, 28)), columns=[f"V{i}" for i in range(1, 29)])
    table.insert(0, "Time", np.arange(300) * 60.0)
    table["Amount"] = rng.gamma(2, 30, 300)
    table["Class"] = 0
    table.loc[:4, ["V1", "V2"]] = 12.0  # five planted outliers
    table.loc[:4, "Class"] = 1
    report = detect_anomalies(table, alert_rate=0.02, epochs=3)
    assert report.layout == "creditcard"
    assert report.metrics["isolation_forest"].recall >= 0.8


def test_bad_inputs(transactions):
    with pytest.raises(BadInputError, match="alert_rate"):
        detect_anomalies(transactions, alert_rate=0.9)
    with pytest.raises(BadInputError, match="at least 50 rows"):
        detect_anomalies(transactions.head(10))
