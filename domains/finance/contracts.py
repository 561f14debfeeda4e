"""Agreement analysis for vendor contracts and loan agreements: key fields, deadlines, discrepancies.

Hybrid and fast enough to evaluate on hundreds of contracts:
1. the contract is split into clauses (sentences/paragraphs) that keep their character offsets;
2. each field (CUAD category names where CUAD has one) scores every clause by weighted regular expressions
   and, when an embedding model is given, by similarity to the field's description (retrieval within the
   contract); the best clause above a threshold is cited;
3. the value is normalised from the cited wording by rules (ISO dates, ISO 8601 durations, jurisdictions,
   party names); only when the rules find nothing and a chat model is given does an LLM pick the value,
   and its answer must itself parse.
Deadlines (expiry, last day to give notice of non-renewal, milestones, loan maturity) come from the values;
discrepancies compare two versions of a contract, or a contract with purchase orders.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.embeddings import Embeddings

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, read_table
from domains.finance.contract_terms import (
    add_duration,
    ambiguous_dates,
    date_order,
    duration_days,
    find_dates,
    find_durations,
)
from rag.llm import ChatModel

Value = str | list[str] | None


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str


@dataclass
class ExtractedField:
    category: str
    value: Value
    clause: str
    char_start: int
    char_end: int
    method: str  # "pattern", "pattern+retrieval", "retrieval", plus "+llm" when the LLM chose the value
    score: float
    review: str | None = None  # why a person must confirm the value (a date that reads two ways)

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "clause": self.clause,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "method": self.method,
            **({"review": self.review} if self.review else {}),
        }


@dataclass(frozen=True)
class Deadline:
    date: str
    kind: str  # expiration | renewal notice | milestone | maturity
    description: str
    source: str
    char_start: int
    char_end: int


@dataclass
class ContractAnalysis:
    source: str
    fields: dict[str, ExtractedField]
    deadlines: list[Deadline] = field(default_factory=list)
    date_order: str | None = None  # day-first / month-first, as the contract's numeric dates show

    def value(self, category: str) -> Value:
        found = self.fields.get(category)
        return found.value if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fields": {name: found.to_dict() for name, found in self.fields.items()},
            "deadlines": [asdict(deadline) for deadline in self.deadlines],
        }


@dataclass(frozen=True)
class Discrepancy:
    field: str
    expected: str | None
    found: str | None
    detail: str


Normaliser = Callable[[str, "ContractAnalysis"], Value]


@dataclass(frozen=True)
class FieldSpec:
    """How to find one field: weighted patterns, a description for retrieval, a value normaliser."""

    name: str
    query: str
    patterns: tuple[tuple[str, float], ...]
    normalise: Normaliser | None = None
    head_chars: int | None = None  # only look in the first characters (preamble fields)
    kind: str = "text"  # text | date | duration: what an LLM fallback must return


# ---------------------------------------------------------------- value normalisers


def _first_date(text: str, analysis: ContractAnalysis) -> Value:
    dates = find_dates(text, order=analysis.date_order)
    return dates[0].value if dates else None


def _effective_date(text: str, analysis: ContractAnalysis) -> Value:
    dates = find_dates(text, order=analysis.date_order)
    if dates:
        return dates[0].value
    if re.search(
        r"date (?:first )?(?:written|set forth|stated) above|date hereof|date of this agreement",
        text,
        re.IGNORECASE,
    ):
        return analysis.value("Agreement Date")
    return None


def _expiration_date(text: str, analysis: ContractAnalysis) -> Value:
    after = re.search(r"\b(?:until|through|expir\w*|end(?:s|ing)? on|terminat\w* on)\b", text, re.IGNORECASE)
    every = find_dates(text, order=analysis.date_order)
    dates = [d for d in every if after is None or d.start >= after.start()] or every
    if dates:
        return dates[-1].value if after else dates[0].value
    durations = find_durations(text)
    base = analysis.value("Effective Date") or analysis.value("Agreement Date")
    if durations and isinstance(base, str):
        return add_duration(date.fromisoformat(base), durations[0].value).isoformat()
    return None


def _duration_after(keyword: str) -> Normaliser:
    def normalise(text: str, _analysis: ContractAnalysis) -> Value:
        anchor = re.search(keyword, text, re.IGNORECASE)
        durations = find_durations(text)
        after = [d for d in durations if anchor and d.start >= anchor.start()]
        chosen = after or durations
        return chosen[0].value if chosen else None

    return normalise


def _notice_period(text: str, _analysis: ContractAnalysis) -> Value:
    """The period in front of "prior to"/"before" the end of the term, else the one next to "notice"."""
    durations = find_durations(text)
    for found in durations:
        if re.match(
            r"\s*(?:\w+\s+){0,3}(?:prior|before|in advance|preceding)", text[found.end :], re.IGNORECASE
        ):
            return found.value
    return _duration_after(r"notice")(text, _analysis)


def _payment_days(text: str, analysis: ContractAnalysis) -> Value:
    net = re.search(r"\bnet\s*(\d{1,3})\b", text, re.IGNORECASE)
    if net:
        return f"P{int(net.group(1))}D"
    return _duration_after(r"within|after|of receipt|invoice")(text, analysis)


_JURISDICTION = re.compile(
    r"laws?\s+(?:of|in)\s+(?:the\s+)?(?:(?:State|Commonwealth|Province|Republic|Kingdom)\s+of\s+)?"
    r"(?P<place>(?:[A-Z][A-Za-z]+|of|the)(?:\s+(?:[A-Z][A-Za-z]+|of))*)",
)


def _governing_law(text: str, _analysis: ContractAnalysis) -> Value:
    for match in _JURISDICTION.finditer(text if not text.isupper() else text.title()):
        place = re.sub(r"\s+(?:of|the)$", "", match.group("place")).strip()
        place = re.sub(
            r"\s+(?:Without|And|Applicable|Excluding|As|Except|That|In|Regardless|Exclusive|Which|"
            r"Governing|Shall|Hereunder|Its|Applied|Respecting).*$",
            "",
            place,
            flags=re.IGNORECASE,
        )
        if place and place.lower() not in {"the", "any", "such", "that", "which"}:
            return place
    return None


def _parties(text: str, _analysis: ContractAnalysis) -> Value:
    """Party names from a preamble "by and between A ... and B ..." (defined-term brackets dropped)."""
    match = re.search(r"\bbetween\s*:?\s*(?P<body>.+)", text, re.IGNORECASE | re.DOTALL) or re.search(
        r"\b(?:made by|entered into by|with)\s*:?\s*(?P<body>.+)", text, re.IGNORECASE | re.DOTALL
    )
    if not match:
        return None
    body = re.sub(r"\([^)]*\)", ",", match.group("body"))
    parts = re.split(r",?\s+and\s+|;\s*", body, flags=re.IGNORECASE)
    names = []
    for part in parts:
        name = re.split(
            r",|\s+(?:a|an)\s+\w+\s+(?:corporation|company|limited)|\s+having|\s+with\s+its|"
            r"\s+whose|\s+located|\s+organized|\s+incorporated",
            part,
            maxsplit=1,
            flags=re.IGNORECASE,
        )[0].strip(" .\"'“”:")
        if 2 < len(name) < 80 and name[0].isupper():
            names.append(name)
    return names[:4] or None


def _interest_rate(text: str, _analysis: ContractAnalysis) -> Value:
    spread = re.search(
        r"\b(SOFR|LIBOR|EURIBOR|Base Rate|Prime Rate|Federal Funds Rate)\b[^.;]{0,40}?\bplus\s+"
        r"(\d+(?:\.\d+)?)\s*%",
        text,
        re.IGNORECASE,
    )
    if spread:
        return f"{spread.group(1)} + {spread.group(2)}%"
    fixed = re.search(r"(\d+(?:\.\d+)?)\s*%\s*(?:per annum|per year|annually)", text, re.IGNORECASE)
    return f"{fixed.group(1)}% per annum" if fixed else None


def _amount(text: str, _analysis: ContractAnalysis) -> Value:
    """The first money amount: $25,000,000, EUR 2.500.000,00, €2.5 million; an ambiguous one ("€1.234")
    is left out rather than guessed."""
    money = re.search(
        r"(?:\$|USD|EUR|€|£)\s?(\d(?:\d|[.,](?=\d))*)(?:\s*(million|billion))?", text, re.IGNORECASE
    )
    if not money:
        return None
    try:
        amount = parse_money(money.group(1))
    except BadInputError:
        return None
    scale = {"million": 1e6, "billion": 1e9}.get((money.group(2) or "").lower(), 1.0)
    return f"{amount * scale:.2f}" if amount is not None else None


def _covenant(text: str, _analysis: ContractAnalysis) -> Value:
    """Each financial ratio test in the clause as "<measure> max|min <level>"."""
    tests = []
    for ratio in re.finditer(
        r"((?:[A-Z][A-Za-z]*\s+){0,3}(?:Ratio|Net Worth|EBITDA|Liquidity))[^.;]{0,80}?"
        r"(exceed|be (?:less|greater|more) than|fall below|below|above)[^.;\d]{0,20}"
        r"(\$?\d[\d,]*(?:\.\d+)?(?:\s*(?:to|:)\s*1(?:\.0+)?)?)",
        text,
    ):
        bound = (
            "max"
            if ratio.group(2).lower().startswith(("exceed", "be greater", "be more", "above"))
            else "min"
        )
        tests.append(f"{ratio.group(1).strip()} {bound} {ratio.group(3).strip()}")
    return tests or None


# ---------------------------------------------------------------- the fields

P = tuple[tuple[str, float], ...]
_MONTHS_RE = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE_RE = rf"(?:{_MONTHS_RE}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\s?(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?{_MONTHS_RE})"
_BLANK_DATE_RE = r"(?:_{2,}|\bday of\b)[^.]{0,30}?(?:19|20)\d{2}"

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "Parties",
        "the parties entering into this agreement",
        (
            (r"\bby and between\b", 3.0),
            (r"\bbetween\b", 1.5),
            (r"\b(?:made|entered into)\b.{0,80}\b(?:by|with)\b", 1.5),
            (r"\b(?:inc|corp|corporation|ltd|llc|limited|gmbh|l\.p|b\.v|s\.a|n\.a|plc|company)\b", 1.0),
            (r"\bhereinafter\b", 1.0),
            (r"\([^)]{0,20}[\"“][A-Z]", 1.0),
        ),
        _parties,
        head_chars=5000,
    ),
    FieldSpec(
        "Agreement Date",
        "the date this agreement is made and entered into",
        (
            (_DATE_RE + r",?\s*\d{4}", 2.0),
            (_BLANK_DATE_RE, 2.0),
            (r"\b(?:dated|made|entered into)\b", 1.0),
            (r"\bas of\b", 0.5),
            (r"\bthis agreement\b", 0.5),
        ),
        _first_date,
        head_chars=5000,
        kind="date",
    ),
    FieldSpec(
        "Effective Date",
        "the effective date on which this agreement becomes effective",
        (
            (r"[\"“]Effective Date[\"”]", 3.0),
            (r"\beffective (?:as of|on)\b", 2.0),
            (r"\bthis agreement (?:shall become|becomes|is|will be|shall be) effective\b", 2.5),
            (r"\beffective date\b", 0.5),
            (r"\bcommenc\w*\s+(?:on|as of)\b", 1.0),
            (_DATE_RE + r",?\s*\d{4}", 1.0),
            (_BLANK_DATE_RE, 1.0),
        ),
        _effective_date,
        kind="date",
    ),
    FieldSpec(
        "Expiration Date",
        "the term of this agreement and when it expires or ends",
        (
            (r"\bthe (?:initial )?term of this agreement (?:shall|will|is)\b", 2.5),
            (r"\b(?:shall|will) (?:continue|remain in (?:full )?(?:force|effect))\b", 1.5),
            (r"\b(?:continue|in effect) until\b", 2.0),
            (r"\b(?:terminat\w*|expir\w*|end\w*) on\b", 1.5),
            (r"\b(?:shall|will) (?:begin|commence)\b", 1.0),
            (r"[\"“](?:Initial )?Term[\"”]", 1.5),
            (r"\bexpir(?:e|es|ation)\b", 0.5),
            (r"\bfor a (?:period|term) of\b", 1.0),
            (_DATE_RE + r",?\s*\d{4}", 0.5),
            (r"\bduring the term\b", -1.5),
            (r"\brenew", -0.5),
        ),
        _expiration_date,
        kind="date",
    ),
    FieldSpec(
        "Renewal Term",
        "the agreement renews automatically for successive renewal terms",
        (
            (r"\bautomatic(?:ally)? (?:be )?renew", 3.0),
            (r"\brenewal term", 2.0),
            (r"\bsuccessive\b", 1.0),
            (r"\bextended for\b", 1.0),
            (r"\brenew", 0.5),
        ),
        _duration_after(r"renew|extend|successive"),
        kind="duration",
    ),
    FieldSpec(
        "Notice Period To Terminate Renewal",
        "notice of non-renewal required before the end of the term",
        (
            (r"\bnotice\b.{0,120}\b(?:not to renew|non-?renewal|of (?:its|their) intent)", 3.0),
            (
                r"\b(?:prior to|before) the (?:end|expiration|expiry) of the (?:then[- ]current |initial )?"
                r"(?:term|period)",
                2.0,
            ),
            (r"\brenew", 1.0),
            (r"\bnotice\b", 0.5),
        ),
        _notice_period,
        kind="duration",
    ),
    FieldSpec(
        "Governing Law",
        "this agreement is governed by the laws of the state",
        (
            (r"\bgoverned by\b", 2.0),
            (r"\blaws? of (?:the )?(?:state|commonwealth|province)\b", 2.0),
            (r"\bconstrued\b", 1.0),
            (r"\bgoverning law\b", 1.5),
        ),
        _governing_law,
    ),
    FieldSpec(
        "Payment Terms",
        "payment of invoices is due within days",
        (
            (r"\binvoice", 1.5),
            (r"\bpay(?:ment|able)?\b.{0,60}\bwithin\b", 2.0),
            (r"\bnet\s*\d{2}\b", 2.5),
            (r"\bdue\b", 0.5),
            (r"\b(?:late|overdue)\b", 0.5),
        ),
        _payment_days,
        kind="duration",
    ),
    FieldSpec(
        "Anti-Assignment",
        "may not assign this agreement without prior written consent",
        (
            (r"\bassign(?:ed|ment)?\b", 1.5),
            (r"\bwithout the (?:prior )?(?:written )?consent\b", 1.5),
            (r"\btransfer\b", 0.5),
            (r"\bvoid\b", 0.5),
        ),
    ),
    FieldSpec(
        "Termination For Convenience",
        "either party may terminate this agreement at any time for any reason upon written notice",
        (
            (r"\bterminat\w*\b.{0,80}\bfor convenience\b", 3.0),
            (
                r"\bterminat\w*\b.{0,80}\b(?:at any time|for any reason|without cause|in its sole discretion)\b",
                2.0,
            ),
            (r"\b(?:at any time|for any reason|without cause)\b.{0,80}\bterminat", 2.0),
            (r"\bupon\b.{0,40}\bnotice\b", 0.5),
            (r"\bbreach", -1.5),
            (r"\bheadings?\b", -3.0),
        ),
    ),
    FieldSpec(
        "Cap On Liability",
        "liability shall not exceed the amounts paid; limitation of liability",
        (
            (r"\bliab(?:le|ility)\b", 1.0),
            (r"\bshall not exceed\b", 1.5),
            (r"\bin no event\b", 1.5),
            (r"\b(?:consequential|incidental|indirect)\b", 1.0),
            (r"\baggregate\b", 0.5),
        ),
    ),
    FieldSpec(
        "Audit Rights",
        "right to audit and inspect books and records",
        ((r"\baudit", 2.0), (r"\binspect", 1.0), (r"\bbooks\b", 1.0), (r"\brecords\b", 0.5)),
    ),
    FieldSpec(
        "Insurance",
        "maintain insurance coverage",
        ((r"\binsurance\b", 2.0), (r"\bmaintain\b", 0.5), (r"\bcoverage\b", 1.0), (r"\binsured\b", 0.5)),
    ),
    FieldSpec(
        "Non-Compete",
        "shall not compete or engage in a competing business",
        (
            (r"\bcompet(?:e|ing|itive|itor)", 1.5),
            (r"\bshall not\b.{0,60}\b(?:engage|develop|market|sell)\b", 1.5),
            (r"\bnon-?compet", 2.0),
        ),
    ),
    FieldSpec(
        "Exclusivity",
        "exclusive rights; will not grant to any other party",
        (
            (
                r"\bexclusive (?:licen[cs]e|right|distribut\w*|territory|basis|supplier|provider|reseller|agent)",
                2.5,
            ),
            (r"\bexclusively\b", 1.5),
            (
                r"\bshall not\b.{0,60}\b(?:appoint|sell|purchase|grant)\b.{0,60}"
                r"\b(?:other|third part)",
                1.5,
            ),
            (r"\bnon-exclusive\b", -1.5),
            (r"\bsole and exclusive\b", -1.5),
        ),
    ),
    FieldSpec(
        "Warranty Duration",
        "warranty period after delivery",
        (
            (r"\bwarrant(?:y|ies|s)\b", 1.5),
            (
                r"\b(?:days|months|years)\b.{0,60}\b(?:delivery|acceptance|"
                r"installation)\b",
                1.5,
            ),
            (r"\bwarranty period\b", 2.0),
        ),
    ),
    FieldSpec(
        "Minimum Commitment",
        "minimum purchase quantity or minimum order commitment",
        ((r"\bminimum\b", 2.0), (r"\b(?:purchase|order|quantit)", 1.0), (r"\bat least\b", 0.5)),
    ),
    FieldSpec(
        "Change Of Control",
        "change of control, merger or acquisition of a party",
        (
            (r"\bchange (?:of|in) control\b", 3.0),
            (r"\bmerger\b", 1.0),
            (r"\bacqui(?:red|sition)\b", 1.0),
            (r"\ball or substantially all\b", 1.0),
        ),
    ),
    FieldSpec(
        "License Grant",
        "hereby grants a license to use",
        ((r"\bhereby grants?\b", 2.0), (r"\blicen[cs]e\b", 1.5), (r"\bright to use\b", 1.0)),
    ),
    FieldSpec(
        "Post-Termination Services",
        "obligations after termination or expiration of this agreement",
        (
            (r"\b(?:after|following|upon) (?:the )?(?:termination|expiration)\b", 2.0),
            (r"\bsurviv", 0.5),
            (r"\bwind[- ]?down|transition\b", 1.0),
        ),
    ),
    FieldSpec(
        "Revenue/Profit Sharing",
        "royalty or percentage of revenue or net sales",
        (
            (r"\broyalt", 2.0),
            (r"\b\d+(?:\.\d+)?\s*%|percent", 1.0),
            (r"\b(?:net sales|revenue|profits?)\b", 1.0),
        ),
    ),
    FieldSpec(
        "Third Party Beneficiary",
        "no third party beneficiaries",
        ((r"\bthird[- ]party beneficiar", 3.0), (r"\bconfer\b", 1.0)),
    ),
    FieldSpec(
        "Maturity Date",
        "the maturity date on which the loan must be repaid",
        ((r"\bmaturity date\b", 3.0), (r"\brepaid in full\b|\bfinal repayment\b", 1.5), (_DATE_RE, 0.5)),
        _first_date,
        kind="date",
    ),
    FieldSpec(
        "Interest Rate",
        "interest accrues at a rate per annum",
        (
            (r"\binterest\b", 1.5),
            (r"\bper annum\b", 2.0),
            (r"\b(?:SOFR|LIBOR|Base Rate|Prime Rate)\b", 1.0),
            (r"\bapplicable margin\b", 1.0),
        ),
        _interest_rate,
    ),
    FieldSpec(
        "Principal Amount",
        "the aggregate principal amount of the loan or commitment",
        (
            (r"\bprincipal amount\b", 2.5),
            (r"\b(?:loan|commitment|facility)\b", 1.0),
            (r"(?:\$|USD|EUR|€|£)\s?\d", 1.0),
        ),
        _amount,
    ),
    FieldSpec(
        "Financial Covenants",
        "financial covenant: the borrower shall not permit the ratio to exceed",
        (
            (r"\bshall not permit\b", 2.0),
            (r"\bratio\b", 1.5),
            (r"\b(?:net worth|EBITDA|liquidity)\b", 1.0),
            (r"\bcovenant", 1.0),
        ),
        _covenant,
    ),
)
FIELD_NAMES = tuple(spec.name for spec in FIELDS)
RETRIEVAL_BASELINE = 0.25  # MiniLM similarity of an unrelated clause to a field description
MILESTONE_WORDS = re.compile(
    r"\b(?:deliver\w*|complet\w*|milestone|no later than|deadline|launch\w*|due|repay\w*|"
    r"installments?|beginning|"
    r"shall be (?:made|paid|provided)|by)\b",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- helpers


def split_clauses(text: str, *, max_chars: int = 700, min_chars: int = 40) -> list[Clause]:
    """Sentences/paragraphs with their offsets; fragments (headings, "1.") join the clause after them."""
    clauses: list[Clause] = []
    pending: int | None = None
    position = 0
    for boundary in re.finditer(r"\n\s*\n|(?<=[.;:])\s+(?=[\"“(]?[A-Z0-9])|$", text):
        raw_start, raw_end = position, boundary.start()
        position = boundary.end()
        segment = text[raw_start:raw_end]
        stripped = segment.strip()
        if not stripped:
            continue
        start = raw_start + (len(segment) - len(segment.lstrip()))
        end = start + len(stripped)
        if pending is not None:
            start = pending
        if end - start < min_chars and boundary.end() < len(text):
            pending = start
            continue
        pending = None
        while end - start > max_chars:
            cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
            cut = cut if cut > start else start + max_chars
            clauses.append(Clause(start, cut, text[start:cut]))
            start = cut + 1
        clauses.append(Clause(start, end, text[start:end]))
    return clauses


def _pattern_scores(spec: FieldSpec, clauses: list[Clause], compiled: dict[str, re.Pattern]) -> np.ndarray:
    scores = np.zeros(len(clauses))
    for i, clause in enumerate(clauses):
        if spec.head_chars is not None and clause.start > spec.head_chars:
            continue
        for pattern, weight in spec.patterns:
            if compiled[pattern].search(clause.text):
                scores[i] += weight
    return scores


_LLM_FORMATS = {
    "date": (r"\d{4}-\d{2}-\d{2}", "an ISO date YYYY-MM-DD"),
    "duration": (r"P\d+[BDWMY]", "an ISO 8601 duration such as P30D, P6M or P2Y (P10B: 10 business days)"),
    "text": (r".{1,80}", "a short phrase"),
}


def _llm_value(chat_model: ChatModel, spec: FieldSpec, clause: str) -> Value:
    """Ask the LLM for the value only; keep its answer only if it has the required form."""
    pattern, form = _LLM_FORMATS[spec.kind]
    messages = [
        {
            "role": "system",
            "content": "You extract one value from a contract clause. Reply with the value "
            "only, or NONE when the clause does not state it.",
        },
        {"role": "user", "content": f"Field: {spec.name}. Reply as {form}.\n\nClause: {clause[:1500]}"},
    ]
    reply = chat_model.generate(messages, max_new_tokens=24, temperature=0.0).strip().strip(".")
    match = re.search(pattern, reply)
    return match.group(0) if match and reply.upper() != "NONE" else None


# PUBLIC API


class ContractExtractor:
    """Extracts ``FIELDS`` from contract text (see the module docstring for the method).

    Args:
        embeddings: langchain ``Embeddings`` for retrieval within the contract; None = patterns only.
        chat_model: an LLM used only to choose a value the rules could not normalise; None = rules only.
        retrieval_weight: how much clause-description similarity adds to the pattern score.
        min_score: the least pattern score a clause needs to be cited (with retrieval: the least combined
            score, less ``retrieval_weight * RETRIEVAL_BASELINE`` that any clause gets for free).
        candidates: how many best pattern-scored clauses per field retrieval re-ranks (only these are
            embedded, which keeps a contract to seconds on a CPU).
        fields: the field names to extract (default: all of ``FIELD_NAMES``).
    """

    def __init__(
        self,
        *,
        embeddings: Embeddings | None = None,
        chat_model: ChatModel | None = None,
        retrieval_weight: float = 2.0,
        min_score: float = 2.0,
        candidates: int = 8,
        fields: Iterable[str] | None = None,
    ) -> None:
        names = list(fields) if fields is not None else list(FIELD_NAMES)
        unknown = sorted(set(names) - set(FIELD_NAMES))
        if unknown:
            raise BadInputError(f"Unknown contract fields {unknown}; choose from {', '.join(FIELD_NAMES)}.")
        if retrieval_weight < 0 or min_score <= 0:
            raise BadInputError(
                f"retrieval_weight must be >= 0 and min_score > 0, got {retrieval_weight} and {min_score}."
            )
        self.specs = [spec for spec in FIELDS if spec.name in names]
        self.embeddings = embeddings
        self.chat_model = chat_model
        self.retrieval_weight = retrieval_weight
        self.min_score = min_score
        self.candidates = candidates
        self._compiled = {p: re.compile(p, re.IGNORECASE) for spec in FIELDS for p, _ in spec.patterns}
        self._query_vectors: np.ndarray | None = None

    def _similarities(self, clauses: list[Clause], candidates: set[int]) -> dict[int, np.ndarray]:
        """Clause index -> similarity to every field's description, for the candidate clauses only."""
        if self.embeddings is None or not candidates:
            return {}
        if self._query_vectors is None:
            self._query_vectors = np.asarray(self.embeddings.embed_documents([s.query for s in self.specs]))
        order = sorted(candidates)
        vectors = np.asarray(self.embeddings.embed_documents([clauses[i].text for i in order]))
        return dict(zip(order, (vectors @ self._query_vectors.T), strict=True))

    def extract(self, text: str, *, source: str = "contract") -> ContractAnalysis:
        """All fields found in ``text`` plus the deadlines they imply."""
        if not text.strip():
            raise BadInputError(
                f"The contract {source} has no text; give a text, PDF or DOCX file with content."
            )
        clauses = split_clauses(text)
        pattern_scores = [_pattern_scores(spec, clauses, self._compiled) for spec in self.specs]
        shortlists = [
            [int(i) for i in np.argsort(-scores, kind="stable")[: self.candidates] if scores[i] > 0]
            for scores in pattern_scores
        ]
        similarities = self._similarities(clauses, {i for shortlist in shortlists for i in shortlist})
        analysis = ContractAnalysis(source=source, fields={}, date_order=date_order(text))
        for row, spec in enumerate(self.specs):  # preamble fields come first, so later ones can use them
            scored = [
                (
                    pattern_scores[row][i] + self.retrieval_weight * max(float(similarities[i][row]), 0.0)
                    if similarities
                    else pattern_scores[row][i],
                    i,
                )
                for i in shortlists[row]
            ]
            threshold = self.min_score + (self.retrieval_weight * RETRIEVAL_BASELINE if similarities else 0.0)
            if not scored or max(scored)[0] < threshold:
                continue
            score, best = max(scored)
            clause = clauses[best]
            method = "pattern+retrieval" if similarities else "pattern"
            value: Value = spec.normalise(clause.text, analysis) if spec.normalise else "Yes"
            unclear = ambiguous_dates(clause.text, order=analysis.date_order) if spec.kind == "date" else []
            review = (
                f"{unclear[0].value} reads as {' or '.join(unclear[0].alternatives)}; confirm which"
                if unclear
                else None
            )
            if value is None and self.chat_model is not None and review is None:
                value = _llm_value(self.chat_model, spec, clause.text)
                method += "+llm"
            analysis.fields[spec.name] = ExtractedField(
                spec.name,
                value,
                clause.text,
                clause.start,
                clause.end,
                method,
                round(float(score), 3),
                review,
            )
        analysis.deadlines = contract_deadlines(analysis, clauses)
        return analysis


