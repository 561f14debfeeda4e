"""`genai retail`, `genai contracts`, `genai finance`: --json documents, exit codes, progress. In-process through
typer's runner (the LLM replaced by a scripted fake where a command writes text); data: the shipped samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rag.llm import ChatModel

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


class EchoFacts(ChatModel):
    """Writes the first product line of the prompt's facts back (so every number is grounded)."""

    name = "echo-facts"

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None) -> Iterator[str]:
        facts = messages[-1]["content"].split("Facts:\n", 1)[-1].splitlines()[0]
        yield facts.split(" (id ")[0].lstrip("- ") + " is here."


@pytest.fixture
def run(model_cache_dir, monkeypatch):
    from apps.cli import app
    from apps.services import Services

    monkeypatch.setenv("GENAI_DATA_DIR", str(model_cache_dir))
    monkeypatch.setenv("GENAI_DEVICE", "cpu")
    monkeypatch.setattr(Services, "chat_model", lambda self: EchoFacts())
    runner = CliRunner()

    def invoke(*args: str) -> dict:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    return invoke


def test_retail_recommend_and_content(run):
    document = run("retail", "recommend", "--customer", "C0001", "-k", "3", "--json")
    assert document["customer_id"] == "C0001" and len(document["items"]) == 3
    content = run("retail", "content", "--customer", "C0001", "--kind", "social", "--json")
    assert content["grounded"] is True and content["attempts"] == 1


def test_retail_content_takes_comma_separated_product_ids(run):
    content = run("retail", "content", "--product", "P0001,P0002", "--product", "P0003", "--json")
    assert content["product_ids"] == ["P0001", "P0002", "P0003"]


def test_retail_batch_writes_csv(run, tmp_path):
    document = run("retail", "batch", "--out", str(tmp_path / "out.csv"), "--limit", "2", "--json")
    assert document["pieces"] == 2 and len(pd.read_csv(tmp_path / "out.csv")) == 2


def test_contracts_commands(run):
    contracts = SAMPLES / "contracts"
    extracted = run("contracts", "extract", str(contracts / "vendor_supply_agreement_v1.txt"), "--json")
    assert extracted["fields"]["Renewal Term"]["value"] == "P1Y"
    soon = run("contracts", "deadlines", str(contracts), "--within", "1y", "--today", "2026-06-01", "--json")
    assert ("2026-12-31", "renewal notice") in {(d["date"], d["kind"]) for d in soon["deadlines"]}
    assert soon["failed"][0]["path"].endswith("purchase_orders.csv")
    orders = run(
        "contracts",
        "check-po",
        str(contracts / "vendor_supply_agreement_v1.txt"),
        str(contracts / "purchase_orders.csv"),
        "--json",
    )
    assert len(orders["discrepancies"]) == 3


def test_finance_anomalies_and_board_report(run, tmp_path):
    small = tmp_path / "tx.csv"
    pd.read_csv(SAMPLES / "finance" / "transactions.csv").head(600).to_csv(small, index=False)
    report = run(
        "finance",
        "anomalies",
        str(small),
        "--alert-rate",
        "0.02",
        "--epochs",
        "2",
        "--plot",
        str(tmp_path / "plot.png"),
        "--json",
    )
    assert report["layout"] == "transactions" and report["alerts"] and (tmp_path / "plot.png").is_file()
    board = run(
        "finance",
        "board-report",
        str(SAMPLES / "finance" / "financial_statements.csv"),
        "--out",
        str(tmp_path / "board"),
        "--no-llm",
        "--json",
    )
    assert board["narrative_source"] == "template" and Path(board["files"]["pdf"]).is_file()
    assert board["draft"] is True and "CFO's review" in board["notice"]


def _invoke(*args: str, **env: str):
    from apps.cli import app

    return CliRunner().invoke(app, list(args), env=env)


def test_board_report_text_says_it_is_a_draft(model_cache_dir, tmp_path):
    from domains.finance.board_report import DRAFT_NOTICE

    statements = str(SAMPLES / "finance" / "financial_statements.csv")
    result = _invoke(
        "finance",
        "board-report",
        statements,
        "--out",
        str(tmp_path),
        "--no-llm",
        GENAI_DATA_DIR=str(model_cache_dir),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == DRAFT_NOTICE


def test_finance_bad_output_paths_exit_2_before_any_work(model_cache_dir, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the bad path must be caught before this runs")

    monkeypatch.setattr("domains.finance.anomalies.detect_anomalies", never)
    monkeypatch.setattr("domains.finance.board_report.build_board_report", never)
    taken = tmp_path / "x.txt"
    taken.write_text("a file, not a folder")
    data = {"GENAI_DATA_DIR": str(model_cache_dir)}
    finance = SAMPLES / "finance"
    cases = [
        (["board-report", str(finance / "financial_statements.csv"), "--out", str(taken)], "existing file"),
        (["anomalies", str(finance / "transactions.csv"), "--plot", str(tmp_path / "plot.txt")], "'.txt'"),
        (
            ["anomalies", str(finance / "transactions.csv"), "--plot", str(tmp_path / "no" / "p.png")],
            "folder",
        ),
    ]
    for args, message in cases:
        result = _invoke(
            "finance", *args, "--no-llm" if args[0] == "board-report" else "--epochs=1", "--json", **data
        )
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1 and not result.stdout


def test_retail_batch_unknown_segment_exits_2(model_cache_dir, tmp_path):
    result = _invoke(
        "retail",
        "batch",
        "--out",
        str(tmp_path / "b.csv"),
        "--segment",
        "outdor",
        "--json",
        GENAI_DATA_DIR=str(model_cache_dir),
        GENAI_DEVICE="cpu",
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Unknown segment 'outdor'; known segments are" in result.stderr and "outdoor" in result.stderr
    assert not result.stdout and not (tmp_path / "b.csv").exists()


def test_bad_input_exits_2(tmp_path):
    env = {**os.environ, "GENAI_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "apps.cli", "contracts", "deadlines", str(tmp_path), "--within", "soon"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2 and "--within 'soon'" in result.stderr


def test_deadlines_with_nothing_readable_exits_2(tmp_path):
    from apps.cli import app

    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n")
    result = CliRunner().invoke(
        app,
        ["contracts", "deadlines", str(tmp_path / "missing.txt"), str(notes), "--json"],
        env={"GENAI_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2 and not result.stdout
    assert "missing.txt: not found" in result.stderr and "not a contract file type" in result.stderr
