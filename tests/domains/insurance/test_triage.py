"""Claim triage on the shipped sample claims (samples/claims, self-written) against the sample policy wording
(samples/knowledge_bases/insurance, written by the sample generator); retrieval is faked by returning every
policy section, plus planted passages from other claims to prove they are never used."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from langchain_core.documents import Document

from data_connectors.documents import load_documents
from data_connectors.errors import BadInputError
from domains.insurance.extraction import extract_claim, parse_amount, parse_date
from domains.insurance.fraud import AnomalyResult, PolicyHistory
from domains.insurance.triage import PolicyRegister, in_scope, triage_claim

ROOT = Path(__file__).resolve().parents[3]
CLAIMS = ROOT / "samples" / "claims"
POLICY = ROOT / "samples" / "knowledge_bases" / "insurance" / "homeowners-policy-wording.docx"


@pytest.fixture(scope="module")
def policy_passages() -> list[Document]:
    return load_documents([POLICY]).documents


@pytest.fixture(scope="module")
def register() -> PolicyRegister:
    """The sample register (samples/claims/policies.csv), which also holds the policies of the two claims kept
    with the policy wording (CLM-1001/1002, samples/knowledge_bases/insurance/claims)."""
    return PolicyRegister.from_csv(CLAIMS / "policies.csv")


def test_sample_claims_against_ground_truth(policy_passages, register):
    rows = list(csv.DictReader((CLAIMS / "ground_truth.csv").open()))
    assert len(rows) >= 10
    outcomes = {}
    for row in rows:
        result = triage_claim(
            ROOT / row["folder"], retrieve_policy=lambda _: policy_passages, register=register
        )
        outcomes[row["claim_id"]] = result.recommendation
        assert result.draft and "professional" in result.notice
        if result.coverage.status != "needs review":
            assert result.coverage.citations and result.coverage.citations[0].section
    wrong = {
        claim: (row["decision"], outcomes[claim])
        for row in rows
        if outcomes[(claim := row["claim_id"])] != row["decision"]
    }
    # CLM-1002 (written by another author): the form says water damage, the adjuster's report says flood;
    # triage asks for review instead of denying, which is the safe direction. Everything else must match.
    assert wrong == {"CLM-1002": ("deny", "review")}


def test_fields_carry_confidence_and_source(policy_passages):
    documents = load_documents([CLAIMS / "CLM-1011"]).documents
    record = extract_claim(documents, claim_id="CLM-1011")
    assert record.claimant.value == "Sandra Novak" and record.claimant.source == "claim_form.md"
    assert (
        record.date_of_loss.value == date(2026, 2, 20)
        and record.date_of_loss.quote == "Date of loss: 2026-02-20"
    )
    assert record.amount_claimed.value == 3300.0 and record.amount_claimed.confidence >= 0.9
    assert [i.field for i in record.inconsistencies] == ["date_of_loss"]


def test_values_parse_in_common_formats():
    assert (
        parse_date("March 5, 2026")
        == parse_date("5 March 2026")
        == parse_date("05/03/2026", order="day-first")
        == parse_date("03/05/2026", order="month-first")
        == date(2026, 3, 5)
    )
    assert parse_date("31/02/2026") is None
    assert parse_date("05/03/2026") is None  # reads two ways: never guessed
    assert parse_date("25/03/2026") == parse_date("03/25/2026") == date(2026, 3, 25)  # one valid reading
    assert parse_amount("$12,345.60") == 12345.6 and parse_amount("EUR 900") == 900.0


def test_llm_fills_only_missing_fields_and_invented_values_are_dropped(scripted_chat, tmp_path):
    text = "Claim for the damaged fence. The insured is Ana Silva. Loss happened on 2026-03-01 in a storm."
    documents = [Document(text, metadata={"source": str(tmp_path / "note.txt")})]
    llm = scripted_chat(
        '{"claimant": "Ana Silva", "amount_claimed": null, "description": "Invented text xyz"}'
    )
    record = extract_claim(documents, claim_id="CLM-9", chat_model=llm)
    assert (record.claimant.value, record.claimant.method, record.claimant.confidence) == (
        "Ana Silva",
        "llm",
        0.5,
    )
    assert record.description.method == "missing"  # not supported by the documents
    assert record.loss_type.value == "storm" and record.loss_type.method == "pattern"


def test_retrieval_never_uses_another_claims_documents(policy_passages, register):
    foreign = [
        Document(
            "We cover flood damage in full for this claim.",
            metadata={"source": "/kb/claims/CLM-1001/notes.md"},
        ),
        Document(
            "Flood is covered, approved by manager.", metadata={"source": "/kb/x.md", "claim_id": "CLM-1002"}
        ),
    ]
    seen: list[str] = []

    def retrieve(query: str) -> list[Document]:
        seen.append(query)
        return foreign + policy_passages

    result = triage_claim(CLAIMS / "CLM-1007", retrieve_policy=retrieve, register=register)
    assert seen and result.recommendation == "deny"
    cited = " ".join(c.text for c in result.coverage.citations)
    assert "manager" not in cited and "in full" not in cited
    assert not in_scope(foreign[0], "CLM-1007") and in_scope(foreign[0], "CLM-1001")
    assert in_scope(policy_passages[0], "CLM-1007")


def test_anomaly_score_is_an_explained_indicator(policy_passages, register):
    def anomaly(features):
        assert set(features) == {
            "amount",
            "amount_to_limit",
            "days_to_report",
            "prior_claims",
            "policy_age_days",
        }
        return AnomalyResult(score=9.0, threshold=1.0, flagged=True, top_features=["days_to_report"])

    result = triage_claim(
        CLAIMS / "CLM-1003", retrieve_policy=lambda _: policy_passages, register=register, anomaly=anomaly
    )
    fired = [i.name for i in result.fraud.indicators if i.fired]
    assert fired == ["unusual compared with past claims"] and result.fraud.score == 0.2
    assert result.recommendation == "approve"  # one weak indicator alone does not block


def test_bad_folders_are_clear_errors_and_corrupt_files_are_skipped(tmp_path, policy_passages):
    with pytest.raises(BadInputError, match="does not exist"):
        triage_claim(tmp_path / "nope", retrieve_policy=lambda _: [])
    claim = tmp_path / "CLM-2001"
    claim.mkdir()
    (claim / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(BadInputError, match="no readable document"):
        triage_claim(claim, retrieve_policy=lambda _: [])
    (claim / "form.txt").write_text(
        "Claimant: Ana Silva\nPolicy number: HO-1234\nDate of loss: 2026-03-01\n"
        "Type of loss: storm\nAmount claimed: $500\n"
    )
    result = triage_claim(claim, retrieve_policy=lambda _: policy_passages)
    assert result.claim_id == "CLM-2001" and [i.path for i in result.unreadable] == ["broken.pdf"]
    assert result.recommendation == "review"  # date reported is missing: late reporting cannot be checked


def test_policy_register_with_a_misnamed_column_or_bad_encoding_is_refused(tmp_path):
    (tmp_path / "renamed.csv").write_text(
        "policy_no,policy_start,coverage_limit,prior_claims\nHO-1,2021-06-01,1,0\n"
    )
    with pytest.raises(BadInputError, match="lacks column\\(s\\) policy_number"):
        PolicyRegister.from_csv(tmp_path / "renamed.csv")
    (tmp_path / "utf16.csv").write_bytes("policy_number,holder\nHO-1,Jos\xe9\n".encode("utf-16"))
    with pytest.raises(BadInputError, match=r"policy register utf16\.csv"):
        PolicyRegister.from_csv(tmp_path / "utf16.csv")
    (tmp_path / "ok.csv").write_text(
        "policy_number,policy_start,coverage_limit,prior_claims\nho-1,2021-06-01,175000,2\nHO-2,not a date,1,0\n"
        "HO-3,,,\n"
    )
    register = PolicyRegister.from_csv(tmp_path / "ok.csv")  # the bad line is skipped, the good one kept
    assert register.lookup("HO-1").prior_claims == 2 and register.lookup("HO-2").policy_start is None
    assert register.rows["HO-3"] == PolicyHistory()  # blank cells are unknowns, not a skipped line


def test_anomaly_model_leaves_out_a_feature_the_portfolio_cannot_vary(tmp_path):
    """The sample portfolio without policy_start: every policy age would be the same constant, and any real
    claim's age would look unusual. The scorer drops that feature instead (real sample, 1,500 claims)."""
    import pandas as pd

    from domains.insurance.anomaly import train_claims_anomaly

    portfolio = pd.read_csv(CLAIMS / "portfolio.csv")
    portfolio.drop(columns=["policy_start"]).to_csv(tmp_path / "no_start.csv", index=False)
    scorer = train_claims_anomaly(tmp_path / "no_start.csv", epochs=3)
    assert "policy_age_days" not in scorer.features and "amount" in scorer.features
    typical = {"amount": 2500.0, "amount_to_limit": 0.05, "days_to_report": 3.0, "prior_claims": 0.0}
    young, old = (scorer({**typical, "policy_age_days": days}) for days in (30.0, 3000.0))
    assert young.score == old.score  # the policy's age plays no part
    assert "policy_age_days" in train_claims_anomaly(CLAIMS / "portfolio.csv", epochs=3).features


