"""DOCX: one Part per heading section (``section`` = heading path); tables become "Header: value" lines."""

from __future__ import annotations

import io
import re
import zipfile

from data_connectors.documents._common import (
    ParsedFile,
    Part,
    UnreadableFileError,
    push_heading,
    table_paragraphs,
    with_section,
)

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.IGNORECASE)


def _heading_level(paragraph) -> int | None:
    """Level of a "Heading N" paragraph (built-in styles keep English names in the file), else None."""
    style = paragraph.style
    match = _HEADING_STYLE.match(style.name or "") if style is not None else None
    return int(match.group(1)) if match else None


def _table_lines(table) -> list[str]:
    """The first row of a Word table is taken as its header."""
    return table_paragraphs([[cell.text.strip() for cell in row.cells] for row in table.rows])


def read_docx(data: bytes) -> ParsedFile:
    """Sections in document order; paragraphs of one section are separated by a blank line."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"not a valid DOCX file ({exc}); re-save it from Word") from exc

    parts: list[Part] = []
    stack: list[tuple[int, str]] = []
    blocks: list[str] = []
    first_heading: str | None = None
    title_paragraph: str | None = None

    def flush() -> None:
        text = "\n\n".join(blocks)
        if text.strip():
            parts.append(with_section(text, stack))
        blocks.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_table_lines(item))
            continue
        text = item.text.strip()
        level = _heading_level(item)
        if level is not None and text:
            flush()
            push_heading(stack, level, text)
            first_heading = first_heading or text
        elif text and title_paragraph is None and item.style is not None and item.style.name == "Title":
            title_paragraph = text
        elif text:
            blocks.append(text)
    flush()
    core_title = (document.core_properties.title or "").strip()
    return ParsedFile(parts=parts, title=core_title or title_paragraph or first_heading)
