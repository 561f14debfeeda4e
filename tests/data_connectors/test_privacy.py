"""Identifiers never reach log output: the redactor, the logging filter, and the audit log's stored text."""

from __future__ import annotations

import io
import logging

import pytest

from data_connectors.audit import AuditLog
from data_connectors.database import DatabaseConfig, create_database_engine, database_url
from data_connectors.errors import BadInputError
from data_connectors.privacy import Redactor, protect_logger, redact


@pytest.mark.parametrize(
    ("text", "gone", "placeholder"),
    [
        ("Claimant: Jane Doe filed it", "Jane Doe", "[NAME]"),
        ("my name is John Smith and I need help", "John Smith", "[NAME]"),
        ("Mrs. Alice Walker called", "Alice Walker", "[NAME]"),
        ("policy number HO-448812 is active", "HO-448812", "[POLICY]"),
        ("see claim CLM-1003", "CLM-1003", "[CLAIM]"),
        ("call me on +1 555-123-4567", "555-123-4567", "[PHONE]"),
        ("or 020 7946 0958 after six", "7946 0958", "[PHONE]"),
        ("mail jane.doe@example.org today", "jane.doe@example.org", "[EMAIL]"),
        ("DOB: 1980-04-12", "1980-04-12", "[DOB]"),
        ("date of birth 12 March 1975", "12 March 1975", "[DOB]"),
        ("member id: ZX-99812", "ZX-99812", "[ID]"),
    ],
)
def test_redact_replaces_identifiers(text, gone, placeholder):
    cleaned = redact(text)
    assert gone not in cleaned and placeholder in cleaned


def test_redact_keeps_ordinary_text():
    text = "I am having chest pain since 2026-03-04 and the invoice total is 1,200.00"
    assert redact(text) == text


def test_logging_filter_rewrites_messages_and_arguments():
    stream = io.StringIO()
    logger = logging.getLogger("tests.privacy.demo")
    logger.propagate = False
    logger.addHandler(logging.StreamHandler(stream))
    redactor = Redactor()
    redactor.remember("Sandra Novak")
    protect_logger(logger, redactor)
    protect_logger(logger, redactor)  # idempotent
    logger.warning("claim for %s, policy %s, email %s", "Sandra Novak", "HO-366020", "s.novak@example.com")
    logger.warning("Novak called again")
    output = stream.getvalue()
    assert (
        "Sandra" not in output and "Novak" not in output and "HO-366020" not in output and "@" not in output
    )
    assert output.count("[NAME]") == 2 and len(logger.filters) == 1


def test_audit_log_stores_redacted_questions(tmp_path):
    engine = create_database_engine(database_url(DatabaseConfig(), tmp_path))
    audit = AuditLog(engine)
    audit.record(
        actor="nurse-7",
        action="ask",
        collection="patient-info",
        question="My name is Ann Lee, DOB: 1990-01-02, can I move my visit?",
    )
    audit.record(actor="handler", action="triage", collection="insurance", question="triage CLM-1003")
    entries = audit.entries()
    assert [e.collection for e in entries] == ["insurance", "patient-info"]
    assert "Ann Lee" not in entries[1].question and "1990" not in entries[1].question
    assert "move my visit" in entries[1].question and entries[0].question == "triage [CLAIM]"
    assert (tmp_path / "toolkit.sqlite").is_file()
    assert [e.actor for e in audit.entries(collection="insurance")] == ["handler"]


def test_database_url_setting_and_bad_urls():
    assert (
        database_url(DatabaseConfig(url="postgresql+psycopg://db/genai"), "/x")
        == "postgresql+psycopg://db/genai"
    )
    with pytest.raises(BadInputError, match=r"database\.url"):
        create_database_engine("nosuchdriver://host/db")
