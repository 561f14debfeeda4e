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

_WEEKDAY = "|".join(name.lower() for name in WEEKDAY_NAMES)
_TOMORROW = r"(?:tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow)"  # and the common typos
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
_SPECIALTY_CUE = "|".join(
    sorted({re.escape(w) for words in _SPECIALTY_WORDS.values() for w in words}, key=len, reverse=True)
)
_SOMETHING_TO_BOOK = rf"(?:appointments?|appts?|slots?|visit|consultation|check-?ups?|{_SPECIALTY_CUE})"
# Someone to see: "a GP", "someone", "the physio", "my dermatologist" (not "see if ...", "see the price list").
_SOMEONE = rf"(?:someone|somebody|anyone|one|them|him|her|a|an|dr\b|(?:the|my)\s+(?:\w+\s+)?(?:{_SPECIALTY_CUE}|nurse|\w{{3,}}ists?|\w{{3,}}ians?)\b)"
# A request, not a mention: "book", "I need/want/would like ... a dentist / an appointment / to see", "can I
# see", "fit me in", "get me in with". "What should I bring to my appointment?" and "is there parking when I
# visit?" ask about appointments and go to the knowledge base.
_BOOKING_REQUEST = re.compile(
    r"\bbook\b(?!\s+(?:page|site|link)\b)|\b(?:schedule|reserve|arrange)\s+(?:me\s+)?(?:a|an|the|my|some)\b|"
    r"\bfit\s+(?:me|us|him|her|them)\s+in\b|\bget\s+(?:me|us|him|her|them)\s+in\b|"
    r"(?<!n't )(?<!not )\b(?:make|get|set up|book)\s+(?:(?:me|us|him|her)\s+)?(?:a|an|another)\s+(?:\w+\s+){0,2}?"
    + _SOMETHING_TO_BOOK
    + r"\b|"
    r"\bmake\s+(?:a|an|another)\s+booking\b|"
    r"(?<!n't )(?<!not )(?<!never )\b(?:need|want|wanna|like|love|require|looking for|(?:i'm|i am|we're) after)\s+"
    # "to get/have/make" needs something bookable after it: "I need to get a sick note" books nothing
    r"(?:to\s+(?:see\s+" + _SOMEONE + r"|book|come in|visit)\b|"
    r"to\s+(?:get|have|make)\s+(?:(?:a|an|another|my|the|some)\s+)?(?:\w+\s+){0,2}?"
    + _SOMETHING_TO_BOOK
    + r"\b|"
    r"(?:a|an|the|some|another|one)\s+(?:\w+\s+){0,2}?" + _SOMETHING_TO_BOOK + r"\b|"
    r"(?:\w+\s+)?(?:appointments?|appts?)\b)|"
    r"\bany chance of (?:a|an|getting|seeing|booking|fitting)\b|"
    r"\b(?:earliest|soonest)\b[^.?!]*\b(?:see|book|get in|come in|appointments?|appts?|slots?)\b|"
    r"(?<!\bare )\b(?:times?|slots?|appointments?|appts?)\s+(?:are\s+|is\s+)?(?:available|free)\b|"
    r"\b(?:can|could|may)\s+(?:i|we|you)\s+(?:please\s+)?(?:see\s+" + _SOMEONE + r"|come in|get in|book)\b|"
    r"\b(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?(?:get|have)\s+(?:a|an|the|some|another)\s+"
    r"(?:\w+\s+){0,2}?" + _SOMETHING_TO_BOOK + r"\b|"
    r"\b(?:any|a|the|next|earliest|first)\s+(?:free\s+|open\s+)?(?:slots?|openings?|availability)\b|"
    r"\b(?:first|earliest|next)\s+available\b|"
    r"\b(?:free|available)\s+(?:slots?|appointments?|times?)\b|"
    r"\bwhen(?:'s| is)? the next (?:free |available )?(?:slots?|appointments?|appts?|openings?|"
    + _SPECIALTY_CUE
    + r")\b",
    re.IGNORECASE,
)
# "Dentist appointment please", "GP appt tmrw", "Appointment with a dentist please": a request without a verb.
_BARE_REQUEST = re.compile(
    rf"^\W*(?:(?:a|an|the)\s+)?(?:(?:{_SPECIALTY_CUE})\s+)?(?:appointments?|appts?|{_SPECIALTY_CUE})\b"
    rf"(?=.*\b(?:please|appointments?|appts?|tmrw|today|tomorrow|{_WEEKDAY}|"
    r"next week|morning|afternoon|evening|\d))(?!.*\?)"
)
# "I don't want to book, just asking": no request at all.
_NO_BOOKING = re.compile(r"\b(?:don't|do not|not|never)\s+(?:want|need|wish|looking|trying)\s+(?:to\s+)?book")
# "Free" as in no charge: "is the check-up free of charge", "for free", and, when no day or time is named,
# "free appointments for over 60s" ("free appointments for children next week" asks for slots).
_FREE_OF_CHARGE = re.compile(
    r"\bfree\s+of\s+charge\b|\bfor\s+free\b(?!\s+(?:\w+\s+)?(?:slots?|appointments?|appts?|times?|openings?|"
    r"availability)\b)"
)
_FREE_FOR_GROUP = re.compile(
    r"\bfree\b(?!\s+(?:\w+\s+)?(?:slots?|openings?|spaces?|places?|times?)\b)"
    r"(?=(?:\s+\S+){0,3}?\s+(?:for|to)\s+(?:the\s+)?(?:over|under|pensioners|seniors|students|children|kids|"
    r"elderly|nhs|patients|members|people|those|anyone|everyone)\b)"
)
_NAMES_WHEN = re.compile(
    rf"\b(?:today|tomorrow|tmrw|tonight|{_WEEKDAY}|(?:next|this) week(?:end)?|"
    rf"weekend|morning|afternoon|evening|{'|'.join(sorted(set(MONTHS) - {'may'}))})\b|\d(?:st|nd|rd|th)?\s*(?:[ap]\.?m|[/:])|"
    r"\bthe\s+\d{1,2}(?:st|nd|rd|th)\b|\bat\s+\d"
)
# An availability question ("is there a dentist available on Saturday?") books when it names what or when.
_AVAILABILITY = re.compile(r"\b(?:available|availability|free|open|slots?|openings?)\b")
_WHAT_OR_WHEN = re.compile(
    rf"\b(?:appointments?|appts?|slots?|openings?|availability|{_SPECIALTY_CUE}|today|tomorrow|tmrw|"
    rf"{_WEEKDAY}|(?:next|this) week)\b"
)
# An information question: "how/why/where ...", "what happens if", "what should I bring", "is there parking".
_INFO_QUESTION = re.compile(
    r"^\W*(?:how(?! about| soon)|why|where|what (?:happens|should|do|does|if|is the (?:policy|fee|cost))|"
    r"is there|are there|do (?:i|you) (?:need|have to|get)|will i|should i)\b",
    re.IGNORECASE,
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
_WEEKDAY_WORDS = "|".join(
    sorted({w for name in WEEKDAY_NAMES for w in (name.lower(), name.lower()[:3])}, key=len, reverse=True)
)
_PART_WORDS: dict[PartOfDay, str] = {
    "morning": r"\b(?:morning|before (?:noon|lunch))\b",
    "afternoon": r"\b(?:afternoon|after (?:noon|lunch))\b",
    "evening": r"\b(?:evening|after work|tonight)\b",
}
# "9am", "2.30 pm", "17:30", "5 o'clock", and after "at" also "9.15", "14.30" or a bare "3" that ends the
# request or comes before the day ("at 3 on Monday", "at 10 please", "at 9 tomorrow"; not "at 10 years old",
# "at 38.5", "at 3 months", "at 7 on a scale of 10"). Spoken times are brought to these forms first
# (``_spoken_times``).
_CLOCK = re.compile(
    r"(?<![\d.:])(?P<hour12>\d{1,2})(?:[:.](?P<minute12>\d{2}))? ?(?P<half>[ap])\.?m\b"
    r"|\b(?P<hour24>\d{1,2}):(?P<minute24>\d{2})\b"
    r"|\b(?P<oclock>\d{1,2}) ?o[' ]?clock\b"
    r"|(?<=\bat )(?P<hour_at>\d{1,2})(?:\.(?P<minute_at>\d{2}))?(?!\d|[.:]\d)"
    r"(?=\s*(?:$|[;!?]|\.(?:\s|$)|\s+(?:on\s+(?:the\s+\d|\d|(?:"
    + _WEEKDAY_WORDS
    + r")\b)|in\s+the\s+(?:morning|afternoon|evening)\b|(?:tomorrow|today|tonight|"
    r"next|this|please|instead|" + _WEEKDAY_WORDS + r")\b)))"
)
_HOUR_WORDS = ("one", "two", "three", "four", "five", "six",
               "seven", "eight", "nine", "ten", "eleven", "twelve")  # fmt: skip
_HOUR_WORD = re.compile(rf"\b({'|'.join(_HOUR_WORDS)})(?=(?:-?ish)?\b)")
_DAY_AFTER = rf"(?:on|tomorrow|next|this|{_WEEKDAY_WORDS})\b"
# "half past 2", "quarter to 11" (US "quarter after 3", "quarter of 11"), with or without "at"; the British
# "half 2" (2:30) only after "at"/"for"/"around"/"about"/"say"/"make it"/"do" ("half 2 tablets" is no time).
_SPOKEN_CLOCK = re.compile(
    r"(?:\b(?:at|for|around|about)\s+)?\b(?:a\s+)?(?:(?P<quarter_past>quarter\s+(?:past|after))"
    r"|(?P<quarter_to>quarter\s+(?:to|of|til))|half\s+past)\s+(?P<hour>\d{1,2})(?!\d|[:.]\d)"
    r"|\b(?:at|for|around|about|say|it|do)\s+half\s+(?P<half_hour>\d{1,2})(?!\d|[:.]\d)"
)
# "twenty to three", "ten past 2", "at 20 past 3" (a digit count of minutes only with "past", or "at N to M":
# "for 10 to 11" is a range); "at ten thirty", "at 2 fifteen", "at 10 30". Each becomes "at H.MM", which
# ``_CLOCK`` then takes only where an hour after "at" may stand ("for five to ten days" names no time).
_MINUTE_WORDS = {"five": 5, "ten": 10, "twenty": 20, "twenty-five": 25, "twenty five": 25}
_MINUTES_PAST_TO = re.compile(
    r"(?P<cue>\b(?:at|for|around|about|have|do|be|say|make it)\s+)?\b(?P<minutes>twenty[- ]five|five|ten|twenty|\d{1,2})"
    r"(?:\s+minutes)?\s+(?P<direction>past|after|to|til|of)\s+(?P<hour>\d{1,2})(?!\d|[:.]\d)"
)
_HOUR_AND_MINUTES = re.compile(
    r"\b(?P<cue>at|for|around|about)\s+(?P<hour>\d{1,2})[\s-]+(?P<minutes>(?:fifteen|twenty|thirty|forty|fifty)"
    r"(?:[- ]five)?|[0-5]\d)(?![\d.:])"
)
# Moving the appointment itself ("change it to", "move my GP appointment to", "reschedule to"), not a shift, a
# dose or a house ("move my shift to", "switch me to 2").
_MOVE_VERB = r"\b(?:move|change|switch|push|bring|put|reschedule|rebook|swap|shift)\b"
_APPOINTMENT_MOVE = re.compile(
    rf"(?:\b(?:reschedule|rebook)(?:\s+(?:it|that|this))?|{_MOVE_VERB}\s+(?:it|that|this|"
    r"(?:my|the|our)\s+(?:\w+\s+)?(?:appointment|appt|booking|slot|visit)))\s+to\s+"
)
# A counter-offer names a bare hour without "at": "how about 4?", "could we do 3 instead", "make it 10 please",
# "change it to 4", "move my appointment to ten to four".
_COUNTER_HOUR = re.compile(
    r"(?:\b(?:how about|what about|make it|let'?s (?:do|say)|(?:can|could) (?:we|you|i) do|(?:can|could) it be)\s+"
    r"|" + _APPOINTMENT_MOVE.pattern + ")"
    r"(?=\d{1,2}(?:[.:]\d{2})?\s*(?:$|[?!]|instead\b|please\b|[ap]\.?m\b|on\b|tomorrow\b|"
    r"(?:to|past|of|after|til)\s+\d|[0-5]\d\b|(?:fifteen|twenty|thirty|forty|fifty)\b))"
)
_MINUTE_TENS = {"fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_NOON = re.compile(
    r"(?<!before )(?<!after )(?<!by )(?<!until )(?<!till )(?<!from )"
    r"\b(?:(?:at|for|around|about)\s+)?(?:12\s+)?(?:noon|midday)(?:-?ish)?\b"
)
# "at about 3" is "at 3"; a bare "about 3" / "around 3" is a time only before the day ("around 3 tomorrow"),
# never before "please" or the end ("she's about five please", "pain about 7", "costs about 5?").
_APPROXIMATE = re.compile(
    rf"\b(?:at\s+(?:about|around)|(?:about|around)(?=\s+\d{{1,2}}(?:[.:]\d{{2}})?\s+{_DAY_AFTER}))\s+(?=\d)"
)


def _spoken_hour(match: re.Match[str]) -> str:
    """A word hour said as a time ("at ten", "half past two", "three o'clock", "fourish") as digits; "at one"
    only with o'clock or -ish ("look at one today")."""
    before, after = match.string[: match.start()], match.string[match.end() :]
    cue = re.search(r"\b(at|around|about|past|to|of|after|til|half)\s+$", before)
    said_as_time = re.match(r"\s*(?:o[' ]?clock|-?ish)\b|[\s-]+(?:fifteen|twenty|thirty|forty|fifty)\b", after) or (
        cue is not None and not (match.group(1) == "one" and cue.group(1) in ("at", "around", "about"))
    )
    return str(_HOUR_WORDS.index(match.group(1)) + 1) if said_as_time else match.group(1)


def _spoken_times(text: str) -> str:
    """Spoken clock times in the digits ``_CLOCK`` reads: "at noon" -> "at 12.00", "half past two" / "for
    half 2" (British) -> "at 2.30", "quarter to 11" -> "at 10.45", "at 9ish" and "at about 9" -> "at 9".
    Am or pm follows the hour said: "quarter to 7" is 6:45 in the morning, as "at 7" is 7:00."""

    def before(hour: int, minutes: int) -> str:
        if hour == 7:  # 6:45, but in the morning like 7 itself (a bare 6 is read as 18:00)
            return f"at 6.{60 - minutes:02d}{'pm' if _named_part(text) in ('afternoon', 'evening') else 'am'}"
        return f"at {(hour - 2) % 12 + 1}.{60 - minutes:02d}"

    def digits(match: re.Match[str]) -> str:
        hour = int(match.group("hour") or match.group("half_hour"))
        if not 1 <= hour <= 12:
            return match.group(0)
        kept = re.match(r"(?:about|around|say|it|do)\s+", match.group(0))  # "how about half 2?" still asks
        said = kept.group(0) if kept else ""
        if not match.group("quarter_to"):
            return said + f"at {hour}.{15 if match.group('quarter_past') else 30}"
        return said + before(hour, 15)

    def past_or_to(match: re.Match[str]) -> str:
        said, hour, cue = match.group("minutes"), int(match.group("hour")), match.group("cue")
        direction = match.group("direction")
        minutes = _MINUTE_WORDS.get(said)
        day_after = re.match(rf"\s+{_DAY_AFTER}", text[match.end() :])
        if minutes is None:  # digits: "20 past 3", "at 10 to 4"; bare or after "for", "10 to 11" is a range
            minutes = int(said)
            if direction not in ("past", "after") and (not cue or cue.startswith("for")):
                return match.group(0)
        elif cue and cue.startswith("for") and direction not in ("past", "after") and minutes < 20 and not day_after:
            return match.group(0)  # "I can only stay for five to ten": a count; "for twenty to three" a time
        said_as_time = cue or day_after or direction in ("past", "after")  # "ten past two" is always a time
        if not (1 <= hour <= 12 and 1 <= minutes <= 59 and said_as_time):
            return match.group(0)
        kept = cue if cue and not cue.startswith("at") else ""  # "can I have" stays a question
        return kept + (f"at {hour}.{minutes:02d}" if direction in ("past", "after") else before(hour, minutes))

    def hour_and_minutes(match: re.Match[str]) -> str:
        if match.group("cue") in ("about", "around") and not re.match(rf"\s+{_DAY_AFTER}", text[match.end() :]):
            return match.group(0)  # "I'm about 5 10" is a height; "around 10 30 on Monday" a time
        said = match.group("minutes")
        tens, _, five = said.replace(" ", "-").partition("-")
        minutes = int(said) if said.isdigit() else _MINUTE_TENS[tens] + (5 if five else 0)
        hour = int(match.group("hour"))
        return f"at {hour}.{minutes:02d}" if 1 <= hour <= 12 else match.group(0)

    text = _HOUR_WORD.sub(_spoken_hour, text)
    text = _COUNTER_HOUR.sub(lambda match: match.group(0) + "at ", text)
    text = _NOON.sub("at 12.00", text)
    text = _SPOKEN_CLOCK.sub(digits, text)
    text = _MINUTES_PAST_TO.sub(past_or_to, text)
    text = _HOUR_AND_MINUTES.sub(hour_and_minutes, text)
    text = re.sub(r"\b(\d{1,2}(?:[.:]\d{2})?)\s*-?ish\b", r"\1", text)
    return _APPROXIMATE.sub("at ", text)


_MONTH_NAMES = "|".join(sorted({*MONTHS, *(m[:3] for m in MONTHS), "sept"}, key=len, reverse=True))
_MONTH = rf"(?:{_MONTH_NAMES})\.?"
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+((?:19|20)\d{2}))?"
_MONTH_DATE = re.compile(
    rf"\b{_ORDINAL}\s+(?:of\s+)?({_MONTH}){_YEAR}\b|\b({_MONTH})\s+(?:the\s+)?{_ORDINAL}\b{_YEAR}"
)
# "3/12", "3/12/2026", "3.12.2026" (a dot only with a year: "7.2", "9.15" and "2.5 weeks" are no dates); not a
# reading ("BP is 12/8", "pain 8/10"), a unit ("3/4 cup"), "24/7" or "2.30pm".
_NUMERIC_DATE = re.compile(
    r"(?<![\d:./])(?<!\bis )(?<!\bwas )(?<!\bbp )(?<!\bpain )(?<!\bscore )"
    r"(?:(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?|(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2}))"
    r"(?![\d:./%])(?!\s*(?:[ap]\.?m\b|%|x\s*10|mg|mmol|kg|cm|ml|units?\b|cups?\b|times?\b))"
)
# "the 3rd", "on the 20th"; not "my 2nd visit" or "for the 3rd time".
_DAY_OF_MONTH = re.compile(
    r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:time|visit|appointment|appt|dose|day|week|month|year|floor|"
    r"child|baby|kid|opinion)s?\b)"
)
# A date of birth is no appointment date: "my date of birth is 1980-03-04", "dob March 3rd 1980"; a birthday
# without a year ("my birthday on Friday") is a day like any other, and "first-born" says nothing.
_BIRTH_DATE = re.compile(
    r"(?:\b(?:date of birth|birth ?date|d\.?o\.?b\b\.?|birthday)|(?<![-\w])born(?:\s+on|\s+in)?)\W*"
    r"(?:is\s+|was\s+|on\s+)?(?:(?!\band\b|\bbut\b)[^,;!?])*?\b(?:19|20)\d{2}\b(?:-\d{2}-\d{2})?"
    r"|\b(?:date of birth|birth ?date|d\.?o\.?b\b\.?|(?<![-\w])born on)\W*(?:is\s+|was\s+)?"
    r"(?:(?!\band\b|\bbut\b)[^,;!?])*?(?=[,;!?]|\band\b|\bbut\b|$)"
)
# Clauses ("book a GP, I got back on Sunday, any time Wednesday"): a day or time said in a past-tense or
# cancelling clause is not the one asked for; one in a clause that asks ("book", "any time") is.
_CLAUSE_BREAK = re.compile(r"[,;.!?]\s|[,;!?]|\s(?:and|but|so|because|as)\s")
_PAST_CLAUSE = re.compile(r"\b(?:had|was|were|did|got|went|came|been|ago|last|yesterday|started|began|saw)\b")
_ASKING_CLAUSE = re.compile(
    r"\b(?:book|see|appointments?|appts?|slots?|any ?time|come in|available|free|fit|get (?:me|us) in|"
    r"need|want|like|could|can(?!'t)|would|hop(?:e|ing)|wonder(?:ing)?|prefer|please|"
    r"how about|what about|instead|make it|let'?s (?:do|say)|have you got|do you have|(?:got|is there) anything)\b"
)
# What the patient did or does at a time, said right before it ("my baby was born at 2", "I take my insulin at
# 8"; not "have you got anything at 3", "can I take my son in at 4").
_PAST_EVENT = re.compile(r"\b(?:had|was|were|went|came|ago|yesterday|started|began|saw|born)\b")
_ROUTINE = re.compile(
    r"(?<!can )(?<!could )(?<!would )(?<!may )(?<!shall )\b(?:i|we|he|she|they)(?:'ve)?\s+(?:always\s+|usually\s+)?"
    r"(?:take|pick|finish|wake|work|leave|eat|keep|lost|start)s?\b"
)
# The new day of a move ("can you move what I had to the 12th at 3"): what follows is asked for, whatever
# past word came before it.
_MOVED_TO = re.compile(
    _MOVE_VERB + r".*?\bto\s+"
    rf"(?=the\s+\d|next\b|tomorrow\b|today\b|this\s+(?:{_WEEKDAY_WORDS})\b|(?:{_WEEKDAY_WORDS})\b|\d|at\s+\d)"
)
# A month-name date this many days back is "in the past", not next year ("25 November" said on 27 November).
_RECENT_PAST_DAYS = 62


