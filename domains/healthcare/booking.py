"""Turning "can I see a dentist next Tuesday morning?" into a structured booking request.

The LLM is asked for JSON ``{specialty, date, part_of_day}`` validated with pydantic; a deterministic parser
(weekdays, "today"/"tomorrow", "in 3 days", ISO and "1 December" dates, morning/afternoon/evening) runs on
every message and wins wherever it found a value, because small models misread dates. The LLM fills only
what the rules could not find. Nothing here books: the assistant proposes, the user confirms.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

from data_connectors.text import MONTHS
from domains.healthcare.appointments import WEEKDAY_NAMES, PartOfDay, normalise_specialty, part_of_day_at
from rag.llm import ChatModel

_SPECIALTY_WORDS: dict[str, tuple[str, ...]] = {
    "dentistry": ("dentist", "dental", "tooth", "teeth", "toothache", "gum", "gums", "filling", "molar"),
    "general practice": (
        "gp",
        "doctor",
        "general practitioner",
        "family doctor",
        "check-up",
        "checkup",
        "physician",
    ),
    "physiotherapy": ("physio", "physiotherapist", "physiotherapy", "sprain", "back pain"),
    "dermatology": ("dermatologist", "dermatology", "skin", "rash", "mole", "eczema"),
}
_BOOKING_INTENT = re.compile(
    r"\b(?:book|booking|appointment|appt|schedule|see an? |visit|slot|available|availability|come in|"
    r"reserve|make an? appointment|get an? appointment|(?:can|could|may) (?:i|we) (?:see|come|get in))\b"
)
_CONFIRM = re.compile(
    r"^\s*(?:yes|yep|yeah|y|ok|okay|sure|confirm|confirmed|please do|book it|go ahead|sounds good|that works|"
    r"perfect|great)\b"
)
# After the "yes", only words like these may follow: "ok, but in the afternoon?" asks for something else.
_CONFIRM_FILLERS = frozenset({
    "yes", "yep", "yeah", "ok", "okay", "sure", "please", "thanks", "thank", "you", "that", "that's", "this",
    "it", "is", "works", "sounds", "good", "fine", "great", "perfect", "lovely", "cheers", "go", "ahead",
    "book", "confirm", "confirmed", "do", "for", "me", "the", "slot", "appointment", "one",
})  # fmt: skip
# "no problem, book it" starts like a decline but is not one; it confirms only when the rest says so.
_SOFT_OK = re.compile(r"^\s*(?:no (?:problem|worries|bother)|not a problem|(?:i )?(?:don'?t|do not) mind)\b")
_SAYS_YES = frozenset({
    "yes", "yep", "yeah", "ok", "okay", "sure", "book", "go", "confirm", "confirmed", "fine", "works", "good",
    "great", "perfect", "lovely",
})  # fmt: skip
_DECLINE = re.compile(r"^\s*(?:no|nope|n|not that|another|different|other|cancel|don'?t)\b")
_PART_WORDS: dict[PartOfDay, str] = {
    "morning": r"\b(?:morning|before (?:noon|lunch))\b",
    "afternoon": r"\b(?:afternoon|after (?:noon|lunch))\b",
    "evening": r"\b(?:evening|after work|tonight)\b",
}
_CLOCK = re.compile(r"(?<![\d.:])(\d{1,2})(?:[:.](\d{2}))? ?([ap])\.?m\b|\b(\d{1,2}):(\d{2})\b")


class BookingRequest(BaseModel):
    """What the patient asked for; any field may be unknown (None)."""

    specialty: str | None = None
    date: dt.date | None = None
    part_of_day: PartOfDay | None = None
    source: Literal["rules", "llm", "rules+llm"] = "rules"

    @field_validator("part_of_day", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower().strip() if isinstance(value, str) else value


def _next_weekday(today: date, weekday: int, *, strictly_after: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return today + timedelta(days=ahead)


def _parse_date(text: str, today: date) -> date | None:
    if match := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            return None
    if re.search(r"\bday after tomorrow\b", text):
        return today + timedelta(days=2)
    if re.search(r"\btomorrow\b", text):
        return today + timedelta(days=1)
    if re.search(r"\b(?:today|this (?:morning|afternoon|evening))\b", text):
        return today
    if match := re.search(r"\bin (\d{1,2}|a|one|two|three) (day|days|week|weeks)\b", text):
        count = {"a": 1, "one": 1, "two": 2, "three": 3}.get(match.group(1)) or int(match.group(1))
        return today + timedelta(days=count * (7 if match.group(2).startswith("week") else 1))
    if re.search(r"\bnext week\b", text):
        return _next_weekday(today, 0, strictly_after=True)
    months = "|".join(MONTHS)
    if match := re.search(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({months})\b|\b({months}) (\d{{1,2}})(?:st|nd|rd|th)?\b",
        text,
    ):
        day_text, month_text = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        month = MONTHS.index(month_text) + 1
        year = today.year + (1 if (month, int(day_text)) < (today.month, today.day) else 0)
        try:
            return date(year, month, int(day_text))
        except ValueError:
            return None
    for index, name in enumerate(WEEKDAY_NAMES):
        if match := re.search(rf"\b(next |this |on |coming )?{name.lower()}s?\b", text):
            after = match.group(1) == "next " or match.group(1) is None
            return _next_weekday(today, index, strictly_after=after)
    return None


def _clock_part(text: str) -> PartOfDay | None:
    """ "9am", "6 pm", "17:30" -> the part of the day the appointment book counts that hour in."""
    for match in _CLOCK.finditer(text):
        if match.group(3):
            hour, minute = int(match.group(1)) % 12, int(match.group(2) or 0)
            hour += 12 if match.group(3) == "p" else 0
        else:
            hour, minute = int(match.group(4)), int(match.group(5))
        if hour < 24 and minute < 60:
            return part_of_day_at(dt.time(hour, minute))
    return None


def _parse_part_of_day(text: str) -> PartOfDay | None:
    """A named part of the day wins (the first one said: "early afternoon" is afternoon), then a clock time,
    then a bare "early" (morning)."""
    named = [(m.start(), part) for part, pattern in _PART_WORDS.items() if (m := re.search(pattern, text))]
    if named:
        return min(named)[1]
    if (part := _clock_part(text)) is not None:
        return part
    return "morning" if re.search(r"\bearly\b", text) else None


def _parse_specialty(text: str, specialties: list[str]) -> str | None:
    for specialty, words in _SPECIALTY_WORDS.items():
        if specialty in specialties and any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return specialty
    for specialty in specialties:
        if specialty in text:
            return specialty
    return None


def _ask_llm(
    chat_model: ChatModel, message: str, *, today: date, specialties: list[str]
) -> BookingRequest | None:
    prompt = (
        "Extract the appointment request from the patient's message. Reply with one JSON object and nothing "
        'else: {"specialty": one of ' + json.dumps(specialties) + ' or null, "date": "YYYY-MM-DD" or null, '
        '"part_of_day": "morning" | "afternoon" | "evening" | null}. '
        f"Today is {WEEKDAY_NAMES[today.weekday()]} {today.isoformat()}."
    )
    reply = chat_model.generate(
        [{"role": "system", "content": prompt}, {"role": "user", "content": message}],
        max_new_tokens=80,
        temperature=0.0,
    )
    match = re.search(r"\{.*?\}", reply, re.DOTALL)
    if match is None:
        return None
    try:
        request = BookingRequest.model_validate({**json.loads(match.group(0)), "source": "llm"})
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None
    specialty = normalise_specialty(request.specialty) if request.specialty else None
    return request.model_copy(
        update={
            "specialty": specialty if specialty in specialties else None,
            "date": request.date
            if request.date and today <= request.date <= today + timedelta(days=365)
            else None,
        }
    )


# PUBLIC API


def wants_booking(message: str) -> bool:
    """Whether a message asks for an appointment (book, see a dentist, any slot on Tuesday, ...)."""
    return bool(_BOOKING_INTENT.search(message.lower()))


def is_confirmation(message: str) -> bool:
    """A plain yes to the proposed slot: a confirmation word first and nothing after it but more of the same
    (no "but", no question, no other time)."""
    lowered = message.lower().replace("’", "'")
    soft = _SOFT_OK.search(lowered)
    start = soft or _CONFIRM.search(lowered)
    if start is None or is_decline(message) or "?" in lowered:
        return False
    rest = re.findall(r"[a-z']+|\d+", lowered[start.end() :])
    if soft is not None and not _SAYS_YES.intersection(rest):
        return False  # "no problem" alone neither books nor declines
    return all(word in _CONFIRM_FILLERS for word in rest)


def is_decline(message: str) -> bool:
    """A no to the proposed slot ("no", "another one"), but not "no problem" / "don't mind"."""
    lowered = message.lower().replace("’", "'")
    return bool(_DECLINE.search(lowered)) and _SOFT_OK.search(lowered) is None


def parse_booking_rules(message: str, *, today: date, specialties: list[str]) -> BookingRequest:
    """The deterministic parser: no model, no dateparser, same answer every time."""
    text = message.lower()
    return BookingRequest(
        specialty=_parse_specialty(text, specialties),
        date=_parse_date(text, today),
        part_of_day=_parse_part_of_day(text),
        source="rules",
    )


def parse_booking_request(
    message: str, *, today: date, specialties: list[str], chat_model: ChatModel | None = None
) -> BookingRequest:
    """Rules first; when a field is still unknown and a model is given, its validated JSON fills the gap."""
    rules = parse_booking_rules(message, today=today, specialties=specialties)
    fields = ("specialty", "date", "part_of_day")
    if chat_model is None or all(getattr(rules, name) is not None for name in fields):
        return rules
    llm = _ask_llm(chat_model, message, today=today, specialties=specialties)
    if llm is None:
        return rules
    merged = {
        name: getattr(rules, name) if getattr(rules, name) is not None else getattr(llm, name)
        for name in fields
    }
    used_llm = any(getattr(rules, name) is None and merged[name] is not None for name in fields)
    return BookingRequest(**merged, source="rules+llm" if used_llm else "rules")