def _claim_copy(tmp_path: Path, name: str, replace: dict[str, str]) -> Path:
    """CLM-1003 (approved in the ground truth) with some of its text replaced."""
    folder = tmp_path / name
    folder.mkdir()
    for source in (CLAIMS / "CLM-1003").iterdir():
        text = source.read_text()
        for old, new in replace.items():
            text = text.replace(old, new)
        (folder / source.name).write_text(text)
    return folder


def _register(tmp_path: Path, rows: str) -> PolicyRegister:
    (tmp_path / "register.csv").write_text("policy_number,policy_start,coverage_limit,prior_claims\n" + rows)
    return PolicyRegister.from_csv(tmp_path / "register.csv")


def test_the_registers_limit_wins_over_the_claim_form(tmp_path, policy_passages, register):
    claim = _claim_copy(tmp_path, "CLM-3001", {"$175,000": "$500,000", "4,250.00": "200,000.00"})
    result = triage_claim(claim, retrieve_policy=lambda _: policy_passages, register=register)
    assert result.recommendation == "review"
    assert "amount 200,000.00 exceeds the limit 175,000.00" in result.reasons
    assert [i.field for i in result.record.inconsistencies] == ["coverage_limit"]


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ("HO-448812,2026-06-01,175000,0\n", "precedes the policy start (2026-06-01)"),
        ("HO-100000,2021-06-01,175000,0\n", "policy HO-448812 is not in the policy register"),
        ("HO-448812,2021-06-01,lots,0\n", "row for HO-448812 has unreadable values"),
        ("HO-448812,2021-06-01,12.500,0\n", "row for HO-448812 has unreadable values"),  # 12500 or 12.5?
    ],
)
def test_a_policy_the_register_cannot_vouch_for_is_reviewed(tmp_path, policy_passages, rows, reason):
    result = triage_claim(
        CLAIMS / "CLM-1003", retrieve_policy=lambda _: policy_passages, register=_register(tmp_path, rows)
    )
    assert result.recommendation == "review" and any(reason in r for r in result.reasons)
    without = triage_claim(CLAIMS / "CLM-1003", retrieve_policy=lambda _: policy_passages)
    assert without.recommendation == "review" and "no policy register" in without.reasons[0]


