"""Keep personal identifiers out of logs: a text redactor and a ``logging.Filter`` that applies it.

Patient and claimant identifiers (names, policy and claim numbers, phone and card numbers, e-mail addresses,
dates of birth, member ids) must never reach a log file. Patterns catch the structured identifiers; names are
caught after the cues people write them behind ("Claimant:", "my name is", "je m'appelle", "Mrs.") and, where a
flow knows them, passed in for the duration of one request (``known_names`` or ``redact(text, names=...)``), so
one chat's patient never turns ordinary words into ``[NAME]`` in everyone else's log lines. Caret-joined DICOM and
HL7 person names ("DOE^JOHN") are masked when their parts are listed names. A full name written
with no cue ("waiting for Ann Lee", "Priya Sharma") is found when both parts are in the name lists (the US census
lists of PyPI ``names`` and the other locales' lists of PyPI ``Faker``, less English words);
title-case phrases ("for Root Canal Treatment") are far commoner in these logs than bare names, so nothing else
without a cue is taken, and a flow that knows the person passes the name in. The filter rewrites the message
before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    """A word list written as one readable string."""
    return frozenset(text.split())


# ---------------------------------------------------------------- dates of birth

_MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "januar jänner februar märz maerz mai juni juli oktober dezember "
    "janvier février fevrier mars avril juin juillet août aout septembre octobre novembre décembre decembre "
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre "
    "januari februari maart mei augustus"
)
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|\.)?"
_DATE = (
    r"(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"  # 1980-03-04, 04/03/1980, 03.02.1965
    rf"|{_DAY}\s+(?:of\s+|de\s+)?{_MONTH}(?:,?\s+(?:de\s+)?\d{{2,4}})?"  # 4th March 1980, 3 de marzo de 1980
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{2,4}})?"  # March 3rd, 1980
    rf"|{_MONTH},?\s+\d{{4}}"  # March 1980
    r"|(?:19|20)\d{2})(?!\w)"  # born in 1980
)
_BIRTH_CUE = (
    r"\b(?:date\s+of\s+birth|birth\s*date|birthday|d\.\s?o\.\s?b\.?|dob|born|geburtsdatum|geburtstag|geboren"
    r"|geb\.|n[ée]e?\s+le|date\s+de\s+naissance|fecha\s+de\s+nacimiento|nacid[oa]|data\s+di\s+nascita"
    r"|geboortedatum)(?!\w)"
)
# Separators, then up to four filler words ("is", "on the"); written so that no two ways split the same text,
# which would backtrack exponentially on a long run of spaces.
_BIRTH_GAP = r"[\s:=,\-–]*(?:(?:is|was|on|the|am|el|le|de|in|op|il)(?!\w)[\s:=,\-–]*){0,4}"

# ---------------------------------------------------------------- phone numbers

# A run of digit groups; whether it is a phone number (and not an amount, date or count) is decided in
# ``_phone_or_keep`` by its digit count and grouping, which a regular expression says poorly.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w$€£¥+.,/-])(?:\+\s?\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,19}(?:[ .-]\d{1,8}){0,5}"
    r"(?!\w|[.,/:-]\d)"
)
# Words that say the next number is a phone number, right before it: "phone: 5551234567", "mobile number",
# "call me on", "text us at". ("Order number", "Call volume" and "Calls" say nothing of the kind.)
_PHONE_CUE = re.compile(
    r"(?i)(?:\b(?:tele)?phone|\bt[eé]l(?:[eé]fono)?|\bmobile|\bm[oó]vil|\bcell(?:phone)?|\bwhatsapp|\bhandy"
    r"|\bportable)(?:\s+(?:no|nr|number|num[eé]ro|n[uú]mero|nummer))?\W{0,3}(?:is\W+)?$"
    r"|\b(?:call|ring|text|reach|contact)\s+(?:me|us|him|her)\s+(?:on|at)\W{0,3}$"
)


def _card(groups: list[str]) -> bool:
    """13-19 digits written as one run or in groups of four (Amex 4-6-5, Diners 4-6-4); an ungrouped run must
    also pass the Luhn check, so long order ids and millisecond timestamps stay readable."""
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19:
        return False
    if len(groups) > 1:
        sizes = [len(g) for g in groups]
        return (all(s == 4 for s in sizes[:-1]) and sizes[-1] <= 4) or sizes in ([4, 6, 5], [4, 6, 4])
    checksum = sum(
        int(d) if i % 2 == 0 else sum(divmod(2 * int(d), 10)) for i, d in enumerate(reversed(digits))
    )
    return checksum % 10 == 0


def _phone_or_keep(match: re.Match[str]) -> str:
    text = match.group(0)
    groups = [g for g in re.split(r"[^\d]+", text) if g]
    digits = sum(len(g) for g in groups)
    international = text.startswith("+") or "(" in text
    if not international and _card(groups):
        return "[CARD]"
    if len(groups) == 1 and not international:
        # 0612345678, or "call me on 5551234567"; a bare id, order number or amount of 10-11 digits stays.
        before = match.string[max(0, match.start() - 60) : match.start()]
        cued = text.startswith("0") or _PHONE_CUE.search(before) is not None
        return "[PHONE]" if 10 <= digits <= 11 and cued else text
    if not (8 if international else 9) <= digits <= 15:
        return text  # dates (8 digits), short counts
    cued = _PHONE_CUE.search(match.string[max(0, match.start() - 60) : match.start()]) is not None
    if (
        not international
        and not cued
        and not text.startswith("0")
        and (all(len(g) <= 2 for g in groups) or (len(groups) >= 4 and groups[0] != "1"))
    ):
        return text  # a list of numbers ("counts were 12 15 18", "BP 130 85 128 82"), not "1 800 555 0199"
    separators = set(re.findall(r"[ .-]", text.lstrip("+ ")))
    thousands = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if not international and not text.startswith("0") and thousands:
        return text  # 1 500 000 000
    if separators == {"."} and (len(groups) == 2 or (len(groups) == 4 and all(len(g) <= 3 for g in groups))):
        return text  # a decimal number or an IPv4 address
    return "[PHONE]"


# ---------------------------------------------------------------- names

_WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*"  # Unicode letters: José, Élodie, O'Neil, Jean-Luc
_TOKENS = re.compile(rf"({_WORD})(?:[ \t]+({_WORD}))?(?:[ \t]+({_WORD}))?(?:[ \t]+({_WORD}))?")
_NAME_CUES = re.compile(
    # first person: people type their own name in lower case ("my name is ann lee")
    r"(?P<explicit>(?i:\b(?:my\s+name\s+is|my\s+name['’]s|the\s+name\s+is|je\s+m['’]\s?appelle|me\s+llamo"
    r"|mi\s+nombre\s+es|ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|mijn\s+naam\s+is|ik\s+heet"
    r"|je\s+suis\s+appel[ée]e?)\s+))"
    # labels: only a capitalised value is a name ("Patient: stable", "Name: n/a", "Insured: yes" are not)
    r"|(?P<label>(?i:\b(?P<field>claimant|insured|policyholder|policy\s+holder|patient|name|full\s+name|contact"
    r"|first\s+name|last\s+name|surname|nom|nombre|vorname|nachname)\s*(?:name)?\s*[:=]\s*))"
    # weak: only a capitalised name that is no common word counts ("I am worried", "Ich bin Diabetiker")
    # (not "je suis", "soy", "ik ben", "ich bin": "Je suis Enceinte", "Soy Diabético", nouns capitalised in German)
    r"|(?P<weak>(?i:\b(?:i\s+am|i['’]m|this\s+is)\s+))"
    # titles, case-sensitive
    r"|(?P<title>\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Dhr|Mevr)\.?\s+)"
)
# "File name:", "Column name = ...": a bare "name" label after these words names a thing, not a person.
_THING_NAMES = _words(
    "file column collection field table index model dataset data key variable host domain folder directory "
    "sheet tab project product brand company attribute parameter setting"
)
_WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \t]*$")
_PARTICLES = _words("van von der den de da del di du la le ter ten bin al y")
# Lower-case words that end a name written after an explicit cue ("my name is ann lee and ...").
_STOP = _words(
    "and but or so dob born my i i'm im me from phone mobile tel email e-mail with in at on the a an is was "
    "am are not here calling speaking please can could would will need want have has had just also "
    "und oder aber ich mein meine bin et ou mais je mon ma suis y o pero yo mi soy en ik "
    "reports complains presents feels needs wants asks says denies states called came arrived requires "
    "requests refused seen discharged admitted without"
)
# Capitalised words that are ordinary words, not names: never a name on their own, after "I am", or as
# a single remembered token (full names still match).
_COMMON = _words(
    "a an the and or but not no yes ok okay so very also just here there this that these those it its "
    "i me my we our you your he she they them his her their who what when where why how which please "
    "thanks thank hello hi dear sorry sure fine good well better worse bad glad happy sad worried "
    "afraid sick ill tired calling writing looking having feeling going trying still new old next last "
    "first second third one two three all any some every each today tomorrow yesterday morning "
    "afternoon evening night week month year day time will may can could would should might must shall "
    "do did does done is was are were be been being have has had get got make made see saw let "
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun "
    "january february march april june july august september october november december "
    "spring summer autumn fall winter christmas easter "
    "mark bill pat sue rose grace hope faith joy dawn sky river rain storm bell brown green white black "
    "gray grey young long short little king prince rich miles hunter cook baker penny ruby amber ivy "
    "lily daisy violet crystal pearl jade iris jack frank grant art don ray guy rob rod tom chase "
    "mr mrs ms miss mx dr prof sir madam doctor nurse patient claimant insured policyholder "
    "general practice practitioner dental dentist dentistry hygiene hygienist clinic hospital "
    "centre center surgery care health medical medicine emergency urgent radiology cardiology "
    "dermatology physio physiotherapy therapy physical mental orthodontics orthodontist "
    "paediatrics pediatrics oncology neurology pharmacy lab laboratory insurance claim claims policy "
    "home house car motor travel life contents building buildings street road avenue lane city "
    "north south east west central royal saint st university national public private english dutch "
    "german french spanish british american european"
)


def _capitalised(token: str) -> bool:
    return token[0].isupper()


def _titlecase(token: str) -> bool:
    return token[0].isupper() and any(c.islower() for c in token[1:])


_NO_VALUE = _words("not n na none nil unknown no tbc tba")


def _name_length(tokens: list[str], kind: str) -> int:
    """How many of ``tokens`` (the words after a cue) form the name; 0 when they are no name."""
    first = tokens[0]
    if kind == "explicit" and not _capitalised(first):
        count = 0
        for token in tokens[:3]:
            if token.lower() in _STOP:
                break
            count += 1
        return count
    if kind == "label" and first.lower() in _NO_VALUE and (len(tokens) == 1 or not _capitalised(tokens[1])):
        return 0  # "Patient: Not seen today", "Name: N/A"; "Patient: Nil Patel" is a name
    cued = kind in ("explicit", "label", "title")  # after "Name:" or "Mrs", "Will May" is a name
    accept = _capitalised if cued else _titlecase
    if not accept(first) or (not cued and first.lower() in _COMMON):
        return 0
    count = 1
    for index, token in enumerate(tokens[1:], start=1):
        if count == 3:
            break
        if accept(token) and (cued or token.lower() not in _COMMON):
            count = index + 1
        elif token not in _PARTICLES:
            break
    return count


def _names_a_thing(text: str, cue: re.Match[str]) -> bool:
    """A bare "name" label after "File", "Column", "Collection", ...: no person follows."""
    if cue.group("label") is None or cue.group("field").lower() != "name":
        return False
    before = _WORD_BEFORE.search(text, max(0, cue.start() - 40), cue.start())
    return before is not None and before.group(1).lower() in _THING_NAMES


def _redact_cued_names(text: str) -> str:
    out: list[str] = []
    position = 0
    for cue in _NAME_CUES.finditer(text):
        if cue.start() < position or _names_a_thing(text, cue):
            continue
        words = _TOKENS.match(text, cue.end())
        if words is None:
            continue
        tokens = [t for t in words.groups() if t]
        length = _name_length(tokens, cue.lastgroup or "")
        if length == 0:
            continue
        out += [text[position : cue.end()], "[NAME]"]
        position = words.end(length)
    return "".join([*out, text[position:]])


@lru_cache(maxsize=1)
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames in their ``_plain`` spelling: the US 1990 census lists of PyPI
    ``names`` (MIT; 5,494 first names, 88,799 surnames) and the Latin-script person-name lists of PyPI
    ``Faker``'s locales (MIT; Indian, African, European and Latin American names the census lacks, "Priya",
    "Okafor"). The common words above are no first names ("Will", "May", "Grace")."""
    import importlib
    import pkgutil
    from importlib.resources import files

    import faker.providers.person
    from english_words import get_english_words_set

    given: set[str] = set()
    family: set[str] = set()
    for name, target in (("dist.female.first", given), ("dist.male.first", given), ("dist.all.last", family)):
        target.update(line.split()[0].lower() for line in (files("names") / name).read_text().splitlines())
    # Faker's lists hold words too ("As", "Among", "Prior"): a name it adds must be no lower-case word of
    # Webster's 2nd (web2, PyPI english-words, MIT), where names are capitalised.
    words = {word for word in get_english_words_set(["web2"], alpha=True) if word.islower()}
    for locale in pkgutil.iter_modules(faker.providers.person.__path__):
        if locale.name in ("en", "en_US"):  # US names are the census's; Faker's US list has "Texas", "London"
            continue
        provider = importlib.import_module(f"faker.providers.person.{locale.name}").Provider
        for attribute in dir(provider):  # first_names_female, last_names, unisex_last_names, last_romanized_names
            target = given if "first" in attribute else family if "last" in attribute else None
            written = getattr(provider, attribute)  # a tuple, or a dict of name -> weight
            if target is None or not attribute.endswith("names") or not isinstance(written, tuple | list | dict):
                continue
            plain = {_plain(entry) for entry in written} - words - target
            target.update(form for form in plain if re.fullmatch(r"[a-z]+(?:-[a-z]+)*", form))
    # first names that documents use as words
    not_names = _words("in von america china hong brain vena santa sierra dallas max min queen princess")
    return frozenset(given - _COMMON - not_names), frozenset(family)