def contract_deadlines(analysis: ContractAnalysis, clauses: list[Clause]) -> list[Deadline]:
    """Expiry, last day for a non-renewal notice, maturity, and dated milestones, in date order."""
    deadlines = []
    known = {
        analysis.value(name)
        for name in ("Agreement Date", "Effective Date", "Expiration Date", "Maturity Date")
    }
    for kind, category in (("expiration", "Expiration Date"), ("maturity", "Maturity Date")):
        found = analysis.fields.get(category)
        if found and isinstance(found.value, str):
            deadlines.append(
                Deadline(
                    found.value,
                    kind,
                    f"{category} {found.value}",
                    analysis.source,
                    found.char_start,
                    found.char_end,
                )
            )
    expiry, notice = (
        analysis.fields.get("Expiration Date"),
        analysis.fields.get("Notice Period To Terminate Renewal"),
    )
    if expiry and notice and isinstance(expiry.value, str) and isinstance(notice.value, str):
        last_day = add_duration(date.fromisoformat(expiry.value), notice.value, sign=-1).isoformat()
        deadlines.append(
            Deadline(
                last_day,
                "renewal notice",
                f"last day to give {notice.value} notice of non-renewal before {expiry.value}",
                analysis.source,
                notice.char_start,
                notice.char_end,
            )
        )
    for clause in clauses:
        if not MILESTONE_WORDS.search(clause.text):
            continue
        for found in find_dates(clause.text, order=analysis.date_order):
            if found.value in known:
                continue
            description = re.sub(r"\s+", " ", clause.text)[:160]
            deadlines.append(
                Deadline(found.value, "milestone", description, analysis.source, clause.start, clause.end)
            )
    return sorted(deadlines, key=lambda deadline: deadline.date)


