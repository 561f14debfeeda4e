"""The patient assistant end to end on a real SQLite appointment book, with a fake answerer and fake LLM."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from data_connectors.audit import AuditLog
from domains.healthcare import MEDICAL_NOTICE
from domains.healthcare.assistant import PatientAssistant, PatientSession
from domains.healthcare.booking import (
    is_confirmation,
    is_decline,
    parse_booking_request,
    parse_booking_rules,
    wants_booking,
)
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
        "I need an appointment for my crown at the start of next month, late in the day",
        today=today,
        specialties=SPECIALTIES,
        chat_model=llm,
    )
    assert (request.specialty, request.date, request.part_of_day, request.source) == (
        "dentistry",
        date(2026, 12, 3),
        "afternoon",
        "rules+llm",
    )
    # the model fills only what the message talks about: no date or part of the day was said here
    request = parse_booking_request(
        "I need an appointment for my crown", today=today, specialties=SPECIALTIES, chat_model=llm
    )
    assert (request.specialty, request.date, request.part_of_day) == ("dentistry", None, None)
    request = parse_booking_request(
        "I want to book an appointment", today=today, specialties=SPECIALTIES, chat_model=llm
    )
    assert (request.specialty, request.date, request.part_of_day, request.source) == (
        None,
        None,
        None,
        "rules",
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
    assistant.respond("book a dentist on Wednesday", session)
    assert calls == []  # no part of the day was said: nothing for the model to fill
    turn = assistant.respond("book a dentist on Wednesday, late in the day", session)
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


# Regression tests for the reviewed defects (today in these tests: the fixture clock, Monday 2026-11-30 07:00,
# or a fixed date passed to the parser).


@pytest.mark.parametrize(
    "message",
    [
        "How far in advance should I cancel an appointment?",
        "What should I bring to my appointment?",
        "Is there parking when I visit the clinic?",
        "What happens if I miss an appointment?",
        "How do I book an appointment?",
        "Is parking available?",
        "I don't like my dentist",
    ],
)
def test_questions_about_appointments_go_to_the_knowledge_base(assistant, message):
    session = PatientSession(patient_name="Ann Lee")
    turn = assistant.respond(message, session)
    assert turn.kind in ("answer", "not_found") and session.pending is None


@pytest.mark.parametrize(
    ("message", "specialty"),
    [
        ("I need a dentist", "dentistry"),
        ("I want a dentist on Sunday", "dentistry"),
        ("I'd like to see the physio tomorrow evening", "physiotherapy"),
        ("I had chest pain two years ago but now I want a dental checkup", "dentistry"),
        ("get me in with the GP", "general practice"),
        ("can you fit me in with a dentist on Monday", "dentistry"),
        ("I would like a check-up on Monday", "general practice"),
        ("is there a free slot with a GP on Thursday?", "general practice"),
    ],
)
def test_everyday_booking_phrasings_are_booking_requests(assistant, message, specialty):
    turn = assistant.respond(message, PatientSession())
    assert turn.kind in ("proposal", "no_slot") and turn.request.specialty == specialty


def test_the_model_does_not_invent_what_the_patient_did_not_say(book, scripted_chat):
    llm = scripted_chat('{"specialty": "general practice", "date": "2026-12-04", "part_of_day": "evening"}')
    assistant = PatientAssistant(book=book, answer=_answer, chat_model=lambda: llm)
    turn = assistant.respond("I want to book an appointment", PatientSession())
    assert turn.kind == "need_details" and (turn.request.specialty, turn.request.date) == (None, None)
    turn = assistant.respond("What should I bring to my appointment?", PatientSession())
    assert turn.kind == "not_found"


def test_moving_a_proposed_slot_keeps_the_kind_and_yes_books_only_the_slot_on_offer(book, scripted_chat):
    llm = scripted_chat('{"specialty": "general practice", "date": null, "part_of_day": null}')
    assistant = PatientAssistant(book=book, chat_model=lambda: llm)
    session = PatientSession(patient_name="Ann Lee")
    first = assistant.respond("can I see a dentist next Tuesday afternoon?", session)
    assert first.proposal.start.date() == date(2026, 12, 1)
    moved = assistant.respond("could we move it to Thursday?", session)
    assert moved.kind == "proposal" and moved.proposal.specialty == "dentistry"
    assert moved.proposal.start.date() == date(2026, 12, 3)
    other = assistant.respond("what about the afternoon instead?", session)
    assert other.proposal.start.date() == date(2026, 12, 3) and other.proposal.start.hour >= 12
    booked = assistant.respond("yes", session)
    assert booked.kind == "booked" and booked.appointment.start == other.proposal.start
    # a request that ends without a proposal withdraws the old one: "yes" then books nothing
    assistant.respond("can I see a dentist on Wednesday?", session)
    assert assistant.respond("book a dentist on 2026-11-01", session).kind == "need_details"
    assert session.pending is None and assistant.respond("yes", session).kind != "booked"
    assert len(book.list(patient_name="Ann Lee")) == 1


def test_a_slot_taken_before_the_yes_proposes_the_next_free_one(assistant):
    session = PatientSession(patient_name="Ann Lee")
    offered = assistant.respond("book a dentist on Tuesday at 9am", session).proposal
    assistant.book.book(clinician_id=offered.clinician_id, start=offered.start, patient_name="Bo Chen")
    turn = assistant.respond("yes", session)
    assert turn.kind == "proposal" and "no longer free" in turn.text
    assert turn.proposal.start >= offered.start and turn.proposal != offered
    assert turn.proposal.specialty == "dentistry"
    booked = assistant.respond("yes", session)
    assert booked.kind == "booked" and booked.appointment.start == turn.proposal.start


@pytest.mark.parametrize(
    ("message", "day", "last", "clock"),
    [
        ("GP on Tuesday 1 December at 14:00", date(2026, 12, 1), None, "14:00"),
        ("GP on the 3rd of December at 9am", date(2026, 12, 3), None, "09:00"),
        ("GP on the 3rd", date(2026, 12, 3), None, None),
        ("GP on the 26th", date(2026, 12, 26), None, None),
        ("GP Dec 3", date(2026, 12, 3), None, None),
        ("GP 3/12", date(2026, 12, 3), None, None),
        ("GP 12/25", date(2026, 12, 25), None, None),
        ("GP Tuesday the 8th", date(2026, 12, 8), None, None),
        ("GP Monday after next", date(2026, 12, 7), None, None),
        ("GP next Monday", date(2026, 11, 30), None, None),
        ("GP next week", date(2026, 11, 30), date(2026, 12, 6), None),
        ("GP next week on Wednesday", date(2026, 12, 2), None, None),
        ("GP on 25 November", date(2026, 11, 25), None, None),  # in the past, not next year
        ("GP on 3 January", date(2027, 1, 3), None, None),
        ("my date of birth is 1980-03-04, book a GP", None, None, None),
        ("dob March 3rd 1980, I need a GP on Monday", date(2026, 11, 30), None, None),
        ("born on 4 March 1980 and I need a GP on 2026-12-02", date(2026, 12, 2), None, None),
        ("GP at 2.30pm", None, None, "14:30"),
    ],
)
def test_dates_and_clock_times_in_everyday_wording(message, day, last, clock):
    friday = date(2026, 11, 27)
    request = parse_booking_rules(message, today=friday, specialties=SPECIALTIES)
    assert (request.date, request.last_date) == (day, last)
    assert (request.time.strftime("%H:%M") if request.time else None) == clock


def test_an_ambiguous_numeric_date_says_how_it_was_read(assistant):
    request = parse_booking_rules("GP on 3/12", today=date(2026, 11, 27), specialties=SPECIALTIES)
    assert request.note == "I read 3/12 as 3 December (day first)"
    month_first = parse_booking_rules(
        "GP on 3/12", today=date(2026, 11, 27), specialties=SPECIALTIES, day_first=False
    )
    assert month_first.date == date(2027, 3, 12)
    turn = assistant.respond("book a GP on 3/12", PatientSession())
    assert turn.kind == "proposal" and turn.text.startswith("I read 3/12 as 3 December")


def test_a_clock_time_is_offered_when_free_else_the_nearest_one(assistant):
    session = PatientSession(patient_name="Ann Lee")
    exact = assistant.respond("book a GP on Tuesday 1 December at 14:00", session)
    assert exact.proposal.start == datetime(2026, 12, 1, 14, 0) and "not free" not in exact.text
    assistant.book.book(
        clinician_id=exact.proposal.clinician_id, start=exact.proposal.start, patient_name="X"
    )
    taken = [c.id for c in assistant.book.clinicians("general practice")]
    for clinician in taken:  # every GP busy at 14:00
        if clinician != exact.proposal.clinician_id:
            with contextlib.suppress(ValueError):  # not working at 14:00
                assistant.book.book(
                    clinician_id=clinician, start=datetime(2026, 12, 1, 14, 0), patient_name="X"
                )
    nearest = assistant.respond("book a GP on Tuesday 1 December at 14:00", session)
    assert "no free appointment at 14:00" in nearest.text
    assert abs(nearest.proposal.start - datetime(2026, 12, 1, 14, 0)).seconds <= 30 * 60
    assert assistant.respond("book a GP next week", session).kind == "proposal"


def test_a_time_without_am_pm_is_offered_in_clinic_hours(assistant):
    session = PatientSession(patient_name="Ann Lee")
    afternoon = assistant.respond("book a GP on Tuesday 1 December at 2.30", session)
    assert afternoon.proposal.start == datetime(2026, 12, 1, 14, 30)
    morning = assistant.respond("book a GP on Tuesday 1 December at 9.15", PatientSession(patient_name="Ann Lee"))
    assert morning.proposal.start == datetime(2026, 12, 1, 9, 15)


def test_next_week_searches_the_whole_week(assistant):
    for clinician in assistant.book.clinicians("dermatology"):
        for slot in assistant.book.available_slots(day=date(2026, 12, 7), clinician_id=clinician.id):
            assistant.book.book(clinician_id=clinician.id, start=slot.start, patient_name="X")
    turn = assistant.respond("I need a dermatologist next week", PatientSession())
    assert turn.kind == "proposal" and date(2026, 12, 8) <= turn.proposal.start.date() <= date(2026, 12, 13)


def test_chat_bookings_and_cancellations_are_audited_by_number(assistant, engine):
    session = PatientSession(patient_name="Jane Roe")
    assistant.respond("book a GP tomorrow morning", session)
    booked = assistant.respond("yes", session, actor="reception-1")
    assistant.respond(f"cancel appointment {booked.appointment.id}", session)
    assistant.respond("yes", session, actor="reception-1")
    rows = [e for e in AuditLog(engine).entries(collection="appointments")]
    number = booked.appointment.id
    assert [(e.actor, e.action, e.question) for e in rows] == [
        ("reception-1", "cancel", f"cancel #{number}"),
        ("reception-1", "book", f"book #{number}"),
    ]
    assert all("Jane" not in e.question and "Roe" not in e.question for e in AuditLog(engine).entries())


def test_without_the_appointments_grant_nothing_is_booked_or_cancelled(assistant):
    session = PatientSession(patient_name="Jane Roe")
    turn = assistant.respond("book a GP tomorrow morning", session, may_book=False)
    assert turn.kind == "proposal" and 'Reply "yes"' not in turn.text and "reception" in turn.text
    refused = assistant.respond("yes", session, may_book=False)
    assert refused.kind == "handover" and "`appointments` grant" in refused.text
    assert assistant.book.list(patient_name="Jane Roe") == []


# ---------------------------------------------------------------- regressions of the 2026-11-27 review


def _rules(message: str, today: date = date(2026, 11, 27)):
    return parse_booking_rules(message, today=today, specialties=SPECIALTIES)


@pytest.mark.parametrize(
    ("message", "day"),
    [
        ("book a dentist at 9.15 on Tuesday", date(2026, 12, 1)),
        ("book a dentist at 2.30 on Tuesday", date(2026, 12, 1)),
        ("book a GP on Tuesday, pain is 8/10", date(2026, 12, 1)),
        ("book a GP on Tuesday, pain is 4/10", date(2026, 12, 1)),
        ("book a GP on Tuesday, pain is 7/10", date(2026, 12, 1)),
        ("book a GP on Wednesday, my blood sugar is 7.2", date(2026, 12, 2)),
        ("book a GP on Wednesday, INR is 3.1", date(2026, 12, 2)),
        ("book a GP on Wednesday, cough for 2.5 weeks", date(2026, 12, 2)),
        ("book a GP on Tuesday, I'm 5.11 tall", date(2026, 12, 1)),
        ("book a GP on Tuesday, BP is 12/8", date(2026, 12, 1)),
        ("book a GP on Tuesday, 24/7 in pain", date(2026, 12, 1)),
        ("50/50 chance I can come Monday", date(2026, 11, 30)),
        ("book a GP, temperature 37.8 since Monday", date(2026, 11, 30)),
        ("book a GP, my BP is 12/8", None),
        ("I need a GP, my blood sugar is 7.2", None),
        ("I need a GP, I've had a cough for 2.5 weeks", None),
        # still dates
        ("GP 3/12", date(2026, 12, 3)),
        ("GP on 3.12.2026", date(2026, 12, 3)),
        ("GP on 3/12/26", date(2026, 12, 3)),
    ],
)
def test_numbers_that_are_no_dates_leave_the_weekday_said(message, day):
    assert _rules(message).date == day


@pytest.mark.parametrize(
    ("message", "day"),
    [
        ("this is my 2nd visit, book a GP on Tuesday", date(2026, 12, 1)),
        ("book a physio on Wednesday, the last one was on the 20th", date(2026, 12, 2)),
        ("book a dentist for the 3rd time", None),
        ("I had covid on the 2nd", None),
        ("what about the 3rd?", date(2026, 12, 3)),
        ("GP on the 31st", date(2026, 12, 31)),
        ("GP Tuesday the 8th", date(2026, 12, 8)),
    ],
)
def test_only_the_nth_said_as_a_day_is_a_day_of_the_month(message, day):
    assert _rules(message).date == day


def test_a_weekday_that_does_not_fit_the_day_of_the_month_is_asked_about(assistant):
    request = _rules("book a GP Monday the 8th")
    assert request.date == date(2026, 12, 8) and "not a Monday" in request.note
    turn = assistant.respond("book a GP Monday the 8th", PatientSession())
    assert turn.kind == "proposal" and turn.text.startswith("The 8th is a Tuesday")


@pytest.mark.parametrize(
    ("message", "specialty", "day"),
    [
        ("it's my birthday on Friday so book a dentist on Thursday", "dentistry", date(2026, 12, 3)),
        ("book the dentist for my birthday on 3 December", "dentistry", date(2026, 12, 3)),
        ("my first-born needs a dentist on Tuesday", "dentistry", date(2026, 12, 1)),
        ("my date of birth is 3 March, book a dentist", "dentistry", None),
        ("my birthday is 3 March 1980, book a dentist", "dentistry", None),
    ],
)
def test_only_a_date_of_birth_is_left_out(message, specialty, day):
    request = _rules(message)
    assert (request.specialty, request.date) == (specialty, day)


@pytest.mark.parametrize(
    ("message", "clock", "part"),
    [
        ("book a GP on Thursday any time except 9am", None, None),
        ("book a GP on Thursday before 10am", None, "morning"),
        ("book a GP on Thursday 9-11am", None, "morning"),
        ("book a GP on Thursday between 2 and 4pm", None, "afternoon"),
        ("cancel my 3pm and book a GP at 5pm instead", "17:00", "evening"),
        ("I want to cancel my 3pm and book a GP at 5pm", "17:00", "evening"),
        ("the 3rd at 2pm please", "14:00", "afternoon"),
        ("GP at 14:00", "14:00", "afternoon"),
        ("GP at 9am", "09:00", "morning"),
        ("GP at 2.30pm", "14:30", "afternoon"),
        ("GP at 7:30 pm", "19:30", "evening"),
        ("how about 3pm?", "15:00", "afternoon"),
        # without am/pm: after "at", clinic hours (1-6 afternoon, 7-12 morning), or "o'clock"
        ("book a dentist at 9.15 on Tuesday", "09:15", "morning"),
        ("Book me in at 3 on Monday", "15:00", "afternoon"),
        ("book the physio at 10 please", "10:00", "morning"),
        ("book a GP at 14.30 tomorrow", "14:30", "afternoon"),
        ("I'd like an appointment at 5 o'clock", "17:00", "evening"),
        ("book a GP, temperature 38.5 at 9 last night", None, None),
        ("book a check-up at 40 weeks", None, None),
        ("book a GP, I felt dizzy at 10 years old", None, None),
        # review: a number after "at" that is no time, and a bare hour against a named part of the day
        ("book the GP for my baby's jabs at 3 months, any time on Tuesday", None, None),
        ("book a physio on Wednesday, my back pain is at 7 on a scale of 10", None, None),
        ("I need a GP appointment tomorrow, I'm at 9 months pregnant", None, None),
        ("book a GP on Tuesday, I pick the kids up at 3", None, None),
        ("I take it at 8 orally, book a GP", None, None),
        ("book a dentist at 3 tomorrow morning", None, "morning"),
        ("book a dentist at 9 tomorrow afternoon", None, "afternoon"),
        ("book a dentist at 8 tomorrow evening", "20:00", "evening"),
        ("book a GP at 0.30 on Monday", None, None),
        ("book a GP at 9 o clock", "09:00", "morning"),
        ("book a GP at 3 on the 4th", "15:00", "afternoon"),
        # second review: a time the patient is busy at, or one in a clause that does not ask
        ("I can't do 4 o'clock, can I book a GP tomorrow?", None, None),
        ("I pick the kids up at 3 o'clock, can I see the dentist Tuesday?", None, None),
        ("I'm busy at 10.30 tomorrow, can I see the GP?", None, None),
        ("my INR is at 3.20 today, can I book the nurse tomorrow", None, None),
        ("Tuesday evening at 7 o'clock please", "19:00", "evening"),
        ("book a GP at 2:30 tomorrow", "14:30", "afternoon"),
        # spoken times: noon, half/quarter past, quarter to, British "half 2", word hours, "-ish", "around"
        ("book me in at noon on Monday", "12:00", "afternoon"),
        ("can I see a GP at midday tomorrow", "12:00", "afternoon"),
        ("book a GP at half past 2 on Monday", "14:30", "afternoon"),
        ("book me at quarter past 10 tomorrow", "10:15", "morning"),
        ("book me with the dentist at quarter to one on Wednesday", "12:45", "afternoon"),
        ("book a dentist for half 2 on friday", "14:30", "afternoon"),
        ("book me at half seven tomorrow evening", "19:30", "evening"),
        ("book me in at three o'clock on Monday", "15:00", "afternoon"),
        ("can I come in at 9ish tomorrow", "09:00", "morning"),
        ("could I have an appointment at 4 ish on Monday", "16:00", "afternoon"),
        ("book me in at around 3 on Monday", "15:00", "afternoon"),
        ("I pick the kids up at half past 3, book a GP on Monday", None, None),
        ("book a GP before noon on Monday", None, "morning"),
        ("can I book a GP at one point next week", None, None),
        ("I take half 2 tablets at night, book a GP on Monday", None, None),
        ("I'm around 10 weeks pregnant, book a midwife tomorrow", None, None),
        ("my daughter is about 5, can you book her in tomorrow", None, None),
        ("book a dentist for 10 to 11 on Monday", None, None),
        # review of the spoken forms: am/pm typed on, the hour said decides am/pm, US forms, "-ish" on a word
        ("can i book a gp at quarter to 11am tomorrow", "10:45", "morning"),
        ("can i book a gp at quarter past 2pm on monday", "14:15", "afternoon"),
        ("book me in for quarter to 7 on monday", "06:45", "morning"),
        ("book a gp at quarter of 11 tomorrow", "10:45", "morning"),
        ("can i come in at tenish tomorrow", "10:00", "morning"),
        ("can i book a gp tomorrow half past 2", "14:30", "afternoon"),
        ("can i book a dentist midday friday", "12:00", "afternoon"),
        # ... and numbers that are ages, counts, prices, scores or routines, not times
        ("I'd like to come in about 4 please", None, None),
        ("i need an appointment for my son who is about 10", None, None),
        ("can i book my daughter in she's about five please", None, None),
        ("need a dentist asap pain about 7 please", None, None),
        ("can i book a checkup if it costs about 5?", None, None),
        ("i've got two moles, can the gp look at one today", None, None),
        ("can i book a gp tomorrow i take my insulin at about eight", None, None),
        ("need a gp pain started at noon today", None, None),
        ("i'd like to see the gp i pick the kids up at three", None, None),
        ("can i see a gp tomorrow my baby was born at about two", None, None),
        ("can i get a gp appt i've lost around five this week", None, None),
        # minutes said in words or with a space: "ten thirty", "twenty to three", "10 past 2", "9 45"
        ("book a gp at ten thirty tomorrow", "10:30", "morning"),
        ("can i come in at twenty to three on monday", "14:40", "afternoon"),
        ("book me at 10 past 2 tomorrow", "14:10", "afternoon"),
        ("book a dentist at one thirty on friday", "13:30", "afternoon"),
        ("book me at ten to four tomorrow", "15:50", "afternoon"),
        ("book me in at twenty-five past nine on tuesday", "09:25", "morning"),
        ("can I come in at five to nine on Monday", "08:55", "morning"),
        ("could I come at five to seven tomorrow", "06:55", "morning"),
        ("book a GP at twenty to seven tomorrow evening", "18:40", "evening"),
        ("book a gp at 9 45 tomorrow", "09:45", "morning"),
        ("twenty past three on monday please, gp", "15:20", "afternoon"),
        # ... and counts, ranges and durations that only look like them
        ("I have had pain for five to ten days, book a GP", None, None),
        ("I have five to ten moles, book a dermatologist", None, None),
        ("book a gp for ten to twelve people tomorrow", None, None),
        ("I was told to wait 10 to 15 minutes, can I book a GP tomorrow", None, None),
        ("can the physio see me tomorrow, i can only stay for five to ten", None, None),
        ("book me in tuesday i'm about 5 10", None, None),
        ("could I book the physio for twenty to three on Tuesday", "14:40", "afternoon"),
        ("book a gp at ten of four tomorrow please", "15:50", "afternoon"),
        ("book gp at ten after 3 tomorrow", "15:10", "afternoon"),
        ("book dentist at seven thirty in the evening tomorrow", "19:30", "evening"),
        # the old time of a move is not the one asked for, and "10am to 2pm" there is no range
        ("can you move my 10am to 2pm", "14:00", "afternoon"),
        ("change my friday 9am to monday at 11", "11:00", "morning"),
        # a time said as not wanted, a few words after the "not"
        ("I'd rather not come at 3", None, None),
        ("i would rather not come in at 3 tomorrow", None, None),
        ("i can't wait, can i come in at 3 tomorrow", "15:00", "afternoon"),
        # the new day of a move asks, whatever past word came before it
        ("can you move what i had to the 12th at 3", "15:00", "afternoon"),
        ("please move the one I had to next tuesday at 10", "10:00", "morning"),
        ("i had to go to the 12th at 3", None, None),
        # ... and the new time of a move, said without "at"
        ("can you change it to ten to four", "15:50", "afternoon"),
        ("change it to ten to four on friday", "15:50", "afternoon"),
        ("change it to 4", "16:00", "afternoon"),
        ("move my appointment to 4 on friday", "16:00", "afternoon"),
        ("reschedule to five past 9 tomorrow", "09:05", "morning"),
        ("change it to 2 weeks later", None, None),
        # ... but not a dose, a shift or a house move ("switch me to 2" is tablets)
        ("could you switch me to 2 instead of 3 tablets", None, None),
        ("can you change me to 4 please", None, None),
        ("the cardiologist will change me to 5 on friday, could I book cardiology next tuesday", None, None),
    ],
)
def test_only_a_time_asked_for_is_a_target_time(message, clock, part):
    request = _rules(message)
    assert (request.time.strftime("%H:%M") if request.time else None, request.part_of_day) == (clock, part)


@pytest.mark.parametrize(
    ("counter_offer", "hour", "minute"),
    [
        ("how about half 2?", 14, 30),
        ("could we do 4 instead?", 16, 0),
        ("have you got anything at ten thirty?", 10, 30),
        ("no, can I have twenty to three?", 14, 40),
        ("make it 10 please", 10, 0),
        ("make it 10", 10, 0),
        ("how about ten to 4?", 15, 50),
        ("could you do 3?", 15, 0),
        ("let's say half 3", 15, 30),
        ("ok but make it ten thirty", 10, 30),
        ("tuesday at 10.30?", 10, 30),
        ("tuesday, ten past two?", 14, 10),
        ("3pm?", 15, 0),
        ("can you change it to ten to four?", 15, 50),
        ("move it to 4 instead", 16, 0),
    ],
)
def test_a_counter_offer_to_the_proposed_slot_is_read(assistant, counter_offer, hour, minute):
    """A time said back to a proposal, with or without a "no" first, is offered on the same day (or the
    nearest free time to it), never sent to the knowledge base or answered with the next slot in the list."""
    session = PatientSession(patient_name="Ann Lee")
    first = assistant.respond("book a GP on Tuesday", session)
    turn = assistant.respond(counter_offer, session)
    assert turn.kind == "proposal" and turn.proposal.start.date() == first.proposal.start.date()
    asked = datetime.combine(first.proposal.start.date(), datetime.min.time()).replace(hour=hour, minute=minute)
    assert abs(turn.proposal.start - asked).total_seconds() <= 30 * 60


@pytest.mark.parametrize("decline", ["no", "no thanks"])
def test_a_plain_no_offers_the_next_slot(assistant, decline):
    session = PatientSession(patient_name="Ann Lee")
    first = assistant.respond("book a GP on Tuesday", session)
    turn = assistant.respond(decline, session)
    assert turn.kind == "proposal" and turn.proposal != first.proposal and turn.text.startswith("How about")


@pytest.mark.parametrize(
    "decline",
    [
        "no, not tuesday",
        "nope, any day but tuesday",
        "no, i can't do tuesday",
        "no, tuesday is no good",
        "no, I'm busy on tuesday",
        "nope, not in the morning",
        "no, the morning doesn't work for me",
    ],
)
def test_a_no_with_a_reason_never_offers_what_it_rules_out(assistant, decline):
    """Neither the slot just declined nor another on the day or part of the day the patient ruled out (all
    Tuesday slots on offer here are mornings): the assistant asks instead."""
    session = PatientSession(patient_name="Ann Lee")
    first = assistant.respond("book a GP on Tuesday", session)
    assert first.proposal.start.weekday() == 1 and first.proposal.start.hour < 12
    turn = assistant.respond(decline, session)
    assert turn.proposal is None or (turn.proposal.start.weekday() != 1 and turn.proposal.start.hour >= 12)
    assert assistant.respond("yes", session).kind != "booked"


def test_a_no_that_names_another_day_offers_that_day(assistant):
    session = PatientSession(patient_name="Ann Lee")
    assistant.respond("book a GP on Tuesday", session)
    turn = assistant.respond("no, i'm not free on tuesday, wednesday?", session)
    assert turn.kind == "proposal" and turn.proposal.start.date() == date(2026, 12, 2)


def test_a_counter_offer_with_a_time_we_cannot_read_withdraws_the_offer(assistant):
    """ "make it 10 to 4 for me" names a time the rules cannot read: asking again is right, and a "yes"
    afterwards must not book the slot that was on offer before."""
    session = PatientSession(patient_name="Ann Lee")
    assistant.respond("book a GP on Tuesday", session)
    turn = assistant.respond("make it 10 to 4 for me", session)
    assert turn.kind == "need_details" and "did not catch that time" in turn.text
    assert assistant.respond("yes", session).kind != "booked"


@pytest.mark.parametrize(
    ("message", "day", "part"),
    [
        ("book a GP, not tuesday", None, None),
        ("book a GP any day but monday", None, None),
        ("book a dentist on Friday, not in the morning", date(2026, 11, 27), None),
        ("yes but on Friday", date(2026, 11, 27), None),
        ("book a GP except on Wednesday, Thursday is best", date(2026, 12, 3), None),
        ("book a gp, not tomorrow, maybe monday", date(2026, 11, 30), None),
        ("book a gp any day but today", None, None),
        ("i need a dentist, not the 3rd, any other day", None, None),
        ("i'm not available monday, tuesday?", date(2026, 12, 1), None),
        ("monday is no good, tuesday?", date(2026, 12, 1), None),
        ("the morning doesn't work for me, book gp tuesday", date(2026, 12, 1), None),
        ("can't do tuesday morning, wednesday ok", date(2026, 12, 2), None),
        ("book a gp, not tuesday morning, tuesday afternoon is fine", date(2026, 12, 1), "afternoon"),
        ("i can't do tuesday, wednesday morning please", date(2026, 12, 2), "morning"),
        # the old day of a move is not the one asked for
        ("can you move my appointment from tomorrow to monday", date(2026, 11, 30), None),
        ("please move my appointment from 3 december to 5 december", date(2026, 12, 5), None),
        ("change my appt from 3/12 to 7/12", date(2026, 12, 7), None),
        # a weekday "this week" that has passed is next week's; "this week" in a past clause is no request
        ("book a gp for tuesday, i've had a cough all this week", date(2026, 12, 1), None),
        ("GP appt tmrw", date(2026, 11, 28), None),
    ],
)
def test_a_day_or_part_ruled_out_is_not_the_one_asked_for(message, day, part):
    request = _rules(message)
    assert (request.date, request.part_of_day) == (day, part)


def test_ranges_and_exceptions_never_become_the_offered_time(assistant):
    except_nine = assistant.respond("book a GP on Thursday any time except 9am", PatientSession())
    assert except_nine.proposal.start.date() == date(2026, 12, 3) and except_nine.proposal.start.hour != 9
    before_ten = assistant.respond("book a GP on Thursday before 10am", PatientSession())
    assert before_ten.proposal.start.hour != 10
    afternoon = assistant.respond("book a GP on Thursday between 2 and 4pm", PatientSession())
    assert 12 <= afternoon.proposal.start.hour < 17
    five = assistant.respond("cancel my 3pm and book a GP at 5pm instead", PatientSession())
    assert five.kind == "proposal" and five.proposal.start.hour != 15


@pytest.mark.parametrize(
    ("message", "day"),
    [
        ("book a GP, I got back from holiday on Sunday, any time Wednesday", date(2026, 12, 2)),
        ("I saw a GP on Monday but need a dentist on Friday", date(2026, 11, 27)),  # today is a Friday
        ("I need a GP at 10:30, I was there last Monday", None),
        ("I was wondering if I could book a GP on the 3rd", date(2026, 12, 3)),
        ("I was hoping for 3/12 with a GP", date(2026, 12, 3)),
        ("GP next Monday", date(2026, 11, 30)),
        ("GP Monday after next", date(2026, 12, 7)),
        ("GP Friday after next", date(2026, 12, 11)),
        ("GP Tuesday next week", date(2026, 12, 1)),
        ("GP Dec 3", date(2026, 12, 3)),
        ("GP 3 Sept", date(2027, 9, 3)),
        ("GP 2026-12-04", date(2026, 12, 4)),
        # a move: the new day, not the old one
        ("could you change my appointment i had on monday to tuesday", date(2026, 12, 1)),
        ("can you move the 10th to the 12th", date(2026, 12, 12)),
        ("can you move my dentist on the 3rd to the 5th at 10", date(2026, 12, 5)),
        # ... of the appointment: a shift or a house moved to a day is not asked for
        ("I had to move my shift to friday so can I book a dentist monday morning", date(2026, 11, 30)),
        ("we're going to move to 12 Oak Road on friday, can I register with a GP on monday", date(2026, 11, 30)),
    ],
)
def test_the_weekday_asked_for_wins_over_one_in_a_past_clause(message, day):
    assert _rules(message).date == day


@pytest.mark.parametrize(
    "message",
    [
        "Dentist appointment please",
        "Appointment with a dentist please",
        "GP appt tmrw",
        "Is there a dentist available on Saturday?",
        "When is the earliest I can see a GP?",
        "Is there an appointment available tomorrow?",
        "Is there any availability on Wednesday?",
        "What times are available on Monday?",
        "I'm looking for an appointment next week",
        "I'm after an appointment with a GP",
        "Any chance of an appointment this week?",
        "Can I make a booking?",
        "I would love an appointment",
        "When's the next available appointment?",
        "I need to see the hygienist",
        "Is Dr Patel available on Monday?",
        "What's your availability like next week?",
        "How soon can I see a doctor?",
        "How soon can I get an appointment?",
    ],
)
def test_common_requests_book(message):
    assert wants_booking(message)


@pytest.mark.parametrize(
    "message",
    [
        "I'd like to see if there is parking",
        "I want to see the price list",
        "Do you have a female doctor?",
        "when is the next train?",
        "I have an appointment tomorrow, where do I park?",
        "I can't make my appointment tomorrow",
        "I don't want to book, just asking about prices",
        "Is parking available?",
    ],
)
def test_mentions_and_questions_do_not_book(message):
    assert not wants_booking(message)


@pytest.mark.parametrize(
    ("message", "specialty", "day", "part"),
    [
        ("May I book an appointment?", None, None, None),
        ("I am looking to book an appointment", None, None, None),
        ("I am looking to book an appointment for my 2 kids", None, None, None),
        ("I am looking to book an appointment for my daughter", None, None, None),
        ("Martin here, married, I want an appointment", None, None, None),
        ("I want to book an appointment with Dr Martin at Northbridge", None, None, None),
        ("I want to book an appointment, I work from home", None, None, None),
        ("Could I book an appointment? I decided to come back", None, None, None),
        ("I want an appointment on 4 May", None, date(2027, 5, 4), None),
        ("I need an appointment for my knee", "general practice", None, None),
    ],
)
def test_the_model_fills_only_fields_the_message_talks_about(scripted_chat, message, specialty, day, part):
    llm = scripted_chat('{"specialty": "general practice", "date": "2026-12-04", "part_of_day": "evening"}')
    request = parse_booking_request(
        message, today=date(2026, 11, 30), specialties=SPECIALTIES, chat_model=llm
    )
    assert (request.specialty, request.date, request.part_of_day) == (specialty, day, part)


def test_another_time_while_a_slot_is_on_offer_keeps_the_kind(assistant):
    session = PatientSession(patient_name="Ann Lee")
    assert assistant.respond("book a dentist on Tuesday", session).kind == "proposal"
    at_three = assistant.respond("how about 3pm?", session)
    assert at_three.proposal.specialty == "dentistry" and at_three.proposal.start.hour == 15
    wednesday = assistant.respond("could we do Wednesday instead?", session)
    assert wednesday.proposal.specialty == "dentistry" and wednesday.proposal.start.date() == date(
        2026, 12, 2
    )
    afternoon = assistant.respond("actually make it the afternoon", session)
    assert afternoon.proposal.start.date() == date(2026, 12, 2) and afternoon.proposal.start.hour >= 12
    third = assistant.respond("what about the 3rd?", session)
    assert third.proposal.specialty == "dentistry" and third.proposal.start.date() == date(2026, 12, 3)
    thursday = assistant.respond("rather Thursday at 2pm", session)
    assert thursday.proposal.start == datetime(2026, 12, 3, 14, 0)



@pytest.mark.parametrize(
    ("message", "part"),
    [
        ("book a GP after 6pm on Monday", "evening"),
        ("book a physio after 4pm tomorrow", "afternoon"),
        ("book a GP on Tuesday from 2pm", "afternoon"),
        ("book a dentist before 9am on Friday", "morning"),
    ],
)
def test_after_from_and_before_a_time_set_the_part_of_the_day(message, part):
    """Second regression review (27 Nov): the bound is no exact time, but says which part of the day."""
    from domains.healthcare.booking import parse_booking_rules

    request = parse_booking_rules(message, today=date(2026, 11, 27), specialties=SPECIALTIES)
    assert request.part_of_day == part and request.time is None


@pytest.mark.parametrize(
    ("message", "books"),
    [
        ("need appt fri", True),
        ("could you get me an appointment", True),
        ("make me a GP appointment", True),
        ("i'd like the first available", True),
        ("Need GP appt Fri am", True),
        ("I need to get a GP appointment", True),
        ("I'd like to make a complaint", False),
        ("I need to get a sick note", False),
        ("I want to have my records sent to my new GP", False),
        ("Can you see my records?", False),
        ("Are appointments free for children?", False),
        # "free" meaning no charge is no slot, unless a day or time says it is
        ("Are there free appointments for over 60s?", False),
        ("Any free appointments for pensioners?", False),
        ("Is the check-up free of charge?", False),
        ("Do you have free appointments for children next week?", True),
        ("Any free appointments tomorrow?", True),
        ("Can I get a free check-up for over 50s?", True),
        ("Do you have any free slots for kids?", True),
        ("Any free slots for children on 3 December?", True),
        ("Any free appointments for kids this weekend?", True),
        ("any free appointments for kids at 3?", True),
        ("Can you check for free slots on Monday with the dentist?", True),
        ("Looking for free appointments on Tuesday", True),
    ],
)
def test_get_have_make_need_something_bookable(message, books):
    from domains.healthcare.booking import wants_booking

    assert wants_booking(message) is books
