"""Board report: ratios, the number check on the narrative (scripted fake LLM), template fallback, HTML and
PDF export. Data: samples/finance/financial_statements.csv (self-written)."""

from __future__ import annotations

import pytest

from data_connectors.errors import BadInputError
from domains.finance.board_report import (
    DRAFT_NOTICE,
    build_board_report,
    compute_metrics,
    display_table,
    load_statements,
    narrative_issues,
)

from .conftest import SAMPLES, ScriptedChat

STATEMENTS = SAMPLES / "finance" / "financial_statements.csv"


def test_ratios_and_growth():
    metrics = compute_metrics(load_statements(STATEMENTS)[0])
    assert metrics.loc["gross_margin", "FY2021"] == pytest.approx(40.0)
    assert metrics.loc["revenue_growth", "FY2022"] == pytest.approx((201750 / 182400 - 1) * 100)
    assert metrics.loc["current_ratio", "FY2024"] == pytest.approx(104800 / 60400)
    assert metrics.loc["free_cash_flow", "FY2024"] == 38600 - 13200


def test_every_narrative_number_is_in_the_table(tmp_path):
    display = display_table(compute_metrics(load_statements(STATEMENTS)[0]))
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
    text = (tmp_path / "report.txt").read_text()
    assert "Revenue growth: FY2021: n/a" in text
    document = report.to_dict()
    assert document["metrics"]["Net margin"]["FY2024"] == "11.6%"
    # a draft everywhere it goes: JSON, the text indexed for Q&A, HTML
    assert document["draft"] is True and document["notice"] == DRAFT_NOTICE
    assert text.splitlines()[1] == DRAFT_NOTICE and "Draft for the CFO&#x27;s review" in html


def test_output_folder_that_is_a_file_fails_before_any_work(tmp_path):
    taken = tmp_path / "report.txt"
    taken.write_text("not a folder")
    chat = ScriptedChat(["never asked"])
    with pytest.raises(BadInputError, match="is an existing file"):
        build_board_report(STATEMENTS, taken, chat_model=chat)
    assert chat.requests == []


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
    items, _ = load_statements(tmp_path / "flipped.csv")
    assert list(items.columns) == periods
    metrics = compute_metrics(items)
    assert metrics.loc["revenue_growth", "FY2022"] == pytest.approx((201750 / 182400 - 1) * 100)
    assert metrics.loc["net_income", periods[1]] == 50  # not 100: the repeated row is the same figure
    assert metrics.loc["net_income_growth", periods[1]] == pytest.approx(150.0)
    flipped.loc[flipped["statement"] == "cash_flow", periods[1]] = 60
    flipped.to_csv(tmp_path / "conflict.csv", index=False)
    with pytest.raises(BadInputError, match=r"\['net_income'\] appear more than once with different values"):
        load_statements(tmp_path / "conflict.csv")


def _sample_with(tmp_path, name, edit):
    import pandas as pd

    table = pd.read_csv(STATEMENTS)
    periods = [c for c in table.columns if c.startswith("FY")]
    table[periods] = table[periods].astype(object)
    table = edit(table, periods)
    table.to_csv(tmp_path / name, index=False)
    return tmp_path / name, periods


def test_european_and_accounting_figures(tmp_path):
    def edit(table, periods):
        table.loc[table.line_item == "net_income", periods[-1]] = "18.765,40"
        table.loc[table.line_item == "net_income", periods[-2]] = "(1,200)"
        return table

    path, periods = _sample_with(tmp_path, "eu.csv", edit)
    items, _ = load_statements(path)
    assert items.loc["net_income", periods[-1]] == 18765.40 and items.loc["net_income", periods[-2]] == -1200
    path, _ = _sample_with(
        tmp_path, "dot.csv", lambda t, p: t.assign(**{p[0]: t[p[0]].replace(182400, "182.400")})
    )
    with pytest.raises(BadInputError, match=r"revenue figure for FY2021 '182\.400' is ambiguous"):
        load_statements(path)


def test_two_digit_years_newest_first_and_unknown_order(tmp_path):
    def short(table, periods):
        return table[["statement", "line_item", *periods[::-1]]].rename(
            columns={p: "FY" + p[-2:] for p in periods}
        )

    path, _ = _sample_with(tmp_path, "fy.csv", short)
    metrics = compute_metrics(load_statements(path)[0])
    assert list(metrics.columns) == ["FY21", "FY22", "FY23", "FY24"]
    assert metrics.loc["revenue_growth", "FY22"] == pytest.approx((201750 / 182400 - 1) * 100)
    path, _ = _sample_with(
        tmp_path, "named.csv", lambda t, p: t.rename(columns=dict(zip(p, "ABCD", strict=True)))
    )
    with pytest.raises(BadInputError, match=r"Cannot tell the order of the periods \['A', 'B', 'C', 'D'\]"):
        load_statements(path)


def test_table_shaped_looping_or_figureless_narratives_fall_back_to_the_template(tmp_path):
    """What smollm2 wrote for a real statements file: a markdown table of metric names, no figures, looping."""
    junk = "Here is the rewritten table:\n\n| Company | Current Ratio |" + " Current Ratio |" * 40
    report = build_board_report(STATEMENTS, tmp_path, chat_model=ScriptedChat([junk, "Growth was strong."]))
    assert report.narrative_source == "template"
    assert report.issues == [
        "it quotes none of the table's figures",
        "it is a table (| characters), not sentences",
        "it repeats the same words over and over",
        "it quotes none of the table's figures",
    ]
    loop = "Revenue was 247,300 in FY2024. " * 6
    assert narrative_issues(loop, report.display, report.periods) == [
        "it repeats the same words over and over"
    ]


def test_text_column_that_is_no_period_is_left_out_with_a_warning(tmp_path):
    def notes(table, periods):
        return table.assign(notes=["audited"] + [None] * (len(table) - 1))

    path, periods = _sample_with(tmp_path, "notes.csv", notes)
    items, warnings = load_statements(path)
    assert list(items.columns) == periods
    assert warnings == ["Left out column(s) notes: they hold text, not figures, and name no period."]
    report = build_board_report(path, tmp_path / "out")
    assert report.to_dict()["warnings"] == warnings
