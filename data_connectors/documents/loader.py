"""Paths in, Documents out: walks folders, dispatches on the file suffix, and turns every unreadable file into
a one-sentence ``FileFailure`` so one bad file never stops the rest of a folder."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from data_connectors.documents._common import MetadataValue, ParsedFile, UnreadableFileError
from data_connectors.documents.markup import read_html, read_markdown, read_text
from data_connectors.documents.pdf import read_pdf
from data_connectors.documents.tables import read_csv, read_xlsx
from data_connectors.documents.word import read_docx
from data_connectors.errors import BadInputError

log = logging.getLogger(__name__)

Reader = Callable[[bytes], ParsedFile]

_READERS: dict[str, tuple[str, Reader]] = {
    ".pdf": ("pdf", read_pdf),
    ".docx": ("docx", read_docx),
    ".html": ("html", read_html),
    ".htm": ("html", read_html),
    ".md": ("md", read_markdown),
    ".markdown": ("md", read_markdown),
    ".txt": ("txt", read_text),
    ".csv": ("csv", read_csv),
    ".xlsx": ("xlsx", read_xlsx),
}
_READER_KEYS = frozenset({"source", "sha256", "title", "doc_type", "page", "row", "section", "sheet"})
# Set on every chunk by rag's chunking and retrieval (data_connectors cannot import rag, so they are listed
# here): a user's value under one of them would break offsets or pose as a relevance score.
_INDEX_KEYS = frozenset(
    {"chunk_id", "chunk_index", "char_start", "char_end", "row_split"}
    | {"score", "dense_score", "bm25_score", "rerank_score"}
)
_RESERVED_KEYS = _READER_KEYS | _INDEX_KEYS
_MAX_REASON_CHARS = 300


def _is_hidden(name: str) -> bool:
    """Dotfiles and Office lock files (``~$report.docx``), which are hidden on the systems that make them."""
    return name.startswith((".", "~$"))


def _validate_extra(extra_metadata: Mapping[str, str] | None) -> dict[str, str]:
    extra = dict(extra_metadata or {})
    for key, value in extra.items():
        if key in _RESERVED_KEYS:
            raise BadInputError(
                f"metadata key {key!r} is set by the reader or the index and cannot be overridden; "
                f"use a key other than {', '.join(sorted(_RESERVED_KEYS))}"
            )
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise BadInputError(
                f"extra metadata must map non-empty strings to strings, got {key!r}: {value!r}; "
                "pass it as key=value"
            )
        if key.startswith(("$", "#")):
            raise BadInputError(
                f"metadata key {key!r} starts with {key[0]!r}, which the vector store reserves for its "
                "operators and fields; use a key that starts with a letter, e.g. claim_id"
            )
    return extra


def _read_bytes(path: Path, max_bytes: float, max_file_mb: float) -> bytes:
    """The file's bytes, checked for size before reading it.

    Raises:
        UnreadableFileError: the file vanished, cannot be opened, is empty or is over the size limit.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableFileError(
                f"file is {size / 1e6:.1f} MB, over the {max_file_mb:g} MB limit; split it or raise the limit"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableFileError("file not found (moved or deleted before it could be read)") from exc
    except PermissionError as exc:
        raise UnreadableFileError("permission denied; make the file readable to ingest it") from exc
    except IsADirectoryError as exc:
        raise UnreadableFileError("is a folder where a file was expected") from exc
    except OSError as exc:
        raise UnreadableFileError(f"cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise UnreadableFileError("file is empty (0 bytes)")
    return data


def _documents(
    path: str, data: bytes, doc_type: str, parsed: ParsedFile, extra: dict[str, str]
) -> list[Document]:
    base: dict[str, MetadataValue] = {
        **extra,
        "source": path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "title": parsed.title or Path(path).stem,
        "doc_type": doc_type,
    }
    return [
        Document(page_content=part.text, metadata={**base, **part.metadata})
        for part in parsed.parts
        if part.text.strip()
    ]


# PUBLIC API

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS)


@dataclass(frozen=True)
class FileFailure:
    """A file that was not loaded and why, in one sentence."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """``skipped``: types no reader handles; ``failed``: supported files that could not be read;
    ``partial``: loaded files of which a part could not be read (the reason says which)."""

    documents: list[Document] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    skipped: list[FileFailure] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    partial: list[FileFailure] = field(default_factory=list)


def iter_files(paths: str | Path | Iterable[str | Path]) -> Iterator[Path]:
    """Every file under ``paths``: folders walked recursively in sorted order, hidden files and folders
    ignored, each file once. A path that does not exist, and a folder that cannot be listed, are yielded as
    they are, so loading reports them."""
    if isinstance(paths, str | Path):
        paths = [paths]  # one path, not an iterable of characters
    seen: set[str] = set()

    def once(path: Path) -> Iterator[Path]:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            yield path

    for given in paths:
        root = Path(given).expanduser()
        if not root.is_dir():
            yield from once(root)
            continue
        unlisted: list[OSError] = []
        for folder, dirnames, filenames in os.walk(root, onerror=unlisted.append):
            dirnames[:] = sorted(name for name in dirnames if not _is_hidden(name))
            for name in sorted(filenames):
                if not _is_hidden(name):
                    yield from once(Path(folder) / name)
        for error in unlisted:
            yield from once(Path(error.filename))


def load_documents(
    paths: str | Path | Iterable[str | Path],
    *,
    max_file_mb: float = 50.0,
    extra_metadata: Mapping[str, str] | None = None,
) -> LoadResult:
    """Read every supported file under ``paths`` into Documents with scalar metadata: ``source`` (absolute
    path), ``sha256`` (of the bytes), ``title``, ``doc_type`` and, where they apply, ``page``, ``section``,
    ``row`` and ``sheet``; ``extra_metadata`` (e.g. ``claim_id``) is added to every Document.

    Raises:
        BadInputError: ``max_file_mb`` is not positive, or ``extra_metadata`` overrides a key of the reader
            or the index, or has a key starting with ``$`` or ``#``.
        Unreadable files never raise: they are listed in ``LoadResult.failed`` with their reason.
    """
    if not max_file_mb > 0:
        raise BadInputError(f"max_file_mb must be a positive number of megabytes, got {max_file_mb!r}")
    extra = _validate_extra(extra_metadata)
    max_bytes = max_file_mb * 1e6
    result = LoadResult()
    for file in iter_files(paths):
        path = os.path.abspath(file)
        suffix = file.suffix.lower()
        if file.is_dir():  # see iter_files: a folder that could not be listed
            reason = "folder cannot be listed (permission denied?); nothing under it was read or removed"
            result.failed.append(FileFailure(path, reason))
            continue
        if suffix not in _READERS and not file.exists():  # a missing folder, e.g. an unmounted share
            result.failed.append(FileFailure(path, "not found; nothing under it was read or removed"))
            continue
        if suffix not in _READERS:
            kind = f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"
            result.skipped.append(FileFailure(path, kind))
            continue
        doc_type, reader = _READERS[suffix]
        try:
            data = _read_bytes(file, max_bytes, max_file_mb)
            parsed = reader(data)
            documents = _documents(path, data, doc_type, parsed, extra)
            if not documents:
                raise UnreadableFileError("contains no text")
        except UnreadableFileError as exc:
            result.failed.append(FileFailure(path, str(exc)))
        except Exception as exc:  # a library choking on a malformed file must not stop the folder
            reason = f"cannot be read as {doc_type.upper()} ({type(exc).__name__}: {exc})"
            result.failed.append(FileFailure(path, reason[:_MAX_REASON_CHARS]))
        else:
            result.documents.extend(documents)
            result.loaded.append(path)
            if parsed.missing:
                result.partial.append(FileFailure(path, parsed.missing))
    if result.failed or result.partial:  # counts only: paths can carry people's names
        log.warning("%d file(s) not loaded, %d loaded in part", len(result.failed), len(result.partial))
    return result
