"""Image collections in Chroma: explicit embeddings (from any image feature extractor), cosine space.

Shared by the dental and radiology similar-case searches. The caller computes embeddings (e.g. the packaged
EfficientNet-Lite0 features); Chroma's default embedding function is never attached, so nothing is downloaded
and no text model loads. The client comes from ``rag.vectorstore`` (embedded ``<data_dir>/chroma`` by
default, or the configured server), so images and documents live in one store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError
from rag.vectorstore import (
    IMAGES_KIND,
    ChromaConfig,
    CollectionNotFoundError,
    _client,
    image_collection_names,
    validate_collection_name,
)


@dataclass(frozen=True)
class ImageHit:
    id: str
    similarity: float  # cosine similarity, 1 = identical direction
    metadata: dict[str, Any]


class ImageCollection:
    """One named collection of image embeddings.

    Args:
        name: collection name (3-63 letters, digits, ``.``, ``_``, ``-``).
        data_dir: the toolkit's data directory (embedded store under ``<data_dir>/chroma``).
        config: Chroma location (embedded by default).
        create: create the collection when missing; otherwise a missing one raises CollectionNotFoundError.
    """

    def __init__(
        self, name: str, *, data_dir: Path, config: ChromaConfig | None = None, create: bool = False
    ) -> None:
        self.name = validate_collection_name(name)
        client = _client(config or ChromaConfig(), Path(data_dir))
        existing = {c.name for c in client.list_collections()}
        if name in existing and name not in image_collection_names(client):
            raise BadInputError(
                f"{name!r} is a knowledge base of documents, not an image collection; use another name."
            )
        if not create and name not in existing:
            raise CollectionNotFoundError(
                f"Image collection {name!r} does not exist yet; build it first (e.g. `genai dental index`)."
            )
        self._collection = client.get_or_create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine", "kind": IMAGES_KIND}
        )

    def count(self) -> int:
        return self._collection.count()

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> int:
        """Add or replace images by id (re-indexing the same files is idempotent); returns the count written."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(ids) or len(ids) != len(metadatas):
            raise BadInputError(
                f"upsert needs one embedding row and one metadata dict per id; got {len(ids)} ids, "
                f"embeddings {embeddings.shape}, {len(metadatas)} metadatas."
            )
        for start in range(0, len(ids), 1000):
            stop = start + 1000
            self._collection.upsert(
                ids=list(ids[start:stop]),
                embeddings=embeddings[start:stop],
                metadatas=list(metadatas[start:stop]),
            )
        return len(ids)

    def metadatas(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored metadata of those ``ids`` that are in the collection."""
        if not ids:
            return {}
        found = self._collection.get(ids=list(ids), include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(found["ids"], found["metadatas"], strict=True)}

    def query(
        self, embedding: np.ndarray, *, k: int = 5, where: dict[str, Any] | None = None
    ) -> list[ImageHit]:
        """The ``k`` nearest images to one embedding, most similar first."""
        if k < 1:
            raise BadInputError(f"k must be >= 1; received {k}.")
        found = self._collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32).ravel()],
            n_results=min(k, max(1, self.count())),
            where=where,
            include=["metadatas", "distances"],
        )
        return [
            ImageHit(id=i, similarity=1.0 - float(d), metadata=dict(m or {}))
            for i, d, m in zip(found["ids"][0], found["distances"][0], found["metadatas"][0], strict=True)
        ]
