"""Audit log: who asked what of which collection, stored in the toolkit database with identifiers redacted.

Regulated deployments must show who queried patient or claim data; the question is kept for that purpose
but passes through ``privacy.redact`` first, so the log itself holds no PHI.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import DateTime, Engine, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from data_connectors.privacy import Redactor, redact

MAX_QUESTION_CHARS = 2_000  # enough to tell what was asked; a huge question must not bloat the log


class _Base(DeclarativeBase):
    pass


class AuditRow(_Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(60))
    collection: Mapped[str] = mapped_column(String(120), index=True)
    question: Mapped[str] = mapped_column(Text)


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    collection: str
    question: str


# PUBLIC API


class AuditLog:
    """Appends and lists audit entries; creates its table on first use."""

    def __init__(self, engine: Engine, *, redactor: Redactor | None = None) -> None:
        self.engine = engine
        self._redact = redactor.redact if redactor is not None else redact
        _Base.metadata.create_all(engine)

    def record(self, *, actor: str, action: str, collection: str, question: str) -> AuditEntry:
        """Store one entry; the question (and actor, in case it is a person's name) is redacted first.

        The question is kept to ``MAX_QUESTION_CHARS``, cut after redaction so no identifier is split unredacted
        (redaction runs on a generous prefix only, so its cost stays bounded too).
        """
        entry = AuditEntry(
            at=datetime.now(UTC),
            actor=self._redact(actor or "anonymous")[:120],
            action=action[:60],
            collection=collection[:120],
            question=self._redact(question[: 4 * MAX_QUESTION_CHARS])[:MAX_QUESTION_CHARS],
        )
        with Session(self.engine) as session, session.begin():
            session.add(AuditRow(**entry.model_dump()))
        return entry

    def entries(self, *, collection: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Most recent first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if collection is not None:
            query = query.where(AuditRow.collection == collection)
        with Session(self.engine) as session:
            return [
                AuditEntry(
                    at=r.at, actor=r.actor, action=r.action, collection=r.collection, question=r.question
                )
                for r in session.scalars(query)
            ]
