"""Wiring of the healthcare and insurance flows to the services, shared by their CLI commands and hub tabs.

Kept apart from the CLI modules so the hub can build its tabs without importing the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.services import Services
    from domains.healthcare.appointments import AppointmentBook
    from domains.healthcare.assistant import PatientAssistant
    from domains.insurance.anomaly import ClaimsAnomalyScorer, UnusablePortfolio
    from domains.insurance.triage import TriageResult
    from rag.answering import Answer

SAMPLE_CLAIMS = Path(__file__).resolve().parents[1] / "samples" / "claims"


def appointment_book(services: Services) -> AppointmentBook:
    """The appointment book on the configured database, seeded with the shipped clinicians on first use."""
    from domains.healthcare.appointments import AppointmentBook

    book = AppointmentBook(services.database)
    book.seed()
    return book


def build_patient_assistant(services: Services, collection: str) -> PatientAssistant:
    """The assistant wired to the database, the clinic directory and, when the collection exists, answering."""
    from data_connectors.audit import AuditLog
    from domains.healthcare.assistant import PatientAssistant
    from domains.healthcare.clinics import ClinicDirectory

    def answer(question: str) -> Answer:
        return services.answerer(collection).ask(question)

    return PatientAssistant(
        book=appointment_book(services),
        answer=answer if services.document_store.exists(collection) else None,
        chat_model=services.chat_model,
        directory=ClinicDirectory.from_csv(),
        audit=AuditLog(services.database),
        collection=collection,
    )


def claims_anomaly_scorer(portfolio: Path) -> ClaimsAnomalyScorer | UnusablePortfolio:
    """The autoencoder anomaly model trained on the claims table, as a scorer for triage."""
    from domains.insurance.anomaly import train_claims_anomaly

    return train_claims_anomaly(portfolio)


def run_triage(
    services: Services,
    claim_dir: Path,
    policy: str,
    *,
    register: Path | None = None,
    portfolio: Path | None = None,
    use_llm: bool = False,
    actor: str = "claims-handler",
) -> TriageResult:
    """Triage with the defaults: shipped register and portfolio unless others are given.

    ``actor`` is who the audit log records as asking: the hub passes the login, the CLI keeps the default.
    """
    from data_connectors.audit import AuditLog
    from domains.insurance.triage import PolicyRegister, triage_claim

    retriever = services.retriever(policy)
    return triage_claim(
        claim_dir,
        retrieve_policy=retriever.invoke,
        register=PolicyRegister.from_csv(register or SAMPLE_CLAIMS / "policies.csv"),
        anomaly=claims_anomaly_scorer(portfolio or SAMPLE_CLAIMS / "portfolio.csv"),
        chat_model=services.chat_model() if use_llm else None,
        audit=AuditLog(services.database),
        actor=actor,
        collection=policy,
    )
