"""Draft report: age/sex parsing, reference range, the post-check, retry and template fallback. A scripted fake
chat model drives the branches; one slow test uses the packaged local LLM (genai_models registry)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domains.radiology.pipeline import StripReport
from domains.radiology.report import (
    build_facts,
    check_draft,
    draft_report,
    indication_quotes,
    parse_age_sex,
    reference_range,
    template_draft,
)

NOTES = "Indication: progressive headaches for 3 weeks. 62-year-old man. Question: structural cause?"


class ScriptedChat:
    def __init__(self, replies: list[str]) -> None:
        self.replies, self.calls = list(replies), []

    def generate(self, messages: Sequence[dict[str, str]], **options: object) -> str:
        self.calls.append(messages)
        return self.replies.pop(0)


@pytest.fixture
def strip_report() -> StripReport:
    return StripReport(
        engine="deepbet",
        device="cpu",
        seconds=2.2,
        brain_volume_ml=1502.4,
        spacing_mm=[1.0, 1.0, 1.2],
        shape=[176, 240, 256],
        orientation="LPS",
        input={"format": "dicom", "modality": "MR"},
        warnings=[],
        outputs={},
    )


@pytest.mark.parametrize(
    ("notes", "age", "sex"),
    [
        ("62-year-old man with headaches", 62, "male"),
        ("Age: 45. Sex: F.", 45, "female"),
        ("54 F, seizures", 54, "female"),
        ("Patient with headaches.", None, None),
        ("The man and the woman were both present", None, None),
        # review: "6 m" is months, not male; common and non-English forms
        ("Indication: 60-year-old patient with a 6 m history of headache.", 60, None),
        ("56 y.o. female", 56, "female"),
        ("54 yo F, dizziness", 54, "female"),
        ("Headache for 2 m. Age: 47. Female.", 47, "female"),
        ("Mujer de 54 años con cefalea", 54, "female"),
        ("54-jährige Patientin mit Kopfschmerz", 54, "female"),
        ("Homme de 62 ans", 62, "male"),
        # second review: follow-up, durations in other languages, surnames, lower-case f
        ("Indication: 62-year-old, F/U of meningioma after resection.", 62, None),
        ("58 yo male. Post-op day 2, F/U scan", 58, "male"),
        ("Epilepsia desde hace 30 años. Mujer de 85 años.", 85, "female"),
        ("Cefalea de 3 años de evolución. Mujer de 45 años.", 45, "female"),
        ("Céphalées depuis 2 ans. Homme de 58 ans.", 58, "male"),
        ("Referred by Dr Mann: 54 yo woman", 54, "female"),
        ("Dr Donna Lee requests MRI. 62 year old man", 62, "male"),
        ("pt 72 f with falls", 72, "female"),
        # third review: a relative's age or sex is not the patient's; two ages give none; "Gender: F"
        ("Age: 16. Female.\nClinical history: headaches. Her mother (45 years old) has migraines.", 16, "female"),
        ("Age: 47. Female. Mother died of a stroke at 85 years old.", 47, "female"),
        ("Female, 47. Daughter is a 20-year-old student.", 47, "female"),
        ("Female, 47. Son is a 20 year-old male.", 47, "female"),
        ("Age: 54. Seizures since age 50.", 54, None),  # an age at an event is not the patient's age
        ("Gender: F. Age 60", 60, "female"),
        # review: a child's age in months, weeks or days is no age in years (an adult range followed)
        ("Age: 30 months. Girl with macrocephaly.", None, "female"),
        ("Female, 30 days old.", None, "female"),
        ("Boy aged 36 months.", None, "male"),
        ("Age 40 weeks, female neonate.", None, "female"),
        ("Edad: 3 meses.", None, None),
        # second review: other spellings of a child's age, and a relative's age before the word
        ("Age: 30 mths. Female.", None, "female"),
        ("Age: 36/12, female", None, "female"),
        ("Female, 30 d old", None, "female"),
        ("Age: 30 m.o. female", None, "female"),
        ("Patient is a 6-week-old girl. Her 45-year-old mother reports seizures.", None, "female"),
        ("Girl. Her grandma (62 years old) is here.", None, "female"),
        ("Age: 54 M", 54, "male"),
        # review: terse forms ("45y", a letter before the age); a bare "years" before the sex only as an age
        ("45y female with headache", 45, "female"),
        ("Pt 45yrs, F", 45, "female"),
        ("F 54, headache", 54, "female"),
        ("Sex/age: M, 62 y", 62, "male"),
        ("f 54 seizures", 54, "female"),
        ("female 54y", 54, "female"),
        ("age 45y", 45, None),
        ("Headache for 3 years, female patient.", None, "female"),
        ("Occlusion of the M1 segment. Female.", None, "female"),
        ("F/U of a 12 mm lesion. Male.", None, "male"),
        ("Pt F 54 with falls", 54, "female"),
        ("Ward F 12. Headache.", None, None),  # a place, not a sex and age
        # second review: durations before the sex, codes and doses after a colon, months and weeks, lab rows,
        # "kind"/"baby" in English, pronouns about clinicians, HE (hepatic encephalopathy)
        ("Headaches x 30 years, F", None, None),
        ("Smoker 30 years. Male, headache.", None, "male"),
        ("HIV 25y, male, new confusion", None, "male"),
        ("Ward: M 45, headache", None, None),
        ("Dose: F 50", None, None),
        ("F 54 kg", None, None),
        ("F 36 M.O.", None, None),
        ("F 30m", None, None),
        ("F 40 w", None, None),
        ("Labs: CRP 45, M 80", None, None),
        ("54 yo man. Thank you for your kind referral.", 54, "male"),
        ("45yo M on baby aspirin", 45, "male"),
        ("54 yo F. Dr Lee: he will follow up.", 54, "female"),
        ("62 yo F with HE", 62, "female"),
        ("Patient, 45 years, male", 45, "male"),
        ("Headache. 45y female", 45, "female"),  # each sentence is a line: "at a line's start" holds for it
        ("Seizures. Pt 45yrs, F", 45, "female"),
        # third review: sex words of other languages that mean wife or Mrs, bystanders' pronouns, numbers that
        # are not ages (minutes, weights, pack-years, an age at an event, a duration "de 40 años", a drain gauge)
        ("Sehr geehrte Frau Kollegin, vielen Dank für die Überweisung des 62-jährigen Patienten.", 62, None),
        ("Patient de 70 ans, amené par sa femme pour confusion.", 70, None),
        ("Paciente de 70 años, traído por su mujer por confusión.", 70, None),
        ("72yo found on floor by carer, she called ambulance.", 72, None),
        ("Discussed with neurosurgeon; she recommends MRI. Age: 55.", 55, None),
        ("Code stroke. Female, 40 mins from LKW.", None, "female"),
        ("Male, 48 h of vomiting", None, "male"),
        ("Female, 65 kg, allergic to contrast.", None, "female"),
        ("Male, 40 pack-year smoker.", None, "male"),
        ("Female. Diagnosed with MS aged 28, now 84.", None, "female"),
        ("Unknown male, estimated age 30-40, found unconscious.", None, "male"),
        ("Mujer. Tabaquismo de 40 años. Cefalea.", None, "female"),
        ("Paciente varón acompañado por su hijo de 45 años.", None, "male"),
        ("Polytrauma.\n28F chest drain R.\nGCS 9.", None, None),
        ("Elderly woman found by 40-year-old neighbour.", None, "female"),
        ("Chaperone: female nurse. 62 yo, confusion.", 62, None),
        ("62 yo, confused. Interpreter (male) present.", 62, None),
        ("Male, 40 units/week EtOH, fall, ?SDH.", None, "male"),
    ],
)
def test_parse_age_sex(notes: str, age, sex) -> None:
    assert parse_age_sex(notes) == (age, sex)


def test_reference_range_only_with_age_and_sex_in_study_range() -> None:
    assert reference_range(62, "male") == (1265.0, 1673.0)
    assert reference_range(None, "male") is None and reference_range(62, None) is None
    assert reference_range(12, "female") is None


def test_no_reference_range_when_the_mask_meets_the_field_of_views_edge(strip_report: StripReport) -> None:
    """A cut brain's volume is an underestimate: "outside the reference range" would read as a small brain."""
    assert "reference_range_ml" in build_facts(strip_report, 62, "male")
    cut = strip_report.model_copy(update={"edges_reached": ["top"], "warnings": ["The brain mask reaches ..."]})
    facts = build_facts(cut, 62, "male")
    assert "reference_range_ml" not in facts and "volume_vs_reference" not in facts
    assert "Reference: no range given (the brain mask reaches the edge of the field" in template_draft(facts, [])


