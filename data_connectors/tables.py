"""Tables from the outside world (CSV, Excel, JSON records) -> ``pandas.DataFrame``, checked for columns.

Every tabular flow (catalogues, transactions, purchase orders, financial statements) reads through here so
a wrong file fails with one sentence that names the file, the missing columns and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd

from data_connectors.errors import BadInputError, UnsupportedFileError

TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls", ".json", ".jsonl")
_CURRENCY = re.compile(r"\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY)\b|US\$|[$€£¥]", re.IGNORECASE)
# Numeric day/month dates: 03/04/2025, 03.04.2025, 03-04-2025, 03/04/25 (not ISO 2025-04-03: the year leads).
_NUMERIC_DATE = r"(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)"
_SLASH_DATE = re.compile(_NUMERIC_DATE + r"(.*)")
DateOrder = Literal["day-first", "month-first"]


def _csv_delimiter(path: Path) -> str:
    """"," unless the file is split by ";" (the CSV Excel writes where the decimal mark is a comma), a tab or
    "|": the separator that splits the header and the first row alike, else the header's commonest one."""
    with path.open("rb") as handle:
        lines = [handle.readline(64_000).decode("utf-8", errors="replace") for _ in range(2)]
    lines = [re.sub(r'"[^"]*"', "", line) for line in lines if line.strip()]  # quoted separators do not count
    if not lines:
        return ","
    counts = {mark: [line.count(mark) for line in lines] for mark in ",;\t|"}
    # A separator splits the header and the first row into the same number of fields: "Notes (a;b;c),Amount"
    # over "x,5" is comma-separated, whatever the header's semicolons say.
    steady = {mark: found[0] for mark, found in counts.items() if found[0] > 0 and len(set(found)) == 1}
    if steady:
        return "," if "," in steady else max(steady, key=steady.get)
    header = {mark: found[0] for mark, found in counts.items()}  # one line, or ragged rows: the header decides
    best = max(header, key=header.get)
    return best if header[best] > header[","] else ","


def _read(
    path: Path, sheet: str | int | None, text_columns: list[str] | Literal["all"]
) -> pd.DataFrame | dict[str, pd.DataFrame]:
    suffix = path.suffix.lower()
    if text_columns != "all":
        dtype = dict.fromkeys(text_columns, str) or None
    elif suffix in {".xlsx", ".xls", ".json", ".jsonl"}:  # typed cells: a number there is a number, not text
        dtype = None
    else:
        dtype = str
    if suffix == ".csv":
        return pd.read_csv(path, sep=_csv_delimiter(path), dtype=dtype)
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t", dtype=dtype)
    if suffix in {".xlsx", ".xls"}:
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=dtype)
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=dtype)
    if suffix == ".json":
        return pd.read_json(path, dtype=dtype)
    raise UnsupportedFileError(
        f"Cannot read {path.name} as a table: accepted types are {', '.join(TABLE_SUFFIXES)}, "
        f"got {suffix or 'no suffix'}; convert it to CSV."
    )


# PUBLIC API


