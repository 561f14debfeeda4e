"""Draft report: the LLM turns the measurements and the clinical notes into a short structured draft.

Guard rails, because a small local model will happily invent: it gets only the facts (``report.json``) and the
notes; every number in its draft must come from them, every quotation must be verbatim from the notes, and a
finding or reassurance term (mass, glioblastoma, normal, ...) may appear only inside such a quotation: notes
that say "rule out mass" must not become "a mass is present". A draft that fails is regenerated
once with the problems listed; a second failure falls back to a deterministic template. Every draft carries
the "DRAFT for radiologist review" label: the radiologist edits and signs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from domains.radiology.pipeline import DRAFT_LABEL, StripReport

# Reference intracranial volume (brain + CSF inside the skull; our mask is closest to it) by sex, as
# mean ± 2 SD. Source: Matsumae M, Kikinis R, Mórocz IA, et al. "Age-related changes in intracranial
# compartment volumes in normal adults assessed by magnetic resonance imaging." J Neurosurg 1996;84(6):
# 982-991: 49 volunteers aged 24-80, intracranial volume 1469 ± 102 cm3 (men), 1289 ± 111 cm3 (women),
# no change with age.
REFERENCE_CITATION = "Matsumae et al., J Neurosurg 1996;84:982-991 (49 adults aged 24-80)"
REFERENCE_AGE_RANGE = (24, 80)
REFERENCE_MEAN_SD_ML = {"male": (1469.0, 102.0), "female": (1289.0, 111.0)}
FINDING_TERMS = (
    "tumor",
    "tumour",
    "mass",
    "lesion",
    "bleed",
    "infarct",
    "stroke",
    "ischemi",
    "ischaemi",
    "edema",
    "oedema",
    "hydrocephalus",
    "metasta",
    "aneurysm",
    "glio",
    "mening",
    "adenoma",
    "plaque",
    "demyelinat",
    "fracture",
    "abscess",
    "midline shift",
    "herniation",
    "haematoma",
    "hematoma",
    "cyst",
    "contusion",
    "volume loss",
    "ventriculomegaly",
    "enlarged ventric",
    "hyperintens",
    "hypointens",
    "calcif",
    "malformation",
    "sclerosis",
    "dementia",
    "alzheimer",
    "neoplas",
    "carcinoma",
    "lymphoma",
    "encephal",
    "small vessel",
    "microangiopath",
    "abnormalit",
    "malignan",
    "benign",
    "disease",
    "patholog",
    "infection",
    "inflammat",
    "degenerat",
    "shrink",
    "swelling",
    "enlarge",
    "dilat",
    "asymmetr",
    "lacun",
    "white matter",
    "blood",
    # word stems: "atrophic", "haemorrhagic", "necrotic", "thrombosis"; "prominent ventricles", "sulcal widening"
    # (the volume note names ventricles and sulcal CSF, so those words alone are no finding)
    "atroph",
    "haemorrhag",
    "hemorrhag",
    "necro",
    "thromb",
    "prominen",
    "widen",
    "effac",
    # the same in the languages notes come in (es, fr, de)
    "masa",
    "lesión",
    "lésion",
    "läsion",
    "tumeur",
    "hémorrag",
    "hemorrag",
    "atrofia",
    "blutung",
    "raumforderung",
    "hallazgo",
    "befund",
    "se observa",
    # Reassurance is a finding too: only the radiologist may call a study normal.
    "normal",
    "healthy",
    "no acute",
    "unremarkable",
    "no evidence",
    "no significant abnormal",
    "no significant intracranial",
    "significant finding",
    "intracranial finding",
    "brain is clear",
    "study is clear",
    "scan is clear",
    "mri is clear",
    "none identified",
    "findings: none",
    "space-occupying",
    # a normal-range judgement needs the reference range, which the facts carry only when the notes give
    # age and sex ("within the reference range" is in the facts then)
    "expected range",
    "expected for",
    "typical for",
    "appropriate for",
    "age-appropriate",
    # review: collections and lesions by name, size judgements, hedged diagnoses and reassurance in other words
    "subdural",
    "epidural",
    "extradural",
    "collection",
    "cavernom",
    "macroceph",
    "microceph",
    "large for",
    "small for",
    "is large",
    "are large",
    "is small",
    "are small",
    "raised intracranial",
    "intracranial pressure",
    "likely",
    "suggest",
    "reassur",
    "looks fine",
    "look fine",
    "appears fine",
    "is fine",
    "within normal",
    "clear brain",
    "is seen",
    "are seen",
    # second review: more of the same in other words
    "cancer",
    "nodul",
    "empyema",
    "stenos",
    "occlu",
    "resection",
    "cavity",
    "space occupying",
    "reduced",
    "smaller than",
    "larger than",
    "below average",
    "above average",
    "thinning",
    "are big",
    "is big",
    "are wide",
    "compatible with",
    "in keeping",
    "possibl",
    "probabl",
    "represent",
    "limits",
    "of note",
    "concern",
    "all clear",
    "brain: clear",
    "brain clear",
    "looks good",
    "is ok",
    # words that turn a quoted question into an answer: '"rule out mass" confirmed'
    "confirm",
    "identified",
    "demonstrat",
    "consistent with",
    # third review: answers to the referrer's question and comparisons with a prior study
    "stable",
    "interval change",
    "interval growth",
    "interval increase",
    "no interval",
    "no new",
    "unchanged",
    "excluded",
    "ruled out",
    "negative for",
    "increase",
    "decrease",
    "growth",
    "grown",
    "progress",
    "recurren",
    "loss of",
    "involution",
    "as expected",
    "expansif",
    "compared with",
    "compared to",
    "comparison",
    "since the prior",
    "prior study",
    "previous study",
    "prior mri",
    "previous mri",
)
# One-word answers and comparisons ("NAD.", "Negative.", "Improved.", "Same as before.").
_ANSWER_WORDS = re.compile(
    r"\b(?:nad|nil acute|negative|clean|same as (?:before|prior|previous)|nothing new|improv\w*|resolv\w*|worse\w*|"
    r"shr[au]nk)\b"
)
# Words that negate what follows: "No SAH", "no structural cause" answer the question the notes ask.
_NEGATOR = r"\b(?:no|not|without|negative for|nil|absent|free of|excludes?)\b"
_STOPWORDS = frozenset(["with", "from", "that", "this", "there", "what", "which", "have", "been", "were", "into", "onto", "over", "under", "about", "than"])
# Tumour and collection names by their ending ("astrocytoma", "schwannoma", "hygroma", "coma"), where a stem
# list cannot keep up.
_TUMOUR_NAME = re.compile(r"\b\w*omas?\b")
# A comparison with a reference or normal range: a finding when the facts carry no range.
_RANGE_CLAIM = re.compile(
    r"\b(?:within|outside|inside|below|above|beyond|under|over|exceed\w*|out of)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?"
    r"range\b|\brange for\b|\b(?:for|given) (?:his|her|their|the patient's) age\b"
)
# A quotation shorter than this many words ("mass") is no context: finding terms inside it still count.
MIN_QUOTE_WORDS = 3
# Technique words that contain a finding stem ("normal" in "normalised", "dilat" in "morphological dilation",
# "mening" in "meninges"): removed before the check so a draft describing the method is not rejected.
_TECHNIQUE_WORDS = re.compile(r"\bnormali[sz]\w*|\b(?:morphological|binary|mask) dilation\b|\bmeninges\b")
SECTIONS = ("Indication", "Technique", "Measurements", "Quality control")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")  # unsigned: "1265 - 1673 mL" is a range
_QUOTE = re.compile(r"[\"“]([^\"”]{4,})[\"”]")
# Said before a quote in its sentence of the notes, these make it a question or a negation: '"history of
# stroke"' cut from "No history of stroke" may not license "stroke".
_NEGATION_OR_QUESTION = re.compile(
    r"\b(?:no|not|non|denies|denied|without|negative for|free of|absence of|rule[sd]? out|r/o|question(?:able)?|"
    r"query|exclude[sd]?|evaluate for|assess for|concern for|suspect(?:ed)?|possible|likely|sin|sans|kein\w*)\b"
    r"|\?"
)
# Where a volume lies against the reference range, in the words drafts use.
_WITHIN = r"\bwithin\b"
_OUTSIDE = r"\boutside\b"
_ABOVE = r"\b(?:above|exceed\w*|higher than|greater than|larger than|over)\b"
_BELOW = r"\b(?:below|under|lower than|less than|smaller than|short of)\b"
# Phrases of the prompt itself: a draft that contains them echoed the instructions.
_INSTRUCTION_PHRASES = (
    "write:",
    "after the volume, write",
    "fill in this outline",
    "one or two sentences each",
    "your previous draft",
    "write it again",
    "use only the facts",
    "quote the notes verbatim",
    "at most 120 words",
    "you draft brain mri reports",
)
# How the indication or question lines of referral notes start.
_INDICATION_START = re.compile(
    r"(indication|reason|clinical|history|question|rule[sd]? out|r/o|evaluate|assess|referred for|query)", re.I
)
_REFERRAL = re.compile(r"(referred by|referral from|referral by|requested by|ordered by|request from)\b", re.I)
# A form field alone on its line ("Sex: F", "Age: 62"): demographics, no reason for the scan.
_FIELD_ONLY = re.compile(r"(?:sex|gender|age|name|dob|mrn|sexo|edad|geschlecht|alter|sexe|âge)\s*:\s*\S{1,15}\.?$", re.I)
# Letter and form lines that are no reason for the scan.
_BOILERPLATE = re.compile(
    r"(dear\b|thank|thanks\b|kind regards|best regards|regards\b|yours\b|many thanks|please (?:scan|book|see|call|"
    r"contact)|allerg|creatinine|egfr|labs?\b|medications?\b|meds\b|current meds)",
    re.I,
)
# A sentence of identifiers: it names the patient's records, not the reason for the scan.
_IDENTIFIERS = re.compile(
    r"\b(?:mrn|dob|d\.o\.b|date of birth|nhs|nhc|ipp|acc(?:ession)?\s*(?:#|no\b|nr\b)|patient id|pt id|"
    r"pat\.?-?nr|hospital (?:no|number)|case (?:no|number)|fecha de nacimiento|geb\.?(?:urtsdatum)?)|\bid\s*[:#]|"
    r"\b(?:study|subject|patient|pt|case)\s+id\b|"
    r"^(?:pt|patient|name|nombre|paciente)\s*:",
    re.I,
)
# Abbreviations a sentence does not end at ("Dr. Patel", "58 y.o. male").
_ABBREVIATION_END = re.compile(
    r"(?:\b(?:dr|mr|mrs|ms|prof|st|pt|vs|approx|hx|dx|e\.g|i\.e|y\.o|m\.o|nr|pat|z\.n|j)|\b[ym]\.\s?o)\.$", re.I
)
# The patient's relatives: an age or sex said after one in a sentence is theirs ("Her mother (45 years old)").
_RELATIVE = re.compile(
    r"\b(?:(?:step|half|great)-?)?(?:mother|father|mum|mom|dad|parents?|sister|brother|siblings?|sons?|daughters?|"
    r"wife|husband|spouse|partner|child(?:ren)?|grand(?:mother|father|parents?|son|daughter|ma|pa)|granny|aunt|"
    r"uncle|cousin|niece|nephew|twin|family|relatives?|guardian|fhx|neighbou?r|friend|carer|caregiver|witness|"
    r"bystander|"
    # es/fr/de: "su mujer" (his wife), "sa femme", "seine Frau", "su hijo de 45 años"
    r"(?:su|sus)\s+(?:mujer|esposa|esposo|marido|hij[oa]s?|madre|padre|herman[oa]s?)|"
    r"(?:sa|son|ses)\s+(?:femme|mari|m[èe]re|p[èe]re|fils|fille|fr[èe]re|s[œo]eur)|"
    r"(?:seine[rn]?|ihre[rn]?|ihrem|seinem)\s+(?:frau|mann|mutter|vater|sohn|tochter|bruder|schwester))\b",
    re.IGNORECASE,
)
# A relative with the age said before the word: "Her 45-year-old mother" is about the mother from the age on.
_RELATIVE_WITH_AGE = re.compile(
    rf"(?:\b\d{{1,3}}[- ]?(?:years?|yrs?|y)[- ]?(?:old|o)\b[\s,-]*)?{_RELATIVE.pattern}", re.IGNORECASE
)

SYSTEM_PROMPT = (
    "You draft brain MRI reports for a radiologist, who will edit and sign them. Use ONLY the facts and the "
    "clinical notes given. Never state a finding, diagnosis or number that is not in them. Quote the notes "
    "verbatim in double quotes when you use them; the Indication quotes the reason for the scan from the notes. "
    "Write plain text with exactly these headings: Indication, Technique, Measurements, Quality control. At most "
    "120 words."
)


class ChatLike(Protocol):
    def generate(self, messages: Sequence[dict[str, str]], **options: Any) -> str: ...


class DraftReport(BaseModel):
    """What ``genai radiology report --json`` prints."""

    label: str = DRAFT_LABEL
    draft: bool = True
    text: str
    written_by: Literal["llm", "llm-retry", "template"]
    notes_quoted: list[str]
    age: int | None
    sex: Literal["male", "female"] | None
    reference_range_ml: list[float] | None
    reference: str | None
    brain_volume_ml: float
    check_problems: list[str]


# ---------------------------------------------------------------- helpers


_AGE = (
    r"(\d{1,3})(?:[- ]?(?:years?|yrs?|y)[- ]?(?:old|o\b|/o\b)|\s*(?:yo|y/o|y\.\s?o\.?)(?!\w)"
    r"|-?j(?:ä|ae)hrige[rn]?\b|\s*jahre\s+alt\b)"
)
_SEX_WORD = r"(?:female|male|woman|man|lady|gentleman|girl|boy)"
# "45y female", "45 yrs, F": a bare "y"/"years" is an age only right before the sex, at the start of a line
# (or after "Pt"/"Patient"): elsewhere it is a duration ("headache x 30 years, F", "smoker 30 years, male").
_AGE_BEFORE_SEX = (
    r"(?:^|(?<=^pt )|(?<=^patient )|(?<=^patient, )|(?<=^pt: )|(?<=^patient: ))"
    rf"(\d{{1,3}})\s*(?:years?|yrs?|y)\b(?=\s*,?\s*(?:{_SEX_WORD}|[mf])\b(?!\s*/))"
)
# es/fr/it: "mujer de 54 años", "homme de 62 ans", "donna di 54 anni": after a word for the person; "tabaquismo de
# 40 años", "desde hace 30 años" or "cefalea de 3 años de evolución" are durations.
_AGE_WITH_DE = (
    r"\b(?:mujer|hombre|var[oó]n|paciente|niñ[oa]|señora|señor|chic[oa]|homme|femme|patiente?|enfant|garçon|fille|"
    r"monsieur|madame|donna|uomo|bambin[oa]|ragazz[oa])(?:\s+\w+){0,2}?\s+(?:de|di)\s+(\d{1,3})\s*"
    r"(?:años|anos|ans|anni)\b(?!\s+d[e']\s*(?:evoluci|duraci|durée|évolution))"
)
# "M"/"F" is a sex only right after an age ("54-year-old F", "54 yo m", "54 F", "56 f"; "a 6 m history" is six
# months) and never before a slash: "F/U" is follow-up.
_AGE_THEN_LETTER = (
    re.compile(rf"\b{_AGE}\s*,?\s*([mf])\b(?!\s*/)", re.IGNORECASE),
    # a bare number only at a line's start or after an age/sex label: "CRP 45, M 80" is a lab row; "36 M.O." months
    re.compile(
        r"(?:^|\b(?i:pt|patient|age|sex|age/sex|sex/age)\s*[:/]?\s*)(\d{1,3})\s*,?\s*([MFf])\b(?!\s*/)"
        r"(?!\.?\s?[oO]\b|\.?\s+old\b)(?!\s*(?i:chest|drain|ng|ngt|foley|cath\w*|tube|sheath|cannula|fr)\b)",
        re.MULTILINE,
    ),
    re.compile(rf"\b{_AGE_BEFORE_SEX}\s*,?\s*([mf])\b(?!\s*/)", re.IGNORECASE | re.MULTILINE),
)
# A number followed by a unit other than years is a child's age in months, weeks or days ("aged 30 months",
# "Female, 30 days old"): never read as years, which would set an adult reference range.
_NOT_YEARS = (
    r"(?i:(?![\s(-]*(?:(?:months?|mths?|mnths?|mon|mons|mos?|m|weeks?|wks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|"
    r"seconds?|secs?|kg|kgs|lbs?|mg|pack|packs|cigarettes?|pence|meses|monate[n]?|"
    r"mois|mesi|semanas?|wochen|semaines?|settimane|d[ií]as|tage[n]?|jours?|giorni)\b(?!\s*/)|units?\b|m\.\s?o\b|m/o|w/o|d/o|"
    r"/(?:12|52)\b)))"
)
# M/F also counts right before a two- or three-digit age at the start of a line or after a sex/age label:
# "F 54", "Sex/age: M, 62 y", "Pt F 54", "f 54"; not "M1" (an artery segment), "F/U", "Ward: F 12", "Dose: F 50".
_LETTER_THEN_AGE = re.compile(
    r"(?:^|(?:\b(?:sex|gender|age|sex/age|age/sex|pt|patient)\s*[:/]?\s*))(?P<sex>[MF])\s*[,\s]\s*"
    r"(?P<age>\d{2,3})(?:\s*(?:years?|yrs?|y)\b)?(?![.,:/]\d)"
    rf"(?!\s*(?:mm|cm|ml|mg|kg|lbs?|%)){_NOT_YEARS}",
    re.MULTILINE | re.IGNORECASE,
)
# An age said after these is the age at an event ("diagnosed with MS aged 28"), not the patient's age now.
_AT_AN_EVENT = re.compile(r"\b(?:diagnos\w*|onset|since|began|started|first)\b[^.\n]*$", re.IGNORECASE)
_CHILD = re.compile(
    r"\b(?:boy|girl|child|infant|toddler|neonate|newborn|niñ[oa]|bebé|junge|mädchen|säugling|enfant|"
    r"garçon|fille|bébé|bambin[oa])\b"
)
# Pronouns (not "HE", hepatic encephalopathy), counted only in sentences that name no clinician ("Dr Lee: he will
# follow up" is about the doctor).
_SHE = re.compile(r"\b(?:[Ss]he|[Hh]er|[Hh]ers|[Hh]erself)\b")
_HE = re.compile(r"\b(?:[Hh]e|[Hh]im|[Hh]is|[Hh]imself)\b")
_CLINICIAN = re.compile(
    r"\b(?:dr|doctor|nurse|gp|consultant|colleague|physician|neurologist|surgeon|referr\w*|paramedics?|staff|"
    r"registrar|sho|attending|oncologist|neurosurgeon|radiologist|chaperone|interpreter|translator|social worker)\b",
    re.I,
)
_FEMALE = re.compile(
    r"\b(?:female|woman|lady|girl|(?:sex|gender)\s*[:=]\s*f|sex-f|mujer|femenin[oa]|paciente\s+femenina|weiblich|patientin|"
    r"patiente|une femme|femme de \d|féminin|feminin)\b"
)
_MALE = re.compile(
    r"\b(?:male|man|gentleman|boy|(?:sex|gender)\s*[:=]\s*m|sex-m|hombre|var[oó]n|masculino|m(?:ä|ae)nnlich|homme|masculin|"
    r"uomo)\b"
)


def _about_the_patient(notes: str) -> str:
    """The notes with each sentence cut where a relative is named: what follows is about them."""
    return "\n".join(_RELATIVE_WITH_AGE.split(sentence, maxsplit=1)[0] for sentence in _sentences(notes))


def parse_age_sex(notes: str) -> tuple[int | None, Literal["male", "female"] | None]:
    """Age in years and sex, only when the notes state them plainly ("54-year-old woman", "Age: 54", "54 F",
    "56 y.o. female", "mujer de 54 años", "54-jährige Patientin"); a letter M/F counts only right after an
    age, so "a 6 m history" says nothing about sex. What is said of a relative ("her mother, 45") is left
    out, and two different ages give none: a wrong reference range is worse than none."""
    notes = _about_the_patient(notes)
    age_patterns = (
        re.compile(rf"\b{_AGE}", re.IGNORECASE),
        re.compile(rf"\b{_AGE_BEFORE_SEX}", re.IGNORECASE | re.MULTILINE),
        re.compile(_AGE_WITH_DE, re.IGNORECASE),
        re.compile(
            r"(?<!since )(?<!at )(?<!onset )(?<!diagnosed )(?<!estimated )(?<!from )(?<!until )"
            rf"\b(?:age[d]?|edad|alter|âge)\s*[:=]?\s*(\d{{1,3}})(?:\s*(?:years?|yrs?|y)\b|\b)(?!\s*-\s*\d){_NOT_YEARS}",
            re.IGNORECASE,
        ),
        _AGE_THEN_LETTER[1],
        re.compile(  # "Female, 47", "female 54y"
            rf"\b{_SEX_WORD}\s*,?\s*(\d{{1,3}})(?:\s*(?:years?|yrs?|y)\b|\b)(?![.,:/]\d)"
            rf"(?!\s*(?:mm|cm|ml|%)){_NOT_YEARS}",
            re.IGNORECASE,
        ),
        _LETTER_THEN_AGE,
    )
    ages = {
        int(m["age"] if "age" in pattern.groupindex else m[1])
        for pattern in age_patterns
        for m in pattern.finditer(notes)
        if not _AT_AN_EVENT.search(notes[max(0, m.start() - 30) : m.start()])
    }
    age = ages.pop() if len(ages) == 1 else None
    lowered = notes.lower()
    if age is not None and age >= 18 and _CHILD.search(lowered):  # "Boy, 36 M." is 36 months, not years
        age = None
    letters = {m.group(2).upper() for pattern in _AGE_THEN_LETTER for m in pattern.finditer(notes)}
    letters |= {m["sex"].upper() for m in _LETTER_THEN_AGE.finditer(notes)}
    # pronouns only in sentences, sex words only in clauses, that name no clinician or helper ("Dr Lee: he will
    # follow up", "Chaperone: female nurse"; but "Referred by Dr Mann: 54 yo woman" is about the patient)
    about_patient = "\n".join(s for s in _sentences(notes) if not _CLINICIAN.search(s))
    fields = re.sub(r"\b(?:sex|gender)\s*[:=]\s*([mf])\b", r"sex-\1", notes, flags=re.I)  # kept whole below
    clauses = [c for s in _sentences(fields) for c in re.split(r"[:;,]", s) if not _CLINICIAN.search(c)]
    female = _FEMALE.search("\n".join(clauses).lower()) or "F" in letters
    male = _MALE.search("\n".join(clauses).lower()) or "M" in letters
    sex: Literal["male", "female"] | None = None
    # pronouns only cast doubt ("45 y/o male ... She reports aura"), never give the sex: they may be anyone's
    if female and not male and not _HE.search(about_patient):
        sex = "female"
    elif male and not female and not _SHE.search(about_patient):
        sex = "male"
    return (age if age is not None and 0 < age < 120 else None), sex


def reference_range(age: int | None, sex: str | None) -> tuple[float, float] | None:
    """Mean ± 2 SD intracranial volume for the sex, only within the study's age range; else None."""
    if age is None or sex not in REFERENCE_MEAN_SD_ML:
        return None
    if not REFERENCE_AGE_RANGE[0] <= age <= REFERENCE_AGE_RANGE[1]:
        return None
    mean, sd = REFERENCE_MEAN_SD_ML[sex]
    return mean - 2 * sd, mean + 2 * sd


