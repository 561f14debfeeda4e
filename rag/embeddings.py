"""Sentence embeddings as a langchain-core ``Embeddings``: the packaged MiniLM by default, any local
sentence-transformers folder by setting. Vectors are L2-normalised, so cosine similarity is a dot product."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from genai_models.registry import ModelRegistry
from genai_models.runtime import has_native_bf16, resolve_device


class EmbeddingConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str = Field("minilm", description="registry name or local sentence-transformers folder")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(64, ge=1, le=4096)
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 where the hardware computes it natively (cosine to fp32 >= 0.998)"
    )


class SentenceTransformerEmbeddings(Embeddings):
    """Wraps a ``SentenceTransformer``; also counts tokens so chunkers can size chunks in model tokens."""

    def __init__(
        self, model_path: Path | str, *, device: str = "cpu", batch_size: int = 64, dtype: str = "float32"
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            str(model_path), device=device, model_kwargs={"dtype": getattr(torch, dtype)}
        )
        self.dtype = dtype
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.max_tokens = int(self.model.max_seq_length)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)
        vectors = vectors.astype(np.float32)  # normalise in fp32: a bf16 norm is off by up to 1%
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
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
    device = resolve_device(config.device)
    dtype = config.dtype
    if dtype == "auto":
        dtype = "bfloat16" if has_native_bf16(device) else "float32"
    return SentenceTransformerEmbeddings(path, device=device, batch_size=config.batch_size, dtype=dtype)
