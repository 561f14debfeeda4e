"""Chroma behind one adapter: embedded persistent mode by default, ``chroma run`` server mode by setting.

One Chroma collection holds one knowledge base. Collections always get our own ``Embeddings`` (Chroma's
default embedding function would download a model) and the cosine space, so a hit's relevance is its cosine
similarity. Each collection's metadata carries a ``version`` that every ingest changes, so caches built from
the stored texts (the BM25 index) know when to rebuild, across processes and in server mode alike.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    import chromadb
    from langchain_chroma import Chroma

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
_PAGE = 1000  # rows per request when reading a whole collection back


class ChromaConfig(BaseModel):
    """Where the vectors live: ``embedded`` files under ``<data_dir>/chroma`` or a ``chroma run`` server."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["embedded", "server"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    ssl: bool = False
    path: Path | None = Field(None, description="embedded mode folder; default <data_dir>/chroma")


class CollectionNotFoundError(BadInputError):
    """A knowledge base that was never ingested (or was deleted)."""


@dataclass(frozen=True)
class StoredChunks:
    """Every chunk of a collection, in one order: what side indexes (BM25) are built from."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]


# ---------------------------------------------------------------- helpers


@lru_cache(maxsize=8)
def _client(config: ChromaConfig, data_dir: Path) -> chromadb.ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if config.mode == "server":
        try:
            return chromadb.HttpClient(host=config.host, port=config.port, ssl=config.ssl, settings=settings)
        except Exception as error:  # chromadb raises a bare ValueError/ConnectError when nobody listens
            raise BadInputError(
                f"Cannot reach the Chroma server at {config.host}:{config.port} ({error}); start it with "
                f"`chroma run --host {config.host} --port {config.port}` or set GENAI_CHROMA__MODE=embedded."
            ) from None
    path = config.path or data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


# PUBLIC API


def validate_collection_name(name: str) -> str:
    """``name`` unchanged if Chroma accepts it as a collection name.

    Raises:
        BadInputError: the name is not 3-63 characters of letters, digits, ``.``, ``_`` or ``-`` starting
            and ending with a letter or digit (Chroma's own rule, kept short for folder-named bases).
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise BadInputError(
            f"Collection name {name!r} is invalid: use 3-63 letters, digits, '.', '_' or '-', starting and "
            "ending with a letter or digit (e.g. 'hipaa-privacy')."
        )
    return name


IMAGES_KIND = "images"  # the ``kind`` metadata of image collections


def image_collection_names(client: chromadb.ClientAPI) -> set[str]:
    """Names of the store's image collections (marked ``kind: images`` when created)."""
    return {c.name for c in client.list_collections() if (c.metadata or {}).get("kind") == IMAGES_KIND}


class DocumentStore:
    """Knowledge bases (Chroma collections) with our embeddings, in embedded or server mode.

    Args:
        config: embedded or server mode and where.
        data_dir: the toolkit's data folder (embedded files go to ``<data_dir>/chroma``).
        embeddings: embeds chunks at ingest and queries at search; normalised vectors are assumed.
    """

    def __init__(self, *, config: ChromaConfig, data_dir: Path, embeddings: Embeddings) -> None:
        if not isinstance(embeddings, Embeddings):
            raise TypeError(
                f"embeddings must be a langchain_core Embeddings, got {type(embeddings).__name__}; "
                "use rag.embeddings.load_embeddings(...)."
            )
        self.config = config
        self.data_dir = Path(data_dir)
        self.embeddings = embeddings
        self.client = _client(config, self.data_dir)

    @property
    def location(self) -> str:
        """Where the vectors live, for logs and cache keys."""
        if self.config.mode == "server":
            return f"http{'s' if self.config.ssl else ''}://{self.config.host}:{self.config.port}"
        return str(self.config.path or self.data_dir / "chroma")

    def collections(self) -> list[str]:
        """Knowledge-base names; image collections (``rag.image_collections``) share the store and are left out."""
        return sorted(
            collection.name
            for collection in self.client.list_collections()
            if (collection.metadata or {}).get("kind") != IMAGES_KIND
        )

    def _refuse_image_collection(self, name: str) -> None:
        if name in image_collection_names(self.client):
            raise BadInputError(
                f"{name!r} is an image collection (similar-case search), not a knowledge base; use another "
                "collection name for documents."
            )

    def exists(self, name: str) -> bool:
        return validate_collection_name(name) in self.collections()

    def collection(self, name: str, *, create: bool = False) -> chromadb.Collection:
        """The raw Chroma collection (for counts and paging); created in the cosine space if asked.

        Raises:
            CollectionNotFoundError: it does not exist and ``create`` is False.
        """
        validate_collection_name(name)
        self._refuse_image_collection(name)
        if create:
            return self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"version": uuid.uuid4().hex},
            )
        if name not in self.collections():
            # The other names are not listed: the hub and the API show this to people who may not use them.
            raise CollectionNotFoundError(
                f"Knowledge base {name!r} does not exist; create it with `genai ingest PATH --collection {name}` "
                "(`genai collections list` shows the existing ones)."
            )
        return self.client.get_collection(name, embedding_function=None)

    def vector_store(self, name: str, *, create: bool = False) -> Chroma:
        """The langchain ``Chroma`` vector store over one knowledge base."""
        from langchain_chroma import Chroma

        collection = self.collection(name, create=create)
        store = Chroma(
            collection_name=name,
            embedding_function=self.embeddings,
            client=self.client,
            create_collection_if_not_exists=False,
        )
        # langchain_chroma fetched the collection without an embedding function, so Chroma attached its
        # default one, which downloads a model if ever called: use ours, which has none.
        store._chroma_collection = collection
        return store

    def dense_search(
        self, name: str, vector: list[float], *, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """``(id, text, metadata, cosine similarity)`` of the ``k`` nearest chunks, best first."""
        collection = self.collection(name)
        if collection.count() == 0:
            return []
        found = collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(
            found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
        )
        return [
            (chunk_id, text or "", dict(meta or {}), 1.0 - distance)
            for chunk_id, text, meta, distance in rows
        ]

    def version(self, name: str) -> tuple[int, str]:
        """``(count, version)``: changes whenever the collection's content may have changed."""
        collection = self.collection(name)
        return collection.count(), str((collection.metadata or {}).get("version", ""))

    def touch(self, name: str) -> None:
        """Mark the collection as changed (called before and after every write)."""
        collection = self.collection(name)
        collection.modify(metadata={**(collection.metadata or {}), "version": uuid.uuid4().hex})

    def iter_metadatas(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(id, metadata)`` of every chunk, page by page."""
        collection = self.collection(name)
        for offset in range(0, collection.count(), _PAGE):
            page = collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            yield from zip(page["ids"], page["metadatas"] or [], strict=True)

    def chunks(self, name: str) -> StoredChunks:
        """Every stored chunk's id, text and metadata."""
        collection = self.collection(name)
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for offset in range(0, collection.count(), _PAGE):
            page = collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            ids += page["ids"]
            texts += [text or "" for text in page["documents"] or []]
            metadatas += [dict(meta or {}) for meta in page["metadatas"] or []]
        return StoredChunks(ids, texts, metadatas)

    def stats(self, name: str) -> dict[str, Any]:
        """Chunk and file counts, and chunks per document type."""
        sources: set[str] = set()
        doc_types: dict[str, int] = {}
        count = 0
        for _, metadata in self.iter_metadatas(name):
            count += 1
            sources.add(str(metadata.get("source", "")))
            doc_type = str(metadata.get("doc_type", "unknown"))
            doc_types[doc_type] = doc_types.get(doc_type, 0) + 1
        return {"collection": name, "chunks": count, "files": len(sources), "doc_types": doc_types}

    def delete(self, name: str) -> None:
        """Drop the Chroma collection (see ``rag.indexing.delete_knowledge_base`` for records too)."""
        self.collection(name)
        self.client.delete_collection(name)
