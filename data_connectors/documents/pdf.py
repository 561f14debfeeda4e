"""PDF: one Part per page with text, ``page`` one-based as a reader counts."""

from __future__ import annotations

import io
import logging

from data_connectors.documents._common import ParsedFile, Part, UnreadableFileError, normalise_text

log = logging.getLogger(__name__)

_EOF_WINDOW = 2048  # readers accept a little trailing junk after %%EOF; more means it is not the end


def _open(data: bytes):
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise UnreadableFileError("PDF is truncated (no %%EOF end marker); re-download or re-export the file")
    try:
        reader = PdfReader(io.BytesIO(data))
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableFileError(f"PDF is damaged and cannot be parsed ({exc}); re-export it") from exc
    if reader.is_encrypted:
        # Files with only an owner password (printing/copying limits) open with the empty user password.
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except (DependencyError, NotImplementedError) as exc:
            raise UnreadableFileError(
                f"PDF is encrypted with a scheme this install cannot open ({exc}); save an unprotected copy"
            ) from exc
        if not opened:
            raise UnreadableFileError(
                "PDF is encrypted (password-protected); save an unprotected copy to ingest it"
            )
    return reader


def _title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken info dictionary must not cost the pages
        return None
    return title.strip() if isinstance(title, str) and title.strip() else None


def read_pdf(data: bytes) -> ParsedFile:
    """Pages without extractable text are left out; a PDF with none at all is a failure (it needs OCR)."""
    reader = _open(data)
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise UnreadableFileError(f"PDF page tree is damaged ({exc}); re-export the file") from exc
    parts: list[Part] = []
    broken: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = normalise_text(page.extract_text() or "")
        except Exception:  # one bad content stream must not cost the other pages
            broken.append(number)
            continue
        if text:
            parts.append(Part(text=text, metadata={"page": number}))
    if broken:
        log.warning("PDF pages %s could not be decoded and were left out", broken)
    if not parts:
        if broken and len(broken) == len(pages):
            raise UnreadableFileError("no PDF page could be decoded; the content streams are damaged")
        raise UnreadableFileError("no extractable text (scanned? OCR is not supported)")
    return ParsedFile(parts=parts, title=_title(reader))