def upcoming_deadlines(
    analyses: Iterable[ContractAnalysis], *, today: date, within_days: int
) -> list[Deadline]:
    """Deadlines from ``today`` (inclusive) to ``today + within_days``, soonest first."""
    if within_days < 0:
        raise BadInputError(f"within_days must be >= 0, got {within_days}.")
    end = date.fromordinal(today.toordinal() + within_days)
    found = [d for a in analyses for d in a.deadlines if today <= date.fromisoformat(d.date) <= end]
    return sorted(found, key=lambda deadline: deadline.date)


def compare_versions(
    old: ContractAnalysis, new: ContractAnalysis, old_text: str, new_text: str
) -> list[Discrepancy]:
    """Fields whose values differ between two versions, then clauses added, removed or reworded."""
    found = []
    for name in FIELD_NAMES:
        before, after = old.value(name), new.value(name)
        if before != after and not (name not in old.fields and name not in new.fields):
            found.append(Discrepancy(name, _text(before), _text(after), f"{name} changed"))
    old_clauses = [re.sub(r"\s+", " ", c.text) for c in split_clauses(old_text)]
    new_clauses = [re.sub(r"\s+", " ", c.text) for c in split_clauses(new_text)]
    matcher = difflib.SequenceMatcher(a=old_clauses, b=new_clauses, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before, after = " ".join(old_clauses[i1:i2]) or None, " ".join(new_clauses[j1:j2]) or None
        kind = {"replace": "clause reworded", "delete": "clause removed", "insert": "clause added"}[tag]
        found.append(Discrepancy("text", before, after, kind))
    return found


def _text(value: Value) -> str | None:
    return "; ".join(value) if isinstance(value, list) else value


PURCHASE_ORDER_COLUMNS = ("po_number", "vendor", "order_date")


def load_purchase_orders(path: Path | str) -> pd.DataFrame:
    """Purchase orders (CSV/XLSX/JSON): po_number, vendor, order_date, optional delivery_date, payment_terms
    ("Net 45" or days), governing_law."""
    return read_table(path, required=PURCHASE_ORDER_COLUMNS, what="purchase order file")


def check_purchase_orders(analysis: ContractAnalysis, orders: pd.DataFrame) -> list[Discrepancy]:
    """Each order against the contract: vendor is a party, dates inside the term, same payment terms and law."""
    found = []
    parties = analysis.value("Parties") or []
    effective = analysis.value("Effective Date") or analysis.value("Agreement Date")
    expiry = analysis.value("Expiration Date")
    payment = analysis.value("Payment Terms")
    for order in orders.to_dict("records"):
        po = f"PO {order['po_number']}"
        vendor = str(order["vendor"]).lower()
        if parties and not any(_same_name(vendor, party.lower()) for party in parties):
            found.append(
                Discrepancy(
                    "Parties",
                    "; ".join(parties),
                    str(order["vendor"]),
                    f"{po}: vendor is not a party to the contract",
                )
            )
        for column in ("order_date", "delivery_date"):
            when = pd.to_datetime(order.get(column), errors="coerce")
            if pd.isna(when):
                continue
            day = when.date().isoformat()
            if isinstance(effective, str) and day < effective:
                found.append(
                    Discrepancy(column, f">= {effective}", day, f"{po}: {column} before the contract starts")
                )
            if isinstance(expiry, str) and day > expiry:
                found.append(
                    Discrepancy(column, f"<= {expiry}", day, f"{po}: {column} after the contract expires")
                )
        terms = order.get("payment_terms")
        if isinstance(payment, str) and terms is not None and not pd.isna(terms):
            days = re.search(r"\d+", str(terms))
            if days and int(days.group(0)) != duration_days(payment):
                found.append(
                    Discrepancy(
                        "Payment Terms",
                        payment,
                        str(terms),
                        f"{po}: payment terms differ from the contract ({duration_days(payment)} days)",
                    )
                )
        law = order.get("governing_law")
        contract_law = analysis.value("Governing Law")
        if (
            isinstance(contract_law, str)
            and isinstance(law, str)
            and law.strip().lower() != contract_law.lower()
        ):
            found.append(Discrepancy("Governing Law", contract_law, law, f"{po}: governing law differs"))
    return found


def _same_name(a: str, b: str) -> bool:
    """Company names match when their distinctive words overlap ("Acme Corp." vs "ACME Corporation")."""
    generic = {
        "inc",
        "corp",
        "corporation",
        "ltd",
        "limited",
        "llc",
        "co",
        "company",
        "the",
        "gmbh",
        "plc",
        "sa",
    }
    words_a = set(re.findall(r"[a-z0-9]+", a)) - generic
    words_b = set(re.findall(r"[a-z0-9]+", b)) - generic
    return bool(words_a & words_b)


def read_contract_text(path: Path | str) -> str:
    """A contract's text: plain text as is (so offsets match the file), PDF/DOCX/HTML through the document
    readers, pages joined by blank lines.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        BadInputError: the file could not be read or holds no text.
    """
    from data_connectors.documents import load_documents

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    if path.suffix.lower() in {".txt", ".md", ""}:
        return path.read_text(encoding="utf-8", errors="replace")
    loaded = load_documents(path)
    problems = loaded.failed + loaded.skipped
    if problems:
        raise BadInputError(f"Cannot read contract {path.name}: {problems[0].reason}.")
    return "\n\n".join(document.page_content for document in loaded.documents)
