"""Claim triage: a claim folder -> extracted fields, coverage with clause citations, fraud indicators and an
approve / review / deny recommendation with reasons, as a draft for a claims handler.

Retrieval is scoped: the claim's own documents are read from its folder, and the policy collection is
searched for wording only; any passage that belongs to another claim (``claim_id`` metadata or a
``CLM-nnnn`` folder in its source path) is dropped before anything sees it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
from langchain_core.documents import Document
from pydantic import BaseModel, Field

from data_connectors.audit import AuditLog
from data_connectors.documents import load_documents
from data_connectors.errors import BadInputError
from data_connectors.privacy import known_names, protect_logger
from data_connectors.tables import parse_money, parse_timestamps, read_table
from domains.insurance import DRAFT_NOTICE
from domains.insurance.coverage import CoverageDecision, check_coverage
from domains.insurance.extraction import ClaimRecord, Inconsistency, extract_claim
from domains.insurance.fraud import (
    AnomalyResult,
    FraudAssessment,
    PolicyHistory,
    assess_fraud,
    claim_features,
)
from rag.llm import ChatModel

log = protect_logger(logging.getLogger(__name__))

Decision = Literal["approve", "review", "deny"]
Retrieve = Callable[[str], Sequence[Document]]
# None: no anomaly result; the scorer's ``problem`` attribute, if any, says why (see anomaly.UnusablePortfolio).
AnomalyScorer = Callable[[dict[str, float]], AnomalyResult | None]
_CLAIM_ID = re.compile(r"\bCLM-\d{3,}\b", re.IGNORECASE)


class FileIssue(BaseModel):
    path: str
    reason: str


class TriageResult(BaseModel):
    claim_id: str
    record: ClaimRecord
    coverage: CoverageDecision
    fraud: FraudAssessment
    recommendation: Decision
    reasons: list[str]
    documents: list[str]
    unreadable: list[FileIssue] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)  # what the triage had to do without, and why
    draft: bool = True
    notice: str = DRAFT_NOTICE


class PolicyRegister:
    """The insurer's policy records (policy_number, policy_start, coverage_limit, prior_claims) from a CSV.

    A row with a value that cannot be read is kept as ``unreadable``, not dropped: a dropped row would make
    the policy look like one without prior claims, where a claim on it needs a handler to check the row. A
    policy number listed twice (case and spaces ignored) with different values is ``conflicting``: no row is
    picked, and a claim on it goes to review; repeats with the same values count once. Both are logged.
    """

    def __init__(
        self,
        rows: dict[str, PolicyHistory],
        unreadable: Iterable[str] = (),
        conflicting: Iterable[str] = (),
    ) -> None:
        self.conflicting = {str(number).strip().upper() for number in conflicting}
        self.rows = {number: row for number, row in rows.items() if number not in self.conflicting}
        self.unreadable = {str(number).strip().upper() for number in unreadable}

    @classmethod
    def from_csv(cls, path: Path) -> PolicyRegister:
        if not Path(path).is_file():
            raise BadInputError(
                f"Policy register {path} does not exist; pass a CSV with policy_number, "
                "policy_start, coverage_limit, prior_claims."
            )
        table = read_table(  # as text, so parse_money (not pandas) reads "12.500" and "175,000"
            path,
            required=("policy_number",),
            what="policy register",
            text_columns=("policy_number", "coverage_limit", "prior_claims"),
        )
        # Dates are read for the whole column (15/06/2021 makes 01/06/2021 day-first); one that still reads
        # two ways makes its row unreadable rather than guessed.
        starts = parse_timestamps(
            table.get("policy_start", pd.Series(index=table.index, dtype=object)), ambiguous="coerce"
        )
        rows, unreadable, lines, conflicting, repeated = {}, [], [], set(), []
        records = table.astype(object).fillna("").astype(str).to_dict("records")
        for index, row in enumerate(records):
            number = row["policy_number"].strip().upper()
            try:
                history = _history(row, starts.iloc[index])
            except ValueError:
                unreadable.append(number)
                lines.append(index + 2)
                continue
            if number in rows:
                repeated.append(index + 2)
                if rows[number] != history:
                    conflicting.add(number)
            rows[number] = history
        if lines:  # line numbers only: the rows hold policy numbers
            log.warning(
                "policy register %s: lines %s have unreadable values; claims on them need review", path, lines
            )
        if repeated:
            log.warning(
                "policy register %s: lines %s repeat the number of an earlier line; %d such number(s) with "
                "different values, whose claims need review",
                path,
                repeated,
                len(conflicting),
            )
        return cls(rows, unreadable, conflicting)

    def lookup(self, policy_number: object) -> PolicyHistory:
        return self.rows.get(str(policy_number or "").strip().upper(), PolicyHistory())

    def problem(self, policy_number: object) -> str | None:
        """Why the register cannot vouch for the policy (not in it, listed twice with different values, or its
        row unreadable), else None."""
        key = str(policy_number or "").strip().upper()
        if not key:
            return None  # a missing policy number is reported as a missing field
        if key in self.unreadable:
            return f"the policy register's row for {key} has unreadable values; check the register"
        if key in self.conflicting:
            return (
                f"the policy register lists {key} more than once with different values; check which row is "
                "right"
            )
        if key not in self.rows:
            return f"policy {key} is not in the policy register"
        return None


def _history(row: dict[str, str], start: pd.Timestamp) -> PolicyHistory:
    """One register row; ValueError when a value is present but unreadable (numbers may carry separators and
    a currency: "175,000", "$175000")."""
    if row.get("policy_start", "").strip() and pd.isna(start):
        raise ValueError("unreadable policy_start")
    values = {}
    for column in ("prior_claims", "coverage_limit"):
        raw = row.get(column, "").strip()
        values[column] = parse_money(raw, what=column) if raw else None
        if raw and values[column] is None:
            raise ValueError(f"unreadable {column}")
    return PolicyHistory(
        prior_claims=int(values["prior_claims"] or 0),
        policy_start=None if pd.isna(start) else start.date(),
        policy_limit=values["coverage_limit"],
    )


# ---------------------------------------------------------------- helpers


def claim_id_of(claim_dir: Path, documents: Sequence[Document]) -> str:
    """The folder name when it is a claim number, else the first claim number in the documents."""
    if _CLAIM_ID.fullmatch(claim_dir.name):
        return claim_dir.name.upper()
    for document in documents:
        if match := _CLAIM_ID.search(document.page_content):
            return match.group(0).upper()
    return claim_dir.name


def in_scope(document: Document, claim_id: str) -> bool:
    """Whether a retrieved passage may be used for ``claim_id``: policy wording, or this claim's own files."""
    owner = document.metadata.get("claim_id")
    if owner is not None and str(owner).upper() != claim_id.upper():
        return False
    in_path = {m.upper() for m in _CLAIM_ID.findall(str(document.metadata.get("source", "")))}
    return not in_path or in_path == {claim_id.upper()}


