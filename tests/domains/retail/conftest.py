"""Fakes and fixtures for the retail tests: a bag-of-words embedder and a scripted chat model (both
deterministic, no weights), and the shipped sample catalogue/history (samples/retail, seeded generator)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.llm import ChatModel

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "retail"


class HashEmbeddings(Embeddings):
    """Each lower-cased word hashed into one of 64 dimensions: texts sharing words are similar."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = np.zeros((len(texts), 64))
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").split():
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class ScriptedChat(ChatModel):
    """Replies with the scripted texts in turn (the last one repeats) and records every request."""

    name = "scripted"

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.requests: list[list[dict]] = []

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None) -> Iterator[str]:
        self.requests.append(list(messages))
        yield self.replies[min(len(self.requests), len(self.replies)) - 1]


@pytest.fixture(scope="session")
def sample_tables():
    from domains.retail.recommend import load_catalogue, load_history

    return load_catalogue(SAMPLE / "catalogue.csv"), load_history(SAMPLE / "history.csv")
