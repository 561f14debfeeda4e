"""Contract terms: normalisers, extraction on the self-written samples, deadlines, version and PO checks,
the LLM fallback (scripted fake), and clause overlap on a few real CUAD contracts (skipped when absent)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.finance.contract_terms import add_duration, find_dates, find_durations
from domains.finance.contracts import (
    ContractExtractor,
    check_purchase_orders,
    compare_versions,
    load_purchase_orders,
    read_contract_text,
    split_clauses,
    upcoming_deadlines,
)

from .conftest import SAMPLES, ScriptedChat

CONTRACTS = SAMPLES / "contracts"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("16th day of February, 2000", "2000-02-16"),
        ("April 15 , 2010", "2010-04-15"),
        ("15 April, 2009", "2009-04-15"),
        ("12/31/2014", "2014-12-31"),
        ("January 6th, 2016", "2016-01-06"),
    ],
)
def test_dates_normalise_to_iso(text, iso):
    assert [found.value for found in find_dates(f"signed on {text}.")] == [iso]


def test_durations_and_date_arithmetic():
    found = find_durations(
        "five (5) years, successive one year periods, sixty (60) days, 12 months, thirty days"
    )
    assert [f.value for f in found] == ["P5Y", "P1Y", "P60D", "P12M", "P30D"]
    assert add_duration(date(2020, 1, 31), "P1M").isoformat() == "2020-02-29"
    assert add_duration(date(2027, 3, 31), "P90D", sign=-1).isoformat() == "2026-12-31"
    assert [f.value for f in find_durations("sixty (60) business days prior")] == ["P60B"]
    # 60 business days before Thursday 2026-12-31 are 12 weeks: 2026-10-08 (60 calendar days: 2026-11-01)
    assert add_duration(date(2026, 12, 31), "P60B", sign=-1).isoformat() == "2026-10-08"
    assert add_duration(date(2026, 11, 27), "P1B").isoformat() == "2026-11-30"  # Friday + 1 = Monday


def test_clauses_keep_offsets():
    text = "1. Term.\n\nThe term is two years. Either party may terminate; notice applies."
    for clause in split_clauses(text, min_chars=5):
        assert text[clause.start : clause.end] == clause.text


def test_vendor_agreement_fields_with_cuad_names():
    text = read_contract_text(CONTRACTS / "vendor_supply_agreement_v1.txt")
    analysis = ContractExtractor().extract(text, source="v1")
    expected = {
        "Parties": ["Northwind Home Goods Ltd", "Alba Kitchenware Inc"],
        "Agreement Date": "2025-03-03",
        "Effective Date": "2025-04-01",
        "Expiration Date": "2027-03-31",
        "Renewal Term": "P1Y",
        "Notice Period To Terminate Renewal": "P90D",
        "Governing Law": "New York",
        "Payment Terms": "P30D",
    }
    for name, value in expected.items():
        found = analysis.fields[name]
        assert found.value == value, name
        assert text[found.char_start : found.char_end] == found.clause
    document = json.loads(json.dumps(analysis.to_dict()))
    assert set(document["fields"]["Governing Law"]) >= {"value", "clause", "char_start", "char_end"}
    assert "laws of the State of New York" in document["fields"]["Governing Law"]["clause"]


def test_loan_agreement_terms():
    analysis = ContractExtractor().extract(read_contract_text(CONTRACTS / "term_loan_agreement.txt"))
    assert analysis.value("Maturity Date") == "2030-01-15"
    assert analysis.value("Interest Rate") == "SOFR + 2.75%"
    assert analysis.value("Principal Amount") == "25000000.00"
    assert analysis.value("Financial Covenants") == [
        "Consolidated Leverage Ratio max 3.50 to 1.00",
        "Interest Coverage Ratio min 3.00 to 1.00",
    ]
    assert analysis.value("Parties") == ["Harbor Retail Holdings Inc", "First Meridian Bank"]


def test_deadlines_within_window():
    analysis = ContractExtractor().extract(read_contract_text(CONTRACTS / "vendor_supply_agreement_v1.txt"))
    kinds = {(d.date, d.kind) for d in analysis.deadlines}
    assert {
        ("2025-05-15", "milestone"),
        ("2025-06-30", "milestone"),
        ("2026-12-31", "renewal notice"),
        ("2027-03-31", "expiration"),
    } <= kinds
    soon = upcoming_deadlines([analysis], today=date(2026, 12, 1), within_days=120)
    assert [(d.date, d.kind) for d in soon] == [
        ("2026-12-31", "renewal notice"),
        ("2027-03-31", "expiration"),
    ]
    with pytest.raises(BadInputError):
        upcoming_deadlines([analysis], today=date(2026, 1, 1), within_days=-1)


def test_version_and_purchase_order_discrepancies():
    extractor = ContractExtractor()
    old_text = read_contract_text(CONTRACTS / "vendor_supply_agreement_v1.txt")
    new_text = read_contract_text(CONTRACTS / "vendor_supply_agreement_v2.txt")
    old, new = extractor.extract(old_text), extractor.extract(new_text)
    changed = {(d.field, d.expected, d.found) for d in compare_versions(old, new, old_text, new_text)}
    assert {
        ("Payment Terms", "P30D", "P45D"),
        ("Governing Law", "New York", "Delaware"),
        ("Expiration Date", "2027-03-31", "2028-03-31"),
    } <= changed
    found = check_purchase_orders(old, load_purchase_orders(CONTRACTS / "purchase_orders.csv"))
    details = [d.detail for d in found]
    assert any(d.startswith("PO PO-1002: payment terms differ") for d in details)
    assert any(d.startswith("PO PO-1003: vendor is not a party") for d in details)
    assert any(d.startswith("PO PO-1004: delivery_date after the contract expires") for d in details)
    assert not any("PO-1001" in d for d in details)


def test_llm_only_fills_values_rules_cannot_parse_and_must_parse():
    text = 'This Agreement is made by and between Acme Corp and Beta LLC. "Effective Date" means the Closing Date.'
    chat = ScriptedChat(["2026-01-05"])
    analysis = ContractExtractor(chat_model=chat, fields=["Parties", "Effective Date"]).extract(text)
    assert analysis.fields["Effective Date"].value == "2026-01-05"
    assert analysis.fields["Effective Date"].method == "pattern+llm"
    assert len(chat.requests) == 1
    garbage = ContractExtractor(chat_model=ScriptedChat(["soon"]), fields=["Effective Date"]).extract(text)
    assert garbage.fields["Effective Date"].value is None


def test_bad_inputs():
    with pytest.raises(BadInputError, match="Unknown contract fields"):
        ContractExtractor(fields=["Nope"])
    with pytest.raises(BadInputError, match="no text"):
        ContractExtractor().extract("   ")
    with pytest.raises(FileNotFoundError):
        read_contract_text(CONTRACTS / "missing.txt")


@pytest.mark.shared_data
def test_cuad_clause_overlap_on_a_few_contracts(shared_data):
    cuad = shared_data / "rag-eval" / "cuad"
    rows = [json.loads(line) for line in (cuad / "clause_spans.jsonl").read_text().splitlines()]
    names = sorted({row["contract_txt"] for row in rows})[:6]
    extractor, hits, labelled = ContractExtractor(fields=["Governing Law"]), 0, 0
    for row in rows:
        if row["contract_txt"] in names and row["category"] == "Governing Law" and row["spans"]:
            labelled += 1
            found = extractor.extract((cuad / "contracts" / row["contract_txt"]).read_text(errors="replace"))
            field = found.fields.get("Governing Law")
            spans = [(s["char_start"], s["char_start"] + len(s["text"])) for s in row["spans"]]
            hits += bool(field and any(field.char_start < e and s < field.char_end for s, e in spans))
    assert labelled >= 4 and hits >= labelled - 1


def test_purchase_orders_need_columns(tmp_path):
    path = tmp_path / "po.csv"
    pd.DataFrame({"po_number": [1]}).to_csv(path, index=False)
    with pytest.raises(BadInputError, match="lacks column"):
        load_purchase_orders(path)


def test_business_days_from_a_weekend_and_european_amounts():
    assert add_duration(date(2026, 11, 28), "P1B").isoformat() == "2026-11-30"  # Saturday + 1 = Monday
    assert add_duration(date(2026, 11, 29), "P1B", sign=-1).isoformat() == "2026-11-27"  # Sunday - 1 = Friday
    assert add_duration(date(2026, 11, 25), "P2B", sign=-1).isoformat() == "2026-11-23"  # weekdays unchanged
    text = (
        "LOAN AGREEMENT\n\nThe Lender agrees to make a term loan to the Borrower in the aggregate principal "
        "amount of EUR 2.500.000,00 on the Closing Date.\n"
    )
    assert (
        ContractExtractor(fields=["Principal Amount"]).extract(text).value("Principal Amount") == "2500000.00"
    )


def test_numeric_dates_follow_the_contract_or_are_left_for_review():
    assert [f.value for f in find_dates("from 05/08/2014 until 25/08/2014")] == ["2014-08-05", "2014-08-25"]
    assert [f.value for f in find_dates("from 05/08/2014 until 08/25/2014")] == ["2014-05-08", "2014-08-25"]
    assert find_dates("signed on 05/08/2014.") == []  # reads two ways: not guessed
    text = (
        "SUPPLY AGREEMENT\n\nThis Agreement is made and entered into as of 05/08/2014 by and between Acme "
        "Corp. and Beta Ltd.\n"
    )
    found = ContractExtractor(fields=["Agreement Date"]).extract(text).fields["Agreement Date"]
    assert (
        found.value is None and found.review == "05/08/2014 reads as 2014-08-05 or 2014-05-08; confirm which"
    )
    assert found.to_dict()["review"] == found.review
