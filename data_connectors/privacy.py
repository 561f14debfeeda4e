"""Keep personal identifiers out of logs: a text redactor and a ``logging.Filter`` that applies it.

Patient and claimant identifiers (names, policy and claim numbers, phone numbers, e-mail addresses, dates of
birth, member ids) must never reach a log file. Patterns catch the structured identifiers; names are caught
after the cues people write them behind ("Claimant:", "my name is", "Mrs.") and, where a flow knows them,
by registering them with ``Redactor.remember``. The filter rewrites the message before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

_NAME = r"[A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+){0,2}"

# Order matters: the most specific patterns run first, so e-mails are not half-eaten by the name rules.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "DOB",
        re.compile(
            r"(?i)\b(?:date\s+of\s+birth|d\.?o\.?b\.?|born(?:\s+on)?|birth\s*date)\s*[:\-]?\s*"
            r"(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})"
        ),
    ),
    ("POLICY", re.compile(r"\b(?:POL|PN|POLICY|HO|AU|MOT|HOM|TRV)[-/]?\d[\w-]{3,}\b", re.IGNORECASE)),
    ("CLAIM", re.compile(r"\bCLM[-/]?\d{3,}\b", re.IGNORECASE)),
    (
        "ID",
        re.compile(
            r"(?i)\b(?:policy|member|patient|mrn|ssn|insurance|account)\s*(?:no\.?|number|num|#|id)\s*[:#]?\s*"
            r"[A-Z0-9][A-Z0-9-]{3,}\b"
        ),
    ),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    (
        "PHONE",
        re.compile(
            r"(?<![\w-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}(?![\w-])"
        ),
    ),
    (
        "NAME",
        re.compile(
            r"(?:(?i:\b(?:claimant|insured|policyholder|policy\s+holder|patient|name|full\s+name|contact)"
            r"\s*(?:name)?\s*[:=]\s*)|(?i:\bmy\s+name\s+is\s+|\bi\s+am\s+|\bi'm\s+|\bthis\s+is\s+)"
            r"|\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+)" + f"({_NAME})"
        ),
    ),
)

_LOWER_WORDS = {"a", "an", "the", "not", "in", "at", "so", "very", "having", "feeling", "worried", "sure"}


def _replace_name(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.split()[0].lower() in _LOWER_WORDS:
        return match.group(0)
    return match.group(0)[: match.start(1) - match.start(0)] + "[NAME]"


class Redactor:
    """Replaces identifiers in text with ``[KIND]`` placeholders; thread-safe, shared by a process's loggers."""

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._names_pattern: re.Pattern[str] | None = None
        self.remember(*known_names)

    def remember(self, *names: str) -> None:
        """Register names a flow knows (the patient in this chat, the claimant of this claim)."""
        parts = {part for name in names for part in [name.strip(), *name.split()] if len(part.strip()) >= 3}
        if not parts:
            return
        with self._lock:
            self._names |= parts
            alternatives = "|".join(re.escape(name) for name in sorted(self._names, key=len, reverse=True))
            self._names_pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)

    def redact(self, text: str) -> str:
        for kind, pattern in _PATTERNS:
            text = pattern.sub(_replace_name if kind == "NAME" else f"[{kind}]", text)
        names = self._names_pattern
        return names.sub("[NAME]", text) if names is not None else text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged) through a ``Redactor`` before handlers format it."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or DEFAULT_REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        return True


DEFAULT_REDACTOR = Redactor()


# PUBLIC API


def redact(text: str) -> str:
    """``text`` with identifiers replaced by ``[EMAIL]``, ``[PHONE]``, ``[POLICY]``, ``[NAME]``, ... placeholders."""
    return DEFAULT_REDACTOR.redact(text)


def protect_logger(logger: logging.Logger | str, redactor: Redactor | None = None) -> logging.Logger:
    """Attach a ``RedactingFilter`` to ``logger`` once (idempotent) and return it.

    Filters on a logger apply to records logged through that logger; flows that handle patient or claim
    data log only through loggers protected here.
    """
    logger = logging.getLogger(logger) if isinstance(logger, str) else logger
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter(redactor))
    return logger
