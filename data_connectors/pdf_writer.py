"""Plain-text PDFs written with pypdf alone (Helvetica, Letter size): for generated sample documents and test
fixtures, without a layout engine. Output is byte-for-byte reproducible for the same input."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_PAGE_WIDTH, _PAGE_HEIGHT, _MARGIN = 612, 792, 72
_FONT_SIZE, _LEADING = 10, 13
_CHARS_PER_LINE = 92  # Helvetica 10 pt averages ~5 pt a character over the 468 pt text width
_LINES_PER_PAGE = (_PAGE_HEIGHT - 2 * _MARGIN) // _LEADING


@dataclass(frozen=True)
class PdfLine:
    text: str
    bold: bool = False


def _escape(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252) encoding, which the standard Helvetica font uses."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content_stream(lines: Sequence[PdfLine]) -> bytes:
    ops = [b"BT", f"{_LEADING} TL {_MARGIN} {_PAGE_HEIGHT - _MARGIN} Td".encode()]
    for line in lines:
        ops.append(f"/{'F2' if line.bold else 'F1'} {_FONT_SIZE} Tf".encode())
        ops.append(b"(" + _escape(line.text) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


# PUBLIC API


def layout_pages(
    paragraphs: Iterable[str | PdfLine], *, lines_per_page: int = _LINES_PER_PAGE
) -> list[list[PdfLine]]:
    """Wraps paragraphs to the text width with a blank line between them, and fills pages top to bottom.
    A bold paragraph (a heading) is never left alone at the bottom of a page."""
    pages: list[list[PdfLine]] = [[]]
    for paragraph in paragraphs:
        item = paragraph if isinstance(paragraph, PdfLine) else PdfLine(paragraph)
        wrapped = [PdfLine(text, item.bold) for text in textwrap.wrap(item.text, _CHARS_PER_LINE)] or [item]
        needed = len(wrapped) + (3 if item.bold else 1)
        if pages[-1] and len(pages[-1]) + min(needed, lines_per_page) > lines_per_page:
            pages.append([])
        for line in [*wrapped, PdfLine("")]:
            if len(pages[-1]) >= lines_per_page:
                pages.append([])
            pages[-1].append(line)
    return pages


def write_text_pdf(pages: Sequence[Sequence[str | PdfLine]], *, title: str | None = None) -> bytes:
    """One PDF page per entry, each a list of lines top to bottom; an empty entry is a page without text."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    fonts = DictionaryObject()
    for key, base_font in (("/F1", "/Helvetica"), ("/F2", "/Helvetica-Bold")):
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(base_font),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
        fonts[NameObject(key)] = font
    for lines in pages:
        page = writer.add_blank_page(_PAGE_WIDTH, _PAGE_HEIGHT)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        stream = DecodedStreamObject()
        stream.set_data(
            _content_stream([line if isinstance(line, PdfLine) else PdfLine(line) for line in lines])
        )
        page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
