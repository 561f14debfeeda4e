"""Coverage check: the claim's loss against the policy wording, with the clauses it rests on.

Rules first: a policy unit (bullet or sentence) inside an exclusion context ("Exclusions", "We will not pay
for") that names the claim's peril or several of the description's key words excludes the claim; a unit in a
cover context ("We will pay for", "insured events") that names the peril covers it; otherwise the claim needs
review, where an optional LLM may propose covered/excluded with a cited clause number (validated). Limits
and the notification period are read from the wording for the fraud indicators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Literal

from langchain_core.documents import Document
from pydantic import BaseModel, Field, ValidationError

from domains.insurance.extraction import LOSS_TYPES, ClaimRecord
from rag.llm import ChatModel

CoverageStatus = Literal["covered", "excluded", "needs review"]

_EXCLUSION_CONTEXT = re.compile(
    r"\b(?:exclu\w*|we (?:will|do) not (?:pay|cover)|we won'?t (?:pay|cover)|not (?:covered|insured)|does not cover)\b",
    re.I,
)
_COVER_CONTEXT = re.compile(
    r"\b(?:we will pay|we (?:do )?cover|we insure|is covered|are covered|insured (?:events?|perils?)|what is covered|cover for|"
    r"sections? of cover)\b",
    re.I,
)
_QUALIFIER = re.compile(r"\b(?:whether or not|except|unless|other than|when|while|if)\b", re.I)
_CONDITION = re.compile(r"\b(?:when|while|if|where)\b", re.I)
# A carve-out inside a cover clause and its own phrase, up to the next comma, bracket, ";" or sentence end:
# "We cover storm, but not damage caused by flood", "other than fences and gates", "except damage of more than
# 2.5m caused by flood" (a decimal point is no sentence end).
_CARVE_OUT = re.compile(
    r"\b(?:except|but not|other than|excluding|apart from|save for)\b[^,;:()]*?(?=[,;:()]|\.(?:\s|$)|$)", re.I
)
# Text after a carve-out that carries the cover on: "..., other than fences and gates, against storm".
_CONTINUES_COVER = re.compile(r"^\W*(?:against|for|from|in respect of|as well as|plus|while|and we)\b", re.I)
# Words a condition shares with almost any claim: they cannot show that the condition is met.
_GENERIC = {
    "dwelli",
    "home",
    "house",
    "proper",
    "premis",
    "buildi",
    "insure",
    "damage",
    "consec",
    "immedi",
    "period",
    "policy",
    "person",
    "occurr",
    "happen",
    "months",
    "weeks",
}
# Distinctive condition terms and the phrases a description may use for them instead, matched as whole
# phrases: "nobody lived" must not match "nobody was hurt".
_SYNONYMS = (
    (
        "vacant",
        "unoccupied",
        "uninhabited",
        "nobody lived",
        "no one lived",
        "no-one lived",
        "stood empty",
        "been empty",
        "was empty",
        "left empty",
        "sat empty",
        "lay empty",
        "nobody was living",
        "no one was living",
    ),
    ("unheated", "heating off", "heating was off", "heating was turned off", "no heating"),
    (
        "renovation",
        "renovating",
        "under construction",
        "construction work",
        "building work",
        "building works",
    ),
)
# A negation right before the term, contractions included ("wasn't vacant", "was not vacant").
_NEGATED = re.compile(r"(?:\bnot|\bnever|n't|\bno longer)\s+(?:\w+\s+){0,2}$")
_NOTICE = re.compile(
    r"\b(?:notify|tell|inform|report|contact)\w*\b[^.\n]{0,120}?\b(\d{1,3}|thirty|fourteen|seven|sixty)\s+days\b",
    re.I,
)
_NOTICE_WORDS = {"seven": 7, "fourteen": 14, "thirty": 30, "sixty": 60}
_STOP = set(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "have",
        "has",
        "had",
        "was",
        "were",
        "our",
        "your",
        "their",
        "into",
        "onto",
        "over",
        "under",
        "been",
        "before",
        "after",
        "during",
        "which",
        "there",
        "where",
        "about",
        "other",
    ]
)


class ClauseRef(BaseModel):
    source: str
    section: str | None = None
    text: str


class CoverageDecision(BaseModel):
    status: CoverageStatus
    reason: str
    citations: list[ClauseRef] = Field(default_factory=list)
    method: Literal["rule", "llm", "default"] = "rule"
    notice_days: int | None = None


class _LLMCoverage(BaseModel):
    status: CoverageStatus
    reason: str
    clause: int = Field(ge=1)


def _units(document: Document) -> list[str]:
    lines = [line.strip(" -*•\t") for line in document.page_content.splitlines()]
    units = []
    for line in lines:
        units += [s.strip() for s in re.split(r"(?<=[.;])\s+(?=[A-Z])", line) if len(s.strip()) > 12]
    return units


def _stems(text: str) -> set[str]:
    return {w[:6] for w in re.findall(r"[a-z]{5,}", text.lower()) if w not in _STOP}


def _ref(document: Document, text: str) -> ClauseRef:
    section = document.metadata.get("section") or document.metadata.get("heading")
    return ClauseRef(
        source=str(document.metadata.get("source", "")).rsplit("/", 1)[-1], section=section, text=text[:500]
    )


def _context_of(document: Document, unit: str, previous: str) -> str | None:
    """A unit's own cue wins ("We do cover ..." inside an Exclusions section is a write-back), then the
    section heading or the lead-in line above it. A carve-out's own word ("We cover the home, excluding
    money, against storm") is no cue: the carve-out is judged in ``_scan``."""
    heading = f"{document.metadata.get('section', '')} {previous}"
    subject = _CARVE_OUT.sub(" ", _QUALIFIER.split(unit, maxsplit=1)[0]).strip() or unit
    for text in (subject, heading):
        if _EXCLUSION_CONTEXT.search(text):
            return "exclusion"
        if _COVER_CONTEXT.search(text):
            return "cover"
    return None