def test_register_numbers_with_separators_and_day_first_dates_are_read(tmp_path):
    register = _register(
        tmp_path,
        'HO-1,2021-06-01,"175,000",3\nHO-2,01/06/2021,$175000,3\nHO-3,15/06/2021,"$1,000",0\n',
    )
    assert register.lookup("HO-1") == PolicyHistory(
        prior_claims=3, policy_start=date(2021, 6, 1), policy_limit=175000.0
    )
    assert register.lookup("HO-2").policy_start == date(2021, 6, 1)  # 15/06/2021 shows day-first
    assert register.problem("HO-2") is None and not register.unreadable
    ambiguous = _register(tmp_path, "HO-1,2021-06-01,1,0\nHO-2,01/06/2021,1,0\n")
    assert ambiguous.problem("HO-2") and ambiguous.lookup("HO-2") == PolicyHistory()


def test_fraud_indicators_for_day_zero_and_a_report_before_the_loss():
    from domains.insurance.extraction import ClaimRecord, FieldValue
    from domains.insurance.fraud import assess_fraud, claim_features

    def record(loss: date, reported: date) -> ClaimRecord:
        empty = FieldValue()
        return ClaimRecord(
            claim_id="CLM-1",
            claimant=empty,
            policy_number=empty,
            date_of_loss=FieldValue(value=loss, method="label"),
            date_reported=FieldValue(value=reported, method="label"),
            amount_claimed=FieldValue(value=100.0, method="label"),
            loss_type=empty,
            description=empty,
        )

    history = PolicyHistory(policy_start=date(2026, 3, 2), policy_limit=10000.0)
    assert (
        claim_features(record(date(2026, 3, 2), date(2026, 3, 2)), history, limit=None)["policy_age_days"]
        == 0
    )
    backwards = assess_fraud(
        record(date(2026, 3, 2), date(2026, 1, 5)), PolicyHistory(), limit=None, notice_days=30
    )
    fired = {i.name: i.detail for i in backwards.indicators if i.fired}
    assert fired == {"reported before the loss": "the report date is 56 days before the date of loss"}
    assert backwards.score >= 0.3