def _sentences(notes: str) -> list[str]:
    sentences: list[str] = []
    for line in re.split(r"\n+", notes):
        for piece in re.split(r"(?<=[.!?])\s+", line.strip()):
            if sentences and sentences[-1] and _ABBREVIATION_END.search(sentences[-1]):
                sentences[-1] += " " + piece
            else:
                sentences.append(piece)
        sentences.append("")  # a line break always ends a sentence
    return [s.strip() for s in sentences if len(s.strip()) > 3]


def age_sex_quotes(notes: str) -> list[str]:
    """The sentences of the notes that state the age or sex, so the draft can show where its reference came from."""
    return [s for s in _sentences(notes) if parse_age_sex(s) != (None, None)]


def indication_quotes(notes: str, limit: int = 4) -> list[str]:
    """Sentences of the notes worth quoting, in their order: the explicit indication/question lines with their
    context (the first sentence about the patient and the ones just before the question: "F/U post resection
    of L temporal GBM", "Lung cancer. Staging."), else the first sentences. Sentences that are only
    identifiers (MRN, DOB, NHS number, a name), form fields alone ("Sex: F"), referral lines and letter or lab
    boilerplate are no indication."""
    sentences = [
        s for s in _sentences(notes) if not (_BOILERPLATE.match(s) or _FIELD_ONLY.match(s) or _only_identifiers(s))
    ]
    keyed = [s for s in sentences if _INDICATION_START.match(s)]
    if not keyed:
        return [s for s in sentences if not _REFERRAL.match(s)][: limit - 1]
    others = [s for s in sentences if s not in keyed and not _REFERRAL.match(s)]
    before = [s for s in others if sentences.index(s) < sentences.index(keyed[0])]
    questions = keyed[: max(1, limit - min(len(others), 2))]
    room = limit - len(questions)
    context = list(dict.fromkeys(before[:1] + before[len(before) - room + 1 :] if room > 1 else before[:1]))
    context = (context or others[:1])[:room]
    return sorted(context + questions, key=sentences.index)