@pytest.mark.parametrize(
    "claim",
    [
        'Indication: "had a glioblastoma at 61."',  # the mother's, cut from her sentence
        'History: "History of glioblastoma"',  # the relative is named after the quote
        "The brain is large for age, suggesting macrocephaly.",
        "Scan looks reassuring.",
        "Brain looks fine.",
        "There is a subdural collection.",
        "A cavernoma is seen.",
        "MS is likely.",
        "Likely raised intracranial pressure.",
        "Appearances are within limits.",
        "Ventricles are large.",
        "Clear brain.",
        # second review
        "Nothing of note; all clear.",
        "Volume appears reduced.",
        "Compatible with an astrocytoma.",
        "A small hygroma.",
        "Possibly a schwannoma.",
    ],
)
def test_findings_in_other_words_and_a_relatives_history_are_caught(
    strip_report: StripReport, claim: str
) -> None:
    """Review: each of these passed the check before."""
    notes = (
        "Indication: headaches for 3 weeks. Her mother had a glioblastoma at 61. History of glioblastoma in her "
        "grandmother."
    )
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "headaches for 3 weeks." Technique: brain MRI. Measurements: brain mask volume 1502.4 mL. '
        f"Quality control: none. {claim}"
    )
    assert check_draft(draft.replace(claim, ""), facts, notes) == []
    assert any("findings not supported" in problem for problem in check_draft(draft, facts, notes))


