"""The patient assistant ("virtual receptionist"): safety first, then booking, symptoms, or a grounded answer.

Order of decisions for each message:
1. emergency patterns -> the emergency instruction, before anything else;
2. a pending slot proposal -> book on "yes"/"confirm", offer the next slot on "no"; a pending cancellation ->
   cancel on a plain "yes", keep the appointment on "no";
3. dosing or diagnosis requests -> a polite refusal that says what to do instead;
4. cancel / reschedule requests (checked before booking: "cancel my GP appointment" is not a booking) ->
   only appointments booked in this conversation can be cancelled here, after a plain "yes"; anything else,
   and every move of a booked appointment, is handed over to reception. "Cancel" counts only when it governs
   an appointment ("cancel my ...", "cancel it"), and a booking asked for outside the cancel clause wins ("I
   had to cancel my appointment last week, can I book a dentist on Tuesday?"); a move while a slot is only
   proposed ("could we move it to Thursday?") proposes another slot; once this conversation has booked, a bare
   "I need to cancel" / "cancel please" is a cancel request too;
5. booking requests -> a structured request (rules + optional LLM JSON) -> a proposed slot, not a booking;
6. symptoms in plain words -> cautious possibilities from the reviewed symptom guide + "see a clinician";
7. anything else -> an answer grounded in the patient-information collection, with citations.
Every reply carries the not-medical-advice notice and the draft flag; the audit log gets the redacted question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from data_connectors.audit import AuditLog
from data_connectors.errors import BadInputError
from data_connectors.privacy import known_names, protect_logger
from domains.healthcare import DRAFT_NOTICE, MEDICAL_NOTICE
from domains.healthcare.appointments import Appointment, AppointmentBook, Slot
from domains.healthcare.booking import (
    BookingRequest,
    is_confirmation,
    is_decline,
    llm_fields,
    parse_booking_request,
    parse_booking_rules,
    part_of_day_at,
    ruled_out_times,
    wants_booking,
)
from domains.healthcare.clinics import ClinicDirectory
from domains.healthcare.safety import assess, emergency_reply, refusal_reply
from rag.llm import ChatModel

log = protect_logger(logging.getLogger(__name__))

SYMPTOM_GUIDE = Path(__file__).with_name("data") / "symptoms.yaml"
TurnKind = Literal[
    "emergency",
    "refusal",
    "symptom",
    "proposal",
    "booked",
    "need_details",
    "no_slot",
    "answer",
    "not_found",
    "cancel_proposal",
    "cancelled",
    "handover",
]
_CANCEL = re.compile(r"\b(?:cancel|cancell?ing|call off|calling off)\b")
# "cancel" said of an appointment, up to the end of its clause: "cancel my GP appointment tomorrow", "cancel it",
# "cancel appointment 12"; not "I had to cancel last week".
_CANCEL_REQUEST = re.compile(
    r"\b(?:cancel|cancell?ing|call off|calling off)\s+(?:(?:my|the|our|this|that|it|appointments?|appts?|bookings?|"
    r"visits?|number|no\.|\w+'s)\b|#\d)[^,;.!?]*?(?=[,;.!?]|\band\b|\bbut\b|$)"
)
# A bare "cancel" ("I need to cancel", "can I cancel?", "cancel please") asks to cancel only once this
# conversation holds a booking; a past one ("I had to cancel last week") never does, nor a negated one (see
# _NOT_A_CANCEL_REQUEST, which both cancel paths apply).
_BARE_CANCEL = re.compile(
    r"(?<!\bhad to )(?<!\balready )\b(?:cancel|call off)\b(?!\s+(?:last|yesterday|earlier|before)\b)"
)
# What makes a "cancel" no request, said just before it in its clause: a negation that governs it ("don't
# cancel", "no need to cancel", "I won't have to cancel") or a hypothetical ("what happens if I cancel", "if I
# need to cancel, is there a fee?"); "I was wondering if I could cancel" and "I won't make it, please cancel"
# still ask.
_NOT_A_CANCEL_REQUEST = re.compile(
    r"(?:(?:\w+n't|\bdo not|\bdont|\bnot|\bnever|\bno need to|\bwill not|\bcannot)\s+(?:\w+\s+){0,2}"
    r"|\bif\s+(?:i|we)\s+(?:need to |have to |had to |decide to |were to |do )?)$"
)
_CANCEL_CLAUSE_BREAK = re.compile(r"[.,;:!?\n]|\b(?:but|and|so|then)\b")
_RESCHEDULE = re.compile(
    r"\b(?:reschedul\w*|re-schedul\w*|postpone\w*|rebook\w*|re-book\w*)\b|"
    r"\b(?:move|change|shift|push back|bring forward)\b(?:\W+\w+){0,3}?\W+(?:appointment|appt|booking|visit|it)\b"
)
_APPOINTMENT_NUMBER = re.compile(
    r"\b(?:number|no\.|appointment|appt|booking)\s*#?\s*(\d{1,9})\b(?!\s*(?:am|pm|[:.]\d))|#(\d{1,9})\b"
)
# While a slot is on offer, "how about Thursday?" / "the afternoon instead?" asks for another time.
_ANOTHER_TIME = re.compile(
    r"^\W*(?:(?:ok|okay|yes|no|nope|sorry)\W+(?:but\s+)?)?(?:how about|what about|or|maybe|perhaps|rather|actually|"
    r"(?:can|could) (?:we|you) do|could it be|is there anything|anything|have you (?:got )?anything|"
    r"do you have anything|got anything|make it|let'?s (?:do|say))\b|\binstead\b|\brather\b"
)
# Said to an offer, a short question that starts with a day or a time is a counter-offer: "thursday at 10.30?",
# "the 4th?", "3pm?", "tuesday, ten past two?".
_TIME_QUESTION = re.compile(
    r"^\W*(?:on\s+|at\s+|the\s+)?(?:\d|(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*|tomorrow|tmrw|today|next|this|half|"
    r"quarter|noon|midday|morning|afternoon|evening|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|twenty)\b)[^?]{0,40}\?\s*$"
)
# A number or a spoken hour: a counter-offer with one names a time, even when the rules cannot read it.
_SAYS_A_TIME = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter|noon|midday)\b"
)
# The audit log's book for chat bookings and cancellations (numbers only, never the patient's name), the same
# one the hub's appointment tab writes.
APPOINTMENTS_COLLECTION = "appointments"
_NO_GRANT = (
    "Booking and cancelling here need the `appointments` grant, which this account does not have; to book, "
    "use the hub's Patient assistant with an account that has it, or call reception."
)
_RECEPTION = (
    "please call reception, who can see all your appointments; they can also move it to another time."
)


class SourceRef(BaseModel):
    n: int
    source: str
    page: int | None = None
    section: str | None = None
    text: str = ""


class PatientSession(BaseModel):
    """What the assistant remembers between turns of one conversation."""

    patient_name: str | None = None
    location: tuple[float, float] | None = None  # (lat, lon) for the clinic search
    pending: Slot | None = None
    alternatives: list[Slot] = Field(default_factory=list)
    suggested_specialty: str | None = None
    booked: list[int] = Field(default_factory=list)  # appointment numbers booked in this conversation
    pending_cancel: int | None = None  # the appointment number the assistant asked to cancel


class PatientTurn(BaseModel):
    kind: TurnKind
    text: str
    categories: list[str] = Field(default_factory=list)
    citations: list[SourceRef] = Field(default_factory=list)
    request: BookingRequest | None = None
    proposal: Slot | None = None
    appointment: Appointment | None = None
    notice: str = MEDICAL_NOTICE
    draft: bool = True
    draft_notice: str = DRAFT_NOTICE


class SymptomGuide:
    """Reviewed, cautious symptom explanations from a YAML file (see data/symptoms.yaml)."""

    def __init__(self, path: Path = SYMPTOM_GUIDE) -> None:
        try:
            self.entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["symptoms"]
        except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
            raise BadInputError(
                f"Symptom guide {path} must be YAML with a 'symptoms' list ({error})."
            ) from None
        self._compiled = [[re.compile(p) for p in entry["patterns"]] for entry in self.entries]

    def match(self, message: str) -> dict[str, Any] | None:
        text = message.lower()
        for entry, patterns in zip(self.entries, self._compiled, strict=True):
            if any(p.search(text) for p in patterns):
                return entry
        return None


def _with_notice(text: str) -> str:
    return f"{text}\n\n{MEDICAL_NOTICE}"


def _confirm_hint(may_book: bool) -> str:
    if may_book:
        return 'Shall I book it? Reply "yes" to confirm or "no" for another time.'
    return (
        "I can't book from here: book it in the hub's Healthcare > Patient assistant (an account with the "
        "`appointments` grant) or call reception."
    )


def _describe(appointment: Appointment) -> str:
    return f"{appointment.start:%A %d %B %Y at %H:%M} with {appointment.clinician} ({appointment.clinic})"


def _asks_to_cancel(lowered: str, pattern: re.Pattern[str] | None = None) -> bool:
    """A "cancel" (``pattern``, by default a bare one) that is not negated, past or hypothetical within its
    own clause: "please don't cancel it" and "what happens if I cancel?" ask for nothing."""
    text = lowered.replace("’", "'")
    for match in (pattern or _BARE_CANCEL).finditer(text):
        starts = [m.end() for m in _CANCEL_CLAUSE_BREAK.finditer(text, 0, match.start())]
        if not _NOT_A_CANCEL_REQUEST.search(text[(starts[-1] if starts else 0) : match.start()]):
            return True
    return False


def _confirms_cancel(message: str) -> bool:
    """A plain yes, where "cancel" may be repeated ("yes, cancel it")."""
    return is_confirmation(_CANCEL.sub(" ", message.lower()))


def _citations(answer: Any) -> list[SourceRef]:
    refs = []
    for index, citation in enumerate(getattr(answer, "citations", []) or [], start=1):
        refs.append(
            SourceRef(
                n=getattr(citation, "n", index),
                source=str(getattr(citation, "source", "")),
                page=getattr(citation, "page", None),
                section=getattr(citation, "section", None),
                text=str(getattr(citation, "text", ""))[:400],
            )
        )
    return refs


# PUBLIC API


class PatientAssistant:
    """Composes the safety layer, appointment book, clinic directory and a grounded answerer.

    Args:
        book: the appointment book (real database).
        answer: question -> an answer object with ``answer``, ``refused`` and ``citations`` (``rag.answering``);
            None when no patient-information collection is configured.
        chat_model: returns the LLM for the structured booking step; called only when the rules leave a
            field open, so a conversation that never needs it never loads a model.
        directory: clinic directory for "nearest clinic with a free slot".
        audit: audit log; each question is recorded redacted, under ``actor`` and ``collection``.
    """

    def __init__(
        self,
        *,
        book: AppointmentBook,
        answer: Callable[[str], Any] | None = None,
        chat_model: Callable[[], ChatModel] | None = None,
        directory: ClinicDirectory | None = None,
        symptoms: SymptomGuide | None = None,
        audit: AuditLog | None = None,
        actor: str = "patient-chat",
        collection: str = "patient-info",
    ) -> None:
        self.book = book
        self.answer = answer
        self.chat_model = chat_model
        self.directory = directory
        self.symptoms = symptoms or SymptomGuide()
        self.audit = audit
        self.actor = actor
        self.collection = collection

    def respond(
        self, message: str, session: PatientSession, *, actor: str | None = None, may_book: bool = True
    ) -> PatientTurn:
        """One turn of the conversation; ``session`` is updated in place (pending proposals). ``actor`` (the
        logged-in user) is who the audit log records, instead of the assistant's default. ``may_book`` False
        (a caller without the ``appointments`` grant, or one that keeps no conversation, like the HTTP API)
        still gets slots proposed, with where to book them, but nothing is booked or cancelled."""
        if not message.strip():
            raise BadInputError("The message is empty; type a question or describe what you need.")
        # this chat's patient, masked in this turn's audit rows and logs (not remembered for later turns)
        with known_names(session.patient_name):
            if self.audit is not None:
                self.audit.record(
                    actor=actor or self.actor,
                    action="patient-chat",
                    collection=self.collection,
                    question=message,
                )
            turn = self._decide(message, session, actor or self.actor, may_book)
            log.info("patient turn: %s (%s)", turn.kind, ", ".join(turn.categories) or "-")
        return turn

    # ---------------------------------------------------------------- steps

    def _decide(self, message: str, session: PatientSession, actor: str, may_book: bool) -> PatientTurn:
        safety = assess(message)
        if safety.kind == "emergency":
            session.pending, session.alternatives = None, []
            return PatientTurn(
                kind="emergency", text=emergency_reply(safety), categories=list(safety.categories)
            )
        if session.pending is not None and is_decline(message) and self._asks_for_another(message, session.pending):
            return self._propose_instead_of(session.pending, message, session, may_book)
        if session.pending is not None and (is_confirmation(message) or is_decline(message)):
            return self._answer_proposal(message, session, actor, may_book)
        if session.pending_cancel is not None and (_confirms_cancel(message) or is_decline(message)):
            return self._answer_cancel(message, session, actor, may_book)
        session.pending_cancel = None  # anything else drops the question
        if safety.kind in ("dosing", "diagnosis"):
            return PatientTurn(kind="refusal", text=refusal_reply(safety), categories=[safety.kind])
        lowered = message.lower()
        another = _ANOTHER_TIME.search(lowered)
        if session.pending is not None and (another or _TIME_QUESTION.match(lowered)):
            # "thursday at 3?", "tuesday, ten past two?": read as one clause that asks
            asked = message if another else f"how about {message.replace(',', ' ')}"
            if self._names_a_time(asked):
                return self._propose_instead_of(session.pending, asked, session, may_book)
            if another and _SAYS_A_TIME.search(lowered):  # "make it 10 to 4 for me"
                session.pending, session.alternatives = None, []  # a later "yes" must not book the old slot
                return PatientTurn(
                    kind="need_details",
                    text=_with_notice(
                        'I did not catch that time. Which day and time would suit you (for example "Tuesday '
                        'at 2.30pm")?'
                    ),
                )
        if _RESCHEDULE.search(lowered):
            if session.pending is not None:  # nothing is booked yet: propose another time instead
                return self._propose(message, session, may_book)
            return PatientTurn(
                kind="handover",
                text=_with_notice(f"I can't move appointments in this chat; {_RECEPTION}"),
            )
        cancel = _CANCEL_REQUEST.search(lowered)
        if (
            cancel is not None
            and _asks_to_cancel(lowered, _CANCEL_REQUEST)
            and not wants_booking(lowered[: cancel.start()] + lowered[cancel.end() :])
        ):
            return self._propose_cancel(message, session)
        if session.booked and _asks_to_cancel(lowered) and not wants_booking(message):
            return self._propose_cancel(message, session)
        if wants_booking(message):
            return self._propose(message, session, may_book)
        if (entry := self.symptoms.match(message)) is not None:
            return self._explain_symptom(entry, session)
        return self._grounded_answer(message)

    def _explain_symptom(self, entry: dict[str, Any], session: PatientSession) -> PatientTurn:
        session.suggested_specialty = entry["specialty"]
        clinician = {"dentistry": "a dentist", "general practice": "a GP"}.get(
            entry["specialty"], "a clinician"
        )
        possibilities = "\n".join(f"- {item}" for item in entry["possibilities"])
        text = (
            f"What you describe can have several causes, for example:\n{possibilities}\n\n"
            f"Only {clinician} can tell which after examining you. {entry['advice']}\n\n"
            f'Would you like an appointment with {clinician}? Say for example "book {clinician} tomorrow morning".'
        )
        return PatientTurn(kind="symptom", text=_with_notice(text), categories=[entry["id"]])

    def _asks_for_another(self, message: str, slot: Slot) -> bool:
        """A "no" that names a day, time or part of the day other than the slot's ("no, can I have twenty to
        three?"), not one that only gives a reason ("no, I can't do Tuesday", "no, the morning is bad")."""
        request = self._times_in(message)
        start = slot.start
        return (
            (request.time is not None and request.time != start.time())
            or (request.date is not None and request.date != start.date())
            or (request.part_of_day is not None and request.part_of_day != part_of_day_at(start.time()))
        )

    def _propose_instead_of(
        self, declined: Slot, message: str, session: PatientSession, may_book: bool
    ) -> PatientTurn:
        """A proposal for ``message`` that never offers ``declined`` again: its next alternative instead."""
        turn = self._propose(message, session, may_book)
        return self._next_alternative(session, may_book) if session.pending == declined else turn

    def _next_alternative(self, session: PatientSession, may_book: bool) -> PatientTurn:
        """The next slot on the list, or the question which day would suit when none is left."""
        if not session.alternatives:
            session.pending = None
            return PatientTurn(
                kind="no_slot", text=_with_notice("No problem. Which other day or time would suit you?")
            )
        session.pending, session.alternatives = session.alternatives[0], session.alternatives[1:]
        return PatientTurn(
            kind="proposal",
            proposal=session.pending,
            text=_with_notice(f"How about {session.pending.describe()}? " + _confirm_hint(may_book)),
        )

    def _times_in(self, message: str) -> BookingRequest:
        """The day, time and part of the day a message names (no specialty: the rules alone)."""
        return parse_booking_rules(message, today=self.book.clock().date(), specialties=[])

    def _names_a_time(self, message: str) -> bool:
        request = self._times_in(message)
        return any(value is not None for value in (request.date, request.time, request.part_of_day))

    def _request(self, message: str, session: PatientSession) -> BookingRequest:
        """Rules, then the context (the kind of the slot on offer, or the one a symptom suggested), then the
        LLM for what is still open and said in the message ("move it to Thursday" keeps the dentist)."""
        today = self.book.clock().date()
        specialties = self.book.specialties()
        request = parse_booking_rules(message, today=today, specialties=specialties)
        context = session.pending.specialty if session.pending is not None else session.suggested_specialty
        if request.specialty is None and context:
            request = request.model_copy(update={"specialty": context})
        if session.pending is not None and request.date is None and (request.time or request.part_of_day):
            request = request.model_copy(
                update={"date": session.pending.start.date()}
            )  # "the morning instead?"
        if self.chat_model is not None and llm_fields(request, message):
            request = parse_booking_request(
                message, today=today, specialties=specialties, chat_model=self.chat_model(), known=request
            )
        return request

    def _propose(self, message: str, session: PatientSession, may_book: bool) -> PatientTurn:
        today = self.book.clock().date()
        request = self._request(message, session)
        session.pending, session.alternatives = None, []  # a "yes" books only the slot on offer now
        if request.specialty is None:
            kinds = ", ".join(self.book.specialties())
            return PatientTurn(
                kind="need_details",
                request=request,
                text=_with_notice(f"Which kind of appointment do you need? We offer: {kinds}."),
            )
        if request.date is not None and request.date < today:
            return PatientTurn(
                kind="need_details",
                request=request,
                text=_with_notice(
                    f"{request.date:%d %B %Y} is in the past; which day from today would suit you?"
                ),
            )
        slots = self._find_slots(request, session, today)
        if not slots:
            if request.date is not None and request.last_date is not None:
                when = f"between {request.date:%A %d %B} and {request.last_date:%A %d %B}"
            else:
                when = f"on {request.date:%A %d %B}" if request.date else "in the next two weeks"
            part = f" in the {request.part_of_day}" if request.part_of_day and request.time is None else ""
            return PatientTurn(
                kind="no_slot",
                request=request,
                text=_with_notice(
                    f"There is no free {request.specialty} appointment {when}{part}; would another day suit you?"
                ),
            )
        session.pending, session.alternatives = slots[0], slots[1:]
        lead = f"{request.note}. " if request.note else ""
        if request.time is not None and slots[0].start.time() != request.time:
            lead += f"There is no free appointment at {request.time:%H:%M}; the nearest free time is this one. "
        return PatientTurn(
            kind="proposal",
            request=request,
            proposal=slots[0],
            text=_with_notice(f"{lead}I can offer {slots[0].describe()}. " + _confirm_hint(may_book)),
        )

    def _find_slots(self, request: BookingRequest, session: PatientSession, today: date) -> list[Slot]:
        """Free slots for the request; with a clock time, the slot at that time first, then the nearest."""
        part = request.part_of_day if request.time is None else None
        single_day = request.date is not None and request.last_date is None
        if self.directory is not None and session.location is not None and single_day:
            matches = self.directory.nearest_with_slots(
                self.book,
                *session.location,
                specialty=request.specialty,
                day=request.date,
                part_of_day=part,
            )
            slots = [slot for match in matches for slot in match.free_slots]
        elif single_day:
            slots = self.book.available_slots(
                day=request.date, specialty=request.specialty, part_of_day=part, limit=100
            )
        else:
            first = request.date or today
            days = (request.last_date - first).days + 1 if request.last_date else 14
            slots = self.book.next_available(
                specialty=request.specialty, after=first, part_of_day=part, days=days, limit=100
            )
        if request.time is not None and slots:
            wanted = datetime.combine(slots[0].start.date(), request.time)
            slots = sorted(slots, key=lambda slot: abs(slot.start - wanted))  # stable: nearest clinic first
        return slots[:6]

    def _answer_proposal(
        self, message: str, session: PatientSession, actor: str, may_book: bool
    ) -> PatientTurn:
        slot = session.pending
        assert slot is not None  # checked by the caller
        if is_decline(message):
            weekdays, parts = ruled_out_times(message, today=self.book.clock().date())
            session.alternatives = [  # "no, I can't do Tuesday": no other Tuesday slot either
                other
                for other in session.alternatives
                if other.start.weekday() not in weekdays and part_of_day_at(other.start.time()) not in parts
            ]
            return self._next_alternative(session, may_book)
        if not may_book:
            return PatientTurn(kind="handover", proposal=slot, text=_with_notice(_NO_GRANT))
        if not session.patient_name:
            return PatientTurn(
                kind="need_details",
                proposal=slot,
                text=_with_notice(
                    "Before I book, please enter the patient's name in the name field, then confirm again."
                ),
            )
        try:
            appointment = self.book.book(
                clinician_id=slot.clinician_id,
                start=slot.start,
                patient_name=session.patient_name,
                reason=f"booked by assistant on {self.book.clock():%Y-%m-%d}",
            )
        except BadInputError:  # taken by someone else since it was offered, or no longer in the future
            return self._offer_instead(slot, session, may_book)
        session.pending, session.alternatives = None, []
        session.booked.append(appointment.id)
        self._audit_change(actor, "book", appointment.id)
        return PatientTurn(
            kind="booked",
            appointment=appointment,
            text=_with_notice(
                f"Booked: {slot.describe()} (appointment number {appointment.id}). "
                f'To cancel it, say "cancel appointment {appointment.id}"; to move it, please call reception.'
            ),
        )

    def _offer_instead(self, lost: Slot, session: PatientSession, may_book: bool) -> PatientTurn:
        """The confirmed slot can no longer be booked: offer the next free one of the same kind."""
        later = [
            slot
            for slot in self.book.available_slots(day=lost.start.date(), specialty=lost.specialty, limit=100)
            if slot.start >= lost.start
        ]
        slots = (
            later
            or self.book.next_available(specialty=lost.specialty, after=lost.start.date() + timedelta(days=1))
        )[:6]
        session.pending, session.alternatives = (slots[0], slots[1:]) if slots else (None, [])
        sorry = f"Sorry, {lost.describe()} is no longer free."
        if not slots:
            return PatientTurn(
                kind="no_slot",
                text=_with_notice(
                    f"{sorry} There is no other free {lost.specialty} appointment in the next two weeks; "
                    "please call reception."
                ),
            )
        return PatientTurn(
            kind="proposal",
            proposal=slots[0],
            text=_with_notice(
                f"{sorry} I can offer {slots[0].describe()} instead. " + _confirm_hint(may_book)
            ),
        )

    def _audit_change(self, actor: str, action: str, appointment_id: int) -> None:
        if self.audit is not None:
            self.audit.record(
                actor=actor,
                action=action,
                collection=APPOINTMENTS_COLLECTION,
                question=f"{action} #{appointment_id}",
            )

    def _propose_cancel(self, message: str, session: PatientSession) -> PatientTurn:
        """Ask to confirm cancelling an appointment this conversation booked; hand anything else to reception."""
        active = {a.id: a for a in self.book.list() if a.id in session.booked}
        number = _APPOINTMENT_NUMBER.search(message.lower())
        if number is not None:
            wanted = int(number.group(1) or number.group(2))
            if wanted not in active:
                return PatientTurn(
                    kind="handover",
                    text=_with_notice(
                        f"Appointment {wanted} was not booked in this conversation, so I can't cancel it here; "
                        + _RECEPTION
                    ),
                )
            candidates = [active[wanted]]
        else:
            candidates = list(active.values())
        if not candidates:
            return PatientTurn(
                kind="handover",
                text=_with_notice(
                    "I can only cancel appointments booked in this conversation; to cancel another one, "
                    + _RECEPTION
                ),
            )
        if len(candidates) > 1:
            listed = "; ".join(f"{a.id}: {_describe(a)}" for a in candidates)
            return PatientTurn(
                kind="need_details",
                text=_with_notice(
                    f'Which appointment should I cancel? Booked here: {listed}. Say for example "cancel '
                    f'appointment {candidates[0].id}".'
                ),
            )
        appointment = candidates[0]
        session.pending, session.alternatives = None, []
        session.pending_cancel = appointment.id
        return PatientTurn(
            kind="cancel_proposal",
            appointment=appointment,
            text=_with_notice(
                f'Shall I cancel appointment {appointment.id}, {_describe(appointment)}? Reply "yes" to cancel '
                'it or "no" to keep it.'
            ),
        )

    def _answer_cancel(
        self, message: str, session: PatientSession, actor: str, may_book: bool
    ) -> PatientTurn:
        appointment_id, session.pending_cancel = session.pending_cancel, None
        assert appointment_id is not None  # checked by the caller
        if is_decline(message):
            return PatientTurn(
                kind="answer", text=_with_notice(f"Fine, appointment {appointment_id} stays booked.")
            )
        if not may_book:
            return PatientTurn(kind="handover", text=_with_notice(_NO_GRANT))
        cancelled = self.book.cancel(appointment_id)
        session.booked = [n for n in session.booked if n != appointment_id]
        self._audit_change(actor, "cancel", cancelled.id)
        return PatientTurn(
            kind="cancelled",
            appointment=cancelled,
            text=_with_notice(f"Cancelled appointment {cancelled.id}, {_describe(cancelled)}."),
        )

    def _grounded_answer(self, message: str) -> PatientTurn:
        if self.answer is None:
            return PatientTurn(
                kind="not_found",
                text=_with_notice(
                    "The patient-information library is not loaded, so I cannot answer that; "
                    "please call reception."
                ),
            )
        answer = self.answer(message)
        if getattr(answer, "refused", False) or not str(getattr(answer, "answer", "")).strip():
            return PatientTurn(
                kind="not_found",
                text=_with_notice(
                    "I could not find that in the clinic's patient information; please ask reception "
                    "or your clinician."
                ),
            )
        return PatientTurn(kind="answer", text=_with_notice(str(answer.answer)), citations=_citations(answer))