def _only_identifiers(sentence: str) -> bool:
    """A sentence that names the patient's records and nothing clinical: it has an identifier and no lower-case
    word of four or more letters once names and codes are left aside ("Pt: John SMITH, DOB 03/02/1961")."""
    if not _IDENTIFIERS.search(sentence) or _INDICATION_START.search(sentence) or "?" in sentence:
        return False
    return not [w for w in re.findall(r"\b[a-zà-ÿ]{4,}\b", sentence) if w not in _STOPWORDS]


def _numbers(text: str) -> set[float]:
    values = set()
    for token in _NUMBER.findall(text):
        try:
            values.add(round(float(token.replace(",", "")), 1))
        except ValueError:
            continue
    return values


def _allowed_numbers(facts: dict[str, Any], notes: str) -> set[float]:
    allowed = _numbers(notes) | _numbers(REFERENCE_CITATION)
    for value in _flatten(facts):
        if isinstance(value, int | float) and not isinstance(value, bool):
            allowed |= {round(float(value), 1), float(round(value))}
        elif isinstance(value, str):
            allowed |= _numbers(value)
    allowed |= {1.0, 2.0, 3.0}  # "three planes", "2 SD", list numbering
    return allowed


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [item for v in value.values() for item in _flatten(v)]
    if isinstance(value, list | tuple):
        return [item for v in value for item in _flatten(v)]
    return [value]