@pytest.mark.parametrize(
    "claim",
    [
        "The volume is within the reference range for his age and sex.",
        "The volume is below the normal range.",
        "It is normal for her age.",
    ],
)
def test_a_range_comparison_without_a_range_in_the_facts_is_refused(strip_report: StripReport, claim: str) -> None:
    """With no range (no age/sex, a child, a cut field of view) the draft may not compare with one."""
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "progressive headaches for 3 weeks." Technique: brain MRI. Measurements: brain mask volume '
        f"1502.4 mL. {claim} Quality control: none."
    )
    assert any("none applies here" in problem for problem in check_draft(draft, facts, NOTES))
    assert check_draft(template_draft(facts, []), facts, NOTES) == []  # the template says "no range given"


def test_check_flags_invented_numbers_quotes_and_findings(strip_report: StripReport) -> None:
    facts = build_facts(strip_report, 62, "male")
    good = (
        'Indication: "progressive headaches for 3 weeks." Technique: brain MRI. Measurements: brain mask volume '
        "1502.4 mL, within the reference range 1265 - 1673 mL. Quality control: none."
    )
    assert check_draft(good, facts, NOTES) == []
    problems = check_draft(
        'Indication: "sudden headache". Volume 1710 mL. Small lesion in the left lobe.', facts, NOTES
    )
    assert any("1710" in p for p in problems)
    assert any("verbatim" in p for p in problems)
    assert any("lesion" in p for p in problems)
    assert any("missing sections: Technique" in p for p in problems)
    assert any("volume (1502.4 mL) is not stated" in p for p in problems)