# Capitalised words in ``_COMMON`` that are also everyday surnames: a surname after a known first name.
_SURNAME_WORDS = _words(
    "brown green white black gray grey young long short little king prince rich miles hunter cook baker bell "
    "rose hope grant frank mark ray chase rice wood hill stone"
)


# Words after a name-like pair that make it a place, ward or thing: "Victoria Ward", "Henry Ford Hospital".
_PLACE_WORDS = _words(
    "ward wards hospital hospitals clinic clinics centre center station square park court beach wing lodge grove "
    "road street avenue lane drive close way place house hall surgery practice school college university trust "
    "foundation disease syndrome strength round unit building estate gardens bridge bank hospice hotel church "
    "airport library museum day"
)


def _plain(name: str) -> str:
    """A name as the lists spell it: lower case, no accents or apostrophes, no possessive 's ("José" -> jose,
    "O'Brien" -> obrien, "Lee's" -> lee)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    return re.sub(r"['’]s$", "", plain).replace("'", "").replace("’", "").translate(_UNDECOMPOSED)


# Latin letters NFKD leaves whole ("Łukasz", "Yılmaz", "Đặng", "Søren").
_UNDECOMPOSED = str.maketrans({"ł": "l", "ı": "i", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "þ": "th"})


@lru_cache(maxsize=4096)
def _lookup_forms(token: str) -> tuple[str, ...]:
    """The list spellings to look a written name up by: ``_plain``, and each part of a hyphenated name
    ("Smith-Jones" -> smith-jones, smith, jones)."""
    plain = _plain(token)
    return (plain, *plain.split("-")) if "-" in plain else (plain,)


def _listed(word: str, names: frozenset[str]) -> bool:
    """Whether ``word``, in any of its list spellings (``_lookup_forms``), is one of ``names``."""
    return any(form in names for form in _lookup_forms(word))


def _full_name_length(text: str, match: re.Match[str]) -> int:
    """How many of the match's words form a listed first name plus listed surnames (``_name_lists``); 0 when
    they do not."""
    given, family = _name_lists()
    tokens = [t for t in match.groups() if t]
    if not _titlecase(tokens[0]) or not _listed(tokens[0], given):
        return 0
    surnames = 0
    for token in tokens[1:]:
        if token.lower() in _PLACE_WORDS:
            return 0  # "Victoria Ward", "Princess Alexandra Hospital"
        if (
            not _titlecase(token)
            or not _listed(token, family)
            or (_plain(token) in _COMMON and _plain(token) not in _SURNAME_WORDS)
        ):
            break
        surnames += 1
    rest = _WORD_AFTER.match(text, match.end(surnames + 1))
    if rest is not None and rest.group(1).lower() in _PLACE_WORDS:
        return 0  # "Henry Ford Hospital"
    return surnames + 1 if surnames else 0


def _redact_full_names(text: str) -> str:
    """A known first name followed by one or two capitalised words ("waiting for Ann Lee", "Maria Garcia
    called"): the bare full names the cues miss. A first name alone is left, and so are place and service
    words after it ("Jordan Road") and runs of four or more capitalised words ("Alba Eco Espresso Machine").
    Written surname first ("Lee, Ann"), both parts must be listed names and the pair no part of a list."""
    out: list[str] = []
    position = start = 0
    titles = _title_spans(text)
    while (match := _FULL_NAME.search(text, start)) is not None:
        inside = next((end for begin, end in titles if begin <= match.start() < end), None)
        if inside is not None:
            start = inside
            continue
        length = _full_name_length(text, match)
        if length == 0:
            start = match.end(1)
            continue
        end = match.end(length)
        possessive = text[end - 2 : end] if text[end - 2 : end] in ("'s", "’s") else ""
        out += [text[position : match.start()], _OWN_MASK + possessive]
        position = start = end
    text = _SURNAME_BEFORE_NAME.sub(
        _surname_first_or_keep, "".join([*out, text[position:]])
    )  # "Lee, Ann Marie"
    return _SURNAME_FIRST.sub(_surname_first_or_keep, text.replace(_OWN_MASK, "[NAME]"))


def _surname_first_or_keep(match: re.Match[str]) -> str:
    """ "Lee, Ann" (a listed surname, a comma, a listed first name), the order of registers and forms."""
    if _LIST_ITEM_BEFORE.search(match.string, max(0, match.start() - 40), match.start()):
        return match.group(0)
    given, family = _name_lists()
    surname, first = match.group(1), match.group(2)
    if first == _OWN_MASK:
        return (
            "[NAME]" if _titlecase(surname) and _listed(surname, family) else match[0]
        )
    if not (_titlecase(surname) and _titlecase(first)) or first.lower() in _COMMON:
        return match.group(0)
    if _listed(surname, family) and _listed(first, given):
        return "[NAME]" + (first[-2:] if first[-2:] in ("'s", "’s") else "")
    return match.group(0)


_OWN_MASK = "\x00NAME\x00"  # this rule's own masks, until the surname-first pass has seen them
# A name starts after no letter and inside no hyphenated or quoted word ("Root-Canal", "x-Ann"): that also keeps
# the search linear on long hyphenated runs; "'Ann Lee'" and "-Ann Lee" are names.
_WORD_START = r"(?<!\w)(?<!\w[-'’])"
_SURNAME_BEFORE_NAME = re.compile(rf"{_WORD_START}(?<!,)({_WORD}),[ \t]+({_OWN_MASK})")
_SURNAME_FIRST = re.compile(rf"{_WORD_START}(?<!,)({_WORD}),[ \t]+({_WORD})(?![\w'’-])(?![ \t]*(?:,|[ \t][A-Z]))")
# The pair is an item of a list of capitalised words when one comes right before it ("Henry, Liu, Yang, Owen",
# "Security Boulevard, Baltimore, Maryland"); after a field ("MRN 12345, Garcia, Jose") it is a name.
_LIST_ITEM_BEFORE = re.compile(rf"{_WORD_START}[A-Z][\w'’-]*,[ \t]+$")


def _title_spans(text: str) -> list[tuple[int, int]]:
    """Runs of capitalised words that are titles, not names: four or more words after any leading common word
    ("Martin Luther King Day", "Alba Pump Espresso Machine"; "Dear Ann Lee Smith" still is a name), or a run
    holding a place word ("Florence Nightingale Community Hospital")."""
    spans = []
    for run in _CAPITALISED_RUN.finditer(text):
        words = list(_WORD_IN_RUN.finditer(run.group(0)))
        while words and words[0].group(0).lower() in _COMMON:
            words.pop(0)
        if len(words) >= 4 or any(w.group(0).lower() in _PLACE_WORDS for w in words[1:]):
            spans.append((run.start() + words[0].start(), run.end()) if words else (run.start(), run.end()))
    return spans


_TITLE_WORD = rf"(?=[^\W\d_a-zß-öø-ÿ]){_WORD}"
_CAPITALISED_RUN = re.compile(rf"{_WORD_START}{_TITLE_WORD}(?:[ \t]+{_TITLE_WORD})+")
_WORD_IN_RUN = re.compile(_WORD)


# Up to three words from one that starts upper case (a search moves on word by word, so "Dear Ann Lee" is tried
# from "Ann" too).
_FULL_NAME = re.compile(rf"{_WORD_START}(?=[^\W\d_a-zß-öø-ÿ])({_WORD})(?:[ \t]+({_WORD}))(?:[ \t]+({_WORD}))?")
_WORD_AFTER = re.compile(rf"[ \t]+({_WORD})")


@lru_cache(maxsize=256)
def _known_names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Full names match in any case; a single token only capitalised as written and never a common word,
    so "Will May" masks "Will May" and "May" but leaves "I will see you in may" and "Will the dentist ..." alone."""
    alternatives: set[str] = set()
    for name in names:
        parts = name.split()
        if len(parts) > 1:
            alternatives.add(r"(?i:" + r"\s+".join(re.escape(p) for p in parts) + ")")
        for part in parts:
            if len(part) >= 3 and part.lower() not in _COMMON and part.lower() not in _PARTICLES:
                alternatives |= {re.escape(form) for form in (part, part[0].upper() + part[1:], part.upper())}
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(sorted(alternatives, key=len, reverse=True))})(?!\w)")


