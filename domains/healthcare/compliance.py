"""Compliance review: an internal policy, clause by clause, against a regulation collection.

For each clause the governing regulation passages are retrieved, then deterministic checks run first, because
they are exact and auditable: periods stated in days/months/years are compared with the regulation's
deadline or minimum retention; a clause that permits a use "without authorization" or takes away a right the
regulation grants is flagged. Only where no rule decides does an optional LLM judge with a structured JSON
prompt (validated; invalid replies fall back to "consistent, unverified"). A clause that no passage is about
is "not covered". Every finding cites the passage it rests on and suggests a fix; the report is a draft for
a compliance professional.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langchain_core.documents import Document
from pydantic import BaseModel, Field, ValidationError

from data_connectors.documents import load_documents
from data_connectors.errors import BadInputError
from data_connectors.text import NUMBER_WORDS
from domains.healthcare import DRAFT_NOTICE
from rag.llm import ChatModel

log = logging.getLogger(__name__)

Status = Literal["consistent", "possible gap", "not covered"]
Retrieve = Callable[[str], Sequence[Document]]

_NUMBER_WORDS = {**NUMBER_WORDS, "hundred": 100}
# Average lengths, so that 72 months and 6 years compare as equal (with 30-day months they did not).
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
_DURATION = re.compile(
    r"\b(\d{1,4}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?:\s*\(\d{1,4}\))?\s+"
    r"(?:calendar\s+|business\s+|working\s+)?(day|week|month|year)s?\b",
    re.IGNORECASE,
)
_MINIMUM_CUE = re.compile(
    r"\b(?:retain\w*|retention|keep|kept|maintain\w*|preserv\w*|at least|minimum|for a period of)\b", re.I
)
# The role of a period, from the words around it: a response deadline (the clause may be shorter), a retention
# period or a look-back ("disclosures made in the six years prior to the request"; the clause may be longer).
DurationRole = Literal["deadline", "retention", "lookback"]
_LOOKBACK_BEFORE = re.compile(r"\b(?:past|prior|preceding|previous|last)\s+$", re.I)
_LOOKBACK_AFTER = re.compile(r"^\s*(?:prior to|before|preceding)\b", re.I)
_SEGMENT_BREAK = re.compile(r"[,;:.]")
# "may not ... without authorization" / "will never ... without" forbid, not permit: no negation may sit between
# the modal and "without".
_PERMISSIVE_WITHOUT = re.compile(
    r"\b(?:may|can|will|shall|is permitted to|are permitted to|freely)\b(?!'t)"
    r"(?:(?!\b(?:not|never|no|cannot|won't)\b)[^.]){0,120}\bwithout\b[^.]{0,40}"
    r"\b(?:authori[sz]ation|consent|permission)\b",
    re.I,
)
_REQUIRES_AUTHORIZATION = re.compile(
    r"\b(?:must obtain|obtain an?|requires? an?|valid|may not [^.]{0,80}without)\b[^.]{0,60}\bauthori[sz]ation\b"
    r"|\bmay not (?:use or )?disclose\b",
    re.I,
)
_DENIES_RIGHT = re.compile(
    r"\b(?:not (?:be )?(?:entitled|permitted|allowed|able)|may not (?:request|access|obtain|"
    r"inspect|receive|amend|complain)|will not (?:provide|notify|inform|accept|consider|give)|no (?:right|access)|"
    r"(?:does|do) not (?:need to|have to|notify|provide|inform)|need not|never (?:notify|provide|disclose to)|"
    r"refuse[sd]? all|den(?:y|ies) all)\b",
    re.I,
)
# "not required" denies a right only when said of the clinic's duty ("the clinic is not required to notify"),
# not of what the individual must do ("patients are not required to give a reason").
_NOT_REQUIRED = re.compile(r"\bnot (?:be )?(?:required|obliged)\b", re.I)
_INDIVIDUAL_SUBJECT = re.compile(
    r"\b(?:patients?|individuals?|you|requesters?|members?|parents?|guardians?|persons?|people)\s+(?:\w+\s+){0,2}$",
    re.I,
)
_GRANTS_RIGHT = re.compile(
    r"\b(?:has a right|have a right|right to|right of|shall|must|is required to|are required to)\b", re.I
)
_STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "by",
        "with",
        "from",
        "at",
        "as",
        "is",
        "are",
        "be",
        "been",
        "being",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "any",
        "all",
        "each",
        "such",
        "which",
        "who",
        "whom",
        "whose",
        "will",
        "shall",
        "may",
        "must",
        "can",
        "not",
        "no",
        "than",
        "then",
        "there",
        "their",
        "our",
        "we",
        "us",
        "you",
        "your",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "within",
        "after",
        "before",
        "under",
        "upon",
        "into",
        "other",
        "also",
        "only",
        "more",
        "most",
        "per",
        "if",
        "when",
        "where",
    ]
)
_CLAUSE_START = re.compile(
    r"^\s*(?:(?:section|clause|article)\s+)?(?:\d+(?:\.\d+)*[.)]?|\([a-z0-9]+\)|[a-z][.)])\s+", re.I
)


class PassageRef(BaseModel):
    source: str
    section: str | None = None
    page: int | None = None
    text: str


class Clause(BaseModel):
    id: str
    text: str


class ClauseFinding(BaseModel):
    clause_id: str
    clause: str
    status: Status
    reason: str
    suggested_fix: str = ""
    citation: PassageRef | None = None
    method: Literal["rule", "llm", "default"]
    confidence: float = Field(ge=0, le=1)


class ComplianceReport(BaseModel):
    policy: str
    collection: str
    findings: list[ClauseFinding]
    counts: dict[str, int]
    draft: bool = True
    notice: str = DRAFT_NOTICE

    def to_markdown(self) -> str:
        lines = [
            f"# Compliance review: {self.policy}",
            "",
            f"Against collection `{self.collection}`. **{self.notice}**",
            "",
        ]
        lines.append(" | ".join(f"{status}: {count}" for status, count in self.counts.items()))
        for finding in self.findings:
            lines += [
                "",
                f"## Clause {finding.clause_id}: {finding.status}",
                "",
                f"> {finding.clause}",
                "",
                f"**Why:** {finding.reason} ({finding.method}, confidence {finding.confidence:.2f})",
            ]
            if finding.suggested_fix:
                lines.append(f"\n**Suggested fix:** {finding.suggested_fix}")
            if finding.citation:
                where = ", ".join(x for x in (finding.citation.source, finding.citation.section) if x)
                lines.append(f"\n**Regulation ({where}):** {finding.citation.text}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        colours = {"consistent": "#e6f4ea", "possible gap": "#fdecea", "not covered": "#fff8e1"}
        rows = []
        for f in self.findings:
            cite = (
                html.escape(f"{f.citation.source} {f.citation.section or ''}: {f.citation.text}")
                if f.citation
                else ""
            )
            rows.append(
                f"<tr style='background:{colours[f.status]}'><td>{html.escape(f.clause_id)}</td>"
                f"<td>{html.escape(f.clause)}</td><td><b>{f.status}</b><br>{html.escape(f.reason)}</td>"
                f"<td>{html.escape(f.suggested_fix)}</td><td><small>{cite}</small></td></tr>"
            )
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Compliance review: {html.escape(self.policy)}"
            "</title></head><body style='font-family:sans-serif'>"
            f"<h1>Compliance review: {html.escape(self.policy)}</h1><p><b>{html.escape(self.notice)}</b></p>"
            f"<p>{html.escape(json.dumps(self.counts))}</p><table border='1' cellpadding='6' style='border-collapse:"
            "collapse'><tr><th>Clause</th><th>Text</th><th>Status</th><th>Suggested fix</th><th>Regulation</th></tr>"
            + "".join(rows)
            + "</table></body></html>"
        )


class _LLMVerdict(BaseModel):
    status: Status
    reason: str
    suggested_fix: str = ""


# ---------------------------------------------------------------- helpers


def _words(text: str) -> set[str]:
    stems = set()
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        if word not in _STOPWORDS:
            stems.add(word[:6])  # crude stemming: notify/notification, disclose/disclosure share a prefix
    return stems


def _overlap(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, min(len(wa), 12))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;])\s+(?=[A-Z(])", text) if s.strip()]


@dataclass(frozen=True)
class _Duration:
    days: float  # for comparing
    words: str  # as written, for the reader: "72 months"
    role: DurationRole
    context: str  # its own part of the sentence (between commas, semicolons ...): what the period is about


def _role(text: str, start: int, end: int) -> DurationRole:
    """What a period at ``text[start:end]`` measures, from the words of its own part of the sentence."""
    breaks = [m.end() for m in _SEGMENT_BREAK.finditer(text, 0, start)]
    before = text[(breaks[-1] if breaks else 0) : start]
    if _LOOKBACK_BEFORE.search(before) or _LOOKBACK_AFTER.search(text[end:]):
        return "lookback"
    return "retention" if _MINIMUM_CUE.search(before) else "deadline"


def _durations(text: str) -> list[_Duration]:
    found = []
    for match in _DURATION.finditer(text):
        number, unit = match.group(1), match.group(2).lower()
        value = int(number) if number.isdigit() else _NUMBER_WORDS[number.lower()]
        role = _role(text, match.start(), match.end())
        before = [m.end() for m in _SEGMENT_BREAK.finditer(text, 0, match.start())]
        after = _SEGMENT_BREAK.search(text, match.end())
        context = text[(before[-1] if before else 0) : after.start() if after else len(text)]
        found.append(
            _Duration(value * _UNIT_DAYS[unit], f"{value} {unit}{'s' * (value != 1)}", role, context)
        )
    return found


def _denies_right(clause: str) -> bool:
    if _DENIES_RIGHT.search(clause):
        return True
    return any(
        _INDIVIDUAL_SUBJECT.search(clause[: match.start()]) is None
        for match in _NOT_REQUIRED.finditer(clause)
    )


def _ref(document: Document, text: str | None = None) -> PassageRef:
    meta = document.metadata
    return PassageRef(
        source=str(meta.get("source", "")),
        section=meta.get("section") or meta.get("heading"),
        page=meta.get("page") if isinstance(meta.get("page"), int) else None,
        text=(text or document.page_content).strip()[:600],
    )


def _best_pair(
    stated: _Duration, clause: str, passages: Sequence[Document]
) -> tuple[float, Document, str, _Duration] | None:
    """The regulation period of the same role whose own part of its sentence is most about the clause (then the
    whole sentence), with that sentence: "no later than 60 days after the end of each calendar year" is not
    about a request for access, although its sentence shares "protected health information" with it."""
    best, best_score = None, (0.0, 0.0)
    for document in passages:
        for sentence in _sentences(document.page_content):
            whole = _overlap(clause, sentence)
            if whole < 0.2:
                continue
            for required in _durations(sentence):
                score = (_overlap(clause, required.context), whole)
                if required.role == stated.role and (best is None or score > best_score):
                    best, best_score = (whole, document, sentence, required), score
    return best


def _duration_check(clause: str, passages: Sequence[Document]) -> ClauseFinding | None:
    """Every period in the clause against the regulation's period of the same role (deadline, retention,
    look-back); the first conflict is a gap, citing the sentence that holds the regulation's period."""
    slack = 0.5  # days: rounding between units is not a gap
    consistent: ClauseFinding | None = None
    for stated in _durations(clause):
        pair = _best_pair(stated, clause, passages)
        if pair is None:
            continue
        _, document, sentence, required = pair
        is_minimum = stated.role != "deadline"
        violates = stated.days < required.days - slack if is_minimum else stated.days > required.days + slack
        if violates:
            if stated.role == "retention":
                reason = f"The clause keeps records for {stated.words}, less than the {required.words} the regulation requires."
                fix = f"Extend the period to at least {required.words}."
            elif stated.role == "lookback":
                reason = f"The clause covers only the past {stated.words}, less than the {required.words} the regulation covers."
                fix = f"Extend the period covered to at least {required.words}."
            else:
                reason = f"The clause allows {stated.words}, longer than the regulation's limit of {required.words}."
                fix = (
                    f"Shorten the period to no later than {required.words} (and without unreasonable delay)."
                )
            return ClauseFinding(
                clause_id="",
                clause=clause,
                status="possible gap",
                reason=reason,
                suggested_fix=fix,
                method="rule",
                confidence=0.9,
                citation=_ref(document, sentence),
            )
        if consistent is None:
            consistent = ClauseFinding(
                clause_id="",
                clause=clause,
                status="consistent",
                method="rule",
                confidence=0.9,
                citation=_ref(document, sentence),
                reason=f"The clause's {stated.words} {'meets the minimum' if is_minimum else 'is within the limit'} "
                f"of {required.words} set by the regulation.",
            )
    return consistent


