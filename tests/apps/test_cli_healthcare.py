"""``genai healthcare`` end to end through the CLI: appointments on the SQLite default database, safety
answers, exit codes, and a compliance review against the real sample HIPAA knowledge base (real embeddings)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apps.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GENAI_DATA_DIR": str(tmp_path), "GENAI_DEVICE": "cpu"}


def _invoke(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env=env)


def _next(weekday: int) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def test_book_list_reschedule_cancel(env, tmp_path):
    tuesday = _next(1).isoformat()
    clinicians = json.loads(
        _invoke(env, "healthcare", "clinicians", "--specialty", "dentist", "--json").stdout
    )
    dentist = next(c["id"] for c in clinicians if c["name"] == "Dr. Sofia Lindqvist")
    slots = json.loads(
        _invoke(
            env,
            "healthcare",
            "slots",
            "--date",
            tuesday,
            "--specialty",
            "dentist",
            "--part",
            "morning",
            "--json",
        ).stdout
    )
    assert slots and all(s["start"].startswith(tuesday) for s in slots)
    booked = _invoke(
        env,
        "healthcare",
        "book",
        "--clinician",
        str(dentist),
        "--start",
        f"{tuesday}T09:00",
        "--patient",
        "Ann Lee",
        "--json",
    )
    assert booked.exit_code == 0, booked.output
    appointment = json.loads(booked.stdout)["id"]
    again = _invoke(
        env,
        "healthcare",
        "book",
        "--clinician",
        str(dentist),
        "--start",
        f"{tuesday}T09:00",
        "--patient",
        "Bo Chen",
    )
    assert again.exit_code == 2 and "already booked" in again.output
    moved = _invoke(
        env, "healthcare", "reschedule", str(appointment), "--start", f"{tuesday}T10:00", "--json"
    )
    assert json.loads(moved.stdout)["start"].endswith("10:00:00")
    listed = json.loads(_invoke(env, "healthcare", "appointments", "--patient", "Ann Lee", "--json").stdout)
    assert [a["id"] for a in listed] == [appointment]
    assert _invoke(env, "healthcare", "cancel", str(appointment)).exit_code == 0
    assert (tmp_path / "toolkit.sqlite").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("slots", "--date", "tomorrow"), "must be YYYY-MM-DD"),
        (
            ("book", "--clinician", "99", "--start", "2030-01-07T09:00", "--patient", "X"),
            "no clinician with id 99",
        ),
        (("book", "--clinician", "1", "--start", "2020-01-06T09:00", "--patient", "X"), "in the past"),
        (("slots", "--date", "2030-01-07", "--part", "night"), "--part must be"),
        (("review", "/no/such/policy.md", "--against", "health-privacy", "--no-llm"), "cannot be read"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(env, args, message):
    result = _invoke(env, "healthcare", *args)
    assert result.exit_code == 2 and message in result.output


def test_ask_answers_emergencies_first_without_any_model(env):
    result = _invoke(
        env, "healthcare", "ask", "my father's face is drooping and his speech is slurred", "--json"
    )
    turn = json.loads(result.stdout)
    assert result.exit_code == 0 and turn["kind"] == "emergency" and turn["draft"] is True
    assert turn["text"].startswith("This could be a medical emergency")


def test_clinics_by_distance(env):
    result = _invoke(
        env, "healthcare", "clinics", "--lat", "52.36", "--lon", "4.93", "--specialty", "dentist", "--json"
    )
    names = [m["clinic"]["name"] for m in json.loads(result.stdout)]
    assert names[0] == "Parkview Dental Studio" and len(names) == 3


@pytest.mark.slow
def test_review_against_the_sample_hipaa_knowledge_base(env, tmp_path):
    kb = ROOT / "samples" / "knowledge_bases" / "health-privacy"
    assert _invoke(env, "ingest", str(kb), "--collection", "health-privacy").exit_code == 0
    policy = tmp_path / "policy.md"
    policy.write_text(
        "# Privacy policy\n\n1. Affected patients are notified of a breach of unsecured protected health "
        "information within 90 days of its discovery.\n\n2. The hospital acts on every request for access to "
        "protected health information no later than 30 days after receipt of the request.\n\n3. Employees must "
        "wear their identification badge visibly at all times while on hospital premises.\n"
    )
    html = tmp_path / "report.html"
    result = _invoke(
        env,
        "healthcare",
        "review",
        str(policy),
        "--against",
        "health-privacy",
        "--no-llm",
        "--json",
        "--html",
        str(html),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [f["status"] for f in report["findings"]] == ["possible gap", "consistent", "not covered"]
    assert "60 calendar days" in report["findings"][0]["citation"]["text"] and report["draft"] is True
    assert "possible gap" in html.read_text()
    audit = json.loads(_invoke(env, "healthcare", "audit", "--json").stdout)
    assert audit[0]["collection"] == "health-privacy" and audit[0]["action"] == "review"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2030-01-07T09:00:30", "--patient", "X"), "2030-01-07T09:00:30 has seconds"),
        (("--start", "2030-01-07T09:00", "--patient", ""), "--patient must not be empty"),
        (("--start", "2030-01-07T09:00", "--patient", "A" * 5000), "give at most 100"),
    ],
)
def test_book_messages_name_the_option_to_fix(env, args, message):
    result = _invoke(env, "healthcare", "book", "--clinician", "1", *args)
    assert result.exit_code == 2 and message in result.output


def test_cancel_of_an_unknown_appointment_names_the_list_command(env):
    result = _invoke(env, "healthcare", "cancel", "999")
    assert result.exit_code == 2 and "`genai healthcare appointments`" in result.output


def test_api_healthcare_turn_is_audited_once_under_the_caller_and_never_asks_for_a_yes(env, monkeypatch):
    """The HTTP API keeps no conversation: a proposal says where to book instead of inviting a "yes"."""
    from apps.api import _healthcare_events
    from apps.services import Services
    from apps.settings import load_settings
    from data_connectors.audit import AuditLog

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    services = Services(load_settings())
    events = list(_healthcare_events(services, "can I see a dentist on 2030-01-08 morning?", "alice"))
    answer, refused, _ = events[-1]
    assert "book it in the hub" in answer and 'Reply "yes"' not in answer and not refused
    assert [(e.actor, e.action) for e in AuditLog(services.database).entries()] == [("alice", "patient-chat")]
    events = list(_healthcare_events(services, "yes", "alice"))
    assert "Booked" not in events[-1][0]


def test_ask_proposes_without_inviting_a_yes_it_cannot_act_on(env):
    result = _invoke(env, "healthcare", "ask", "can I see a dentist on 2030-01-08?", "--json")
    turn = json.loads(result.stdout)
    assert result.exit_code == 0 and turn["kind"] == "proposal"
    assert 'Reply "yes"' not in turn["text"] and "reception" in turn["text"]
