"""Shared table readers: id columns as text, numeric dates decided from the whole column, money in
European, US and accounting formats (tiny tables written here)."""

from __future__ import annotations

import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, parse_timestamps, read_table, slash_date_order


def test_text_columns_keep_leading_zeros_and_blank_cells(tmp_path):
    (tmp_path / "t.csv").write_text("customer_id,amount\n000123,5\n,6\n")
    table = read_table(tmp_path / "t.csv", text_columns=("customer_id",))
    assert table["customer_id"].tolist()[0] == "000123" and pd.isna(table["customer_id"].iloc[1])
    assert table["amount"].tolist() == [5, 6]


def test_numeric_dates_are_read_in_the_order_the_whole_column_shows():
    day_first = parse_timestamps(pd.Series(["03/04/2025", "20/04/2025", None], name="loss_date"))
    assert day_first.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2025-04-03", "2025-04-20"]
    month_first = parse_timestamps(pd.Series(["03/04/2025", "04/20/2025"], name="loss_date"))
    assert month_first.iloc[0] == pd.Timestamp("2025-03-04")
    iso = parse_timestamps(pd.Series(["2025-03-30T10:00:00+00:00", "2025-03-30T11:50:00+01:00"]))
    assert iso.iloc[1] == pd.Timestamp("2025-03-30T10:50:00Z")
    with pytest.raises(BadInputError, match=r"Column loss_date .*03/04/2025.*ISO dates \(YYYY-MM-DD\)"):
        parse_timestamps(pd.Series(["03/04/2025", "05/06/2025"], name="loss_date"))
    with pytest.raises(BadInputError, match="mixes day-first and month-first"):
        parse_timestamps(pd.Series(["20/04/2025", "04/20/2025"], name="loss_date"))
    coerced = parse_timestamps(pd.Series(["03/04/2025", "2025-01-01"], name="d"), ambiguous="coerce")
    assert pd.isna(coerced.iloc[0]) and coerced.iloc[1] == pd.Timestamp("2025-01-01")
    dashes = parse_timestamps(pd.Series(["03-04-2025", "13-04-2025"]))  # pandas read these value by value
    assert dashes.tolist() == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-13")]
    short_years = parse_timestamps(pd.Series(["01/02/25", "13/02/25", "01/02/99"]))
    assert short_years.dt.strftime("%Y-%m-%d").tolist() == ["2025-02-01", "2025-02-13", "1999-02-01"]


def test_typed_excel_numbers_stay_numbers_when_read_as_text(tmp_path):
    pd.DataFrame({"line_item": ["revenue"], "FY2021": [182.405]}).to_excel(tmp_path / "s.xlsx", index=False)
    table = read_table(tmp_path / "s.xlsx", text_columns="all")
    assert parse_money(table["FY2021"].iloc[0]) == 182.405  # a typed number is not the ambiguous text "182.405"
    (tmp_path / "s.csv").write_text("line_item,FY2021\nrevenue,182.405\n")
    with pytest.raises(BadInputError, match="ambiguous"):
        parse_money(read_table(tmp_path / "s.csv", text_columns="all")["FY2021"].iloc[0])


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("18.765,40", 18765.40),
        ("1,234.56", 1234.56),
        ("€2.500.000,00", 2500000.0),
        ("(1,200)", -1200.0),
        ("-$1,200.50", -1200.5),
        ("EUR 12 500,00", 12500.0),
        ("1,234", 1234.0),  # one comma and three digits: thousands, the accounting convention
        ("12,5", 12.5),
        ("0.125", 0.125),
        ("12500.00", 12500.0),
        (175000, 175000.0),
        ("n/a", None),
        ("", None),
        ("(-5)", None),
    ],
)
def test_money_formats(text, amount):
    assert parse_money(text) == amount


def test_a_dot_before_three_digits_is_refused_not_guessed():
    with pytest.raises(BadInputError, match=r"The net_income '1\.234' is ambiguous"):
        parse_money("1.234", what="net_income")


def test_clause_numbers_in_prose_are_no_date_order_cue():
    text = "Effective as of 05/08/2014. Termination is governed by Section 13.2.10 below."
    assert slash_date_order([text]) == "day-first"  # a table column of such values would be day-first
    assert slash_date_order([text], free_text=True) is None  # in prose, 13.2.10 is a clause number
    assert slash_date_order(["Signed 05/08/2014, effective 05/20/2014."], free_text=True) == "month-first"


def test_semicolon_and_tab_separated_csv_files_are_read(tmp_path):
    """Excel writes ';'-separated CSV where the decimal mark is a comma."""
    semicolon = tmp_path / "eu.csv"
    semicolon.write_text("id;amount;note\n007;1.234,56;a, b\n", encoding="utf-8")
    table = read_table(semicolon, required=["id", "amount"], text_columns=["id", "amount"])
    assert table.iloc[0].tolist() == ["007", "1.234,56", "a, b"]
    tabbed = tmp_path / "tabbed.csv"
    tabbed.write_text("id\tamount\n1\t2\n", encoding="utf-8")
    assert list(read_table(tabbed).columns) == ["id", "amount"]
    plain = tmp_path / "plain.csv"
    plain.write_text("id,note\n1,x;y\n", encoding="utf-8")
    assert read_table(plain)["note"].tolist() == ["x;y"]


def test_separators_inside_quoted_header_names_do_not_decide(tmp_path):
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,"Notes; remarks; comments"\n1,"a, b"\n2,c\n', encoding="utf-8")
    assert list(read_table(quoted).columns) == ["id", "Notes; remarks; comments"]


def test_the_separator_splits_header_and_first_row_alike(tmp_path):
    bracketed = tmp_path / "bracketed.csv"
    bracketed.write_text('Notes (a;b;c),Amount\n"x",5\n', encoding="utf-8")
    assert list(read_table(bracketed).columns) == ["Notes (a;b;c)", "Amount"]
