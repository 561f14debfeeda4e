"""Claim field extraction: labelled values by rules first, the LLM only for what is still missing.

Each field is a ``FieldValue`` with a confidence and the file and line it came from, so a handler can check
it. Labels ("Date of loss:", "Policy No.") give high confidence; bare patterns (any policy-number shape, an
amount near "claim") give less; LLM values are lower still and are validated like the rest. Where two
documents state the same field differently (the form's date of loss vs the police report's) the mismatch is
recorded as an inconsistency, which the fraud indicators use.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Literal

from langchain_core.documents import Document
from pydantic import BaseModel, Field, ValidationError

from data_connectors.errors import BadInputError
from data_connectors.tables import DateOrder, parse_money, slash_date_order
from rag.llm import ChatModel

Method = Literal["label", "pattern", "llm", "missing"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = (
    r"(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|"
    r"[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
)
# The whole number, never a prefix of it: digits, a separator only between digits, a space only before a group
# of three ("12 500,00"); parse_money decides which separator is the decimal one.
_AMOUNT = r"((?:USD|EUR|GBP|US\$|[$€£])?\s?\d(?:\d|[.,](?=\d)|\s(?=\d{3}(?!\d)))*)"
_LABELS: dict[str, tuple[str, str]] = {
    # field -> (label alternatives, value pattern)
    "claimant": (
        r"claimant(?:'s)?(?: name)?|(?:named )?insured(?: name)?|policy ?holder(?: name)?|name of insured",
        r"([A-Z][^\n,;]{1,80})",
    ),
    "policy_number": (
        r"policy (?:number|no\.?|#|ref(?:erence)?)|policy",
        r"((?=[A-Z0-9/-]*\d)[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)+|[A-Z]{1,5}\d[\w/-]{2,20})\b",
    ),
    "date_of_loss": (
        r"date (?:and time )?of (?:loss|incident|accident|damage|theft|event)|loss date|incident date|"
        r"date of the incident",
        _DATE,
    ),
    "date_reported": (
        r"date (?:reported|of (?:report|notification|claim))|reported on|notified on|claim date|date submitted|"
        r"date notified(?: to (?:the )?(?:insurer|us|insurance company))?",
        _DATE,
    ),
    "amount_claimed": (
        r"amount claimed|claim amount|total claimed|amount of (?:the )?claim|claimed amount|estimated loss",
        _AMOUNT,
    ),
    "loss_type": (
        r"(?:type|cause|nature) of (?:loss|claim|damage)|loss type|peril|claim type",
        r"([^\n;]{3,60})",
    ),
    "coverage_limit": (
        r"coverage limit|sum insured|limit of (?:liability|cover|insurance)|policy limit",
        _AMOUNT,
    ),
    "description": (
        r"description(?: of (?:loss|incident|events?|damage))?|what happened|circumstances",
        r"([^\n]{10,1200})",
    ),
}
_INVOICE_TOTAL = re.compile(
    r"(?im)^\W*(?:invoice total|total due|grand total|total \(incl[^)]*\)|total amount|valuation total|"
    rf"total valuation|estimated value|valuation|total)\s*[:\-]?\s*{_AMOUNT}"
)
LOSS_TYPES: dict[str, tuple[str, ...]] = {
    "water damage": (
        "water damage",
        "burst pipe",
        "escape of water",
        "leak",
        "leaking",
        "leakage",
        "plumbing",
    ),
    "flood": ("flood", "flooding", "river burst", "rising water"),
    "fire": ("fire", "smoke", "blaze", "burnt", "burned"),
    "theft": ("theft", "stolen", "burglary", "break-in", "broke in", "robbery"),
    "storm": ("storm", "windstorm", "wind", "hail", "gale", "lightning", "fallen tree"),
    "vandalism": (
        "vandalism",
        "vandalised",
        "vandalized",
        "graffiti",
        "malicious damage",
        "malicious mischief",
    ),
    "accidental damage": ("accidental damage", "dropped", "spilled", "spilt", "knocked over"),
    "collision": ("collision", "crash", "rear-ended", "hit another", "car accident"),
    "subsidence": ("subsidence", "heave", "landslip"),
    "wear and tear": ("wear and tear", "gradual deterioration", "rust", "rot"),
}
_POLICY_SHAPE = re.compile(r"\b(?:POL|HO|HOM|MOT|AU|TRV|PN)[-/]?\d[\w-]{3,}\b")


class FieldValue(BaseModel):
    value: str | float | date | None = None
    confidence: float = Field(0.0, ge=0, le=1)
    method: Method = "missing"
    source: str | None = None  # file name
    line: int | None = None
    quote: str | None = None
    # Readings the text allows when it does not decide between them (03/04/2026 in a document with no
    # day-first or month-first cue, "1.234"): the value is then None and a handler must confirm one.
    alternatives: list[str] = Field(default_factory=list)


class Inconsistency(BaseModel):
    field: str
    values: list[str]
    sources: list[str]
    detail: str


class ClaimRecord(BaseModel):
    claim_id: str
    claimant: FieldValue
    policy_number: FieldValue
    date_of_loss: FieldValue
    date_reported: FieldValue
    amount_claimed: FieldValue
    loss_type: FieldValue
    description: FieldValue
    invoice_total: FieldValue = FieldValue()
    coverage_limit: FieldValue = FieldValue()
    inconsistencies: list[Inconsistency] = Field(default_factory=list)

    def value(self, name: str):
        return getattr(self, name).value


FIELDS = (
    "claimant",
    "policy_number",
    "date_of_loss",
    "date_reported",
    "amount_claimed",
    "loss_type",
    "description",
)


# ---------------------------------------------------------------- parsing values


def date_readings(text: str, *, order: DateOrder | None = None) -> list[date]:
    """Every valid reading of ``text`` as a date (ISO, numeric, "12 March 2026", "March 12, 2026"): one, or
    two for a numeric date such as 03/04/2026 when ``order`` is unknown and both readings are valid."""
    text = text.strip().rstrip(".,")
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        candidates = [tuple(map(int, match.groups()))]
    elif match := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text):
        first, second, year = map(int, match.groups())
        candidates = [
            (year, second, first) if reading == "day-first" else (year, first, second)
            for reading in ([order] if order else ["day-first", "month-first"])
        ]
    elif match := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})", text):
        candidates = [(int(match.group(3)), _month(match.group(2)), int(match.group(1)))]
    elif match := re.fullmatch(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text):
        candidates = [(int(match.group(3)), _month(match.group(1)), int(match.group(2)))]
    else:
        return []
    readings = []
    for year, month, day in candidates:
        if month is None:
            continue
        try:
            readings.append(date(year, month, day))
        except ValueError:
            continue
    return list(dict.fromkeys(readings))


def parse_date(text: str, *, order: DateOrder | None = None) -> date | None:
    """The date ``text`` states; None if it is no date, or a numeric date that reads two ways (03/04/2026)
    when ``order`` is not given: such a date is never guessed."""
    readings = date_readings(text, order=order)
    return readings[0] if len(readings) == 1 else None


def _month(name: str) -> int | None:
    key = name[:3].lower()
    return _MONTHS.index(key) + 1 if key in _MONTHS else None


def amount_readings(text: str) -> list[float]:
    """The amount ``text`` states (see ``data_connectors.tables.parse_money``), or both readings of an
    ambiguous one ("1.234": 1234 or 1.234)."""
    try:
        amount = parse_money(text)
    except BadInputError:
        digits = re.sub(r"[^\d.]", "", text)
        return [float(digits.replace(".", "")), float(digits)]
    return [round(amount, 2)] if amount is not None else []


def parse_amount(text: str) -> float | None:
    """The amount ``text`` states; None if it is no amount or an ambiguous one ("1.234")."""
    readings = amount_readings(text)
    return readings[0] if len(readings) == 1 else None


def normalise_loss_type(text: str) -> str | None:
    lowered = text.lower()
    for loss_type, words in LOSS_TYPES.items():
        if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words):
            return loss_type
    return None


def _convert(
    name: str, raw: str, order: DateOrder | None = None
) -> tuple[str | float | date | None, list[str]]:
    """(value, alternatives): the value, or None and the readings when a date or amount reads two ways."""
    raw = raw.strip().strip("*").strip()
    if name.startswith("date") or name in ("amount_claimed", "invoice_total", "coverage_limit"):
        readings = date_readings(raw, order=order) if name.startswith("date") else amount_readings(raw)
        if len(readings) > 1:
            return None, [str(reading) for reading in readings]
        return (readings[0] if readings else None), []
    if name == "loss_type":
        return normalise_loss_type(raw) or raw.lower(), []
    if name == "claimant":
        return re.split(r"\s{2,}|\s+\(|\s+-\s+", raw)[0].strip() or None, []
    return raw or None, []


def _date_order(text: str) -> DateOrder | None:
    """The document's own cue for numeric dates: another date in it with a part over 12 (15/03/2026)."""
    try:
        return slash_date_order([text], free_text=True)
    except BadInputError:  # both orders in one document: no cue
        return None