def _normalise(text: str) -> str:
    """Lower case, one space, and double quotes as single ones (the template quotes a sentence that quotes)."""
    return re.sub(r"\s+", " ", text).strip().lower().replace('"', "'").replace("“", "'").replace("”", "'")


def check_draft(draft: str, facts: dict[str, Any], notes: str) -> list[str]:
    """Problems with a draft: numbers not from notes/measurements, non-verbatim quotes, finding terms outside a
    verbatim quotation of the notes, missing sections, an indication not quoted from the notes, a missing volume,
    and a reference range (when the notes give age and sex) left out or contradicted."""
    problems = []
    stray = sorted(_numbers(draft) - _allowed_numbers(facts, notes))
    if stray:
        problems.append(f"numbers not in the notes or measurements: {', '.join(f'{n:g}' for n in stray)}")
    source = _normalise(notes + " " + " ".join(str(v) for v in _flatten(facts)))
    bad_quotes = [q for q in _QUOTE.findall(draft) if _normalise(q) not in source]
    if bad_quotes:
        problems.append(f"quotes not found verbatim in the notes: {bad_quotes[:3]}")
    lowered_draft = draft.lower()
    facts_text = _normalise(" ".join(str(v) for v in _flatten(facts)))
    whole_sentences = {_normalise(sentence).rstrip(".!;: ") for sentence in _sentences(notes)}

    def drop_verbatim_quote(match: re.Match[str]) -> str:
        """A quote of a whole sentence of the notes keeps its context, whatever it says ("?infarct.", "Her
        mother had a glioblastoma."); a shorter one licenses nothing if it is cut from a negation, a question
        or a relative's history."""
        quoted = _normalise(match.group(1))
        if quoted.rstrip(".!;: ") in whole_sentences:
            return " "
        whole = len(quoted.split()) >= MIN_QUOTE_WORDS and quoted in source
        return " " if whole and not _cut_from_context(quoted, notes) else match[0]

    unquoted = _TECHNIQUE_WORDS.sub(" ", _QUOTE.sub(drop_verbatim_quote, lowered_draft))
    invented = [t for t in FINDING_TERMS if t in unquoted and t not in facts_text]
    invented += sorted({m for m in _TUMOUR_NAME.findall(unquoted) if m not in facts_text} - set(invented))
    invented += sorted(set(_ANSWER_WORDS.findall(unquoted)) - set(invented))
    invented += _answers_to_the_question(unquoted, notes)
    if invented:
        problems.append(f"findings not supported by the notes: {', '.join(invented)}")
    echoed = [phrase for phrase in _INSTRUCTION_PHRASES if phrase in lowered_draft and phrase not in notes.lower()]
    if echoed:
        problems.append(f"it repeats the instructions instead of following them: {echoed[0]!r}")
    missing = [h for h in SECTIONS if h.lower() not in lowered_draft]
    if missing:
        problems.append(f"missing sections: {', '.join(missing)}")
    if "indication" in lowered_draft and not _indication_from_notes(lowered_draft, _normalise(notes)):
        problems.append(
            'the Indication does not quote the notes in double quotes (or say "not given in the notes")'
        )
    volume = facts.get("brain_mask_volume_ml")
    if volume is not None and not {round(float(volume), 1), float(round(volume))} & _numbers(draft):
        problems.append(f"the measured brain mask volume ({volume:g} mL) is not stated")
    if "reference_range_ml" in facts:
        problems += _reference_problems(_QUOTE.sub(" ", lowered_draft), facts)  # quoted notes say nothing
    elif _RANGE_CLAIM.search(unquoted):
        problems.append(
            "it compares the volume with a reference or normal range, but none applies here (no age and sex in "
            "the notes, an age outside the study's, or a field of view that cuts the brain)"
        )
    return problems