def _policy_passages(record: ClaimRecord, retrieve: Retrieve, claim_id: str) -> list[Document]:
    loss = str(record.loss_type.value or "")
    queries = [
        f"{loss}. {record.description.value or ''}".strip(),
        f"exclusions we do not cover {loss}",
        f"we cover {loss} insured perils",
        "notify us of a loss within days",
    ]
    passages: dict[str, Document] = {}
    for query in queries:
        for document in retrieve(query):
            if in_scope(document, claim_id):
                passages.setdefault(document.page_content, document)
    return list(passages.values())


def _policy_checks(
    record: ClaimRecord, register: PolicyRegister | None
) -> tuple[PolicyHistory, float | None, list[str]]:
    """(history, limit, problems): the insurer's record of the policy and why it cannot vouch for the claim
    (no register, policy unknown or unreadable, loss before the policy started). The register's limit wins
    over the one the claimant wrote on the form; a differing form limit is recorded as an inconsistency."""
    if register is None:
        return PolicyHistory(), None, ["no policy register was given, so the policy could not be checked"]
    history = register.lookup(record.policy_number.value)
    problems = [problem] if (problem := register.problem(record.policy_number.value)) else []
    loss, start = record.date_of_loss.value, history.policy_start
    if isinstance(loss, date) and start is not None and loss < start:
        problems.append(f"the loss ({loss}) precedes the policy start ({start}) in the policy register")
    stated = record.coverage_limit.value
    limit = history.policy_limit if history.policy_limit is not None else stated
    if (
        isinstance(stated, float)
        and history.policy_limit is not None
        and abs(stated - history.policy_limit) > 0.005
    ):
        record.inconsistencies.append(
            Inconsistency(
                field="coverage_limit",
                values=[f"{stated:.2f}", f"{history.policy_limit:.2f}"],
                sources=[record.coverage_limit.source or "", "policy register"],
                detail=f"the claim states a coverage limit of {stated:,.2f} but the policy register holds "
                f"{history.policy_limit:,.2f}",
            )
        )
    return history, limit, problems