def _best_sentence(
    clause: str, passages: Sequence[Document], pattern: re.Pattern[str]
) -> tuple[Document, str] | None:
    scored = [
        (_overlap(clause, sentence), document, sentence)
        for document in passages
        for sentence in _sentences(document.page_content)
        if pattern.search(sentence)
    ]
    scored = [item for item in scored if item[0] >= 0.15]
    if not scored:
        return None
    _, document, sentence = max(scored, key=lambda item: item[0])
    return document, sentence


# (clause test, regulation pattern, confidence, reason, suggested fix): a clause passing the test
# conflicts with a regulation sentence matching the second.
_MODALITY_RULES = (
    (
        _PERMISSIVE_WITHOUT.search,
        _REQUIRES_AUTHORIZATION,
        0.8,
        "The clause permits a use or disclosure without authorization that the regulation allows "
        "only where a rule permits it or a valid authorization exists.",
        "Require the individual's valid written authorization before this use or disclosure.",
    ),
    (
        _denies_right,
        _GRANTS_RIGHT,
        0.7,
        "The clause withholds an action or right that the cited regulation passage requires.",
        "Rewrite the clause so it provides what the cited passage requires.",
    ),
)


def _modality_check(clause: str, passages: Sequence[Document]) -> ClauseFinding | None:
    for clause_pattern, regulation_pattern, confidence, reason, fix in _MODALITY_RULES:
        found = _best_sentence(clause, passages, regulation_pattern) if clause_pattern(clause) else None
        if found:
            return ClauseFinding(
                clause_id="",
                clause=clause,
                status="possible gap",
                method="rule",
                confidence=confidence,
                citation=_ref(*found),
                reason=reason,
                suggested_fix=fix,
            )
    return None