def _answers_to_the_question(unquoted: str, notes: str) -> list[str]:
    """The draft negates a word of the notes' question or an abbreviation the notes use ("No SAH." for "r/o
    SAH/bleed", "No structural cause." for "Question: structural cause?"): it answers what the radiologist is to
    answer."""
    questions = " ".join(s for s in _sentences(notes) if "?" in s or _INDICATION_START.match(s))
    words = {w.lower() for w in re.findall(r"\b[A-Z][A-Z0-9]{1,5}\b", notes)}  # abbreviations: SAH, DAI, MS
    words |= {w for w in re.findall(r"[a-z]{4,}", questions.lower()) if w not in _STOPWORDS}
    words -= {"question", "query", "rule", "evaluate", "assess", "indication", "reason", "clinical", "history"}
    words -= {"age", "sex", "range", "name", "notes", "state", "given", "both", "reference"}  # the template's own
    return sorted(
        f"no {word}"
        for word in words
        if re.search(rf"{_NEGATOR}(?:\W+\w+){{0,2}}?\W+{re.escape(word)}\b", unquoted)
    )


def _cut_from_context(quoted: str, notes: str) -> bool:
    """The quote leaves out a negation or question said before it in its sentence of the notes ('"history of
    stroke"' from "No history of stroke", '"mass"' from "Rule out mass"), or its sentence names a relative
    ('"had a glioblastoma"' from "Her mother had a glioblastoma", '"history of glioblastoma"' from "History of
    glioblastoma in her mother"): what it says is then not a finding of the patient's."""
    return any(
        _NEGATION_OR_QUESTION.search(sentence[: found.start()]) or _RELATIVE.search(sentence)
        for sentence in map(_normalise, _sentences(notes))
        for found in re.finditer(re.escape(quoted), sentence)
    )


