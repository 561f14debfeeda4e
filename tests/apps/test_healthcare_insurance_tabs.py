"""The healthcare and insurance hub tabs build, and their handlers (called directly) delegate to the domains:
an emergency answered first, a slot proposed then booked on "yes", a claim triaged with cited clauses, and
the dashboard tables. Heavy collaborators (LLM, embeddings, anomaly training) are replaced by small fakes."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest

import apps.flows as flows
from apps.tabs import healthcare, insurance
from data_connectors.documents import load_documents

ROOT = Path(__file__).resolve().parents[2]


class _NoCollections:
    def exists(self, name: str) -> bool:
        return False


class _PolicyRetriever:
    def __init__(self) -> None:
        self.documents = load_documents(
            [ROOT / "samples/knowledge_bases/insurance/homeowners-policy-wording.docx"]
        ).documents

    def invoke(self, query: str):
        return self.documents


@pytest.fixture
def fake_services(services, monkeypatch, scripted_reply="{}"):
    services.__dict__["document_store"] = _NoCollections()
    monkeypatch.setattr(services, "chat_model", lambda: None)
    monkeypatch.setattr(services, "retriever", lambda collection, filters=None: _PolicyRetriever())
    monkeypatch.setattr(flows, "claims_anomaly_scorer", lambda portfolio: None)
    return services


def _handlers(module, services) -> dict[str, object]:
    with gr.Blocks() as blocks:
        module.build(services)
    return {fn.fn.__name__: fn.fn for fn in blocks.fns.values()}


def test_healthcare_tab_chat_safety_and_booking(fake_services):
    handlers = _handlers(healthcare, fake_services)
    history, session, cleared = handlers["chat"](
        "I have crushing chest pain", [], None, "", None, None, "patient-info"
    )
    assert history[-1]["content"].startswith("This could be a medical emergency") and cleared == ""
    tuesday = date.today() + timedelta(days=(1 - date.today().weekday()) % 7 or 7)
    history, session, _ = handlers["chat"](
        f"book a dentist on {tuesday.isoformat()} morning",
        history,
        session,
        "Ann Lee",
        None,
        None,
        "patient-info",
    )
    assert "Shall I book it?" in history[-1]["content"] and session.pending is not None
    history, session, _ = handlers["chat"]("yes", history, session, "Ann Lee", None, None, "patient-info")
    assert history[-1]["content"].startswith("Booked:")
    slots = handlers["find_slots"]("dentistry", tuesday.isoformat(), "morning")
    assert isinstance(slots, pd.DataFrame) and not slots.empty
    assert "Not booked" in handlers["book"](999, f"{tuesday.isoformat()}T09:00", "Bo Chen")


def test_insurance_tab_triage_and_dashboard(fake_services):
    handlers = _handlers(insurance, fake_services)
    summary, document = handlers["triage"](None, str(ROOT / "samples/claims/CLM-1007"), "insurance")
    assert "DENY" in summary and "4.1" in summary and document["draft"] is True
    volume, trend, processing, approval, fraud, profile = handlers["dashboard"]("")
    assert {"month", "segment", "claims"} <= set(volume.columns) and "mean_processing_days" in trend
    assert set(processing["segment"]) == {"home", "motor", "travel", "commercial"}
    assert approval["approval_rate"].between(0, 1).all() and fraud["fraud_flag_rate"].between(0, 1).all()
    assert list(profile.columns)[:2] == ["segment", "claims"]


def test_appointment_book_page_needs_the_grant_and_audits_who_did_what(fake_services):
    from types import SimpleNamespace

    from data_connectors.audit import AuditLog

    handlers = _handlers(healthcare, fake_services)
    tuesday = date.today() + timedelta(days=(1 - date.today().weekday()) % 7 or 7)
    slot = handlers["find_slots"]("dentistry", tuesday.isoformat(), "morning").iloc[0]
    start = pd.Timestamp(slot["start"]).isoformat()
    fake_services.users.add("alice", "alice-password-1")
    try:  # the data dir (and its user table) is shared by the session: alice must not outlive this test
        assert "Log in first" in handlers["book"](slot["clinician_id"], start, "Ann Lee", None)
        alice = SimpleNamespace(username="alice")
        assert "no access to collection 'appointments'" in handlers["book"](
            slot["clinician_id"], start, "Ann Lee", alice
        )  # a login without the grant cannot book, cancel or list slots
        with pytest.raises(gr.Error, match="no access"):
            handlers["find_slots"]("dentistry", tuesday.isoformat(), "morning", alice)
        fake_services.users.grant("alice", "appointments")
        booked = handlers["book"](slot["clinician_id"], start, "Ann Lee", alice)
        assert booked.startswith("Booked #")
        number = int(booked.split("#")[1].split(":")[0])
        assert "Log in first" in handlers["cancel"](number, None)
        assert handlers["cancel"](number, alice).startswith(f"Cancelled #{number}")
    finally:
        fake_services.users.remove("alice")
    # other tests of the module book through the chat as "local"; alice's page actions are these two
    entries = [e for e in AuditLog(fake_services.database).entries(collection="appointments") if e.actor == "alice"]
    assert sorted((e.actor, e.action) for e in entries) == [("alice", "book"), ("alice", "cancel")]
    assert all("Ann Lee" not in e.question for e in entries)  # the appointment's number, not the patient


def test_patient_chat_audit_names_the_user_not_the_patient(fake_services):
    from data_connectors.audit import AuditLog

    handlers = _handlers(healthcare, fake_services)
    handlers["chat"](
        "This is Ann Lee, when does the clinic open?", [], None, "Ann Lee", None, None, "patient-info"
    )
    entry = AuditLog(fake_services.database).entries(collection="patient-info")[0]
    assert entry.actor == "local" and "Ann" not in entry.question and "Lee" not in entry.question


def test_uploaded_claim_documents_are_deleted_after_triage(fake_services, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    handlers = _handlers(insurance, fake_services)
    files = sorted(str(p) for p in (ROOT / "samples/claims/CLM-1007").iterdir())
    summary, document = handlers["triage"](files, "CLM-1007", "insurance")
    assert "DENY" in summary and document["draft"] is True
    assert not list(tmp_path.glob("genai-claim-*"))  # no copy of the claimant's documents stays behind


def test_compliance_review_is_audited_under_the_reviewer(fake_services, tmp_path):
    from data_connectors.audit import AuditLog

    policy = tmp_path / "privacy-policy.md"
    policy.write_text("# Breach notification\n\nWe notify affected individuals within 90 days of discovery.\n")
    handlers = _handlers(healthcare, fake_services)
    handlers["review"](str(policy), "health-privacy", False, None)
    entry = AuditLog(fake_services.database).entries(collection="health-privacy")[0]
    assert (entry.actor, entry.action) == ("local", "review")  # who reviewed, not the feature's name