def _condition_met(condition: str, subject: str, description: str) -> bool:
    """Whether the description states the condition's distinctive term ("vacant" in "when the dwelling has
    been vacant for more than 60 days") or a synonym, not negated ("was not vacant"). Words any claim shares
    ("dwelling") do not count: an occupied home's vandalism claim does not meet a vacancy condition."""
    terms = {w for w in re.findall(r"[a-z]{5,}", condition.lower()) if w not in _STOP}
    terms = {w for w in terms if w[:6] not in _GENERIC and w[:6] not in _stems(subject)}
    lowered = description.lower()
    for term in terms:
        group = next((g for g in _SYNONYMS if any(w.startswith(term[:6]) for w in g if " " not in w)), ())
        patterns = [
            rf"\b{re.escape(term[:6])}\w*",
            *(rf"\b{re.escape(w)}\b" for w in group if w[:6] != term[:6]),
        ]
        for pattern in patterns:
            for match in re.finditer(pattern, lowered):
                if not _NEGATED.search(lowered[: match.start()]):
                    return True
    return False


def _excludes(unit: str, loss: str, described: set[str], description: str) -> int:
    """Strength with which an exclusion unit applies to the claim (0: it does not).

    The excluded subject is the part before qualifiers ("whether or not driven by wind", "except ..."); a
    condition ("when the dwelling has been vacant ...") must be met by the description too. The subject must
    name the loss type itself ("subsidence", "flood") or share three key words with the description: one
    shared word such as "leakage" is not enough to exclude a sudden escape of water.
    """
    subject = _QUALIFIER.split(unit, maxsplit=1)[0]
    condition = _CONDITION.split(unit, maxsplit=1)
    if len(condition) > 1 and not _condition_met(condition[1], subject, description):
        return 0
    named = bool(loss) and re.search(rf"\b{re.escape(loss)}\b", subject.lower()) is not None
    shared = len(described & _stems(subject))
    if shared >= 3 or (named and shared >= 1):
        return shared + 2 * named
    return 0


def _peril_words(record: ClaimRecord) -> tuple[str, ...]:
    loss = str(record.loss_type.value or "")
    return tuple(dict.fromkeys([loss, *LOSS_TYPES.get(loss, ())])) if loss else ()


def _scan(
    record: ClaimRecord, passages: Sequence[Document]
) -> tuple[list[tuple[int, Document, str]], list[tuple[int, Document, str]]]:
    """(exclusion hits, cover hits), each (strength, document, unit), strongest first."""
    perils = _peril_words(record)
    loss = str(record.loss_type.value or "").lower()
    description = str(record.description.value or "")
    described = _stems(description)
    exclusions, covers = [], []
    for document in passages:
        context_line = ""
        for unit in _units(document):
            context = _context_of(document, unit, context_line)
            if unit.endswith(":") or len(unit) < 60:
                context_line = (
                    unit if _EXCLUSION_CONTEXT.search(unit) or _COVER_CONTEXT.search(unit) else context_line
                )
            if context == "exclusion" and (strength := _excludes(unit, loss, described, description)):
                exclusions.append((strength, document, unit))
            elif context == "cover":
                covered, carved_out = _split_cover(unit)
                if _names_peril(carved_out, perils):  # "... but not flood"
                    exclusions.append((len(described & _stems(carved_out)) + 2, document, unit))
                elif _names_peril(covered, perils):
                    covers.append((len(described & _stems(unit)) + 2, document, unit))
    key = lambda item: -item[0]  # noqa: E731
    return sorted(exclusions, key=key), sorted(covers, key=key)


def _split_cover(unit: str) -> tuple[str, str]:
    """(covered text, carved-out text) of a cover clause. Text after a carve-out counts as cover only when it
    carries the cover on ("against storm", "as well as fire"); a bare list there is in neither, as it may
    continue the cover or the carve-out ("theft other than by someone living in your home, storm, flood"
    versus "excluding wear and tear, flood and subsidence"): a peril named only there is left for review."""
    covered, carved, position = [], [], 0
    for match in _CARVE_OUT.finditer(unit):
        before = unit[position : match.start()]
        if not carved or _CONTINUES_COVER.match(before):
            covered.append(before)
        carved.append(match.group(0))
        position = match.end()
    tail = unit[position:]
    if not carved or _CONTINUES_COVER.match(tail):
        covered.append(tail)
    return " ".join(covered), " ".join(carved)