def _ask_llm(chat_model: ChatModel, clause: str, passages: Sequence[Document]) -> _LLMVerdict | None:
    context = "\n\n".join(f"[{i}] {d.page_content[:700]}" for i, d in enumerate(passages[:3], start=1))
    system = (
        "You review hospital policy clauses against regulation passages. Answer with one JSON object only: "
        '{"status": "consistent" | "possible gap" | "not covered", "reason": one sentence, '
        '"suggested_fix": one sentence or ""}. "possible gap" means the clause is weaker than or contradicts '
        'the passages; "not covered" means the passages do not address the clause.'
    )
    reply = chat_model.generate(
        [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Regulation passages:\n{context}\n\nPolicy clause: {clause}"},
        ],
        max_new_tokens=160,
        temperature=0.0,
    )
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if match is None:
        return None
    try:
        return _LLMVerdict.model_validate(json.loads(match.group(0)))
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None


# PUBLIC API


def load_policy_text(path: Path) -> str:
    """The policy's text in document order, from any format the document loader reads.

    Raises:
        BadInputError: the file is missing, of an unsupported type or unreadable.
    """
    loaded = load_documents([path])
    if not loaded.documents:
        problems = loaded.failed or loaded.skipped
        reason = problems[0].reason if problems else "it contains no text"
        raise BadInputError(f"Policy file {path} cannot be read: {reason}.")
    return "\n\n".join(d.page_content for d in loaded.documents)