@pytest.mark.parametrize(
    "sentence",
    [
        "No acute abnormality.",
        "Normal brain MRI.",
        "Small haematoma.",
        "Enlarged ventricles.",
        "Volume loss.",
        # review: word forms and reassurance the fixed terms missed, and notes' languages
        "Mild generalised atrophic change.",
        "A haemorrhagic focus.",
        "Prominent ventricles; sulcal widening.",
        "Venous sinus thrombosis.",
        "No significant intracranial findings; the study is clear.",
        "Se observa una masa frontal izquierda.",
    ],
)
def test_check_flags_reassurance_and_findings_the_notes_lack(
    strip_report: StripReport, sentence: str
) -> None:
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "progressive headaches for 3 weeks." Technique: brain MRI. Measurements: 1502.4 mL. '
        f"Quality control: {sentence}"
    )
    assert any("findings not supported" in p for p in check_draft(draft, facts, NOTES))
    notes = f"{NOTES} Prior report: {sentence}"
    assert any("findings not supported" in p for p in check_draft(draft, facts, notes))  # said, not quoted
    quoted = draft.replace(sentence, f'"Prior report: {sentence}"')
    assert check_draft(quoted, facts, notes) == []  # quoted verbatim from the notes: may be repeated


@pytest.mark.parametrize(
    "sentence",
    [
        "A mass is present in the left frontal lobe.",
        "The brain appears normal.",
        "No evidence of disease. Healthy brain.",
        "Findings: left-sided glioblastoma.",
        "Significant brain shrinkage for age.",
        'The notes ask to "rule out mass"; a mass is seen.',
    ],
)
def test_notes_that_ask_about_a_finding_do_not_license_stating_it(
    strip_report: StripReport, sentence: str
) -> None:
    notes = "54-year-old woman. Indication: headaches, rule out mass."
    facts = build_facts(strip_report, 54, "female")
    draft = (
        'Indication: "Indication: headaches, rule out mass." Technique: brain MRI. Measurements: 1502.4 mL. '
        f"Quality control: none. {sentence}"
    )
    assert any("findings not supported" in p for p in check_draft(draft, facts, notes))


@pytest.mark.parametrize(
    "sentence",
    [
        'The patient has a "history of stroke".',  # cut from "No history of stroke."
        '"rule out mass" confirmed on this study.',
        "Findings: none identified; no space-occupying process.",
        "Volume within the expected range for an adult.",  # no age/sex in the notes: no range to judge by
        "Volume typical for the patient's age and sex.",
    ],
)
def test_a_quote_cut_from_its_negation_or_question_and_unfounded_ranges_are_flagged(
    strip_report: StripReport, sentence: str
) -> None:
    notes = "Headaches for 3 weeks. No history of stroke.\nQuestion: rule out mass."
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "Question: rule out mass." Technique: brain MRI. Measurements: 1502.4 mL. '
        f"Quality control: none. {sentence}"
    )
    assert any("findings not supported" in p for p in check_draft(draft, facts, notes))
    whole = draft.replace(sentence, '"No history of stroke."')
    assert check_draft(whole, facts, notes) == []  # the whole sentence, negation included, may be quoted


def test_the_indication_is_the_reason_for_the_scan_and_abbreviations_end_no_sentence() -> None:
    notes = (
        "Referred by Dr. Patel. 58 y.o. male with worsening headaches; no history of stroke. Rule out mass.\n"
        "Parking validation is available at the front desk."
    )
    # the first sentence about the patient gives the question its context; the referral line is no indication
    assert indication_quotes(notes) == ["58 y.o. male with worsening headaches; no history of stroke.", "Rule out mass."]
    # "Dr." ends no sentence; the referral line itself is no indication
    assert indication_quotes("Referred by Dr. Patel. 58 y.o. male with confusion.") == ["58 y.o. male with confusion."]


@pytest.mark.parametrize(
    "sentence",
    [
        "Intensities were normalised before stripping.",
        "The mask was refined by morphological dilation.",
        "The mask excludes the skull and the meninges.",
    ],
)
def test_technique_wording_is_not_taken_for_a_finding(strip_report: StripReport, sentence: str) -> None:
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "progressive headaches for 3 weeks." Technique: brain MRI. '
        f"{sentence} Measurements: 1502.4 mL. Quality control: none."
    )
    assert check_draft(draft, facts, NOTES) == []


