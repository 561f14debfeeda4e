"""Compliance review rules on hand-written regulation passages (paraphrasing 45 CFR 164.404/.524/.530/.508)."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document

from data_connectors.errors import BadInputError
from domains.healthcare.compliance import Clause, review_clause, review_policy, split_clauses

PASSAGES = [
    Document(
        "A covered entity shall provide the notification required by paragraph (a) of this section without "
        "unreasonable delay and in no case later than 60 calendar days after discovery of a breach.",
        metadata={"source": "hipaa.txt", "section": "164.404(b)"},
    ),
    Document(
        "The covered entity must act on a request for access no later than 30 days after receipt of the request. "
        "The individual has a right of access to inspect and obtain a copy of protected health information.",
        metadata={"source": "hipaa.txt", "section": "164.524"},
    ),
    Document(
        "A covered entity must retain the documentation required by this section for six years from the date of "
        "its creation or the date when it last was in effect, whichever is later.",
        metadata={"source": "hipaa.txt", "section": "164.530(j)"},
    ),
    Document(
        "A covered entity must obtain an authorization for any use or disclosure of protected health information "
        "for marketing.",
        metadata={"source": "hipaa.txt", "section": "164.508(a)(3)"},
    ),
]


def _retrieve(_: str) -> list[Document]:
    return PASSAGES


@pytest.mark.parametrize(
    ("clause", "status", "section"),
    [
        (
            "Patients affected by a breach of their information will be notified within 90 days of discovery.",
            "possible gap",
            "164.404(b)",
        ),
        (
            "Individuals affected by a breach are notified within 30 calendar days after discovery of the breach.",
            "consistent",
            "164.404(b)",
        ),
        (
            "Policy documentation is retained for three years from the date of its creation.",
            "possible gap",
            "164.530(j)",
        ),
        (
            "Documentation required by this policy is retained for ten years from its creation.",
            "consistent",
            "164.530(j)",
        ),
        (  # six years written in months: equal, not short by the 30-day months' 42 days
            "Documentation required by this policy is retained for 72 months from the date of its creation.",
            "consistent",
            "164.530(j)",
        ),
        (
            "Requests for access to records are answered within forty-five days of receipt of the request.",
            "possible gap",
            "164.524",
        ),
        (
            "The marketing team may use patient contact information for marketing campaigns without authorization.",
            "possible gap",
            "164.508(a)(3)",
        ),
        (
            "Patients may not inspect or obtain a copy of their protected health information.",
            "possible gap",
            "164.524",
        ),
        (
            "Staff must park in the east car park and display a valid permit at all times.",
            "not covered",
            None,
        ),
    ],
)
def test_rules_classify_clauses_and_cite_the_passage(clause, status, section):
    finding = review_clause(Clause(id="1", text=clause), PASSAGES)
    assert finding.status == status, finding
    if section:
        assert finding.citation.section == section
    if status == "possible gap":
        assert finding.suggested_fix and finding.method == "rule"


@pytest.mark.parametrize(
    "clause",
    [
        "Staff may not disclose protected health information to anyone without the patient's valid written "
        "authorization.",
        "We will never use or disclose protected health information without a valid authorization for marketing.",
        "Staff can't use patient contact details for marketing without authorization.",
        "Patients are not required to give a reason when they request access to their protected health information.",
    ],
)
def test_forbidding_clauses_and_duties_of_the_patient_are_not_gaps(clause):
    assert review_clause(Clause(id="1", text=clause), PASSAGES).status != "possible gap"


def test_not_required_said_of_the_clinic_is_still_a_gap():
    clause = "The clinic is not required to provide access to protected health information on request."
    finding = review_clause(Clause(id="1", text=clause), PASSAGES)
    assert finding.status == "possible gap" and finding.citation.section == "164.524"


ACCOUNTING = [
    Document(
        "An individual has a right to receive an accounting of disclosures of protected health information made "
        "by a covered entity in the six years prior to the date on which the accounting is requested. The covered "
        "entity must act on the individual's request for an accounting no later than 60 days after receipt of "
        "such a request.",
        metadata={"source": "hipaa.txt", "section": "164.528"},
    )
]


@pytest.mark.parametrize(
    ("clause", "status", "cited"),
    [
        (
            "The clinic responds to a request for an accounting of disclosures within 90 days, covering "
            "disclosures made in the past six years.",
            "possible gap",
            "no later than 60 days",
        ),
        (
            "Patients may request an accounting of disclosures made in the three years before the request, and "
            "the clinic responds to the request within 30 days.",
            "possible gap",
            "six years prior",
        ),
        (
            "Patients may request an accounting of disclosures made in the six years before the request, and the "
            "clinic responds to the request within 30 days.",
            "consistent",
            None,
        ),
    ],
)
def test_each_period_is_compared_with_the_regulation_period_of_its_role(clause, status, cited):
    finding = review_clause(Clause(id="1", text=clause), ACCOUNTING)
    assert finding.status == status and finding.method == "rule", finding
    if cited:
        assert cited in finding.citation.text


def test_split_clauses_keeps_document_numbers_and_drops_headings():
    text = (
        "Privacy Policy\n\n1. Breach notices go out within 90 days of discovery.\n1.1 Access requests are "
        "answered within 30 days of receipt.\n\n(a) Staff receive privacy training every single year."
    )
    clauses = split_clauses(text)
    assert [c.id for c in clauses] == ["1", "1.1", "a"]
    assert clauses[0].text.startswith("Breach notices")


def test_llm_judges_only_what_rules_leave_open_and_bad_json_falls_back(scripted_chat):
    clause = Clause(
        id="7", text="The privacy officer reviews access requests and covered entity duties monthly."
    )
    verdict = '{"status": "possible gap", "reason": "No deadline is given.", "suggested_fix": "Add 30 days."}'
    finding = review_clause(clause, PASSAGES, chat_model=scripted_chat(verdict))
    assert (finding.status, finding.method, finding.suggested_fix) == ("possible gap", "llm", "Add 30 days.")
    fallback = review_clause(clause, PASSAGES, chat_model=scripted_chat("consistent I think"))
    assert (fallback.status, fallback.method) == ("consistent", "default")
    rule_chat = scripted_chat(verdict)
    review_clause(
        Clause(id="8", text="Breach notices go out within 90 days of discovery of a breach."),
        PASSAGES,
        chat_model=rule_chat,
    )
    assert rule_chat.calls == []  # a deterministic finding never asks the model


def test_report_renders_json_markdown_html_with_draft_flag():
    report = review_policy(
        "1. Breach notices go out within 90 days after discovery of a breach.\n\n2. Staff must park in the east "
        "car park with a permit.",
        _retrieve,
        policy_name="policy.md",
        collection="health-privacy",
    )
    assert report.counts == {"consistent": 0, "possible gap": 1, "not covered": 1}
    document = json.loads(report.model_dump_json())
    assert document["draft"] is True and "professional" in document["notice"]
    assert "possible gap" in report.to_markdown() and "<table" in report.to_html()
    with pytest.raises(BadInputError, match="no clauses"):
        review_policy("Title only", _retrieve, policy_name="empty.md", collection="x")