# Caret-joined values: a DICOM person name (PN, family^given^middle^prefix^suffix, "DOE^JOHN") as pydicom
# prints a PatientName, or an HL7 name field ("DOE^JANE^^^^^L"); but HL7 codes are caret-joined too.
_CARET_PART = r"[^\W_]+(?:['’\-][^\W_]+)*"  # letters or digits, with inner apostrophes or hyphens: O'BRIEN
_CARET_VALUE = re.compile(rf"{_WORD_START}(?<!\^){_CARET_PART}(?:\^+{_CARET_PART})+\^*(?![\w^])")
_NAME_PARTICLES = _words("van der den de la le del della da di dos das du von bin bint ibn al el mac mc st")
_WORD_BEFORE_VALUE = re.compile(r"(?<![\w'’\-])([\w'’\-]+) $")
_WORD_AFTER_VALUE = re.compile(r" ([\w'’\-]+)(?![\w'’\-])")


def _is_name_word(word: str) -> bool:
    """A capitalised listed first name or surname, or a particle ("VAN", "de"): part of a person's name."""
    given, family = _name_lists()
    if word.lower() in _NAME_PARTICLES:
        return True
    return word[0].isupper() and len(_plain(word)) >= 2 and (_listed(word, given) or _listed(word, family))


def _names_a_person(value: str) -> bool:
    """A caret-joined value that is a person: its first part in letters (after any id) followed by a listed
    first name ("DOE^JOHN", "ZORRO^QUENTIN", "1234^SMITH^JOHN^^^DR", "O'BRIEN^SEAN"), two listed names
    ("Ron^Ang"), a listed name followed by an initial or nothing ("DOE^J", "Smith^^^Dr"), or letters of another
    script ("王^小明"). Codes stay ("GLU^Glucose^L", "STATUS^OK", "HIGH^High^L", "e^x", "ADT^A01"); one named
    like a person does not ("SMOKER^L")."""
    given, family = _name_lists()
    parts = value.split("^")
    letters = [re.sub(r"['’-]", "", part).isalpha() for part in parts]
    if any(is_word and not _plain(part).isascii() for part, is_word in zip(parts, letters, strict=True)):
        return True
    first = next((i for i, part in enumerate(parts) if letters[i] and len(part) >= 2), None)
    if first is None or first + 1 == len(parts):
        return False
    after = parts[first + 1]
    if len(after) <= 1:
        return _is_name_word(parts[first])
    if not after[0].isupper() or after.lower() == parts[first].lower():  # "HIGH^High": a code and its text
        return False
    # a listed first name, or two listed surnames: "Ron^Ang", "LI^NA"
    return _listed(after, given) or (_is_name_word(parts[first]) and _listed(after, family))