# ---------------------------------------------------------------- extraction passes


_TABLE_ROW = re.compile(r"^\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|(?:.*\|)?\s*$")
_LEADER = re.compile(r"^(.*?\S)\s*\.{3,}\s*(\S.*)$")
_DESCRIPTION_HEADING = re.compile(
    r"(?i)^\W*(?:what happened|description(?: of (?:the )?(?:loss|incident|events?))?|"
    r"circumstances(?: of (?:the )?loss)?)\W*$"
)


def _label_lines(text: str) -> list[str]:
    """Lines in "label: value" form: table rows ("| Named insured | Dana |"), dotted leaders ("TOTAL ..... 9")
    and markdown emphasis or bullets are rewritten so one set of label patterns reads them all."""
    lines = []
    for line in text.splitlines():
        line = line.replace("**", "").strip()
        if (match := _TABLE_ROW.match(line)) or (match := _LEADER.match(line)):
            line = f"{match.group(1)}: {match.group(2)}"
        lines.append(re.sub(r"^[-*•]\s+", "", line))
    return lines


def _description_sections(documents: list[Document]) -> FieldValue | None:
    """The paragraph under a "What happened" / "Description" heading (a section or a heading line)."""
    for document in documents:
        section = str(document.metadata.get("section") or "").rsplit(">", 1)[-1]
        if _DESCRIPTION_HEADING.match(section):
            return FieldValue(
                value=" ".join(document.page_content.split())[:1200],
                confidence=0.8,
                method="pattern",
                source=_source_name(document),
                quote=section.strip(),
            )
        lines = document.page_content.splitlines()
        for index, line in enumerate(lines):
            if _DESCRIPTION_HEADING.match(line) and index + 1 < len(lines):
                paragraph = []
                for following in lines[index + 1 :]:
                    if not following.strip():
                        if paragraph:
                            break
                        continue
                    paragraph.append(following.strip())
                if paragraph:
                    return FieldValue(
                        value=" ".join(paragraph)[:1200],
                        confidence=0.8,
                        method="pattern",
                        source=_source_name(document),
                        line=index + 2,
                        quote=line.strip(),
                    )
    return None


