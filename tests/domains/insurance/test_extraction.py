"""Claim field extraction: whole amounts in every common format and numeric dates read day- or month-first
only when the document shows which (synthetic one-line documents written here)."""

from __future__ import annotations

from datetime import date

import pytest
from langchain_core.documents import Document

from domains.insurance.extraction import extract_claim, parse_amount


def _extract(text: str):
    return extract_claim([Document(text, metadata={"source": "CLM-1/form.txt"})], claim_id="CLM-1")


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("12500.00", 12500.0),
        ("4500", 4500.0),
        ("£12500", 12500.0),
        ("$4,250.00", 4250.0),
        ("EUR 1.234,56", 1234.56),
        ("12 500,00 EUR", 12500.0),
        ("€2.500.000,00", 2500000.0),
    ],
)
def test_amounts_are_read_whole(written, amount):
    record = _extract(f"Amount claimed: {written}\n")
    assert record.amount_claimed.value == amount and record.amount_claimed.alternatives == []


def test_an_ambiguous_amount_is_left_for_a_handler():
    record = _extract("Amount claimed: 1.234\n")
    assert record.amount_claimed.value is None and parse_amount("1.234") is None
    assert record.amount_claimed.alternatives == ["1234.0", "1.234"]


def test_numeric_dates_follow_the_documents_own_order():
    day_first = _extract("Date of loss: 03/04/2026\nDate reported: 15/04/2026\n")
    assert (day_first.date_of_loss.value, day_first.date_reported.value) == (
        date(2026, 4, 3),
        date(2026, 4, 15),
    )
    month_first = _extract("Date of loss: 03/04/2026\nDate reported: 03/15/2026\n")
    assert month_first.date_of_loss.value == date(2026, 3, 4)


def test_a_date_that_reads_two_ways_is_marked_not_guessed():
    record = _extract("Policy number: HO-448812\nDate of loss: 03/02/2026\nDate reported: 03/05/2026\n")
    loss = record.date_of_loss
    assert loss.value is None and loss.alternatives == ["2026-02-03", "2026-03-02"] and loss.confidence < 0.5
    assert record.inconsistencies == []  # an open question, not two documents disagreeing


def test_another_document_settles_an_ambiguous_date():
    documents = [
        Document("Date of loss: 03/02/2026\n", metadata={"source": "form.txt"}),
        Document("Date of incident: 2026-03-02\n", metadata={"source": "invoice.txt"}),
    ]
    record = extract_claim(documents, claim_id="CLM-1")
    assert record.date_of_loss.value == date(2026, 3, 2) and record.inconsistencies == []


@pytest.mark.parametrize("label", ["Valuation total", "Estimated value", "Invoice total"])
def test_a_valuation_is_read_as_the_total_the_claim_is_checked_against(label):
    form = Document("Amount claimed: $12,000\n", metadata={"source": "CLM-1/form.txt"})
    valuation = Document(f"Jeweller's report\n{label}: $9,800\n", metadata={"source": "CLM-1/valuation.txt"})
    record = extract_claim([form, valuation], claim_id="CLM-1")
    assert record.invoice_total.value == 9800.0 and record.invoice_total.source == "valuation.txt"
    assert [i.field for i in record.inconsistencies] == ["amount_claimed"]