def _redact_caret_names(text: str) -> str:
    """Each caret-joined person name as [NAME], with the name words written beside it: "VAN DER BERG^ANNA
    MARIA", "García López^María José" (up to four words each side, while they are listed names or particles).
    One pass over the text, looking a word to each side, so its time is linear in the length."""
    if "^" not in text:
        return text
    out: list[str] = []
    position = 0
    for match in _CARET_VALUE.finditer(text):
        if match.start() < position or not _names_a_person(match.group(0)):
            continue
        start, end = match.start(), match.end()
        for _ in range(4):
            word = _WORD_BEFORE_VALUE.search(text, max(position, start - 40), start)
            if word is None or not _is_name_word(word.group(1)):
                break
            start = word.start()
        for _ in range(4):
            word = _WORD_AFTER_VALUE.match(text, end)
            if word is None or not _is_name_word(word.group(1)):
                break
            end = word.end()
        out += [text[position:start], "[NAME]"]
        position = end
    return "".join([*out, text[position:]])


# Order matters: the most specific patterns run first, so e-mails are not half-eaten by the name rules and
# birth dates are gone before the phone rule looks at digit groups.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("DOB", re.compile(rf"(?i){_BIRTH_CUE}{_BIRTH_GAP}(?P<date>{_DATE})")),
    ("POLICY", re.compile(r"\b(?:POL|PN|POLICY|HO|AU|MOT|HOM|TRV)[-/]?\d[\w-]{3,}\b", re.IGNORECASE)),
    ("CLAIM", re.compile(r"\bCLM[-/]?\d{3,}\b", re.IGNORECASE)),
    (
        "ID",
        re.compile(
            r"(?i)\b(?:policy|member|patient|mrn|ssn|insurance|account)\s*(?:no\.?|number|num|#|id)\s*[:#]?\s*"
            r"[A-Z0-9][A-Z0-9-]{3,}\b"
        ),
    ),
    # an HL7 identifier (CX): id^check digit^scheme^assigning authority^type, the type saying whose it is
    (
        "ID",
        re.compile(
            r"(?<![\w^-])\w[\w-]{2,}(?:\^[^|^~\s]*){3}\^(?:MRN?|PI|PT|SS|AN|PN|HC|NI|NH|PPN|JHN|DL|MC|MB|PRN|MA)"
            r"(?:\^[^|^~\s]*)*(?![\w^])"
        ),
    ),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("PHONE", _PHONE_CANDIDATE),
)