def _source_name(document: Document) -> str:
    return Path(str(document.metadata.get("source", "document"))).name


def _labelled(documents: list[Document]) -> dict[str, list[FieldValue]]:
    found: dict[str, list[FieldValue]] = {name: [] for name in (*FIELDS, "invoice_total", "coverage_limit")}
    for document in documents:
        order = _date_order(document.page_content)
        for number, line in enumerate(_label_lines(document.page_content), start=1):
            for name, (labels, value) in _LABELS.items():
                match = re.match(rf"^\W*(?:{labels})\W*?\s*[:\-–]\s*\**\s*{value}", line, re.IGNORECASE)
                if match is None:
                    continue
                converted, alternatives = _convert(name, match.group(1), order)
                if converted is not None or alternatives:
                    found[name].append(
                        FieldValue(
                            value=converted,
                            confidence=0.95 if converted is not None else 0.3,
                            method="label",
                            source=_source_name(document),
                            line=number,
                            quote=line.strip()[:200],
                            alternatives=alternatives,
                        )
                    )
                break
        if match := _INVOICE_TOTAL.search(document.page_content):
            amount = parse_amount(match.group(1))
            line = document.page_content[: match.start()].count("\n") + 1
            if amount is not None:
                found["invoice_total"].append(
                    FieldValue(
                        value=amount,
                        confidence=0.9,
                        method="label",
                        source=_source_name(document),
                        line=line,
                        quote=match.group(0).strip()[:200],
                    )
                )
    return found


