"""The LLM-dependent steps with the real packaged smollm2-135m: whatever the small model writes, the result
is a validated typed object (or the deterministic fallback), never an exception or an invented value."""

from __future__ import annotations

from datetime import date

import pytest
from langchain_core.documents import Document

from domains.healthcare.booking import parse_booking_request
from domains.healthcare.compliance import Clause, review_clause
from domains.insurance.extraction import extract_claim


@pytest.fixture(scope="module")
def smollm(model_cache_dir):
    from rag.llm import LLMConfig, load_chat_model

    return load_chat_model(
        LLMConfig(model="smollm2-135m", device="cpu", max_new_tokens=64, threads=1), model_cache_dir
    )


@pytest.mark.slow
def test_structured_steps_survive_a_real_small_model(smollm):
    today = date(2026, 11, 30)
    request = parse_booking_request(
        "I'd like an appointment about my crown please",
        today=today,
        specialties=["dentistry", "general practice"],
        chat_model=smollm,
    )
    assert request.specialty in (None, "dentistry", "general practice")
    assert request.date is None or request.date >= today

    passage = Document(
        "A covered entity must act on a request for access no later than 30 days after receipt.",
        metadata={"source": "hipaa.md"},
    )
    finding = review_clause(
        Clause(id="1", text="The privacy officer handles requests for access to records."),
        [passage],
        chat_model=smollm,
    )
    assert finding.status in ("consistent", "possible gap", "not covered") and finding.method in (
        "llm",
        "default",
    )

    documents = [
        Document(
            "Storm claim. Our fence blew down on 2026-03-01 and the repair costs $800.",
            metadata={"source": "/claims/CLM-7/note.txt"},
        )
    ]
    record = extract_claim(documents, claim_id="CLM-7", chat_model=smollm)
    corpus = documents[0].page_content.lower()
    for name in ("claimant", "policy_number", "description"):
        value = getattr(record, name).value
        assert value is None or str(value).lower()[:20] in corpus