def _recommend(
    record: ClaimRecord,
    coverage: CoverageDecision,
    fraud: FraudAssessment,
    limit: float | None,
    policy_problems: Sequence[str] = (),
) -> tuple[Decision, list[str]]:
    amount = record.amount_claimed.value
    if coverage.status == "excluded":
        return "deny", [f"Excluded by the policy wording: {coverage.reason}"]
    reasons = list(policy_problems)
    if coverage.status == "needs review":
        reasons.append(coverage.reason)
    reasons += [f"{i.name}: {i.detail}" for i in fraud.indicators if i.fired]
    if isinstance(amount, float) and limit and amount > limit:
        reasons.append(f"amount {amount:,.2f} exceeds the limit {limit:,.2f}")
    required = ("policy_number", "date_of_loss", "date_reported", "amount_claimed")
    ambiguous = [
        name for name in required if record.value(name) is None and getattr(record, name).alternatives
    ]
    reasons += [
        f"{name.replace('_', ' ')} reads two ways ({' or '.join(getattr(record, name).alternatives)}) in "
        f'"{getattr(record, name).quote}"; confirm which'
        for name in ambiguous
    ]
    missing = [name for name in required if record.value(name) is None and name not in ambiguous]
    if missing:
        reasons.append(f"missing field(s): {', '.join(missing)}")
    blocking = (
        coverage.status != "covered"
        or policy_problems
        or record.inconsistencies
        or fraud.score >= 0.3
        or missing
        or ambiguous
        or (isinstance(amount, float) and limit and amount > limit)
    )
    if blocking:
        return "review", reasons
    return "approve", [coverage.reason, f"fraud-risk score {fraud.score:.2f} ({fraud.level})"]


# PUBLIC API


def triage_claim(
    claim_dir: Path,
    *,
    retrieve_policy: Retrieve,
    register: PolicyRegister | None = None,
    anomaly: AnomalyScorer | None = None,
    chat_model: ChatModel | None = None,
    audit: AuditLog | None = None,
    actor: str = "claims-handler",
    collection: str = "insurance",
) -> TriageResult:
    """Triage one claim folder against the policy wording that ``retrieve_policy`` searches.

    Raises:
        BadInputError: the folder does not exist or holds no readable document (unreadable files are
            reported in ``unreadable`` and skipped otherwise).
    """
    claim_dir = Path(claim_dir)
    if not claim_dir.is_dir():
        raise BadInputError(
            f"Claim folder {claim_dir} does not exist; pass the folder holding the claim's files."
        )
    loaded = load_documents([claim_dir])
    unreadable = [
        FileIssue(path=Path(f.path).name, reason=f.reason) for f in (*loaded.failed, *loaded.skipped)
    ]
    if not loaded.documents:
        raise BadInputError(
            f"Claim folder {claim_dir} holds no readable document (supported: PDF, DOCX, TXT, MD, ...)."
        )
    claim_id = claim_id_of(claim_dir, loaded.documents)
    documents = [d for d in loaded.documents if in_scope(d, claim_id)]
    record = extract_claim(documents, claim_id=claim_id, chat_model=chat_model)
    # the claimant's name is masked in this claim's audit entry and log lines, not remembered for every later one
    with known_names(str(record.claimant.value) if record.claimant.value else None):
        if audit is not None:
            audit.record(
                actor=actor,
                action="claim-triage",
                collection=collection,
                question=f"triage {claim_id}: {record.loss_type.value or 'unknown loss'}",
            )
        passages = _policy_passages(record, retrieve_policy, claim_id)
        coverage = check_coverage(record, passages, evidence=documents, chat_model=chat_model)
        history, limit, policy_problems = _policy_checks(record, register)
        anomaly_result = (
            anomaly(claim_features(record, history, limit=limit)) if anomaly is not None else None
        )
        warnings = (
            [problem] if anomaly_result is None and (problem := getattr(anomaly, "problem", None)) else []
        )
        fraud = assess_fraud(
            record, history, limit=limit, notice_days=coverage.notice_days, anomaly=anomaly_result
        )
        decision, reasons = _recommend(record, coverage, fraud, limit, policy_problems)
        log.info("triage %s: %s (coverage %s, fraud %.2f)", claim_id, decision, coverage.status, fraud.score)
    return TriageResult(
        claim_id=claim_id,
        record=record,
        coverage=coverage,
        fraud=fraud,
        recommendation=decision,
        reasons=reasons,
        documents=[Path(p).name for p in loaded.loaded],
        unreadable=unreadable,
        warnings=warnings,
    )
