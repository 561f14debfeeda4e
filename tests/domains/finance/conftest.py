"""Fakes for the finance tests: a scripted chat model and a fixed-passage retriever (deterministic, no
weights). Sample files: samples/contracts (self-written), samples/finance (seeded generators, self-written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.llm import ChatModel

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


class ScriptedChat(ChatModel):
    """Replies with the scripted texts in turn (the last one repeats) and records every request."""

    name = "scripted"

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.requests: list[list[dict]] = []

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None) -> Iterator[str]:
        self.requests.append(list(messages))
        yield self.replies[min(len(self.requests), len(self.replies)) - 1]


class FixedRetriever(BaseRetriever):
    """Returns the same passages for every query (``dense_score`` set, as answering expects)."""

    passages: list[Document]

    def _get_relevant_documents(self, query, *, run_manager, filters=None):
        return self.passages
