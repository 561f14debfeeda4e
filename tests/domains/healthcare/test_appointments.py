"""The appointment book on a real SQLite file: booking rules, clear errors, and no double booking under races."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest

from data_connectors.errors import BadInputError
from domains.healthcare.appointments import AppointmentBook, SlotTakenError

TUESDAY = date(2026, 12, 1)


def _dentist(book: AppointmentBook) -> int:
    return next(c.id for c in book.clinicians("dentist") if c.name == "Dr. Sofia Lindqvist")


def test_seed_is_idempotent_and_lists_specialties(book):
    assert book.seed() == 0
    assert {"dentistry", "general practice", "physiotherapy"} <= set(book.specialties())
    assert all(c.specialty == "dentistry" for c in book.clinicians("dentist"))


def test_available_slots_respect_opening_hours_and_part_of_day(book):
    slots = book.available_slots(day=TUESDAY, specialty="dentist", part_of_day="morning")
    assert slots and all(s.start.hour < 12 and s.specialty == "dentistry" for s in slots)
    assert slots == sorted(slots, key=lambda s: (s.start, s.clinician_id))
    lindqvist = [s for s in slots if s.clinician == "Dr. Sofia Lindqvist"]
    assert lindqvist[0].start == datetime(2026, 12, 1, 8, 0) and lindqvist[0].end == datetime(
        2026, 12, 1, 8, 30
    )


def test_book_reschedule_cancel_list(book):
    clinician = _dentist(book)
    booked = book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 9, 0), patient_name="Ann Lee")
    assert booked.status == "booked"
    assert datetime(2026, 12, 1, 9, 0) not in [
        s.start for s in book.available_slots(day=TUESDAY, clinician_id=clinician)
    ]
    moved = book.reschedule(booked.id, datetime(2026, 12, 1, 10, 0))
    assert moved.start == datetime(2026, 12, 1, 10, 0)
    assert [a.id for a in book.list(patient_name="ann lee")] == [booked.id]
    cancelled = book.cancel(booked.id)
    assert cancelled.status == "cancelled"
    assert book.list(patient_name="Ann Lee") == []
    assert len(book.list(patient_name="Ann Lee", include_cancelled=True)) == 1
    # a cancelled slot can be booked again
    again = book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 10, 0), patient_name="Bo Chen")
    assert again.status == "booked"


@pytest.mark.parametrize(
    ("start", "clinician", "message"),
    [
        (datetime(2026, 11, 29, 9, 0), None, "in the past"),
        (datetime(2026, 12, 1, 19, 0), None, "opening hours that day are 08:00-12:00, 13:00-17:00"),
        (datetime(2026, 12, 2, 9, 0), None, "closed that day"),
        (datetime(2026, 12, 1, 9, 10), None, "30-minute slots"),
        (datetime(2026, 12, 1, 9, 0), 999, "There is no clinician with id 999"),
    ],
)
def test_validation_errors_are_clear_sentences(book, start, clinician, message):
    with pytest.raises(BadInputError, match=message) as caught:
        book.book(clinician_id=clinician or _dentist(book), start=start, patient_name="Ann Lee")
    assert str(caught.value).endswith(".")


def test_a_start_with_a_utc_offset_is_refused_not_compared(book):
    aware = datetime.fromisoformat("2026-12-01T09:00+01:00")
    with pytest.raises(BadInputError, match=r"carries a UTC offset.*2026-12-01T09:00"):
        book.book(clinician_id=_dentist(book), start=aware, patient_name="Ann Lee")
    booked = book.book(clinician_id=_dentist(book), start=datetime(2026, 12, 1, 9, 0), patient_name="Ann Lee")
    with pytest.raises(BadInputError, match="carries a UTC offset"):
        book.reschedule(booked.id, aware)


def test_double_booking_and_unknown_appointment_are_refused(book):
    clinician = _dentist(book)
    book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 8, 0), patient_name="Ann Lee")
    with pytest.raises(SlotTakenError, match="already booked"):
        book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 8, 0), patient_name="Bo Chen")
    with pytest.raises(BadInputError, match="no appointment with id 77"):
        book.cancel(77)
    with pytest.raises(BadInputError, match="No clinician offers 'astrology'"):
        book.available_slots(day=TUESDAY, specialty="astrology")


def test_eight_threads_racing_for_one_slot_exactly_one_wins(book):
    clinician, start = _dentist(book), datetime(2026, 12, 1, 11, 30)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            book.book(clinician_id=clinician, start=start, patient_name=f"Patient {index}")
            result = "won"
        except SlotTakenError:
            result = "taken"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["taken"] * 7 + ["won"]
    assert len(book.list(clinician_id=clinician, day=TUESDAY)) == 1


def test_input_messages_name_the_fix(book):
    """Seconds are refused, not silently dropped; empty and oversized names and unknown ids say what to do."""
    clinician = _dentist(book)
    with pytest.raises(BadInputError, match=r"2026-12-01T09:00:30 has seconds.*2026-12-01T09:00\."):
        book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 9, 0, 30), patient_name="Ann Lee")
    with pytest.raises(BadInputError, match="--patient"):
        book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 9, 0), patient_name="  ")
    with pytest.raises(BadInputError, match="5000 characters long; give at most 100"):
        book.book(clinician_id=clinician, start=datetime(2026, 12, 1, 9, 0), patient_name="A" * 5000)
    with pytest.raises(BadInputError, match="`genai healthcare appointments`"):
        book.cancel(999)
    assert book.list() == []
