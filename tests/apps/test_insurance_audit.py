"""Claim triage from the hub is audited under the login that asked (not a generic role name). Data: the
shipped sample claim CLM-1007 and homeowners policy wording; the anomaly model and the LLM are left out."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

import apps.flows as flows
from apps.settings import load_settings
from apps.tabs import insurance
from data_connectors.audit import AuditLog
from data_connectors.documents import load_documents

ROOT = Path(__file__).resolve().parents[2]


class _PolicyRetriever:
    def invoke(self, query: str):
        return load_documents(
            [ROOT / "samples/knowledge_bases/insurance/homeowners-policy-wording.docx"]
        ).documents


def test_hub_triage_is_audited_under_the_login(tmp_path: Path, monkeypatch) -> None:
    from apps.services import Services

    services = Services(load_settings(data_dir=tmp_path, device="cpu"))  # own database, not the shared one
    monkeypatch.setattr(services, "retriever", lambda collection, filters=None: _PolicyRetriever())
    monkeypatch.setattr(flows, "claims_anomaly_scorer", lambda portfolio: None)
    services.users.add("alice", "alice-password-1")
    services.users.grant("alice", "insurance")
    try:
        with gr.Blocks() as blocks:
            insurance.build(services)
        triage = next(fn.fn for fn in blocks.fns.values() if fn.fn.__name__ == "triage")
        triage(None, str(ROOT / "samples/claims/CLM-1007"), " insurance", SimpleNamespace(username="alice"))
    finally:
        services.users.remove("alice")
    entry = AuditLog(services.database).entries(collection="insurance", limit=1)[0]
    assert (entry.actor, entry.action) == ("alice", "claim-triage")