@pytest.mark.parametrize(
    ("indication", "accepted"),
    [
        ('"progressive headaches for 3 weeks."', True),
        ("not given in the notes.", True),
        ("Automated skull stripping.", False),  # the model's own words: an invented indication
        ('"brain MRI, automated skull stripping"', False),  # quoted from the facts, not the notes
    ],
)
def test_the_indication_comes_from_the_notes(strip_report: StripReport, indication: str, accepted: bool) -> None:
    facts = build_facts(strip_report, None, None)
    draft = f"Indication: {indication}\nTechnique: brain MRI.\nMeasurements: 1502.4 mL.\nQuality control: none."
    problems = check_draft(draft, facts, NOTES)
    assert (problems == []) is accepted, problems


@pytest.mark.parametrize(
    ("measurements", "problem"),
    [
        ("1502.4 mL.", "reference range (1265-1673 mL) is not stated"),
        ("1502.4 mL; reference 1265-1673 mL.", "does not say the volume is within"),
        ("1502.4 mL, outside the reference range 1265-1673 mL; within normal limits.", "says the volume is outside"),
        ("1502.4 mL, above the reference range (1265-1673 mL).", "says the volume is outside"),
    ],
)
def test_a_reference_range_in_the_facts_must_be_stated_right(
    strip_report: StripReport, measurements: str, problem: str
) -> None:
    facts = build_facts(strip_report, 62, "male")
    draft = (
        'Indication: "progressive headaches for 3 weeks."\nTechnique: brain MRI.\n'
        f"Measurements: {measurements}\nQuality control: none."
    )
    assert any(problem in p for p in check_draft(draft, facts, NOTES)), check_draft(draft, facts, NOTES)


def test_template_passes_its_own_check(strip_report: StripReport) -> None:
    facts = build_facts(strip_report, 62, "male")
    assert (
        check_draft(template_draft(facts, ["Indication: progressive headaches for 3 weeks."]), facts, NOTES)
        == []
    )


def test_good_llm_draft_is_kept(strip_report: StripReport) -> None:
    reply = (
        'Indication: "progressive headaches for 3 weeks."\nTechnique: brain MRI, voxel spacing 1 x 1 x 1.2 mm.\n'
        "Measurements: brain mask volume 1502.4 mL, within the reference range 1265-1673 mL.\nQuality control: none."
    )
    chat = ScriptedChat([reply])
    draft = draft_report(strip_report, NOTES, chat)
    assert draft.written_by == "llm" and draft.text.startswith("DRAFT for radiologist review")
    assert reply in draft.text
    # What the draft quoted, then the sentence its age/sex reference range rests on.
    assert draft.notes_quoted == ["progressive headaches for 3 weeks.", "62-year-old man."]
    assert draft.text.endswith('Notes used: "progressive headaches for 3 weeks." "62-year-old man."')
    assert draft.reference_range_ml == [1265.0, 1673.0] and draft.age == 62 and draft.sex == "male"


def test_bad_draft_is_retried_with_the_problems_then_template(strip_report: StripReport) -> None:
    chat = ScriptedChat(["Volume 1800 mL. Atrophy.", "Brain volume 1900 mL, a tumour."])
    draft = draft_report(strip_report, NOTES, chat)
    assert len(chat.calls) == 2 and "rejected" in chat.calls[1][-1]["content"]
    assert draft.written_by == "template" and "1800" not in draft.text and "1900" not in draft.text
    assert "within the reference range" in draft.text and draft.check_problems
    assert draft.notes_quoted == [  # in the notes' order; the age and sex sentence the range rests on included
        "Indication: progressive headaches for 3 weeks.", "62-year-old man.", "Question: structural cause?"
    ]

    retry = (
        'Indication: "progressive headaches for 3 weeks." Technique: MRI. Measurements: 1502 mL, within the '
        "reference range 1265-1673 mL. Quality control: ok"
    )
    chat = ScriptedChat(["Volume 1800 mL.", retry])
    assert draft_report(strip_report, NOTES, chat).written_by == "llm-retry"