def split_clauses(text: str, *, min_words: int = 6) -> list[Clause]:
    """Numbered items or paragraphs of a policy; headings and fragments shorter than ``min_words`` are dropped.

    Clause ids are the document's own numbers where it has them ("4.2"), else running numbers.
    """
    clauses: list[Clause] = []
    blocks = re.split(
        r"\n\s*\n|\n(?=\s*(?:(?:section|clause)\s+)?\d+(?:\.\d+)*[.)]?\s)", text.strip(), flags=re.I
    )
    for block in blocks:
        block = " ".join(block.split())
        if len(block.split()) < min_words:
            continue
        number = _CLAUSE_START.match(block)
        clause_id = (
            re.sub(r"^(?:section|clause|article)\s+", "", number.group(0).strip(), flags=re.I).strip("().")
            if number
            else str(len(clauses) + 1)
        )
        body = block[number.end() :] if number else block
        if clause_id in {c.id for c in clauses}:
            clause_id = f"{clause_id}-{len(clauses) + 1}"
        clauses.append(Clause(id=clause_id, text=body))
    return clauses


def review_clause(
    clause: Clause,
    passages: Sequence[Document],
    *,
    chat_model: ChatModel | None = None,
    min_relevance: float = 0.2,
) -> ClauseFinding:
    """Classify one clause against its retrieved passages (rules, then optional LLM, then a cautious default)."""
    relevance = max((_overlap(clause.text, d.page_content) for d in passages), default=0.0)
    if relevance < min_relevance:
        return ClauseFinding(
            clause_id=clause.id,
            clause=clause.text,
            status="not covered",
            method="rule",
            confidence=0.6,
            reason="No passage in the regulation collection addresses this clause.",
            suggested_fix="Confirm whether another regulation or an internal standard governs this clause.",
        )
    for check in (_duration_check, _modality_check):
        finding = check(clause.text, passages)
        if finding is not None:
            return finding.model_copy(update={"clause_id": clause.id})
    top = max(passages, key=lambda d: _overlap(clause.text, d.page_content))
    if chat_model is not None and (verdict := _ask_llm(chat_model, clause.text, passages)) is not None:
        return ClauseFinding(
            clause_id=clause.id,
            clause=clause.text,
            status=verdict.status,
            reason=verdict.reason,
            suggested_fix=verdict.suggested_fix if verdict.status != "consistent" else "",
            method="llm",
            confidence=0.5,
            citation=_ref(top),
        )
    return ClauseFinding(
        clause_id=clause.id,
        clause=clause.text,
        status="consistent",
        method="default",
        confidence=0.4,
        citation=_ref(top),
        reason="No conflict with the cited passage was found by the deterministic checks; a reviewer should confirm.",
    )


def review_policy(
    text: str,
    retrieve: Retrieve,
    *,
    policy_name: str,
    collection: str,
    chat_model: ChatModel | None = None,
) -> ComplianceReport:
    """Review every clause of ``text``; ``retrieve`` maps a clause to regulation passages (a retriever's invoke).

    Raises:
        BadInputError: the policy has no clause of at least six words.
    """
    clauses = split_clauses(text)
    if not clauses:
        raise BadInputError(
            f"Policy {policy_name} contains no clauses to review (no paragraph of six words or more)."
        )
    findings = [
        review_clause(clause, list(retrieve(clause.text)), chat_model=chat_model) for clause in clauses
    ]
    counts = {
        status: sum(f.status == status for f in findings)
        for status in ("consistent", "possible gap", "not covered")
    }
    log.info("compliance review of %d clauses against %s: %s", len(findings), collection, counts)
    return ComplianceReport(policy=policy_name, collection=collection, findings=findings, counts=counts)
