"""Document readers: PDF, DOCX, HTML, Markdown, TXT, CSV and XLSX files become langchain-core Documents.

One Document per PDF page, per heading section (DOCX, HTML, Markdown), per table row (CSV, XLSX) or per text
file, each with scalar metadata (``source``, ``sha256``, ``title``, ``doc_type``, and ``page``, ``section``,
``row``, ``sheet`` where they apply). Unreadable files are reported, never raised; see ``load_documents``.
"""

from data_connectors.documents.loader import (
    SUPPORTED_SUFFIXES,
    FileFailure,
    LoadResult,
    iter_files,
    load_documents,
)

__all__ = ["SUPPORTED_SUFFIXES", "FileFailure", "LoadResult", "iter_files", "load_documents"]
