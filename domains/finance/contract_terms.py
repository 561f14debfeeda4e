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
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),  # 05/08/2014 (US)
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


# PUBLIC API


def find_dates(text: str) -> list[Found]:
    """Every valid calendar date in ``text``, as ISO strings, in reading order (US order for 05/08/2014)."""
    found: dict[int, Found] = {}
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            month = match.group("month")
            month_number = int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")]
            try:
                value = date(int(match.group("year")), month_number, int(match.group("day")))
            except ValueError:
                continue
            if not any(f.start <= match.start() < f.end for f in found.values()):
                found[match.start()] = Found(value.isoformat(), match.start(), match.end())
    return [found[start] for start in sorted(found)]


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
    Sundays, not public holidays, which differ by country.
    """
    match = re.fullmatch(r"P(\d+)([BDWMY])", duration)
    if not match:
        raise ValueError(f"Unsupported duration {duration!r}; expected P<n>D, P<n>B, P<n>W, P<n>M or P<n>Y.")
    amount, unit = sign * int(match.group(1)), match.group(2)
    if unit == "B":
        moved = np.busday_offset(start, amount, roll="forward" if amount >= 0 else "backward")
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