class BookingRequest(BaseModel):
    """What the patient asked for; any field may be unknown (None).

    ``last_date`` closes a range that starts at ``date`` ("next week"); ``time`` is a clock time the patient
    named ("at 9am"); ``note`` says how an ambiguous date was read ("3/12" -> 3 December) or that a weekday
    and a day of the month disagree ("Monday the 8th")."""

    specialty: str | None = None
    date: dt.date | None = None
    last_date: dt.date | None = None
    time: dt.time | None = None
    part_of_day: PartOfDay | None = None
    note: str | None = None
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


def _month_index(text: str) -> int:
    return [m[:3] for m in MONTHS].index(text.rstrip(".")[:3]) + 1


def _dated(year: int | None, month: int, day: int, today: date) -> date | None:
    """A day and month said without a year: this year's, unless that is long past (then next year's)."""
    try:
        if year is not None:
            return date(year, month, day)
        this_year = date(today.year, month, day)
    except ValueError:
        return None
    if (today - this_year).days > _RECENT_PAST_DAYS:
        try:
            return date(today.year + 1, month, day)
        except ValueError:
            return None
    return this_year


def _next_day_of_month(day: int, today: date) -> date | None:
    """The next date (from today) that is the ``day``-th."""
    year, month = today.year, today.month
    for _ in range(14):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _rank(text: str, position: int, *, nearest: bool = False) -> int:
    """How surely something said at ``position`` is what is asked for: -1 in a cancelling clause, 1 in an
    asking one ("I was wondering if I could book the 3rd"), -1 in a past-tense one, else 0. With ``nearest``
    (a clock time with nothing future after it) the nearest such word before it in the clause decides, and a
    routine the patient tells of counts as no request: "can I see a GP tomorrow my baby was born at 2", "I take
    my insulin at 8" and "I pick the kids up at 3" name no time to book; the new day or time of a move asks ("can
    you move what I had to the 12th at 3", "change it to ten to four on Friday")."""
    start = ([m.end() for m in _CLAUSE_BREAK.finditer(text, 0, position)] or [0])[-1]
    end = _CLAUSE_BREAK.search(text, position)
    clause = text[start : end.start() if end else len(text)]
    if re.search(r"\bcancel", clause):
        return -1
    if nearest:
        cues = [(m.end(), 1) for m in _ASKING_CLAUSE.finditer(text, start, position)]
        cues += [(m.end(), -1) for m in _PAST_EVENT.finditer(text, start, position)]
        cues += [(m.end(), 0) for m in _ROUTINE.finditer(text, start, position)]
        cues += [(m.end(), 1) for m in _MOVED_TO.finditer(text) if start <= m.start() and m.end() <= position]
        if cues:
            return max(cues)[1]
    if _ASKING_CLAUSE.search(clause) or _APPOINTMENT_MOVE.search(text, start, position):
        return 1
    return -1 if _PAST_CLAUSE.search(clause) else 0


