"""Coverage rules: a conditional exclusion applies only when the description meets its distinctive condition,
and a carve-out inside a cover clause excludes the carved-out peril. Wording: the sample policy
(samples/knowledge_bases/insurance) and one-sentence clauses written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents import Document

from data_connectors.documents import load_documents
from domains.insurance.coverage import _condition_met, check_coverage
from domains.insurance.extraction import ClaimRecord, FieldValue

POLICY = (
    Path(__file__).resolve().parents[3] / "samples/knowledge_bases/insurance/homeowners-policy-wording.docx"
)


def _record(loss: str, description: str) -> ClaimRecord:
    empty = FieldValue()
    return ClaimRecord(
        claim_id="CLM-9",
        claimant=empty,
        policy_number=empty,
        date_of_loss=empty,
        date_reported=empty,
        amount_claimed=empty,
        loss_type=FieldValue(value=loss, method="label"),
        description=FieldValue(value=description, method="label"),
    )


@pytest.fixture(scope="module")
def policy() -> list[Document]:
    return load_documents([POLICY]).documents


@pytest.mark.parametrize(
    ("description", "status"),
    [
        ("Vandals smashed two windows of the dwelling overnight while we were asleep inside.", "covered"),
        ("The dwelling was not vacant: vandals smashed two windows while we slept.", "covered"),
        ("The dwelling had been vacant since January when vandals smashed two windows.", "excluded"),
        ("Nobody lived in the dwelling for four months; vandals smashed two windows.", "excluded"),
        ("The dwelling wasn't vacant: vandals smashed two windows while we slept.", "covered"),
        ("Vandals smashed two windows overnight. Nobody was hurt; we were asleep upstairs.", "covered"),
        ("Vandals smashed two windows while we were home. No one was injured.", "covered"),
    ],
)
def test_vacancy_exclusion_needs_a_vacant_home(policy, description, status):
    decision = check_coverage(_record("vandalism", description), policy)
    assert decision.status == status
    if status == "excluded":
        assert "Vacancy" in decision.citations[0].section


@pytest.mark.parametrize(
    "clause",
    [
        "We cover loss or damage caused by storm, but not damage caused by flood.",
        "We will pay for accidental damage to the buildings except damage caused by flood.",
        "We cover water damage to the home other than flood.",
    ],
)
def test_a_carve_out_in_a_cover_clause_excludes_the_peril(clause):
    wording = [Document(clause, metadata={"source": "p.md", "section": "Cover"})]
    flood = _record("flood", "The river overflowed and flood water entered the ground floor.")
    assert check_coverage(flood, wording).status == "excluded"
    storm = _record("storm", "A storm tore tiles off the roof.")
    expected = "covered" if "storm" in clause else "needs review"
    assert check_coverage(storm, wording).status == expected


@pytest.mark.parametrize(
    ("description", "met"),
    [
        ("A pipe burst although the heating was on all week.", False),
        ("A pipe burst while the heating was off for the winter.", True),
        ("The house wasn't unheated when the pipe burst.", False),
    ],
)
def test_a_condition_is_met_by_whole_phrases_only(description, met):
    assert _condition_met("the dwelling is unheated", "water damage", description) is met


@pytest.mark.parametrize(
    "clause",
    [
        "We cover the buildings, other than fences and gates, against storm, fire and theft.",
        "We cover the home and its contents, excluding money and jewellery, against loss caused by storm.",
    ],
)
def test_a_carve_out_of_property_does_not_exclude_the_peril(clause):
    wording = [Document(clause, metadata={"source": "p.md", "section": "Cover"})]
    storm = _record("storm", "A storm tore tiles off the roof.")
    assert check_coverage(storm, wording).status == "covered"


@pytest.mark.parametrize(
    ("clause", "loss", "status"),
    [
        # A list after a carve-out's own phrase may continue the carve-out or the cover: left for review, never
        # decided either way.
        ("We cover your home against fire and storm, except damage from flood, theft or vandalism.", "theft",
         "needs review"),
        ("We cover storm damage, excluding wear and tear, flood and subsidence.", "flood", "needs review"),
        ("We will pay for loss or damage caused by fire, theft other than by someone living in your home, storm, "
         "flood and escape of water.", "storm", "needs review"),
        ("We cover fire, theft (except from an unattended vehicle), storm and flood.", "storm", "needs review"),
        # The carve-out's own phrase, whatever its length or decimals, excludes.
        ("We cover your home against storm damage, but not damage caused by rising groundwater or flood.", "flood",
         "excluded"),
        ("We cover all risks except damage of more than 2.5m caused by flood.", "flood", "excluded"),
        # Text that carries the cover on after a carve-out is cover.
        ("We cover storm, but not flood, as well as fire and theft.", "fire", "covered"),
        ("We cover fire, apart from arson, plus theft and storm.", "storm", "covered"),
        ("We cover storm except flood, while theft and fire are covered in full.", "theft", "covered"),
    ],
)  # fmt: skip
def test_what_follows_a_carve_out(clause, loss, status):
    wording = [Document(clause, metadata={"source": "p.md", "section": "Cover"})]
    assert check_coverage(_record(loss, "It happened last night."), wording).status == status


@pytest.mark.parametrize(
    ("condition", "description"),
    [
        ("the home is unoccupied for more than 60 days", "The house sat empty for four months."),
        ("the home is unoccupied for more than 60 days", "The property lay empty over winter."),
        ("the home is undergoing renovation", "Construction work was ongoing in the kitchen."),
    ],
)
def test_vacancy_and_renovation_phrases_meet_the_condition(condition, description):
    assert _condition_met(condition, "escape of water", description)