def test_no_notes_no_llm_no_range(strip_report: StripReport) -> None:
    chat = ScriptedChat([])
    draft = draft_report(strip_report, "", chat)
    assert draft.written_by == "template" and chat.calls == [] and draft.reference_range_ml is None
    assert "no range given" in draft.text


@pytest.mark.slow
def test_real_local_llm_draft_passes_the_checks(services, strip_report: StripReport) -> None:
    draft = draft_report(strip_report, NOTES, services.chat_model(), max_new_tokens=200)
    assert draft.text.startswith("DRAFT for radiologist review")
    facts = build_facts(strip_report, draft.age, draft.sex)
    body = draft.text.split("\n\n", 1)[1].rsplit("\n\nNotes used:", 1)[0]
    assert check_draft(body, facts, NOTES) == []



@pytest.mark.parametrize(
    "sentence",
    ["No significant quality issues were flagged.", "It is clear the input was read as one 3D volume."],
)
def test_correct_qc_wording_is_not_taken_for_a_finding(strip_report: StripReport, sentence: str) -> None:
    facts = build_facts(strip_report, None, None)
    draft = (
        'Indication: "progressive headaches for 3 weeks." Technique: brain MRI. Measurements: 1502.4 mL. '
        f"Quality control: none. {sentence}"
    )
    assert check_draft(draft, facts, NOTES) == []


@pytest.mark.parametrize(
    ("volume", "measurements", "accepted"),
    [  # review: the direction in a radiologist's words is as good as "outside", the wrong direction is not
        (1854.9, "1854.9 mL, above the reference range (1265-1673 mL).", True),
        (1854.9, "1854.9 mL, exceeding the upper limit of the reference range 1265-1673 mL.", True),
        (1854.9, "1854.9 mL, below the reference range 1265-1673 mL.", False),
        (1854.9, "1854.9 mL; reference 1265-1673 mL, within the reference range.", False),
        (1100.0, "1100 mL, below the reference range 1265-1673 mL.", True),
        (1100.0, "1100 mL, above the reference range 1265-1673 mL.", False),
    ],
)
def test_outside_the_range_may_be_said_as_above_or_below(
    strip_report: StripReport, volume: float, measurements: str, accepted: bool
) -> None:
    facts = build_facts(strip_report.model_copy(update={"brain_volume_ml": volume}), 62, "male")
    draft = (
        'Indication: "progressive headaches for 3 weeks."\nTechnique: brain MRI.\n'
        f"Measurements: {measurements}\nQuality control: none."
    )
    problems = check_draft(draft, facts, NOTES)
    assert (problems == []) is accepted, problems