def _indication_from_notes(lowered_draft: str, notes: str) -> bool:
    """The Indication section quotes the notes verbatim, or says they give none: an indication in the model's own
    words ("automated skull stripping") is invented."""
    others = "|".join(re.escape(h.lower()) for h in SECTIONS if h != "Indication")
    section = re.search(rf"indication\s*:?(.*?)(?:\b(?:{others})\s*:|$)", lowered_draft, re.DOTALL)
    text = section.group(1) if section else ""
    if re.search(r"\bnot (?:given|stated|provided)\b", text):
        return True
    return any(_normalise(quote) in notes for quote in _QUOTE.findall(text))


def _reference_problems(lowered_draft: str, facts: dict[str, Any]) -> list[str]:
    """With a reference range in the facts, the draft states it and where the volume falls, and not the opposite."""
    low, high = facts["reference_range_ml"]
    problems = []
    if not {float(low), float(high)} <= _numbers(lowered_draft):
        problems.append(f"the reference range ({low}-{high} mL) is not stated")
    position = facts["volume_vs_reference"].split()[0]  # "within" / "outside"
    beyond, other_side = (_ABOVE, _BELOW) if float(facts["brain_mask_volume_ml"]) > high else (_BELOW, _ABOVE)
    # "outside" may be said the way a radiologist says it, in the direction it is ("above the range")
    said, wrong = (
        (_WITHIN, [_OUTSIDE, _ABOVE, _BELOW]) if position == "within" else (f"{_OUTSIDE}|{beyond}", [_WITHIN, other_side])
    )
    if not re.search(said, lowered_draft):
        problems.append(f"it does not say the volume is {facts['volume_vs_reference']}")
    if any(re.search(rf"(?:{pattern})(?:\W+\w+){{0,3}}?\W+(?:reference|normal)", lowered_draft) for pattern in wrong):
        claim = "outside" if position == "within" else "within or on the other side of"
        direction = "" if position == "within" else (", above it" if beyond is _ABOVE else ", below it")
        problems.append(f"it says the volume is {claim} the reference range; it is {position}{direction}")
    return problems


