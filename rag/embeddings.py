"""Sentence embeddings as a langchain-core ``Embeddings``: the packaged MiniLM by default, any local
sentence-transformers folder by setting. Vectors are L2-normalised, so cosine similarity is a dot product."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from genai_models.registry import ModelRegistry
from genai_models.runtime import resolve_device


class EmbeddingConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str = Field("minilm", description="registry name or local sentence-transformers folder")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(64, ge=1, le=4096)


class SentenceTransformerEmbeddings(Embeddings):
    """Wraps a ``SentenceTransformer``; also counts tokens so chunkers can size chunks in model tokens."""

    def __init__(self, model_path: Path | str, *, device: str = "cpu", batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_path), device=device)
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.max_tokens = int(self.model.max_seq_length)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens the model sees for ``text`` (without special tokens)."""
        encoded = self.model.tokenizer(text, add_special_tokens=False, verbose=False)
        return len(encoded["input_ids"])


@lru_cache(maxsize=4)
def load_embeddings(
    config: EmbeddingConfig, data_dir: Path, allow_network: bool = False
) -> SentenceTransformerEmbeddings:
    """The embedding model for ``config``, loaded once per process (raises AssetError when missing)."""
    path = ModelRegistry(data_dir, allow_network=allow_network).resolve(config.model)
    return SentenceTransformerEmbeddings(
        path, device=resolve_device(config.device), batch_size=config.batch_size
    )
