"""CSV and XLSX: one Part per data row, rendered as "Header: value" lines so every row carries its header.

``row`` counts data rows from 1 (the header row is not counted); XLSX rows also carry their ``sheet``.
Empty cells are left out of the text; fully empty rows are skipped but still counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence

from data_connectors.documents._common import ParsedFile, Part, UnreadableFileError, decode_text

_SNIFF_BYTES = 64 * 1024


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _header_names(row: Sequence[object]) -> list[str]:
    """Blank header cells get "Column N" so their values keep a label."""
    return [_cell_text(name) or f"Column {i}" for i, name in enumerate(row, start=1)]


def _row_parts(rows: Iterable[Sequence[object]], extra: dict[str, str] | None = None) -> list[Part]:
    rows = iter(rows)
    header: list[str] | None = None
    for row in rows:  # the first non-empty row is the header
        if any(_cell_text(value) for value in row):
            header = _header_names(row)
            break
    if header is None:
        return []
    parts: list[Part] = []
    for number, row in enumerate(rows, start=1):
        lines = [
            f"{header[i] if i < len(header) else f'Column {i + 1}'}: {text}"
            for i, value in enumerate(row)
            if (text := _cell_text(value))
        ]
        if lines:
            parts.append(Part(text="\n".join(lines), metadata={**(extra or {}), "row": number}))
    return parts


def read_csv(data: bytes) -> ParsedFile:
    """Delimiter sniffed among , ; tab and |; quoted fields may span lines."""
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        parts = _row_parts(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise UnreadableFileError(f"CSV cannot be parsed ({exc}); check its quoting") from exc
    return ParsedFile(parts=parts)


def read_xlsx(data: bytes) -> ParsedFile:
    """Every sheet, in workbook order; cached formula results are read (the file is not recalculated)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise UnreadableFileError(f"not a valid XLSX workbook ({exc}); re-save it from Excel") from exc
    try:
        parts = [
            part
            for sheet in workbook.worksheets
            for part in _row_parts(sheet.iter_rows(values_only=True), {"sheet": sheet.title})
        ]
        title = (workbook.properties.title or "").strip() or None
    finally:
        workbook.close()
    return ParsedFile(parts=parts, title=title)