def read_table(
    path: Path | str,
    *,
    required: Iterable[str] = (),
    what: str = "table",
    sheet: str | int | None = None,
    text_columns: Iterable[str] | Literal["all"] = (),
) -> pd.DataFrame:
    """Read ``path`` and check it has the ``required`` columns (column names are stripped of spaces).

    ``text_columns`` are read as text, not numbers: identifiers such as "000123" keep their leading zeros
    (blank cells stay missing); ``"all"`` reads every column of a CSV/TSV as text, for figures a caller parses
    itself (``parse_money``: pandas would read "1.234" as 1.234 without asking), while the typed cells of an
    Excel or JSON file keep their type (a number cell is a number, not text to re-parse).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsupportedFileError: the suffix is not one of ``TABLE_SUFFIXES``.
        BadInputError: the file cannot be parsed, is empty, or lacks required columns.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        table = _read(path, sheet, text_columns if text_columns == "all" else list(text_columns))
    except UnsupportedFileError:
        raise
    except ImportError:  # old .xls needs xlrd, which the toolkit does not install
        raise BadInputError(
            f"Reading {path.name} needs an extra package ({path.suffix} files); save it as .xlsx or CSV."
        ) from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as error:
        raise BadInputError(f"Cannot parse {what} {path.name}: {error}; check the file format.") from None
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise BadInputError(f"The {what} {path.name} has no rows; give a file with a header and data rows.")
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise BadInputError(
            f"The {what} {path.name} lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, table.columns))}."
        )
    return table


def slash_date_order(texts: Iterable[str], *, free_text: bool = False) -> DateOrder | None:
    """Whether the numeric dates (03/04/2025, 03.04.25, 03-04-2025) in ``texts`` are day-first or month-first,
    decided from all of them together: a first part over 12 means day-first, a second part over 12 month-first.
    None when no date decides it (every part is 12 or less, or there are none). ``free_text``: only dates with
    a four-digit year count, as prose holds clause numbers such as 13.2.10.

    Raises:
        BadInputError: some dates are day-first and others month-first.
    """
    firsts, seconds = set(), set()
    for text in texts:
        for match in re.finditer(_NUMERIC_DATE, str(text)):
            if free_text and len(match.group(4)) != 4:  # prose: "Section 13.2.10" is a clause number
                continue
            firsts.add(int(match.group(1)))
            seconds.add(int(match.group(3)))
    day_first, month_first = max(firsts, default=0) > 12, max(seconds, default=0) > 12
    if day_first and month_first:
        raise BadInputError(
            "The dates mix day-first (31/01/2025) and month-first (01/31/2025) order; "
            "write them as ISO dates (YYYY-MM-DD)."
        )
    return "day-first" if day_first else "month-first" if month_first else None


def _iso_from_slash(text: str, order: DateOrder | None) -> str | None:
    """ "03/04/2025 10:00" as "2025-04-03 10:00" (day-first); the text unchanged when it is no such date,
    None when the order is unknown and the two readings differ. Two-digit years follow pandas (and C's
    strptime): 00-68 are 2000-2068, 69-99 are 1969-1999."""
    match = _SLASH_DATE.fullmatch(text)
    if match is None:
        return text
    first, second, rest = int(match.group(1)), int(match.group(3)), match.group(5)
    year = int(match.group(4))
    if len(match.group(4)) == 2:
        year += 2000 if year <= 68 else 1900
    if order is None and first != second:
        return None
    day, month = (first, second) if order == "day-first" else (second, first)
    return f"{year:04d}-{month:02d}-{day:02d}{rest}"


def parse_timestamps(values: pd.Series, *, ambiguous: Literal["raise", "coerce"] = "raise") -> pd.Series:
    """Dates and times as pandas timestamps (unparseable ones NaT, for the caller to report).

    ISO 8601 is read first. Numeric dates (03/04/2025) are read day-first or month-first as the whole column
    shows (``slash_date_order``), never from the first value alone, which would turn the rest of a day-first
    column into NaT. Values with different UTC offsets (a daylight-saving change, several countries) are all
    brought to UTC, where pandas would otherwise refuse the column.

    Raises:
        BadInputError: (``ambiguous="raise"``) the column's numeric dates could be read either way (every
            part is 12 or less) or mix both orders; with ``"coerce"`` such dates become NaT instead.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    column = values.name if values.name is not None else "dates"
    text = values.astype("string").str.strip()
    try:
        order = slash_date_order(text.dropna())
    except BadInputError:
        if ambiguous == "raise":
            raise BadInputError(
                f"Column {column} mixes day-first and month-first dates; write them as ISO dates (YYYY-MM-DD)."
            ) from None
        order = None
    iso = text.map(lambda value: _iso_from_slash(value, order), na_action="ignore")
    if ambiguous == "raise" and (unresolved := text[iso.isna() & text.notna()]).size:
        raise BadInputError(
            f"Column {column} has dates such as {unresolved.iloc[0]} that read as day/month or month/day; "
            "write them as ISO dates (YYYY-MM-DD)."
        )
    iso = iso.astype(object).where(iso.notna(), None)
    try:
        return pd.to_datetime(iso, errors="coerce", format="mixed")
    except ValueError:
        return pd.to_datetime(iso, errors="coerce", format="mixed", utc=True)


def parse_money(value: object, *, what: str = "amount") -> float | None:
    """A money amount as a float: 1,234.56 and 1.234,56 (both orders of separators), 12 500,00, currency
    symbols and codes, "(1,200)" and "-1,200" as negatives. None when ``value`` is no number.

    One separator followed by exactly three digits is a thousands separator for a comma ("1,234" = 1234, the
    accounting convention) but ambiguous for a dot ("1.234" is 1234 in much of Europe and 1.234 elsewhere),
    so that case is refused rather than guessed.

    Raises:
        BadInputError: the amount is ambiguous ("1.234"); ``what`` names it in the message.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if pd.isna(value) else float(value)
    if value is None or pd.isna(value):
        return None
    text = _CURRENCY.sub("", str(value)).replace("\u2212", "-").strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").strip()
    if text.startswith("-"):
        if negative:  # "(-5)": two signs, no convention says which is meant
            return None
        negative, text = True, text[1:]
    text = re.sub(r"(?<=\d)[\s\u00a0'’](?=\d{3}(?!\d))", "", text.strip())
    if not re.fullmatch(r"\d[\d.,]*\d|\d", text):
        return None
    marks = [mark for mark in text if mark in ".,"]
    if len(set(marks)) == 2:  # the last mark is the decimal one: 1.234,56 or 1,234.56
        decimal, thousands = marks[-1], marks[0]
        if marks.count(decimal) > 1 or not re.fullmatch(
            rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})*{re.escape(decimal)}\d+", text
        ):
            return None
        number = text.replace(thousands, "").replace(decimal, ".")
    elif len(marks) > 1:  # 1,234,567 or 1.234.567: thousands only
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(marks[0])}\d{{3}})+", text):
            return None
        number = text.replace(marks[0], "")
    elif marks:
        head, tail = text.split(marks[0])
        grouped = len(tail) == 3 and len(head) <= 3 and not head.startswith("0")
        if grouped and marks[0] == ".":
            raise BadInputError(
                f"The {what} {str(value).strip()!r} is ambiguous ({head}{tail} or {head}.{tail}); write it "
                f"without the dot ({head}{tail}) or with two decimals ({head}.{tail},00 or {head},{tail}.00)."
            )
        number = f"{head}{tail}" if grouped else f"{head}.{tail}"
    else:
        number = text
    return -float(number) if negative else float(number)