def test_a_policy_listed_twice_with_different_values_goes_to_review(tmp_path, policy_passages, caplog):
    """Same number with other case/spaces and other prior claims: no row is picked; an exact repeat is fine."""
    register = _register(
        tmp_path,
        "HO-448812,2021-06-01,175000,3\nHO-2,2021-06-01,1000,0\nho-448812 ,2021-06-01,175000,0\n"
        "HO-2,2021-06-01,1000,0\n",
    )
    assert register.problem("HO-448812") == (
        "the policy register lists HO-448812 more than once with different values; check which row is right"
    )
    assert register.lookup("HO-448812") == PolicyHistory() and register.problem("HO-2") is None
    assert "lines [4, 5] repeat the number of an earlier line" in caplog.text
    result = triage_claim(CLAIMS / "CLM-1003", retrieve_policy=lambda _: policy_passages, register=register)
    assert result.recommendation == "review" and "more than once" in result.reasons[0]


def test_a_portfolio_too_small_for_the_anomaly_model_is_a_warning_not_an_abort(
    tmp_path, policy_passages, register
):
    import pandas as pd

    from domains.insurance.anomaly import train_claims_anomaly

    pd.read_csv(CLAIMS / "portfolio.csv").head(1).to_csv(tmp_path / "one.csv", index=False)
    scorer = train_claims_anomaly(tmp_path / "one.csv")
    result = triage_claim(
        CLAIMS / "CLM-1003", retrieve_policy=lambda _: policy_passages, register=register, anomaly=scorer
    )
    assert result.recommendation == "approve" and result.fraud.anomaly is None
    assert result.warnings == [
        "the claims portfolio one.csv could not train the anomaly model (it has 1 usable claim(s) not flagged "
        "as fraud, and the anomaly model needs at least 20), so the fraud score leaves out the comparison "
        "with past claims"
    ]
    with pytest.raises(BadInputError, match="does not exist"):
        train_claims_anomaly(tmp_path / "typo.csv")


def test_the_inception_indicator_names_the_value_that_is_unknown():
    from domains.insurance.extraction import ClaimRecord, FieldValue
    from domains.insurance.fraud import assess_fraud

    empty = FieldValue()
    record = ClaimRecord(
        claim_id="CLM-1",
        claimant=empty,
        policy_number=empty,
        date_of_loss=FieldValue(alternatives=["2026-03-04", "2026-04-03"], confidence=0.3, method="label"),
        date_reported=empty,
        amount_claimed=empty,
        loss_type=empty,
        description=empty,
    )
    details = {
        start: next(
            i.detail
            for i in assess_fraud(
                record, PolicyHistory(policy_start=start), limit=None, notice_days=30
            ).indicators
            if i.name == "loss soon after inception"
        )
        for start in (date(2021, 6, 1), None)
    }
    assert details == {
        date(2021, 6, 1): "date of loss unknown",
        None: "date of loss and policy start unknown",
    }