# Said before a day or part of the day that is not wanted: "not Tuesday", "any day but Monday", "apart from
# Wednesday", "I can't do Monday", "I'm busy on Tuesday", "I'm at work in the morning" ...
_RULED_OUT_BEFORE = re.compile(
    r"(?:\bnot|\bexcept|\bapart from|\bother than|\bbesides|\b(?:can't|cannot|can not|couldn't)\s+(?:do|make)|"
    r"\bbusy|\bnot\s+(?:free|available|good)|\b(?:i|we)\s+work|\bworking|\bat work|"
    r"\b(?:anything|everything|any\s+\w+)\s+but)\s+(?:in\s+|on\s+)?(?:the\s+|a\s+)?"
    rf"(?:(?:{_WEEKDAY})s?\s+)?$"  # "I can't do Tuesday morning": the morning too
)
# ... and after it: "Tuesday is no good", "Tuesday's bad", "the morning doesn't work for me".
_RULED_OUT_AFTER = re.compile(
    r"(?:'s|s)?\s+(?:(?:is|are)\s+)?(?:no good|not good|bad|out|impossible|difficult|tricky|"
    r"(?:doesn't|does not|won't|will not|isn't|is not|aren't|are not)\s+(?:work|suit|good|possible|ok))\b"
)
# In a move, the day after "from" is the old one: "move my appointment from tomorrow to Monday".
_MOVED_FROM = re.compile(_MOVE_VERB + r".*\bfrom\s+(?:the\s+|on\s+)?$")


