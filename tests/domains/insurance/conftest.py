"""Fixtures for insurance tests."""

from __future__ import annotations

import pytest


class ScriptedChat:
    """A deterministic stand-in for ``rag.llm.ChatModel``: replies with a fixed text and records prompts."""

    name = "scripted"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[list[dict[str, str]]] = []

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        self.calls.append(list(messages))
        yield self.reply

    def generate(self, messages, **options):
        return "".join(self.stream(messages, **options))


@pytest.fixture
def scripted_chat():
    return ScriptedChat