def build_facts(report: StripReport, age: int | None, sex: str | None) -> dict[str, Any]:
    """The measurements the draft may use, as the model sees them. No reference range when the mask meets the
    field of view's edge: the volume is then an underestimate, not a small brain."""
    low_high = None if report.edges_reached else reference_range(age, sex)
    facts: dict[str, Any] = {
        "examination": "brain MRI, automated skull stripping",
        "engine": report.engine,
        "modality": report.input.get("modality") or "not stated (NIfTI input)",
        "voxel_spacing_mm": report.spacing_mm,
        "matrix": report.shape,
        "brain_mask_volume_ml": report.brain_volume_ml,
        "volume_meaning": report.volume_note,
        "qc_warnings": report.warnings or ["none"],
    }
    if report.edges_reached:
        facts["reference_withheld"] = "the brain mask reaches the edge of the field of view, so the volume is an underestimate"
    if low_high is not None:
        facts["reference_range_ml"] = [round(low_high[0]), round(low_high[1])]
        facts["reference"] = f"intracranial volume, {sex}, mean ± 2 SD, {REFERENCE_CITATION}"
        position = "within" if low_high[0] <= report.brain_volume_ml <= low_high[1] else "outside"
        facts["volume_vs_reference"] = f"{position} the reference range"
    return {k: v for k, v in facts.items() if v is not None}