def _replacement(kind: str):
    if kind == "DOB":
        return lambda m: m.group(0)[: m.start("date") - m.start()] + "[DOB]"
    if kind == "PHONE":
        return _phone_or_keep
    return f"[{kind}]"


_REPLACEMENTS = tuple((pattern, _replacement(kind)) for kind, pattern in _PATTERNS)

# Names known to the request being served (this thread or task only); see ``known_names``.
_SCOPED_NAMES: ContextVar[tuple[str, ...]] = ContextVar("privacy_scoped_names", default=())


class Redactor:
    """Replaces identifiers in text with ``[KIND]`` placeholders; thread-safe, shared by a process's loggers.

    Args:
        known_names: names this redactor always masks (see ``remember``).
        max_names: how many remembered names it keeps; the oldest are forgotten first, so a long-running
            process does not accumulate every name it ever saw.
    """

    def __init__(self, known_names: Iterable[str] = (), *, max_names: int = 64) -> None:
        if max_names < 1:
            raise ValueError(f"max_names must be at least 1 (received {max_names}); pass a positive count.")
        self.max_names = max_names
        self._lock = threading.Lock()
        self._names: OrderedDict[str, None] = OrderedDict()
        self.remember(*known_names)

    def remember(self, *names: str) -> None:
        """Mask these names in every later ``redact`` call of this redactor (bounded by ``max_names``).

        For a name that belongs to one request (the patient in this chat, the claimant of this claim) use
        ``known_names`` or ``redact(text, names=...)`` instead: remembering it on the process-wide
        ``DEFAULT_REDACTOR`` masks it in every other user's log lines too.
        """
        with self._lock:
            for name in (" ".join(n.split()) for n in names):
                if name:
                    self._names[name] = None
                    self._names.move_to_end(name)
            while len(self._names) > self.max_names:
                self._names.popitem(last=False)

    def redact(self, text: str, *, names: Iterable[str] = ()) -> str:
        """``text`` with identifiers replaced; ``names`` are masked for this call only."""
        for pattern, replacement in _REPLACEMENTS:
            text = pattern.sub(replacement, text)
        text = _redact_cued_names(_redact_caret_names(text))
        with self._lock:
            remembered = tuple(self._names)
        extra = tuple(" ".join(n.split()) for n in (*names, *_SCOPED_NAMES.get()) if n and n.strip())
        pattern = _known_names_pattern(tuple(sorted({*remembered, *extra})))
        text = pattern.sub("[NAME]", text) if pattern is not None else text
        return _redact_full_names(text)  # after the known names, so "Anna Maria Do" is masked whole


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged) through a ``Redactor`` before handlers format it."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or DEFAULT_REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        return True


DEFAULT_REDACTOR = Redactor()


# PUBLIC API


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with identifiers replaced by ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[NAME]``, ... placeholders;
    ``names`` (people this call knows about) are masked for this call only."""
    return DEFAULT_REDACTOR.redact(text, names=names)


@contextmanager
def known_names(*names: str | None) -> Iterator[None]:
    """Mask ``names`` in every redaction inside the block (audit entries, protected loggers), for the current
    thread or task only: serve one chat turn or one claim inside it instead of remembering the name globally."""
    token = _SCOPED_NAMES.set((*_SCOPED_NAMES.get(), *(n for n in names if n)))
    try:
        yield
    finally:
        _SCOPED_NAMES.reset(token)


def protect_logger(logger: logging.Logger | str, redactor: Redactor | None = None) -> logging.Logger:
    """Attach a ``RedactingFilter`` to ``logger`` once (idempotent) and return it.

    Filters on a logger apply to records logged through that logger; flows that handle patient or claim
    data log only through loggers protected here.
    """
    logger = logging.getLogger(logger) if isinstance(logger, str) else logger
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter(redactor))
    return logger
