"""Transaction anomalies: features per layout, alert rate, explanations, metrics for both methods. Data: the
seeded simulator (samples/finance/make_transactions.py), cut to the first 1,500 rows (variants with padded ids,
European amounts, unreadable rows, semicolons or no channel column are written from its first 300 rows), and a
synthetic table in the credit-card-fraud layout (random, generated here)."""

from __future__ import annotations

import runpy

import numpy as np
import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.finance.anomalies import (
    build_features,
    detect_anomalies,
    detect_layout,
    load_transactions,
    plot_report,
)

from .conftest import SAMPLES


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return load_transactions(SAMPLES / "finance" / "transactions.csv").head(1500)


def test_simulator_is_reproducible_and_labelled():
    script = runpy.run_path(str(SAMPLES / "finance" / "make_transactions.py"))
    shipped = load_transactions(SAMPLES / "finance" / "transactions.csv")
    regenerated = script["make_transactions"]()
    assert regenerated["amount"].head(200).tolist() == shipped["amount"].head(200).astype(float).tolist()
    assert set(shipped["fraud_pattern"].dropna()) == {
        "card_testing",
        "account_takeover",
        "skimming",
        "unusual_merchant",
    }


def test_transaction_features(transactions):
    layout, features, labels, warnings = build_features(transactions)
    assert layout == "transactions" and labels is not None and len(features) == len(transactions)
    assert warnings == []
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
    _, features, _, _ = build_features(table)
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


@pytest.fixture
def sample_300() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "finance" / "transactions.csv", dtype=str).head(300)


def test_ids_keep_leading_zeros(sample_300, tmp_path):
    sample_300["transaction_id"] = [f"{i:08d}" for i in range(1, 301)]
    sample_300.to_csv(tmp_path / "zeros.csv", index=False)
    table = load_transactions(tmp_path / "zeros.csv")
    assert table["transaction_id"].iloc[0] == "00000001"
    report = detect_anomalies(table, alert_rate=0.02, epochs=1)
    assert all(len(alert.record_id) == 8 and alert.record_id.startswith("00") for alert in report.alerts)


def test_european_amounts_and_unreadable_rows_are_skipped_not_fatal(sample_300, tmp_path):
    """ "€33,37" is read by parse_money; a blank, an "n/a" amount and a broken timestamp cost only their rows."""
    sample_300["amount"] = ["€" + f"{float(a):.2f}".replace(".", ",") for a in sample_300["amount"]]
    sample_300.loc[5, "amount"] = None
    sample_300.loc[9, "amount"] = "n/a"
    sample_300.loc[12, "timestamp"] = "yesterday"
    sample_300.to_csv(tmp_path / "eu.csv", index=False)
    table = load_transactions(tmp_path / "eu.csv")
    _, features, labels, warnings = build_features(table)
    assert len(features) == len(labels) == 297 and not {5, 9, 12} & set(features.index)
    assert warnings == [
        "Skipped 3 of 300 rows with an unreadable amount or timestamp: "
        f"file rows 7 ({table.transaction_id[5]}), 11 ({table.transaction_id[9]}), "
        f"14 ({table.transaction_id[12]})."
    ]
    report = detect_anomalies(table, alert_rate=0.02, epochs=1)
    assert report.rows == 297 and report.warnings == warnings
    assert all(table.transaction_id[a.row] == a.record_id for a in report.alerts)  # rows of the input table
    sample_300.loc[20:, "amount"] = "n/a"
    sample_300.to_csv(tmp_path / "mostly_bad.csv", index=False)
    with pytest.raises(BadInputError, match=r"Only 17 of 300 rows have a readable amount or timestamp"):
        build_features(load_transactions(tmp_path / "mostly_bad.csv"))


def test_semicolon_file_is_read(sample_300, tmp_path):
    sample_300.to_csv(tmp_path / "semi.csv", index=False, sep=";", decimal=",")
    table = load_transactions(tmp_path / "semi.csv")
    assert detect_layout(table) == "transactions" and len(table) == len(sample_300)


def test_generic_layout_leaves_labels_out_and_says_why(sample_300):
    """Without ``channel`` the simulator file falls back to the generic layout: ``fraud_pattern`` (and every
    other label-like column) must not be a feature, and the warnings name the missing column."""
    table = sample_300.drop(columns="channel").assign(target_flag=sample_300["is_fraud"])
    layout, features, labels, warnings = build_features(table)
    assert layout == "generic" and labels is not None
    assert not {"is_fraud", "fraud_pattern", "target_flag"} & set(features.columns)
    assert "not the transactions layout, because the file lacks column(s) channel" in warnings[0]
    assert warnings[1] == "Left out of the features as labels: is_fraud, fraud_pattern, target_flag."


def test_three_decimal_amounts_are_read_as_decimals(sample_300):
    """KWD/BHD amounts such as 34.615 (regression review, 27 Nov): the column's other dot decimals decide."""
    table = sample_300.copy()
    table["amount"] = [f"{float(a) * 1.0373:.3f}" for a in table["amount"]]
    table.loc[0, "amount"] = "12.5"
    _, features, _, warnings = build_features(table)
    assert len(features) == len(table) and warnings == []


def test_generic_layout_keeps_ordinary_columns_and_blank_amounts(sample_300):
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "entry_id": range(300),
            "amount": [str(round(v, 2)) if i % 3 == 0 else None for i, v in enumerate(rng.gamma(2, 50, 300))],
            "asset_class": rng.choice(["equity", "bond"], 300),
            "target_margin": rng.normal(0.2, 0.05, 300),
            "is_fraud": 0,
        }
    )
    layout, features, _, _ = build_features(table)
    assert layout == "generic" and len(features) == 300
    assert {"asset_class", "target_margin"} <= set(features.columns) and "is_fraud" not in features.columns