def _inner_quotes(text: str) -> str:
    """Double quotes inside a quoted sentence become single ones, so the quotation does not end early."""
    return text.replace('"', "'").replace("“", "'").replace("”", "'")


def template_draft(facts: dict[str, Any], quotes: list[str]) -> str:
    """The deterministic draft: used when the LLM's drafts fail the checks (or there is no LLM)."""
    spacing = " x ".join(f"{s:g}" for s in facts["voxel_spacing_mm"])
    indication = " ".join(f'"{_inner_quotes(q)}"' for q in quotes) if quotes else "not given in the notes."
    lines = [
        f"Indication: {indication}",
        f"Technique: {facts['examination']} ({facts['engine']}); modality {facts['modality']}; voxel spacing "
        f"{spacing} mm; matrix {' x '.join(str(n) for n in facts['matrix'])}.",
        f"Measurements: brain mask volume {facts['brain_mask_volume_ml']:g} mL ({facts['volume_meaning']}).",
    ]
    if "reference_range_ml" in facts:
        low, high = facts["reference_range_ml"]
        lines.append(f"Reference: {low}-{high} mL ({facts['reference']}); {facts['volume_vs_reference']}.")
    elif "reference_withheld" in facts:
        lines.append(f"Reference: no range given ({facts['reference_withheld']}).")
    else:
        lines.append(
            "Reference: no range given (the notes do not state both age and sex, or age is outside 24-80)."
        )
    lines.append(f"Quality control: {'; '.join(facts['qc_warnings'])}")
    return "\n".join(lines)


def _messages(facts: dict[str, Any], notes: str, problems: list[str]) -> list[dict[str, str]]:
    import json

    user = f"FACTS (measured):\n{json.dumps(facts, indent=1, ensure_ascii=False)}\n\nCLINICAL NOTES:\n{notes.strip()}"
    user += "\n\nFill in this outline, one or two sentences each:\n" + "\n".join(f"{h}:" for h in SECTIONS)
    if "reference_range_ml" in facts:
        low, high = facts["reference_range_ml"]
        user += (
            f"\nIn Measurements, after the volume, write: reference range {low}-{high} mL, "
            f"{facts['volume_vs_reference']}."
        )
    if problems:
        user += (
            "\n\nYour previous draft was rejected: " + "; ".join(problems) + ". Write it again without them."
        )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# PUBLIC API


def draft_report(
    report: StripReport, notes: str, chat_model: ChatLike | None, *, max_new_tokens: int = 320
) -> DraftReport:
    """A structured draft from the measurements and notes; LLM first, checked, template as the last resort."""
    age, sex = parse_age_sex(notes)
    facts = build_facts(report, age, sex)
    quotes = indication_quotes(notes)
    problems: list[str] = []
    text, written_by = "", "template"
    if chat_model is not None and notes.strip():
        for attempt in ("llm", "llm-retry"):
            candidate = chat_model.generate(
                _messages(facts, notes, problems), max_new_tokens=max_new_tokens
            ).strip()
            problems = check_draft(candidate, facts, notes)
            if not problems:
                text, written_by = candidate, attempt
                break
    if text:  # what the accepted LLM draft itself quoted (check_draft made sure it is verbatim)
        quotes = [q.strip() for q in _QUOTE.findall(text)]
    else:
        text = template_draft(facts, quotes)
    low_high = facts.get("reference_range_ml")
    if low_high:  # the reference range rests on the age and sex the notes state
        quotes += [q for q in age_sex_quotes(notes) if q not in quotes]
    return DraftReport(
        text=f"{DRAFT_LABEL}\n\n{text}\n\nNotes used: " + (" ".join(f'"{q}"' for q in quotes) or "none"),
        written_by=written_by,  # type: ignore[arg-type]
        notes_quoted=quotes,
        age=age,
        sex=sex,
        reference_range_ml=[float(v) for v in low_high] if low_high else None,
        reference=facts.get("reference"),
        brain_volume_ml=report.brain_volume_ml,
        check_problems=problems,
    )
