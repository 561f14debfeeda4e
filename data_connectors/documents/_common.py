"""What every format reader returns, and the text decoding they share."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from data_connectors.errors import BadInputError

MetadataValue = str | int | float | bool

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


class UnreadableFileError(BadInputError):
    """A supported file whose content cannot be turned into text; the message is the one-sentence reason."""


@dataclass
class Part:
    """One future Document: a page, a section or a row, with its own metadata (page, section, row, sheet)."""

    text: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass
class ParsedFile:
    """A reader's output; the loader adds source, sha256, doc_type and the title fallback."""

    parts: list[Part]
    title: str | None = None
    missing: str | None = None  # what could not be read while the rest could, e.g. "pages 3, 7 ..."


def decode_text(data: bytes) -> str:
    """Bytes to text: UTF-16 with a BOM, UTF-8 (BOM or not), else Windows-1252 only if that reads cleanly.

    Raises:
        UnreadableFileError: NUL bytes (a binary file) or bytes that fit neither encoding.
    """
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return normalise_text(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise UnreadableFileError("text has a UTF-16 mark but invalid UTF-16 content") from exc
    if b"\x00" in data:
        raise UnreadableFileError("binary content (NUL bytes), not text; check the file type")
    try:
        return normalise_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL_CHARS.search(text):
        raise UnreadableFileError("text is neither UTF-8 nor clean Windows-1252; re-save it as UTF-8")
    return normalise_text(text)


def normalise_text(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row, no outer whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n\n").replace("\u00a0", " ")
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def table_paragraphs(rows: list[list[str]], *, has_header: bool = True) -> list[str]:
    """One paragraph per body row, as "Header: value" lines so each row keeps its header; rows of a table
    without a header are joined with " | "."""
    rows = [row for row in rows if any(row)]
    if not has_header or len(rows) < 2:
        return [" | ".join(cell for cell in row if cell) for row in rows]
    header = rows[0]
    return [
        "\n".join(
            f"{name}: {value}" if name else value for name, value in zip(header, row, strict=False) if value
        )
        for row in rows[1:]
    ]


def section_path(stack: list[tuple[int, str]]) -> str:
    """``"2 Scope > 2.1 Definitions"`` from a stack of (level, heading) pairs."""
    return " > ".join(heading for _, heading in stack)


def push_heading(stack: list[tuple[int, str]], level: int, heading: str) -> None:
    """Replaces every heading of the same or a deeper level, so the stack is the heading path."""
    while stack and stack[-1][0] >= level:
        stack.pop()
    stack.append((level, heading))


def with_section(text: str, stack: list[tuple[int, str]]) -> Part:
    """A section Part; text before the first heading has no ``section`` key (metadata never holds None)."""
    return Part(text=normalise_text(text), metadata={"section": section_path(stack)} if stack else {})