def _pattern_fallbacks(documents: list[Document], record: dict[str, FieldValue]) -> None:
    if record["description"].method == "missing" and (description := _description_sections(documents)):
        record["description"] = description
    for document in documents:
        text = document.page_content
        if record["policy_number"].method == "missing" and (match := _POLICY_SHAPE.search(text)):
            record["policy_number"] = FieldValue(
                value=match.group(0),
                confidence=0.7,
                method="pattern",
                source=_source_name(document),
                line=text[: match.start()].count("\n") + 1,
                quote=match.group(0),
            )
        if record["loss_type"].method == "missing" and (loss := normalise_loss_type(text)):
            record["loss_type"] = FieldValue(
                value=loss,
                confidence=0.6,
                method="pattern",
                source=_source_name(document),
                quote=f"keywords for {loss}",
            )


def _ask_llm(chat_model: ChatModel, documents: list[Document], missing: list[str]) -> dict[str, FieldValue]:
    text = "\n\n".join(f"[{_source_name(d)}]\n{d.page_content[:1500]}" for d in documents[:4])
    prompt = (
        "Extract these fields from the insurance claim documents and reply with one JSON object only, using "
        f"null when a field is not stated: {', '.join(missing)}. Dates as YYYY-MM-DD, amounts as numbers."
    )
    reply = chat_model.generate(
        [{"role": "system", "content": prompt}, {"role": "user", "content": text}],
        max_new_tokens=200,
        temperature=0.0,
    )
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    try:
        values = json.loads(match.group(0)) if match else {}
    except json.JSONDecodeError:
        return {}
    found = {}
    corpus = "\n".join(d.page_content for d in documents).lower()
    for name in missing:
        raw = values.get(name) if isinstance(values, dict) else None
        if raw in (None, ""):
            continue
        converted, _ = _convert(name, str(raw))
        # A value the model invented is not in the documents: keep only values the text supports.
        if converted is None or (isinstance(converted, str) and converted.lower()[:20] not in corpus):
            continue
        try:
            found[name] = FieldValue(
                value=converted, confidence=0.5, method="llm", source=_source_name(documents[0])
            )
        except ValidationError:
            continue
    return found


def _inconsistencies(
    found: dict[str, list[FieldValue]], record: dict[str, FieldValue]
) -> list[Inconsistency]:
    issues = []
    for name in ("claimant", "policy_number", "date_of_loss", "amount_claimed"):
        values = {}
        chosen = record[name].value
        for candidate in found[name]:
            if candidate.value is None and (chosen is None or str(chosen) in candidate.alternatives):
                continue  # an ambiguous reading that another document settles, or one left to confirm
            key = (
                " or ".join(candidate.alternatives)
                if candidate.value is None
                else f"{candidate.value:.2f}"
                if isinstance(candidate.value, float)
                else str(candidate.value).lower()
            )
            values.setdefault(key, candidate.source or "")
        if len(values) > 1:
            issues.append(
                Inconsistency(
                    field=name,
                    values=list(values),
                    sources=list(values.values()),
                    detail=f"{name.replace('_', ' ')} differs between documents: "
                    + "; ".join(f"{v} ({s})" for v, s in values.items()),
                )
            )
    claimed, invoiced = record["amount_claimed"].value, record["invoice_total"].value
    if isinstance(claimed, float) and isinstance(invoiced, float) and claimed > invoiced * 1.05:
        issues.append(
            Inconsistency(
                field="amount_claimed",
                values=[f"{claimed:.2f}", f"{invoiced:.2f}"],
                sources=[record["amount_claimed"].source or "", record["invoice_total"].source or ""],
                detail=f"the amount claimed ({claimed:,.2f}) exceeds the invoice total ({invoiced:,.2f})",
            )
        )
    return issues


# PUBLIC API


def extract_claim(
    documents: list[Document], *, claim_id: str, chat_model: ChatModel | None = None
) -> ClaimRecord:
    """Fields of one claim from its documents (claim form, invoices, reports), each with confidence and source."""
    found = _labelled(documents)
    record = {
        name: next((v for v in values if v.value is not None), values[0]) if values else FieldValue()
        for name, values in found.items()
    }
    _pattern_fallbacks(documents, record)
    missing = [name for name in FIELDS if record[name].method == "missing"]
    if chat_model is not None and missing and documents:
        record.update(_ask_llm(chat_model, documents, missing))
    return ClaimRecord(claim_id=claim_id, inconsistencies=_inconsistencies(found, record), **record)