@pytest.mark.parametrize(
    ("notes", "quotes"),
    [  # review: the question alone lost its context; lines of identifiers became the Indication
        ("F/U post resection of L temporal GBM (2022). 55 yo man. On TMZ. Assess recurrence.",
         ["F/U post resection of L temporal GBM (2022).", "55 yo man.", "On TMZ.", "Assess recurrence."]),
        # second review: the reason kept beside identifiers in one sentence; letter and lab lines left out
        ("Patient: 45 yo F with new seizures.", ["Patient: 45 yo F with new seizures."]),
        ("DOB 01/02/1960, new onset seizures", ["DOB 01/02/1960, new onset seizures"]),
        ("MRN 123456. Patient ID 7788: new seizures.", ["Patient ID 7788: new seizures."]),
        ("55 yo M. Lung cancer. Staging. Rule out metastases.",
         ["55 yo M.", "Lung cancer.", "Staging.", "Rule out metastases."]),
        ("Dear Dr X,\nThank you for seeing this patient. 54 yo F, headaches. Please scan urgently. "
         "Allergies: penicillin. Creatinine 80. Question: tumour?", ["54 yo F, headaches.", "Question: tumour?"]),
        ("8-year-old girl with seizures. r/o structural lesion.",
         ["8-year-old girl with seizures.", "r/o structural lesion."]),
        ("58M ED. Sudden onset worst HA of life 2h ago, GCS 15. r/o SAH/bleed. MRN 4471923.",
         ["58M ED.", "Sudden onset worst HA of life 2h ago, GCS 15.", "r/o SAH/bleed."]),
        ("r/o tumour. 41 y.o. female, new onset seizure yesterday.",
         ["r/o tumour.", "41 y.o. female, new onset seizure yesterday."]),
        ("Pt: John SMITH, DOB 03/02/1961, MRN 00912345, Acc# RAD-2024-5531.\nNew headaches.",
         ["New headaches."]),
        ("Referral from Dr. Patel for Maria Gonzalez (NHS 943 476 5919).\nSeizures.", ["Seizures."]),
        ("NHC 20231187. Cefalea.", ["Cefalea."]),
        ("Study ID BRAIN-CTRL-017. Volumetric T1 for ICV.", ["Volumetric T1 for ICV."]),
        # identifiers beside the clinical question: the sentence stays, the question is in it
        ("Sex: F  Age: 44  DOB 1980-05-17  Clinical: migraine with aura, worse. ?white matter lesions.",
         ["Sex: F  Age: 44  DOB 1980-05-17  Clinical: migraine with aura, worse.", "?white matter lesions."]),
        ("Pat.-Nr. 883412. M, 71 J., Z.n. Schlaganfall 2020.", ["M, 71 J., Z.n. Schlaganfall 2020."]),
    ],
)
def test_indication_quotes_keep_the_context_and_leave_identifiers_out(notes: str, quotes: list[str]) -> None:
    assert indication_quotes(notes) == quotes


@pytest.mark.parametrize(
    ("notes", "volume"),
    [  # third review: the template failed its own check on these
        ("NAME: J SMITH\nAGE: 85\nSEX: M\nQUESTION: atrophy?", 1100.0),
        ("Question: is the brain volume within the normal range for age? Memory clinic referral.", 1850.0),
        ("Question: is the brain volume within the normal range? 62-year-old man.", 1100.0),
        ('ED: 45 yo F. Husband: "she said it felt like a bleed". ?SAH', 1850.0),
        ("Reason: volumetric measurements for dementia trial. 70 yo female.", 1100.0),
        ("Research scan for quality control of segmentation. Age 40, male.", 1500.0),
    ],
)
def test_the_template_passes_its_own_check_whatever_the_notes_quote(
    strip_report: StripReport, notes: str, volume: float
) -> None:
    age, sex = parse_age_sex(notes)
    facts = build_facts(strip_report.model_copy(update={"brain_volume_ml": volume}), age, sex)
    assert check_draft(template_draft(facts, indication_quotes(notes)), facts, notes) == []


def test_the_fallback_indication_leaves_form_fields_and_referral_lines_out() -> None:
    notes = "Name: Mary Brown\nDOB: 12/03/1961\nSex: F\nAge: 62\nReferral from GP.\nHeadaches for 3 months, worse."
    assert indication_quotes(notes) == ["Headaches for 3 months, worse."]
    assert indication_quotes("NAME: J SMITH\nAGE: 85\nSEX: M\nQUESTION: atrophy?") == ["QUESTION: atrophy?"]


@pytest.mark.parametrize(
    "notes",
    [  # review: whole sentences that are the referrer's question, or a relative's history, quoted verbatim
        "58M ED. Sudden onset worst HA of life 2h ago. r/o SAH/bleed.",
        "Headaches. r/o tumour.",
        "Cefalea. Descartar tumor.",
        "Left arm weakness. ?infarct.",
        "Memory loss. ?Alzheimer's.",
        "Kopfschmerzen. Frage: Raumforderung?",
        "38F with headaches. Her 65-year-old mother had a glioblastoma.",
    ],
)
def test_the_templates_own_quotes_pass_the_check(strip_report: StripReport, notes: str) -> None:
    """An LLM that quotes the notes exactly as the template does was rejected: a quote under three words, or
    from a sentence naming a relative, never licensed its terms, even as a whole sentence of the notes."""
    age, sex = parse_age_sex(notes)
    facts = build_facts(strip_report, age, sex)
    draft = template_draft(facts, indication_quotes(notes))
    assert check_draft(draft, facts, notes) == []


