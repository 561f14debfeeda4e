"""Fixtures for healthcare tests: a seeded appointment book on a temporary SQLite file with a fixed clock.

The clock is Monday 30 November 2026, 07:00 (clinic local time); seed data is the shipped clinicians.yaml.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

NOW = datetime(2026, 11, 30, 7, 0)


@pytest.fixture
def engine(tmp_path: Path):
    from data_connectors.database import create_database_engine

    return create_database_engine(f"sqlite:///{tmp_path / 'toolkit.sqlite'}")


@pytest.fixture
def book(engine):
    from domains.healthcare.appointments import AppointmentBook

    book = AppointmentBook(engine, clock=lambda: NOW)
    book.seed()
    return book


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
