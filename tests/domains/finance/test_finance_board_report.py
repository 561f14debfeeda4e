"""Board report: ratios, the number check on the narrative (scripted fake LLM), template fallback, HTML and
PDF export. Data: samples/finance/financial_statements.csv (self-written)."""

from __future__ import annotations

import pytest

from data_connectors.errors import BadInputError
from domains.finance.board_report import (
    build_board_report,
    compute_metrics,
    display_table,
    load_statements,
    narrative_issues,
)

from .conftest import SAMPLES, ScriptedChat

STATEMENTS = SAMPLES / "finance" / "financial_statements.csv"


def test_ratios_and_growth():
    metrics = compute_metrics(load_statements(STATEMENTS))
    assert metrics.loc["gross_margin", "FY2021"] == pytest.approx(40.0)
    assert metrics.loc["revenue_growth", "FY2022"] == pytest.approx((201750 / 182400 - 1) * 100)
    assert metrics.loc["current_ratio", "FY2024"] == pytest.approx(104800 / 60400)
    assert metrics.loc["free_cash_flow", "FY2024"] == 38600 - 13200


def test_every_narrative_number_is_in_the_table(tmp_path):
    display = display_table(compute_metrics(load_statements(STATEMENTS)))
    good = f"Revenue reached {display.loc['revenue', 'FY2024']} in FY2024, a net margin of 11.6%."
    invented = "Revenue rose 12% to 250,000 in FY2024."
    chat = ScriptedChat([invented, good])
    report = build_board_report(STATEMENTS, tmp_path, chat_model=chat)
    assert report.narrative == good and report.narrative_source == "llm-retry"
    assert report.issues == ["number 12 is not in the table", "number 250000 is not in the table"]
    assert narrative_issues(report.narrative, report.display, report.periods) == []


def test_template_fallback_and_exports(tmp_path):
    report = build_board_report(STATEMENTS, tmp_path, chat_model=ScriptedChat(["Profits tripled to 99."]))
    assert report.narrative_source == "template"
    assert narrative_issues(report.narrative, report.display, report.periods) == []
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "Current ratio" in html
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "Revenue growth: FY2021: n/a" in (tmp_path / "report.txt").read_text()
    assert report.to_dict()["metrics"]["Net margin"]["FY2024"] == "11.6%"


def test_statements_need_items(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("statement,line_item,FY1,FY2\nincome,revenue,1,2\n")
    with pytest.raises(BadInputError, match="lack line items"):
        load_statements(path)


def test_newest_first_file_same_figure_twice_and_growth_from_a_loss(tmp_path):
    """The sample's columns reversed, net income repeated in the cash-flow statement, and a loss turning into
    a profit: growth is still oldest to newest, nothing is doubled, and -100 -> 50 is +150 %."""
    import pandas as pd

    table = pd.read_csv(STATEMENTS)
    periods = [c for c in table.columns if c.startswith("FY")]
    flipped = table[["statement", "line_item", *reversed(periods)]]
    repeat = flipped[flipped["line_item"] == "net_income"].assign(statement="cash_flow")
    flipped = pd.concat([flipped, repeat])
    flipped.loc[flipped["line_item"] == "net_income", periods[0]] = -100
    flipped.loc[flipped["line_item"] == "net_income", periods[1]] = 50
    flipped.to_csv(tmp_path / "flipped.csv", index=False)
    items = load_statements(tmp_path / "flipped.csv")
    assert list(items.columns) == periods
    metrics = compute_metrics(items)
    assert metrics.loc["revenue_growth", "FY2022"] == pytest.approx((201750 / 182400 - 1) * 100)
    assert metrics.loc["net_income", periods[1]] == 50  # not 100: the repeated row is the same figure
    assert metrics.loc["net_income_growth", periods[1]] == pytest.approx(150.0)
    flipped.loc[flipped["statement"] == "cash_flow", periods[1]] = 60
    flipped.to_csv(tmp_path / "conflict.csv", index=False)
    with pytest.raises(BadInputError, match=r"\['net_income'\] appear more than once with different values"):
        load_statements(tmp_path / "conflict.csv")
