"""Tables from the outside world (CSV, Excel, JSON records) -> ``pandas.DataFrame``, checked for columns.

Every tabular flow (catalogues, transactions, purchase orders, financial statements) reads through here so
a wrong file fails with one sentence that names the file, the missing columns and what was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from data_connectors.errors import BadInputError, UnsupportedFileError

TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls", ".json", ".jsonl")


def _read(path: Path, sheet: str | int | None) -> pd.DataFrame | dict[str, pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t")
    if suffix in {".xlsx", ".xls"}:
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    if suffix == ".json":
        return pd.read_json(path)
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
) -> pd.DataFrame:
    """Read ``path`` and check it has the ``required`` columns (column names are stripped of spaces).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsupportedFileError: the suffix is not one of ``TABLE_SUFFIXES``.
        BadInputError: the file cannot be parsed, is empty, or lacks required columns.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        table = _read(path, sheet)
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


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Dates and times as pandas timestamps (unparseable ones NaT, for the caller to report). Values with
    different UTC offsets (a daylight-saving change, several countries) are all brought to UTC, where pandas
    would otherwise refuse the column."""
    try:
        return pd.to_datetime(values, errors="coerce")
    except ValueError:
        return pd.to_datetime(values, errors="coerce", utc=True)
