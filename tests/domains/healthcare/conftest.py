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