def _ruled_out(text: str, start: int, end: int | None = None) -> bool:
    """Said as not wanted ("not Tuesday", "any day but Monday", "Tuesday is no good", "not in the morning"),
    or the old day of a move ("from tomorrow to Monday")."""
    before = text[:start]
    return bool(
        _RULED_OUT_BEFORE.search(before)
        or _MOVED_FROM.search(before)
        or (end is not None and _RULED_OUT_AFTER.match(text, end))
    )


def _wanted(pattern: str | re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` that is not ruled out."""
    return next((m for m in re.finditer(pattern, text) if not _ruled_out(text, m.start(), m.end())), None)


def _named_weekday(text: str) -> tuple[int, str | None, int] | None:
    """(weekday, its "next"/"this"/"on" word, where it was said): the one in the asking clause (the new day,
    in a move: "change the one I had on Monday to Tuesday"), else the first one not in a past-tense clause,
    else the first; never "last Monday"."""
    matches = [
        match
        for match in re.finditer(rf"(?<!\blast )\b(next |this |on |coming )?({_WEEKDAY})s?\b", text)
        if not _ruled_out(text, match.start(), match.end())
    ]
    if not matches:
        return None
    moved_to = {move.end() for move in _MOVED_TO.finditer(text)}
    match = max(matches, key=lambda m: (_rank(text, m.start(2)), m.start() in moved_to))
    return WEEKDAY_NAMES.index(match.group(2).capitalize()), match.group(1), match.start(2)


def _numeric_date(
    text: str, today: date, day_first: bool, weekday: int | None
) -> tuple[date, str | None] | None:
    """A numeric date that is a real day (on the weekday, when one was named too), with how it was read."""
    for match in _NUMERIC_DATE.finditer(text):
        groups = match.groups()
        first, second, year_text = (groups[0], groups[1], groups[2]) if groups[0] else groups[3:]
        first_n, second_n = int(first), int(second)
        if (first_n, second_n) == (24, 7) or _rank(text, match.start()) < 0:
            continue
        if _ruled_out(text, match.start(), match.end()):
            continue
        year = int(year_text) if year_text else None
        year = year + 2000 if year is not None and year < 100 else year
        day_first_reading = second_n <= 12 if day_first else first_n > 12
        day, month = (first_n, second_n) if day_first_reading else (second_n, first_n)
        found = _dated(year, month, day, today) if 1 <= month <= 12 else None
        if found is None or (weekday is not None and found.weekday() != weekday):
            continue
        note = None
        if first_n <= 12 and second_n <= 12 and first_n != second_n:
            note = (
                f"I read {match.group(0)} as {found.day} {found:%B} ({'day' if day_first else 'month'} first)"
            )
        return found, note
    return None


def _day_of_month(
    text: str, today: date, weekday: tuple[int, str | None, int] | None
) -> tuple[date | None, str | None] | None:
    """ "the 3rd" -> the next 3rd; with a weekday only when said together ("Tuesday the 8th"), and a
    mismatch ("Monday the 8th" when the 8th is a Tuesday) is said, not moved to a month where it fits. In a
    move the new day comes first ("can you move the 10th to the 12th")."""
    moved_to = {move.end() for move in _MOVED_TO.finditer(text)}
    for match in sorted(_DAY_OF_MONTH.finditer(text), key=lambda m: m.start() not in moved_to):
        if _rank(text, match.start()) < 0 or _ruled_out(text, match.start(), match.end()):
            continue
        day = int(match.group(1))
        if weekday is None:
            return _next_day_of_month(day, today), None
        name = WEEKDAY_NAMES[weekday[0]].lower()
        together = rf"\b{name}s?,?\s+{re.escape(match.group(0))}|{re.escape(match.group(0))},?\s+(?:on\s+)?(?:a\s+)?{name}"
        if not re.search(together, text):
            continue  # a stray ordinal: the weekday wins
        found = _next_day_of_month(day, today)
        if found is not None and found.weekday() != weekday[0]:
            return found, (
                f"The {match.group(0).split()[-1]} is a {found:%A} ({found.day} {found:%B}), "
                f"not a {WEEKDAY_NAMES[weekday[0]]}; please say which you meant"
            )
        return found, None
    return None


def _parse_date(
    text: str, today: date, *, day_first: bool = True
) -> tuple[date | None, date | None, str | None]:
    """(date, last date of a range or None, how an ambiguous date was read or None)."""
    if match := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        try:
            return date(*map(int, match.groups())), None, None
        except ValueError:
            return None, None, None
    if _wanted(rf"\bday after {_TOMORROW}\b", text):
        return today + timedelta(days=2), None, None
    if _wanted(rf"(?<!after )\b{_TOMORROW}\b", text):
        return today + timedelta(days=1), None, None
    if _wanted(r"\b(?:today|this (?:morning|afternoon|evening))\b", text):
        return today, None, None
    if match := re.search(r"\bin (\d{1,2}|a|one|two|three) (day|days|week|weeks)\b", text):
        count = {"a": 1, "one": 1, "two": 2, "three": 3}.get(match.group(1)) or int(match.group(1))
        return today + timedelta(days=count * (7 if match.group(2).startswith("week") else 1)), None, None
    if match := _wanted(_MONTH_DATE, text):
        if match.group(1):
            day, month, year = match.group(1), match.group(2), match.group(3)
        else:
            day, month, year = match.group(5), match.group(4), match.group(6)
        return _dated(int(year) if year else None, _month_index(month), int(day), today), None, None
    weekday = _named_weekday(text)
    if numeric := _numeric_date(text, today, day_first, weekday[0] if weekday else None):
        return numeric[0], None, numeric[1]
    if weekday is not None and re.search(rf"\b{WEEKDAY_NAMES[weekday[0]].lower()}s? after next\b", text):
        return _next_weekday(today, weekday[0], strictly_after=True) + timedelta(days=7), None, None
    if ordinal := _day_of_month(text, today, weekday):
        return ordinal[0], None, ordinal[1]
    week = _wanted(r"\b(next|this|coming) week\b", text)
    if week is not None and _rank(text, week.start()) >= 0:  # not "I've had a cough all this week"
        monday = _next_weekday(today, 0, strictly_after=True)
        if week.group(1) == "this":
            monday = today - timedelta(days=today.weekday())
        if weekday is None:
            return max(monday, today), monday + timedelta(days=6), None
        if monday + timedelta(days=weekday[0]) >= today:  # "Tuesday this week" said on Friday: next Tuesday
            return monday + timedelta(days=weekday[0]), None, None
    if weekday is not None:
        after = weekday[1] == "next " or weekday[1] is None
        return _next_weekday(today, weekday[0], strictly_after=after), None, None
    return None, None, None


def _clock_value(match: re.Match[str]) -> dt.time | None:
    """The time a ``_CLOCK`` match names. Without am/pm an hour of 1-6 is afternoon, 7-12 morning or noon
    (clinic hours: "at 3" is 15:00, "at 9.15" is 09:15); "at 14.30" and "17:30" are read as 24-hour."""
    groups = match.groupdict()
    if groups["half"]:
        hour, minute = int(groups["hour12"]), int(groups["minute12"] or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if groups["half"] == "p" else 0)
    elif groups["hour24"]:
        hour, minute = int(groups["hour24"]), int(groups["minute24"])
        hour += 12 if 1 <= hour <= 6 else 0  # "at 2:30" is 14:30 in clinic hours, like "at 2.30"
    else:
        hour = int(groups["oclock"] or groups["hour_at"])
        minute = int(groups["minute_at"] or 0)
        if hour == 0 or (hour > 12 and (hour > 23 or not groups["minute_at"])):
            return None
        hour += 12 if 1 <= hour <= 6 else 0
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def _clock_time(text: str) -> dt.time | None:
    """ "9am", "6 pm", "17:30" -> the time asked for: said after "at"/"for" (or bare), in the asking clause;
    never one in a range ("9-11am", "between 2 and 4pm"), after "except"/"before"/"after", or in a cancelling
    or past-tense clause ("cancel my 3pm and book a GP at 5pm"). An hour without am/pm counts only in a clause
    that asks ("book me in at 3", not "I pick the kids up at 3") and takes am or pm from a named part of the
    day ("at 3 tomorrow morning" is no 15:00; "at 9 in the afternoon" names no clinic time). The old time of a
    move is not asked for ("change my 10am to 2pm")."""
    named = _named_part(text)
    found: list[tuple[int, int, dt.time]] = []
    moves = [(move.start(), move.end()) for move in _MOVED_TO.finditer(text)]
    for match in _CLOCK.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if any(start < match.start() and match.end() <= end for start, end in moves):
            continue  # the old time of a move: "move my 10am to 2pm"
        if (
            re.search(r"\b(?:except|not|before|after|between|until|till|from|by)\s+(?:\w+\s+)?$", before)
            or re.search(r"\b(?:busy|(?:can't|cannot|couldn't|can not)\s+(?:do|make))\s+(?:at\s+)?$", before)
            or re.search(r"(?:\bnot|n't)(?!\s+(?:mind|bother))(?:\s+\w+){0,3}\s+(?:at|for)\s+$", before)
            or (
                re.search(r"\d\s*(?:[ap]\.?m\.?)?\s*(?:-|–|to|and)\s*$", before)
                and not any(end == match.start() for _, end in moves)  # "move my 10am to 2pm" is no range
            )
            or re.match(r"\s*(?:-|–|to)\s*\d", after)
        ):
            continue
        future = re.match(rf"\s+(?:tomorrow|next\s+\w+|on\s+(?:the\s+\d|{_WEEKDAY_WORDS}))", after)
        rank = _rank(text, match.start(), nearest=future is None)
        moment = _clock_value(match)
        written_hour = match.group("oclock") or match.group("hour_at") or match.group("hour24")
        twelve_hour = written_hour is not None and int(written_hour) <= 12
        # a time without am/pm after "at" or with o'clock counts only where the patient asks ("I pick the
        # kids up at 3 o'clock", "I'm busy at 10.30" are no target)
        bare = bool(match.group("hour_at") or match.group("oclock"))
        if moment is not None and twelve_hour and named is not None and part_of_day_at(moment) != named:
            flipped = dt.time((moment.hour + 12) % 24, moment.minute)
            moment = flipped if part_of_day_at(flipped) == named and 7 <= flipped.hour <= 21 else None
        if moment is not None and rank >= (1 if bare else 0):
            found.append((-rank, -bool(re.search(r"\b(?:at|for|around|about)\s+$", before)), moment))
    return min(found, key=lambda item: item[:2])[2] if found else None


def _clock_range_part(text: str) -> PartOfDay | None:
    """ "9-11am", "between 2 and 4pm": the part of the day both ends lie in (none when they differ)."""
    if match := re.search(
        r"\b(\d{1,2})(?::(\d{2}))?\s*(?:([ap])\.?m\.?)?\s*(?:-|–|to|and)\s*(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b",
        text,
    ):
        ends = []
        for hour_text, minute_text, half in (match.group(1, 2, 3), match.group(4, 5, 6)):
            hour = int(hour_text)
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if (half or match.group(6)) == "p" else 0)
            ends.append(part_of_day_at(dt.time(hour, int(minute_text or 0))))
        if ends[0] == ends[1]:
            return ends[0]
    return None


def _named_part(text: str) -> PartOfDay | None:
    """The first part of the day named in words ("early afternoon" is afternoon), not one ruled out ("not in
    the morning")."""
    named = [
        (match.start(), part)
        for part, pattern in _PART_WORDS.items()
        for match in re.finditer(pattern, text)
        if not _ruled_out(text, match.start(), match.end())
    ]
    return min(named)[1] if named else None


def _parse_part_of_day(text: str) -> PartOfDay | None:
    """A named part of the day wins (the first one said: "early afternoon" is afternoon), then a clock time
    (with the book's bounds: evening from 17:00), then a bare "early" (morning)."""
    if (named := _named_part(text)) is not None:
        return named
    if (moment := _clock_time(text)) is not None:
        return part_of_day_at(moment)
    if (part := _clock_range_part(text)) is not None:
        return part
    if (part := _bounded_part(text)) is not None:
        return part
    return "morning" if re.search(r"\bearly\b", text) else None


def _bounded_part(text: str) -> PartOfDay | None:
    """ "after 6pm" / "from 2pm" -> the part of the day that time lies in; "before 9am" -> the part that ends
    there. No exact target, but not any time of day either."""
    for match in _CLOCK.finditer(text):
        bound = re.search(r"\b(after|from|before)\s+$", text[: match.start()])
        moment = _clock_value(match)
        if bound is None or moment is None:
            continue
        if bound.group(1) == "before":
            minutes = moment.hour * 60 + moment.minute - 1
            moment = dt.time(max(minutes, 0) // 60, max(minutes, 0) % 60)
        return part_of_day_at(moment)
    return None


def _parse_specialty(text: str, specialties: list[str]) -> str | None:
    for specialty, words in _SPECIALTY_WORDS.items():
        if specialty in specialties and any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return specialty
    for specialty in specialties:
        if specialty in text:
            return specialty
    return None


# What lets the model fill a field: the message must say something about it that the rules could not read.
# ("May I book", "I am", "my 2 kids" and "Martin" say nothing about when.)
_DATE_CUE = re.compile(
    r"\d{1,2}(?:st|nd|rd|th)\b|\d{1,2}\s*[/.-]\s*\d{1,2}|\b(?:in|next|this|within)\s+\d+\s+(?:days?|weeks?)\b|"
    rf"\bmay\s+\d|\d\s+(?:of\s+)?may\b|\b(?:today|tonight|tomorrow|tmrw|week|weekend|month|day|christmas|easter|"
    rf"new year|{_WEEKDAY}|{'|'.join(m for m in _MONTH_NAMES.split('|') if m != 'may')})s?\b"
)
_PART_CUE = re.compile(
    r"\d\s*(?:[ap]\.?m\b|o'?clock\b|[:.]\d\d)|\b(?:morning|afternoon|evening|night|noon|lunch|early|late|"
    r"(?:after|before) (?:work|school))\b"
)
# What names a kind of care the rules do not know ("my crown", "an orthodontist", "knee pain"): only then may
# the model pick a specialty; a name ("Dr Martin"), "married" or "my daughter" says nothing about it.
_SPECIALTY_HINT = re.compile(
    r"\b(?:\w{3,}(?:ist|ists|ologist|ology|ician|itis)|pain|hurts?|hurting|sore|aches?|aching|crowns?|braces?|"
    r"implants?|dentures?|wisdom|cleaning|hygiene|whitening|ortho\w*|knees?|backache|my back|neck|shoulders?|ankles?|wrists?|"
    r"hips?|foot|feet|legs?|arms?|joints?|muscles?|injur\w*|stiff\w*|rehab\w*|massage|sports?|itch\w*|spots?|"
    r"acne|warts?|lumps?|nails?|hair|burns?|cough\w*|fever|cold|flu|infection|prescription|vaccin\w*|jabs?|"
    r"blood|tests?|bleed\w*|swell\w*|swollen|mouth|jaw|eyes?|ears?|throat|stomach|chest|head\w*|migraines?|"
    r"diabet\w*|asthma|allerg\w*|pregnan\w*|smear)\b"
)


def _supports(field: str, message: str) -> bool:
    text = _BIRTH_DATE.sub(" ", message.lower())
    if field == "date":
        return bool(_DATE_CUE.search(text))
    if field == "part_of_day":
        return bool(_PART_CUE.search(text))
    return bool(_SPECIALTY_HINT.search(text))


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
    """Whether a message asks for an appointment ("book a GP", "I need a dentist", "can you fit me in on
    Monday"); a question about appointments ("how far in advance should I cancel?") does not. An information
    question asks for a slot only when it also names what to book or when ("is there a slot on Monday?");
    "free" meaning no charge ("free appointments for over 60s") is no slot."""
    text = _FREE_OF_CHARGE.sub("gratis", message.lower().replace("’", "'"))
    if not _NAMES_WHEN.search(text):
        text = _FREE_FOR_GROUP.sub("gratis", text)
    if _NO_BOOKING.search(text):
        return False
    if _INFO_QUESTION.search(text):
        return bool(_AVAILABILITY.search(text) and _WHAT_OR_WHEN.search(text))
    if re.search(r"\bavailab(?:le|ility)\b", text) and _WHAT_OR_WHEN.search(text):
        return True  # "Is Dr Patel available on Monday?", "What's your availability like next week?"
    return bool(_BOOKING_REQUEST.search(text) or _BARE_REQUEST.search(text))


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


def ruled_out_times(message: str, *, today: date) -> tuple[set[int], set[PartOfDay]]:
    """The weekdays (Monday = 0) and parts of the day a message rules out: "no, I can't do Tuesday",
    "not tomorrow", "the morning doesn't work for me"."""
    text = message.lower().replace("’", "'")
    weekdays = {
        WEEKDAY_NAMES.index(match.group(1).capitalize())
        for match in re.finditer(rf"\b({_WEEKDAY})s?\b", text)
        if _ruled_out(text, match.start(), match.end())
    }
    for word, offset in (("today", 0), (_TOMORROW, 1)):
        for match in re.finditer(rf"\b{word}\b", text):
            if _ruled_out(text, match.start(), match.end()):
                weekdays.add((today + timedelta(days=offset)).weekday())
    parts = {
        part
        for part, pattern in _PART_WORDS.items()
        for match in re.finditer(pattern, text)
        if _ruled_out(text, match.start(), match.end())
    }
    return weekdays, parts


def parse_booking_rules(
    message: str, *, today: date, specialties: list[str], day_first: bool = True
) -> BookingRequest:
    """The deterministic parser: no model, no dateparser, same answer every time. A date of birth in the
    message is left out; ``day_first`` reads "3/12" as 3 December (False: as 12 March)."""
    text = _BIRTH_DATE.sub(" ", message.lower().replace("’", "'"))
    day, last, note = _parse_date(text, today, day_first=day_first)
    return BookingRequest(
        specialty=_parse_specialty(text, specialties),
        date=day,
        last_date=last,
        time=_clock_time(clock_text := _spoken_times(text)),
        part_of_day=_parse_part_of_day(clock_text),
        note=note,
        source="rules",
    )


def parse_booking_request(
    message: str,
    *,
    today: date,
    specialties: list[str],
    chat_model: ChatModel | None = None,
    known: BookingRequest | None = None,
) -> BookingRequest:
    """Rules first (``known``, when given, is that result with context already filled in, e.g. the specialty
    of the slot on offer); when a field is still unknown and a model is given, its validated JSON fills the
    gap, but only where the message says something about that field: the model never invents a specialty,
    date or part of the day the patient did not give."""
    rules = known or parse_booking_rules(message, today=today, specialties=specialties)
    open_fields = llm_fields(rules, message)
    if chat_model is None or not open_fields:
        return rules
    llm = _ask_llm(chat_model, message, today=today, specialties=specialties)
    if llm is None:
        return rules
    filled = {name: getattr(llm, name) for name in open_fields if getattr(llm, name) is not None}
    return rules.model_copy(update={**filled, "source": "rules+llm"}) if filled else rules


def llm_fields(request: BookingRequest, message: str) -> list[str]:
    """The fields still open in ``request`` that the message says something about: the only ones the LLM
    may fill (so a caller loads the model only when this is not empty)."""
    return [
        name
        for name in ("specialty", "date", "part_of_day")
        if getattr(request, name) is None and _supports(name, message)
    ]
