"""The patient assistant end to end on a real SQLite appointment book, with a fake answerer and fake LLM."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from data_connectors.audit import AuditLog
from domains.healthcare import MEDICAL_NOTICE
from domains.healthcare.assistant import PatientAssistant, PatientSession
from domains.healthcare.booking import is_confirmation, is_decline, parse_booking_request, parse_booking_rules
from domains.healthcare.clinics import ClinicDirectory, haversine_km
from domains.healthcare.safety import EMERGENCY_FIRST_LINE

SPECIALTIES = ["dentistry", "dermatology", "general practice", "physiotherapy"]


@dataclass
class _Citation:
    n: int
    source: str
    text: str
    page: int | None = None
    section: str | None = None


@dataclass
class _Answer:
    answer: str
    refused: bool = False
    citations: list[_Citation] = field(default_factory=list)


def _answer(question: str) -> _Answer:
    if "park" in question:
        return _Answer(
            "Parking is free behind the clinic [1].", citations=[_Citation(1, "visiting.md", "Parking...")]
        )
    return _Answer("", refused=True)


@pytest.fixture
def assistant(book, engine):
    return PatientAssistant(
        book=book, answer=_answer, directory=ClinicDirectory.from_csv(), audit=AuditLog(engine)
    )


def test_every_turn_carries_the_notice_and_draft_flag(assistant):
    session = PatientSession()
    for message in [
        "I have chest pain",
        "how much ibuprofen can I take",
        "where can I park?",
        "what is MRI?",
    ]:
        turn = assistant.respond(message, session)
        assert MEDICAL_NOTICE in turn.text and turn.draft


def test_emergency_comes_first_even_during_a_booking(assistant):
    session = PatientSession(patient_name="Ann Lee")
    assert assistant.respond("can I see a dentist next Tuesday morning?", session).kind == "proposal"
    turn = assistant.respond("yes but suddenly I can't breathe", session)
    assert turn.kind == "emergency" and turn.text.startswith(EMERGENCY_FIRST_LINE)
    assert session.pending is None and assistant.book.list(patient_name="Ann Lee") == []


def test_dental_story_symptom_then_proposal_then_confirmed_booking(assistant):
    session = PatientSession(patient_name="Ann Lee")
    symptom = assistant.respond("my tooth hurts when I drink cold water", session)
    assert symptom.kind == "symptom" and "dentist" in symptom.text and "cavity" in symptom.text
    proposal = assistant.respond("can I see one next Tuesday morning?", session)
    assert proposal.kind == "proposal" and proposal.request.specialty == "dentistry"
    assert proposal.proposal.start.date() == date(2026, 12, 1) and proposal.proposal.start.hour < 12
    assert assistant.book.list(patient_name="Ann Lee") == []  # nothing booked before the user confirms
    other = assistant.respond("no", session)
    assert other.kind == "proposal" and other.proposal != proposal.proposal
    booked = assistant.respond("yes please", session)
    assert booked.kind == "booked" and booked.appointment.start == other.proposal.start
    assert [a.id for a in assistant.book.list(patient_name="Ann Lee")] == [booked.appointment.id]


def test_booking_needs_a_name_and_uses_the_nearest_clinic(assistant):
    session = PatientSession(location=(52.3600, 4.9300))  # at Parkview Dental Studio
    proposal = assistant.respond("book a dentist on Wednesday", session)
    assert proposal.proposal.clinic == "Parkview Dental Studio"
    assert assistant.respond("confirm", session).kind == "need_details"
    session.patient_name = "Bo Chen"
    assert assistant.respond("confirm", session).kind == "booked"


def test_grounded_answer_keeps_citations_and_unknowns_are_not_invented(assistant):
    session = PatientSession()
    answer = assistant.respond("where can I park?", session)
    assert answer.kind == "answer" and answer.citations[0].source == "visiting.md"
    assert assistant.respond("what is the wifi password?", session).kind == "not_found"


def test_audit_log_records_questions_without_identifiers(assistant, engine, caplog):
    with caplog.at_level(logging.INFO, logger="domains.healthcare.assistant"):
        assistant.respond("My name is Ann Lee, email ann@example.org: where can I park?", PatientSession())
    entry = AuditLog(engine).entries()[0]
    assert entry.collection == "patient-info" and "park" in entry.question
    assert "Ann Lee" not in entry.question and "ann@example.org" not in entry.question
    assert "Ann" not in caplog.text


def test_structured_output_step_fills_only_what_rules_miss(scripted_chat):
    today = date(2026, 11, 30)
    llm = scripted_chat('Sure: {"specialty": "dentist", "date": "2026-12-03", "part_of_day": "Afternoon"}')
    request = parse_booking_request(
        "I need an appointment for my crown", today=today, specialties=SPECIALTIES, chat_model=llm
    )
    assert (request.specialty, request.date, request.part_of_day, request.source) == (
        "dentistry",
        date(2026, 12, 3),
        "afternoon",
        "rules+llm",
    )
    # rules win where they found a value; invalid JSON falls back to rules
    request = parse_booking_request(
        "dentist next Tuesday morning",
        today=today,
        specialties=SPECIALTIES,
        chat_model=scripted_chat('{"specialty": "gp", "date": "2020-01-01"}'),
    )
    assert (request.specialty, request.date, request.source) == ("dentistry", date(2026, 12, 1), "rules")
    request = parse_booking_request(
        "book something",
        today=today,
        specialties=SPECIALTIES,
        chat_model=scripted_chat("I cannot help with that"),
    )
    assert request.specialty is None and request.source == "rules"


def test_clinic_directory_distance_and_slots(book, tmp_path):
    assert haversine_km(52.37, 4.89, 52.37, 4.89) == 0
    assert 340 < haversine_km(51.5074, -0.1278, 48.8566, 2.3522) < 346  # London-Paris
    directory = ClinicDirectory.from_csv()
    nearest = directory.nearest(52.3791, 4.9003, specialty="dentist")
    assert nearest[0].clinic.name == "Northbridge Dental Care" and nearest[0].distance_km == 0
    with_slots = directory.nearest_with_slots(
        book, 52.3791, 4.9003, specialty="dentist", day=date(2026, 12, 2)
    )
    assert "Northbridge Dental Care" not in [m.clinic.name for m in with_slots]  # closed on Wednesdays
    assert all(m.free_slots for m in with_slots)
    broken = tmp_path / "clinics.csv"
    broken.write_text("name,address,lat,lon,opening_hours,rating\nA,x,95,4,Mon,4\nB,y,52,4,Mon,4\n")
    loaded = ClinicDirectory.from_csv(broken)
    assert [c.name for c in loaded.clinics] == ["B"] and loaded.skipped[0].startswith("line 2: lat")


def test_reply_to_a_past_date_is_a_clear_question(assistant):
    turn = assistant.respond("book a dentist on 2026-11-01", PatientSession())
    assert turn.kind == "need_details" and "in the past" in turn.text
    assert datetime(2026, 11, 1) < datetime(2026, 11, 30)


def test_llm_is_loaded_only_when_the_rules_leave_a_field_open(book, scripted_chat):
    calls = []

    def factory():
        calls.append(1)
        return scripted_chat('{"specialty": null, "date": null, "part_of_day": "afternoon"}')

    assistant = PatientAssistant(book=book, chat_model=factory)
    session = PatientSession()
    assistant.respond("I have chest pain", session)
    assistant.respond("can I see a dentist next Tuesday morning?", session)
    assert calls == []
    turn = assistant.respond("book a dentist on Wednesday", session)
    assert calls == [1] and turn.request.part_of_day == "afternoon" and turn.proposal.start.hour >= 12


@pytest.mark.parametrize(
    ("message", "confirms"),
    [
        ("yes", True),
        ("Yes please, book it. Thanks!", True),
        ("ok that's fine", True),
        ("confirm", True),
        ("ok, but do you have anything in the afternoon instead?", False),
        ("yes but on Friday", False),
        ("sure, at 3pm", False),
        ("yes?", False),
        ("no", False),
        ("no problem, book it", True),
        ("no worries, go ahead", True),
        ("don't mind, book it", True),
        ("no problem", False),
        ("no problem, but on Friday?", False),
    ],
)
def test_only_a_plain_yes_books_the_proposed_slot(message: str, confirms: bool) -> None:
    assert is_confirmation(message) is confirms


@pytest.mark.parametrize(
    ("message", "declines"),
    [
        ("no", True),
        ("nope, another one", True),
        ("no problem, book it", False),
        ("don't mind, book it", False),
    ],
)
def test_polite_acceptances_are_not_declines(message: str, declines: bool) -> None:
    assert is_decline(message) is declines


@pytest.mark.parametrize(
    ("message", "part"),
    [
        ("a GP early afternoon", "afternoon"),
        ("dentist early", "morning"),
        ("dentist at 6pm", "evening"),  # the book counts evening from 17:00
        ("dentist at 2.30pm", "afternoon"),  # a dotted time is not "30pm"
        ("dentist at 4.45 pm on Friday", "afternoon"),
        ("dentist at 5 pm", "evening"),
        ("dentist at 3pm", "afternoon"),
        ("dentist at 12pm", "afternoon"),
        ("dentist at 9am", "morning"),
        ("dentist at 17:30", "evening"),
    ],
)
def test_part_of_day_follows_the_books_bounds(message: str, part: str) -> None:
    request = parse_booking_rules(message, today=date(2026, 11, 30), specialties=SPECIALTIES)
    assert request.part_of_day == part


def test_cancel_request_cancels_only_this_conversations_booking_after_a_yes(assistant):
    session = PatientSession(patient_name="Jane Roe")
    assert assistant.respond("book a GP tomorrow morning", session).kind == "proposal"
    booked = assistant.respond("yes", session)
    assert booked.kind == "booked" and booked.appointment.reason == "booked by assistant on 2026-11-30"
    assert f'"cancel appointment {booked.appointment.id}"' in booked.text and "call reception" in booked.text
    ask = assistant.respond("please cancel my GP appointment tomorrow", session)
    assert ask.kind == "cancel_proposal" and ask.appointment.id == booked.appointment.id
    assert [a.id for a in assistant.book.list(patient_name="Jane Roe")] == [booked.appointment.id]
    done = assistant.respond("yes", session)
    assert done.kind == "cancelled" and assistant.book.list(patient_name="Jane Roe") == []


def test_cancel_or_move_of_other_appointments_is_handed_to_reception(assistant):
    other = assistant.book.book(clinician_id=1, start=datetime(2026, 12, 1, 9, 0), patient_name="Jane Roe")
    session = PatientSession(patient_name="Jane Roe")
    for message in ["please cancel my GP appointment tomorrow", f"cancel appointment {other.id}"]:
        turn = assistant.respond(message, session)
        assert turn.kind == "handover" and "reception" in turn.text
        assert assistant.respond("yes", session).kind != "cancelled"
    assert assistant.respond("can I reschedule my appointment to Friday?", session).kind == "handover"
    assert [a.id for a in assistant.book.list(patient_name="Jane Roe")] == [other.id]


def test_no_keeps_the_appointment_the_assistant_offered_to_cancel(assistant):
    session = PatientSession(patient_name="Jane Roe")
    assistant.respond("book a dentist on Tuesday", session)
    booked = assistant.respond("yes", session)
    assert assistant.respond("I need to cancel it", session).kind == "cancel_proposal"
    assert "stays booked" in assistant.respond("no", session).text
    assert [a.id for a in assistant.book.list(patient_name="Jane Roe")] == [booked.appointment.id]


def test_a_booking_that_mentions_a_past_cancellation_is_a_booking(assistant):
    session = PatientSession(patient_name="Jane Roe")
    message = "I had to cancel last week, can I book a dentist on Tuesday morning?"
    turn = assistant.respond(message, session)
    assert turn.kind == "proposal" and turn.proposal.specialty == "dentistry"
    message = "I had to cancel my appointment last week, can I book a dentist on Tuesday morning?"
    assert assistant.respond(message, PatientSession(patient_name="Jane Roe")).kind == "proposal"


def test_moving_a_proposed_slot_proposes_another_and_moving_a_booking_is_handed_over(assistant):
    session = PatientSession(patient_name="Jane Roe")
    first = assistant.respond("book a dentist on Tuesday", session)
    moved = assistant.respond("Could we move it to Thursday afternoon instead?", session)
    assert moved.kind == "proposal" and moved.proposal.specialty == first.proposal.specialty
    assert moved.proposal.start.weekday() == 3 and moved.proposal.start.hour >= 12
    assert assistant.respond("yes", session).kind == "booked"
    assert assistant.respond("Can I change the appointment to Thursday?", session).kind == "handover"


@pytest.mark.parametrize(
    "message",
    [
        "I need to cancel",
        "can I cancel?",
        "I'd like to cancel, please",
        "cancel please",
        "I can't make it, cancel please",
        "I was wondering if I could cancel my appointment",
        "I won't make it tomorrow please cancel my appointment",
        "sorry I will not be able to attend please cancel",
    ],
)
def test_a_bare_cancel_after_a_booking_here_asks_to_cancel_it(assistant, message):
    session = PatientSession(patient_name="Jane Roe")
    assistant.respond("book a GP tomorrow morning", session)
    booked = assistant.respond("yes", session)
    turn = assistant.respond(message, session)
    assert turn.kind == "cancel_proposal" and turn.appointment.id == booked.appointment.id


@pytest.mark.parametrize(
    "message",
    [
        "I had to cancel last week, it was awful",
        "I cancelled last time",
        "I don't want to cancel",
        "don’t cancel",
        "no need to cancel, thanks",
        "I hope I won't have to cancel",
        "Will I be charged if I cancel?",
        "If I cancel, is there a fee?",
        "What happens if I need to cancel?",
        "Please don't cancel it",
        "Please do not cancel my appointment",
    ],
)
def test_a_past_cancel_after_a_booking_here_is_no_cancel_request(assistant, message):
    session = PatientSession(patient_name="Jane Roe")
    assistant.respond("book a GP tomorrow morning", session)
    assistant.respond("yes", session)
    assert assistant.respond(message, session).kind != "cancel_proposal"
