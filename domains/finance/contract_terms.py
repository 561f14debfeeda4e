"""Normalising contract language: dates -> ISO 8601 dates, periods -> ISO 8601 durations, and back.

Contracts write "the 16th day of February, 2000", "April 15 , 2010", "five (5) years", "sixty (60) days";
the extractor finds the clause, these functions turn its wording into values a calendar can use.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from data_connectors.errors import BadInputError
from data_connectors.tables import DateOrder, slash_date_order
from data_connectors.text import NUMBER_WORDS

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
DATE_PATTERNS = [
    re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s*{_YEAR}\b", re.IGNORECASE),  # April 15, 2010
    re.compile(
        rf"\b{_DAY}\s+(?:day\s+of\s+)?{_MONTH}\s*,?\s*{_YEAR}\b", re.IGNORECASE
    ),  # 16th day of May 2014
    # 05/08/2014: day or month first as the text's other numeric dates show (see ``date_order``)
    re.compile(r"\b(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})\b"),  # ISO
]
NUMBER_WORDS = {
    **NUMBER_WORDS,
    "eighteen": 18,
    "twenty-four": 24,
    "thirty-six": 36,
    "one hundred twenty": 120,
    "one hundred eighty": 180,
    "a": 1,
    "an": 1,
}
# ISO 8601 has no business days: "P60B" (our extension) keeps "60 business days" from becoming 60 calendar days,
# which would put a notice deadline about three weeks too late.
_UNIT_CODES = {"day": "D", "business day": "B", "week": "W", "month": "M", "year": "Y"}
DURATION = re.compile(
    r"\b(?:(?P<word>" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\s*)?"
    r"(?:\(\s*(?P<digits>\d{1,4})\s*\)|(?P<bare>\d{1,4}))?\s*-?\s*"
    r"(?P<unit>business\s+day|calendar\s+day|day|week|month|year)s?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """A value found in a text, with where its wording sits in that text."""

    value: str
    start: int
    end: int
    alternatives: tuple[str, ...] = ()  # both ISO readings of a numeric date whose order is unknown


# PUBLIC API


def date_order(text: str) -> DateOrder | None:
    """Whether ``text`` writes numeric dates day-first or month-first, from a date with a part over 12
    (31/01/2025 or 01/31/2025); None when none decides it or the text uses both."""
    try:
        return slash_date_order([text], free_text=True)
    except BadInputError:
        return None


def _readings(match: re.Match, order: DateOrder | None) -> list[date]:
    groups = match.groupdict()
    if groups.get("first") is None:
        month = groups["month"]
        parts = [(int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")], int(groups["day"]))]
    else:
        first, second = int(groups["first"]), int(groups["second"])
        parts = [
            (second, first) if reading == "day-first" else (first, second)
            for reading in ([order] if order else ["day-first", "month-first"])
        ]
    readings = []
    for month, day in parts:
        try:
            readings.append(date(int(groups["year"]), month, day))
        except ValueError:
            continue
    return list(dict.fromkeys(readings))


def _all_dates(text: str, order: DateOrder | None) -> list[Found]:
    order = order or date_order(text)
    found: dict[int, Found] = {}
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            readings = _readings(match, order)
            if readings and not any(f.start <= match.start() < f.end for f in found.values()):
                value = readings[0].isoformat() if len(readings) == 1 else match.group(0)
                alternatives = tuple(r.isoformat() for r in readings) if len(readings) > 1 else ()
                found[match.start()] = Found(value, match.start(), match.end(), alternatives)
    return [found[start] for start in sorted(found)]


def find_dates(text: str, *, order: DateOrder | None = None) -> list[Found]:
    """Every valid calendar date in ``text``, as ISO strings, in reading order. A numeric date (05/08/2014)
    is read in ``order``, else as the text's other numeric dates show (``date_order``); one that still reads
    two ways is left out, never guessed (``ambiguous_dates`` lists them)."""
    return [found for found in _all_dates(text, order) if not found.alternatives]


def ambiguous_dates(text: str, *, order: DateOrder | None = None) -> list[Found]:
    """Numeric dates in ``text`` that read two ways (value: the date as written, alternatives: both ISO
    readings), for a person to confirm."""
    return [found for found in _all_dates(text, order) if found.alternatives]


def find_durations(text: str) -> list[Found]:
    """Every period in ``text`` as an ISO 8601 duration ("five (5) years" -> P5Y, "30 days" -> P30D), or P<n>B
    for business days."""
    found = []
    for match in DURATION.finditer(text):
        number = match.group("digits") or match.group("bare")
        if number is None and match.group("word") is None:
            continue
        amount = int(number) if number else NUMBER_WORDS[match.group("word").lower()]
        unit = re.sub(r"\s+", " ", match.group("unit").lower()).replace("calendar ", "")
        found.append(Found(f"P{amount}{_UNIT_CODES[unit]}", match.start(), match.end()))
    return found


def add_duration(start: date, duration: str, *, sign: int = 1) -> date:
    """``start`` plus (``sign=-1``: minus) a duration of one unit (P5Y, P12M, P30D, P2W, P60B).

    Month ends are clamped (January 31 + P1M = February 28/29). Business days (P<n>B) skip Saturdays and
    Sundays, not public holidays, which differ by country; a weekend start counts from the business day
    behind it in the direction of travel (Saturday + P1B = Monday, Sunday - P1B = Friday).
    """
    match = re.fullmatch(r"P(\d+)([BDWMY])", duration)
    if not match:
        raise ValueError(f"Unsupported duration {duration!r}; expected P<n>D, P<n>B, P<n>W, P<n>M or P<n>Y.")
    amount, unit = sign * int(match.group(1)), match.group(2)
    if unit == "B":
        moved = np.busday_offset(start, amount, roll="backward" if amount > 0 else "forward")
        return moved.astype(date)
    if unit in "DW":
        return date.fromordinal(start.toordinal() + amount * (7 if unit == "W" else 1))
    months = start.month - 1 + amount * (12 if unit == "Y" else 1)
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def duration_days(duration: str) -> int:
    """Approximate length in calendar days (business days 7/5, months 30, years 365), for comparing notice
    periods and payment terms."""
    match = re.fullmatch(r"P(-?\d+)([BDWMY])", duration)
    if not match:
        raise ValueError(f"Unsupported duration {duration!r}; expected P<n>D, P<n>B, P<n>W, P<n>M or P<n>Y.")
    return round(int(match.group(1)) * {"B": 1.4, "D": 1, "W": 7, "M": 30, "Y": 365}[match.group(2)])
