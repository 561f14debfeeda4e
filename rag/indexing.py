"""Incremental ingestion: files -> chunks -> Chroma, through langchain's ``index()`` and a SQL record manager.

The record manager (``<data_dir>/records.sqlite``, one namespace per collection) remembers the hash of every
chunk (content + metadata without the file's byte hash and the chunk's offsets, sha256), so re-ingesting an
unchanged folder embeds nothing, and a changed file replaces only its changed chunks (cleanup groups chunks
by their ``source`` file; it runs in ``scoped_full`` mode, after all batches, because ``incremental`` cleans
up after each batch and would delete the unchanged chunks of a file whose chunks continue in the next batch).
With ``sync`` a collection mirrors the given paths: chunks of files no longer among them are removed. A file
that fails to load keeps the chunks it had, so a transient read error never empties a knowledge base.

Writes are ordered so that a killed ingest converges: ``index()`` stores vectors before records (a re-run
re-adds, with the same ids, whatever was stored without a record), and deletions drop records before
vectors (a re-run finds the orphan vectors again).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from data_connectors.documents import FileFailure, load_documents
from data_connectors.errors import BadInputError
from rag.chunking import ChunkingConfig, split_documents
from rag.vectorstore import DocumentStore, validate_collection_name

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening)


@dataclass
class IngestReport:
    """What one ingest did. ``unchanged`` chunks were already indexed with the same content and metadata."""

    collection: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks: int = 0
    files: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    skipped: list[FileFailure] = field(default_factory=list)
    partial: list[FileFailure] = field(default_factory=list)  # indexed, but part of the file was unreadable
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "chunks": self.chunks,
            "files": self.files,
            "failures": [asdict(failure) for failure in self.failures],
            "skipped": [asdict(failure) for failure in self.skipped],
            "partial": [asdict(failure) for failure in self.partial],
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------- helpers


# Whole-file facts that change with any edit (the file's byte hash) and positions that shift when text before
# a chunk changes: left out of the stored chunk, so a chunk is keyed by what it says and where (source, page,
# section), and an edit to one page re-embeds that page's chunks only. ``chunk_id`` is kept: it is stable.
_VOLATILE_METADATA = frozenset({"sha256", "chunk_index", "char_start", "char_end"})


def _stored_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in metadata.items() if key not in _VOLATILE_METADATA}


def _report_progress(chunks: Sequence[Document], progress: Progress | None, every: int) -> Iterator[Document]:
    """Yields the chunks, telling ``progress`` how many ``index()`` has consumed so far."""
    total = max(len(chunks), 1)
    for position, chunk in enumerate(chunks):
        if progress is not None and position % every == 0:
            progress(0.1 + 0.85 * position / total, f"embedding chunks {position}/{len(chunks)}")
        yield chunk


def _remove_sources(store: DocumentStore, collection: str, keep: set[str], unseen: Iterable[str] = ()) -> int:
    """Delete every chunk whose source is not in ``keep`` nor under one of the ``unseen`` paths (folders that
    could not be read): records first, then vectors (see module doc)."""
    folders = tuple(path.rstrip(os.sep) + os.sep for path in unseen)

    def kept(source: str) -> bool:
        return source in keep or source.startswith(folders)

    doomed = [
        chunk_id for chunk_id, meta in store.iter_metadatas(collection) if not kept(str(meta.get("source")))
    ]
    if doomed:
        record_manager(store, collection).delete_keys(doomed)
        store.collection(collection).delete(ids=doomed)
    return len(doomed)


# PUBLIC API


def record_manager(store: DocumentStore, collection: str):
    """The record manager of one collection; the namespace includes the store's location, so an embedded
    and a server collection of the same name never share records."""
    from langchain_classic.indexes import SQLRecordManager

    store.data_dir.mkdir(parents=True, exist_ok=True)
    manager = SQLRecordManager(
        f"{store.location}/{validate_collection_name(collection)}",
        db_url=f"sqlite:///{store.data_dir / 'records.sqlite'}",
    )
    manager.create_schema()
    return manager


def ingest(
    paths: Iterable[str | Path],
    *,
    store: DocumentStore,
    collection: str,
    chunking: ChunkingConfig,
    count_tokens: Callable[[str], int],
    sync: bool = False,
    extra_metadata: Mapping[str, str] | None = None,
    max_file_mb: float = 50.0,
    batch_size: int = 128,
    progress: Progress | None = None,
) -> IngestReport:
    """Index files, folders (recursively) or a mix into ``collection``, creating it if needed.

    Args:
        sync: afterwards, remove the chunks of every file that was not among ``paths`` (a mirror).
        extra_metadata: string metadata added to every chunk (e.g. ``claim_id``), usable as a filter.
        count_tokens: the embedding model's token counter, so chunks fit the model.
        progress: called with (fraction, message) while loading and embedding.

    Raises:
        BadInputError: no path given, none of them exists, or the collection name is invalid.
    """
    from langchain_core.indexing import index

    validate_collection_name(collection)
    paths = [Path(path).expanduser() for path in paths]
    if not paths:
        raise BadInputError("No path given to ingest; pass at least one file or folder.")
    if not any(path.exists() for path in paths):
        raise BadInputError(f"None of the paths exist: {', '.join(map(str, paths))}; check the spelling.")
    started = time.perf_counter()
    if progress:
        progress(0.0, "reading files")
    loaded = load_documents(paths, max_file_mb=max_file_mb, extra_metadata=extra_metadata)
    chunks = [
        Document(page_content=chunk.page_content, metadata=_stored_metadata(chunk.metadata))
        for chunk in split_documents(loaded.documents, count_tokens=count_tokens, config=chunking)
    ]
    report = IngestReport(
        collection,
        chunks=len(chunks),
        files=len(loaded.loaded),
        failures=loaded.failed,
        skipped=loaded.skipped,
        partial=loaded.partial,
    )
    vector_store = store.vector_store(collection, create=True)
    manager = record_manager(store, collection)
    if store.collection(collection).count() == 0:
        # Records of an empty collection are stale (its Chroma folder was deleted or replaced): dropped, or
        # index() would call every file "unchanged" and leave the collection empty.
        manager.delete_keys(manager.list_keys())
    store.touch(collection)
    result = index(
        _report_progress(chunks, progress, every=batch_size),
        manager,
        vector_store,
        batch_size=batch_size,
        cleanup="scoped_full",  # "incremental" cleans per batch and would drop a file's later batches
        source_id_key="source",
        key_encoder="sha256",
    )
    # index() replaces a changed chunk by adding the new one and deleting the old: within the files of this
    # ingest, as many chunks as were both added and deleted count as updated
    replaced = min(result["num_added"], result["num_deleted"])
    report.added, report.deleted = result["num_added"] - replaced, result["num_deleted"] - replaced
    report.updated, report.unchanged = replaced + result["num_updated"], result["num_skipped"]
    if sync:
        failed = [failure.path for failure in loaded.failed]
        report.deleted += _remove_sources(store, collection, {*loaded.loaded, *failed}, unseen=failed)
    store.touch(collection)
    report.seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "done")
    log.info(
        "ingest %s: %d added, %d updated, %d deleted, %d unchanged, %d failed in %.1fs",
        collection,
        report.added,
        report.updated,
        report.deleted,
        report.unchanged,
        report.failed,
        report.seconds,
    )
    return report


def delete_knowledge_base(store: DocumentStore, collection: str) -> int:
    """Drop a collection and its records; returns how many chunks it held.

    Raises:
        CollectionNotFoundError: there is no such collection.
    """
    count = store.collection(collection).count()
    manager = record_manager(store, collection)
    manager.delete_keys(manager.list_keys())
    store.delete(collection)
    return count