@pytest.mark.parametrize(
    ("notes", "sentence"),
    [  # review: answers to the question and comparisons the notes do not support
        ("Known meningioma (3.2 cm on MRI 14/03/2023). Follow-up for interval growth.", "No interval growth."),
        ("Known meningioma (3.2 cm on MRI 14/03/2023). Follow-up for interval growth.",
         "Stable compared with MRI of 14/03/2023."),
        ("Worst headache of life. r/o SAH/bleed.", "No SAH."),
        ("Worst headache of life. r/o SAH/bleed.", "SAH excluded."),
        ("Worst headache of life. r/o SAH/bleed.", "Negative for acute intracranial process."),
        ("F/U post resection of L temporal GBM (2022). Assess recurrence.", "No recurrence."),
        ("Prior MRI showed atrophy.", "Loss of volume compared with the prior MRI."),
        ("Prior MRI showed atrophy.", "Age-related involution."),
        ("Headaches.", "Brain volume is increased."),
        ("Headaches.", "Volume is as expected."),
        ("Prior volumetry (2021): ICV 1520 mL.", "Volume has increased since 2021."),
        # second review: answers in other words, lower case, and one-word comparisons
        ("Headaches. Question: structural cause?", "No structural cause."),
        ("Headaches. Question: structural cause?", "There is no structural cause for the headaches."),
        ("Worst headache of life. r/o SAH/bleed.", "no sah."),
        ("Headaches.", "NAD."),
        ("Headaches.", "Nil acute."),
        ("Headaches.", "Negative."),
        ("Headaches.", "The scan is clean."),
        ("Prior MRI 2021.", "Same as before."),
        ("Prior MRI 2021.", "Nothing new."),
        ("Prior MRI 2021.", "Improved."),
        ("Prior MRI 2021.", "Resolved."),
        ("Prior MRI 2021.", "Worse."),
    ],
)
def test_answers_and_comparisons_the_notes_do_not_support_are_refused(
    strip_report: StripReport, notes: str, sentence: str
) -> None:
    facts = build_facts(strip_report, None, None)
    draft = template_draft(facts, indication_quotes(notes)) + " " + sentence
    assert any("findings not supported" in problem for problem in check_draft(draft, facts, notes)), sentence


@pytest.mark.parametrize(
    ("volume", "sentence"),
    [  # review: plain technique and QC wording is no finding; "outside" is right on either side of the range
        (1100.0, ""),
        (1854.9, ""),
        (1502.4, "Quality control: No QC warnings. Details are given below."),
        (1502.4, "Technique: voxel size less than 2 mm; slice interval 1.2 mm; the mask is shown over the T1."),
        (1502.4, "No DICOM errors."),
    ],
)
def test_plain_wording_and_the_templates_own_range_pass(strip_report: StripReport, volume: float, sentence: str) -> None:
    facts = build_facts(strip_report.model_copy(update={"brain_volume_ml": volume}), 62, "male")
    draft = template_draft(facts, indication_quotes(NOTES)) + "\n" + sentence
    assert check_draft(draft, facts, NOTES) == []


def test_a_draft_that_echoes_the_prompt_is_refused(strip_report: StripReport) -> None:
    facts = build_facts(strip_report, 62, "male")
    draft = template_draft(facts, ["progressive headaches for 3 weeks."])
    draft += "\nQuality control: In Measurements, after the volume, write: reference range 1265-1673 mL."
    assert any("repeats the instructions" in problem for problem in check_draft(draft, facts, NOTES))