def _names_peril(text: str, perils: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text.lower()) for w in perils if w)


def _notice_days(passages: Sequence[Document]) -> int | None:
    """The notification period the wording sets ("notify us ... within 30 days")."""
    for document in passages:
        for unit in _units(document):
            if match := _NOTICE.search(unit):
                raw = match.group(1).lower()
                return int(raw) if raw.isdigit() else _NOTICE_WORDS[raw]
    return None


def _ask_llm(
    chat_model: ChatModel, record: ClaimRecord, passages: Sequence[Document]
) -> tuple[_LLMCoverage, Document] | None:
    shown = list(passages[:4])
    context = "\n\n".join(f"[{i}] {d.page_content[:700]}" for i, d in enumerate(shown, start=1))
    system = (
        "You check an insurance claim against policy clauses. Reply with one JSON object only: "
        '{"status": "covered" | "excluded" | "needs review", "reason": one sentence, "clause": the number of '
        "the clause you rely on}."
    )
    claim = f"Loss type: {record.loss_type.value}. Description: {record.description.value}"
    reply = chat_model.generate(
        [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Policy clauses:\n{context}\n\nClaim: {claim}"},
        ],
        max_new_tokens=120,
        temperature=0.0,
    )
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    try:
        verdict = _LLMCoverage.model_validate(json.loads(match.group(0))) if match else None
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None
    if verdict is None or verdict.clause > len(shown):
        return None
    return verdict, shown[verdict.clause - 1]


def _conflicting_peril(
    record: ClaimRecord, evidence: Sequence[Document], passages: Sequence[Document]
) -> tuple[str, Document, str] | None:
    """Another peril that the claim's own documents mention at least twice and the wording excludes by name
    (the form says "water damage", the inspection report says "flood")."""
    stated = str(record.loss_type.value or "").lower()
    text = "\n".join(d.page_content.lower() for d in evidence)
    for peril, words in LOSS_TYPES.items():
        if peril == stated:
            continue
        mentions = sum(len(re.findall(rf"\b{re.escape(word)}\b", text)) for word in words)
        if mentions < 2:
            continue
        for document in passages:
            for unit in _units(document):
                subject = _QUALIFIER.split(unit, maxsplit=1)[0].lower()
                if _context_of(document, unit, "") == "exclusion" and re.search(
                    rf"\b{re.escape(peril)}\b", subject
                ):
                    return peril, document, unit
    return None


# PUBLIC API


def check_coverage(
    record: ClaimRecord,
    passages: Sequence[Document],
    *,
    evidence: Sequence[Document] = (),
    chat_model: ChatModel | None = None,
) -> CoverageDecision:
    """Covered / excluded / needs review for one claim, citing the policy clauses relied on.

    ``evidence`` are the claim's own documents: when they point to an excluded peril other than the stated
    loss type, a "covered" finding becomes "needs review" with both clauses cited.
    """
    common = {"notice_days": _notice_days(passages)}
    if not passages:
        return CoverageDecision(
            status="needs review",
            reason="No policy wording was found to check against.",
            method="default",
            **common,
        )
    exclusions, covers = _scan(record, passages)
    if exclusions:
        _, document, unit = exclusions[0]
        return CoverageDecision(
            status="excluded",
            reason=f'The policy excludes this loss: "{unit[:200]}"',
            citations=[_ref(document, unit)],
            **common,
        )
    if covers and (conflict := _conflicting_peril(record, evidence, passages)) is not None:
        peril, excluded_in, unit = conflict
        _, document, cover_unit = covers[0]
        return CoverageDecision(
            status="needs review",
            method="rule",
            reason=f"The claim states {record.loss_type.value}, but its documents also point to {peril}, which "
            f'the policy excludes: "{unit[:160]}"',
            citations=[_ref(excluded_in, unit), _ref(document, cover_unit)],
            **common,
        )
    if covers:
        _, document, unit = covers[0]
        return CoverageDecision(
            status="covered",
            reason=f'The loss ({record.loss_type.value}) is an insured event: "{unit[:200]}"',
            citations=[_ref(document, unit)],
            **common,
        )
    if chat_model is not None and (found := _ask_llm(chat_model, record, passages)) is not None:
        verdict, document = found
        return CoverageDecision(
            status=verdict.status,
            reason=verdict.reason,
            citations=[_ref(document, document.page_content)],
            method="llm",
            **common,
        )
    loss = record.loss_type.value or "unknown"
    return CoverageDecision(
        status="needs review",
        method="default",
        **common,
        reason=f"No policy clause clearly covers or excludes this loss (type: {loss}); a handler must decide.",
    )
