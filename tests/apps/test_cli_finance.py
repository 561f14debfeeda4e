"""`genai finance anomalies` / `board-report` on awkward user files: padded ids, a blank amount, semicolons, a
notes column. In-process through typer's runner; data: the shipped samples, edited here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "finance"


def _invoke(model_cache_dir: Path, *args: str):
    from apps.cli import app

    env = {"GENAI_DATA_DIR": str(model_cache_dir), "GENAI_DEVICE": "cpu"}
    return CliRunner().invoke(app, ["finance", *args], env=env)


def test_anomalies_keep_padded_ids_and_skip_a_blank_amount(model_cache_dir, tmp_path):
    table = pd.read_csv(SAMPLES / "transactions.csv", dtype=str).head(300)
    table["transaction_id"] = [f"{i:08d}" for i in range(1, 301)]
    table.loc[3, "amount"] = None
    table.to_csv(tmp_path / "tx.csv", index=False)
    args = ("anomalies", str(tmp_path / "tx.csv"), "--epochs", "1", "--alert-rate", "0.02")
    result = _invoke(model_cache_dir, *args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    document = json.loads(result.stdout)
    assert document["rows"] == 299 and document["alerts"]
    assert all(alert["record_id"].startswith("00") for alert in document["alerts"])
    assert document["warnings"] == [
        "Skipped 1 of 300 rows with an unreadable amount or timestamp: file rows 5 (00000004)."
    ]
    text = _invoke(model_cache_dir, *args)
    assert text.exit_code == 0 and "warning: Skipped 1 of 300 rows" in text.stderr
    assert "features: log_amount" in text.stdout and "\n00" in text.stdout


def test_semicolon_file_with_decimal_commas_is_scored(model_cache_dir, tmp_path):
    table = pd.read_csv(SAMPLES / "transactions.csv").head(60)
    table.to_csv(tmp_path / "semi.csv", index=False, sep=";", decimal=",")
    result = _invoke(model_cache_dir, "anomalies", str(tmp_path / "semi.csv"), "--epochs", "1", "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.stdout)["rows"] == 60


def test_board_report_leaves_a_notes_column_out(model_cache_dir, tmp_path):
    table = pd.read_csv(SAMPLES / "financial_statements.csv")
    table["notes"] = ["audited"] + [""] * (len(table) - 1)
    table.to_csv(tmp_path / "st.csv", index=False)
    result = _invoke(
        model_cache_dir, "board-report", str(tmp_path / "st.csv"), "--out", str(tmp_path / "o"), "--no-llm"
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "warning: Left out column(s) notes" in result.stderr
