"""Regenerate the generated files of the sample knowledge bases (byte-for-byte the same on every run).

    .venv/bin/python samples/make_samples.py                      # HIPAA source from ../shared/data
    .venv/bin/python samples/make_samples.py --hipaa-source FILE  # another copy of the Markdown source

Writes under samples/knowledge_bases/:
- health-privacy/hipaa-breach-notification.pdf: 45 CFR 164.400-164.414 (Subpart D), a text PDF with pages;
- health-privacy/hipaa-privacy-rule-excerpt.md: 45 CFR 164.502, 164.514(d) and 164.524;
- insurance/homeowners-policy-wording.docx: the self-written policy wording below, headings as Word styles.
Both HIPAA files are cut from the public-domain HHS "HIPAA Administrative Simplification Regulation Text"
(March 2013, Markdown conversion); without that source the two HIPAA files are left as they are.
The other sample files (claims, vendor agreement, bank FAQ) are hand-written and kept as they are.
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from data_connectors.pdf_writer import PdfLine, layout_pages, write_text_pdf

ROOT = Path(__file__).resolve().parent / "knowledge_bases"
DEFAULT_HIPAA_SOURCE = (
    Path(__file__).resolve().parents[2]
    / "shared/data/documents/regulations/hipaa-simplification-201303.marker.md"
)
FIXED_TIME = datetime(2025, 1, 1)
HIPAA_CITATION = (
    "Source: U.S. Department of Health and Human Services, HIPAA Administrative Simplification Regulation "
    "Text, 45 CFR Parts 160, 162 and 164 (unofficial version, as amended through March 26, 2013). "
    "A work of the U.S. Government, in the public domain. Excerpt; formatting simplified."
)

# ---------------------------------------------------------------- HIPAA excerpts

_SPAN = re.compile(r"<span[^>]*>\s*</span>")
_HEADING = re.compile(r"^#+\s*(.*?)\s*$")
_BOLD = re.compile(r"\*\*(.*?)\*\*")
_ITALIC = re.compile(r"\*([^*]+)\*")
_BLOCK_START = re.compile(r"^#+ \*\*(?:§ (\d+\.\d+) |(Subpart [A-Z])—(.*?)\*\*)")
_BREACH_SUBPART = "Subpart D—Notification in the Case of Breach of Unsecured Protected Health Information"


def _hipaa_blocks(source: str) -> dict[str, list[str]]:
    """Paragraphs under each section heading, keyed "164.404", and under each subpart heading before its
    first section, keyed by the subpart's full title."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in source.split("\n\n"):
        line = _SPAN.sub("", raw).strip()
        start = _BLOCK_START.match(line)
        if start:
            key = start.group(1) or f"{start.group(2)}—{start.group(3)}"
            current = blocks.setdefault(key, [])
        if line:
            current.append(line)
    return blocks


def _join_broken_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """The conversion split sentences at page breaks: "(as" + "specified under ..." become one paragraph."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not joined[-1].startswith("#") and paragraph[:1].islower():
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def _clean_hipaa(paragraphs: Iterable[str], heading_prefix: str) -> list[str]:
    """Section and subpart titles become headings at one level; pseudo-headings of paragraphs become text."""
    cleaned = []
    for paragraph in _join_broken_paragraphs(paragraphs):
        heading = _HEADING.match(paragraph)
        if heading:
            title = _BOLD.sub(r"\1", heading.group(1)).strip()
            is_title = title.startswith(("§", "Subpart"))
            cleaned.append(f"{heading_prefix} {title}" if is_title else title)
        else:
            cleaned.append(re.sub(r"\s+,$", "", paragraph))
    return cleaned


def _minimum_necessary(paragraphs: list[str]) -> list[str]:
    """164.514(d): from its "(d)(1)" paragraph up to the "(e)(1)" one."""
    start = next(i for i, p in enumerate(paragraphs) if p.startswith("(d)(1)"))
    end = next(i for i, p in enumerate(paragraphs) if p.startswith("(e)(1)"))
    return [paragraphs[0], *paragraphs[start:end]]


def write_hipaa(source: Path) -> None:
    blocks = _hipaa_blocks(source.read_text(encoding="utf-8"))
    folder = ROOT / "health-privacy"
    folder.mkdir(parents=True, exist_ok=True)

    breach = [p for key in (_BREACH_SUBPART, *(f"164.{n}" for n in range(400, 416, 2))) for p in blocks[key]]
    lines: list[str | PdfLine] = [
        PdfLine("45 CFR Part 164, Subpart D (excerpt)", bold=True),
        HIPAA_CITATION,
    ]
    for paragraph in _clean_hipaa(breach, "#"):
        text = _ITALIC.sub(r"\1", paragraph.removeprefix("# "))
        lines.append(PdfLine(text, bold=True) if paragraph.startswith("# ") else text)
    title = "HIPAA Breach Notification Rule (45 CFR 164.400-164.414)"
    (folder / "hipaa-breach-notification.pdf").write_bytes(write_text_pdf(layout_pages(lines), title=title))

    privacy = [
        *_clean_hipaa(blocks["164.502"], "##"),
        *_clean_hipaa(_minimum_necessary(blocks["164.514"]), "##"),
        *_clean_hipaa(blocks["164.524"], "##"),
    ]
    heading = (
        "# HIPAA Privacy Rule: uses and disclosures, minimum necessary, access (45 CFR Part 164, Subpart E)"
    )
    note = f"*{HIPAA_CITATION} Of § 164.514 only paragraph (d), minimum necessary requirements, is included.*"
    text = "\n\n".join([heading, note, *privacy])
    (folder / "hipaa-privacy-rule-excerpt.md").write_text(text + "\n", encoding="utf-8")


# ---------------------------------------------------------------- insurance policy wording (self-written)

Table = list[list[str]]
Section = tuple[int, str, Sequence[str | Table]]

POLICY_TITLE = "Northbridge Mutual Homeowners Policy Wording (Form NBM-HO-24)"
POLICY: list[Section] = [
    (1, "1 About this policy", [
        "This policy wording, together with your Declarations page and any endorsements, is your contract of "
        "insurance with Northbridge Mutual Insurance Company. We insure you for the coverages and limits "
        "shown on your Declarations page during the policy period, provided you have paid the premium and "
        "you meet the conditions of this policy.",
        "Northbridge Mutual is a fictional insurer. This wording was written for software demonstrations and "
        "is not an offer of insurance.",
    ]),
    (1, "2 Definitions", [
        "In this policy, the following words have the meanings given below.",
    ]),
    (2, "2.1 You, your and insured person", [
        "\"You\" and \"your\" mean the named insured shown on the Declarations page and the spouse or "
        "domestic partner who lives in the same household. \"Insured person\" means you and the relatives "
        "and other persons under the age of 21 in your care who live in your household.",
    ]),
    (2, "2.2 Residence premises", [
        "The one- or two-family dwelling shown on the Declarations page where you live, together with the "
        "other structures and grounds at that location.",
    ]),
    (2, "2.3 Sudden and accidental", [
        "An event that is unexpected and unintended from the standpoint of an insured person and that "
        "happens abruptly, at an identifiable moment, rather than gradually over time.",
    ]),
    (2, "2.4 Flood", [
        "A general and temporary condition of partial or complete inundation of normally dry land from the "
        "overflow of inland or tidal waters, the unusual and rapid accumulation or runoff of surface water "
        "from any source, or mudflow. Water that backs up through sewers or drains because of a flood is "
        "treated as flood.",
    ]),
    (2, "2.5 Wear and tear", [
        "The gradual loss of condition of property through age, normal use, exposure to the weather, rust, "
        "corrosion, rot, decay or the failure to carry out reasonable maintenance.",
    ]),
    (2, "2.6 Occurrence", [
        "An accident, including continuous or repeated exposure to substantially the same general harmful "
        "conditions, which results in bodily injury or property damage during the policy period.",
    ]),
    (2, "2.7 Vacant", [
        "The dwelling has no occupant and does not contain enough furniture and personal property to be "
        "lived in. A dwelling under renovation is not vacant while you continue to live in it.",
    ]),
    (1, "3 Coverages", [
        "The coverages below apply only where a limit is shown for them on your Declarations page.",
    ]),
    (2, "3.1 Coverage A: Dwelling", [
        "We cover the dwelling on the residence premises, including attached structures such as a garage or "
        "deck, fixtures permanently installed in it, and materials on the premises intended for its repair.",
        "We insure the dwelling against sudden and accidental direct physical loss unless the loss is "
        "excluded in section 4.",
    ]),
    (2, "3.2 Coverage B: Other structures", [
        "We cover structures on the residence premises that are separated from the dwelling by a clear "
        "space, such as a detached garage, shed or fence, against the same losses as the dwelling. We do not "
        "cover structures rented to anyone who is not a tenant of the dwelling or used for a business.",
    ]),
    (2, "3.3 Coverage C: Personal property", [
        "We cover personal property owned or used by an insured person anywhere in the world, against direct "
        "physical loss caused by the following named perils only: fire or lightning; windstorm or hail; "
        "explosion; riot or civil commotion; aircraft; vehicles; smoke; vandalism or malicious mischief; "
        "theft; falling objects; weight of ice, snow or sleet; sudden and accidental discharge or escape of "
        "water or steam from a plumbing, heating, air conditioning or fire sprinkler system or from a "
        "household appliance; freezing of such a system or appliance; and sudden and accidental damage from "
        "an artificially generated electrical current.",
    ]),
    (2, "3.4 Coverage D: Loss of use", [
        "If a loss covered under this policy makes the residence premises unfit to live in, we pay the "
        "reasonable additional living expenses you incur so that your household can maintain its normal "
        "standard of living, for the shortest time needed to repair or replace the damage or for your "
        "household to settle elsewhere, up to 12 months.",
    ]),
    (2, "3.5 Coverage E: Personal liability", [
        "If a claim is made or a suit is brought against an insured person for damages because of bodily "
        "injury or property damage caused by an occurrence to which this coverage applies, we pay up to our "
        "limit the damages for which the insured person is legally liable, and we provide a defence at our "
        "expense by counsel of our choice.",
    ]),
    (2, "3.6 Coverage F: Medical payments to others", [
        "We pay the necessary medical expenses incurred within three years of an accident causing bodily "
        "injury to a person other than an insured person while on the residence premises with permission.",
    ]),
    (1, "4 Exclusions", [
        "We do not cover loss or damage caused directly or indirectly by any of the following, regardless of "
        "any other cause or event contributing at the same time or in any sequence.",
    ]),
    (2, "4.1 Flood and surface water", [
        "Flood, surface water, waves, tidal water, overflow of a body of water or spray from any of these, "
        "whether or not driven by wind. This exclusion applies to the dwelling, other structures and "
        "personal property. Flood cover is available separately, for example under the National Flood "
        "Insurance Program.",
        "If a flood causes a fire or an explosion, we cover the damage caused by the fire or explosion.",
    ]),
    (2, "4.2 Wear and tear, deterioration and maintenance", [
        "Wear and tear, marring, deterioration, mechanical breakdown, latent defect, rust, corrosion, mould, "
        "wet or dry rot, and any loss that results from a failure to maintain the property in a reasonable "
        "state of repair. We do cover sudden and accidental damage that these conditions cause to other "
        "parts of the property, for example water escaping from a corroded pipe that bursts.",
    ]),
    (2, "4.3 Intentional damage", [
        "Any loss caused intentionally by an insured person or at the direction of an insured person, "
        "including bodily injury or property damage that an insured person expected or intended.",
    ]),
    (2, "4.4 Continuous or repeated seepage", [
        "Continuous or repeated seepage or leakage of water or steam over a period of 14 days or more, "
        "whether hidden or not, and the resulting rot, mould or deterioration.",
    ]),
    (2, "4.5 Earth movement", [
        "Earthquake, landslide, mudslide, sinkhole, subsidence or any other movement of the earth, except "
        "that we cover a resulting fire, explosion or breakage of glass.",
    ]),
    (2, "4.6 Vacancy", [
        "Vandalism, malicious mischief, glass breakage and escape of water when the dwelling has been vacant "
        "for more than 60 consecutive days immediately before the loss.",
    ]),
    (2, "4.7 Other exclusions", [
        "War and military action; nuclear hazard; seizure or destruction of property by order of a "
        "government authority; the failure of power or other utility service that starts off the residence "
        "premises; neglect of an insured person to save and preserve property at and after the time of a "
        "loss; and business activities carried on at the residence premises.",
    ]),
    (1, "5 Limits and deductibles", []),
    (2, "5.1 Limits of liability", [
        "The most we pay for any one occurrence is the limit shown for each coverage on your Declarations "
        "page. The limits of the standard plan are:",
        [
            ["Coverage", "Standard plan limit", "Basis"],
            ["A Dwelling", "$350,000", "replacement cost"],
            ["B Other structures", "$35,000", "10% of Coverage A"],
            ["C Personal property", "$175,000", "50% of Coverage A"],
            ["D Loss of use", "$70,000", "20% of Coverage A, up to 12 months"],
            ["E Personal liability", "$300,000", "each occurrence"],
            ["F Medical payments to others", "$5,000", "each person"],
        ],
    ]),
    (2, "5.2 Deductibles", [
        "For each occurrence we deduct from the amount of the covered loss the deductible shown on your "
        "Declarations page before we pay. Unless your Declarations page shows otherwise, the deductibles "
        "are:",
        [
            ["Loss", "Deductible"],
            ["All perils unless listed below", "$1,000 each occurrence"],
            ["Escape of water, freezing and water damage", "$2,500 each occurrence"],
            ["Windstorm or hail", "2% of the Coverage A limit"],
            ["Coverage E and Coverage F", "no deductible"],
        ],
        "Only one deductible, the highest that applies, is deducted for losses from one occurrence.",
    ]),
    (2, "5.3 Special limits for personal property", [
        "Within the Coverage C limit, the most we pay for the following property in one occurrence is: "
        "$300 for money, bank notes and coins; $1,500 for securities, deeds and passports; $2,500 for theft "
        "of jewellery, watches and furs; $2,500 for theft of firearms; $2,500 for theft of silverware; and "
        "$2,500 for business property on the residence premises.",
    ]),
    (2, "5.4 Loss settlement", [
        "We settle covered losses to the dwelling and other structures at replacement cost without deduction "
        "for depreciation, provided the repair or replacement is completed within 180 days after the loss. "
        "Until then we pay the actual cash value, and the difference when the work is completed. Personal "
        "property is settled at actual cash value unless a replacement cost endorsement is shown on your "
        "Declarations page.",
    ]),
    (1, "6 Claims conditions", [
        "These conditions apply to every claim. If you do not meet them, we may refuse the claim or reduce "
        "what we pay to the extent that our position has been prejudiced.",
    ]),
    (2, "6.1 Notifying us of a loss", [
        "You must notify us of a loss or damage as soon as reasonably possible and in any event within 30 "
        "days of the date you discover it, by phone on 1-800-555-0142, through the online claims portal or "
        "in writing to our claims department.",
        "Theft, attempted theft, vandalism and malicious mischief must also be reported to the police within "
        "48 hours of discovery, and you must give us the police report number.",
        "If you notify us after the 30-day period, we may decline the claim, or the part of it, to the "
        "extent that the delay prevented us from investigating the loss or increased the amount of the loss.",
    ]),
    (2, "6.2 Your duties after a loss", [
        "After a loss you must: protect the property from further damage and make the reasonable temporary "
        "repairs needed to do so, keeping the receipts (we add their reasonable cost to the claim); keep "
        "damaged property until we have inspected it, or photograph it before disposal where health or "
        "safety require; prepare an inventory of damaged personal property showing quantity, description, "
        "age, replacement cost and amount of loss, with bills and receipts where you have them; and allow us "
        "to inspect the premises and records as often as we reasonably require.",
    ]),
    (2, "6.3 Proof of loss", [
        "Within 60 days after our request you must send us a signed, sworn proof of loss stating the time "
        "and cause of the loss, the interests of all insured persons and others in the property, other "
        "insurance that may cover the loss, and the amount claimed.",
    ]),
    (2, "6.4 Claim payment", [
        "We pay a covered claim within 30 days after we receive your proof of loss and either reach an "
        "agreement with you on the amount, or a final court judgment or appraisal award is entered.",
    ]),
    (2, "6.5 Appraisal", [
        "If you and we do not agree on the amount of a loss, either may demand an appraisal in writing. Each "
        "party chooses a competent and impartial appraiser within 20 days of the demand; the two appraisers "
        "choose an umpire. An award agreed in writing by any two of the three sets the amount of the loss. "
        "Each party pays its own appraiser and half of the umpire's fees.",
    ]),
    (2, "6.6 Suit against us", [
        "No action can be brought against us unless you have complied with the policy conditions and the "
        "action is started within two years after the date of the loss.",
    ]),
    (1, "7 Fraud and concealment", [
        "We do not pay any claim, in whole or in part, if you or any insured person, before or after a loss, "
        "intentionally concealed or misrepresented a material fact or circumstance, engaged in fraudulent "
        "conduct, or made a false statement relating to this insurance or to a claim.",
        "If a claim is fraudulent in any respect, we may void this policy from the date of the fraudulent "
        "act, recover from you any amount already paid for that claim and the reasonable costs of "
        "investigating it, and report the matter to law enforcement and to industry fraud databases.",
    ]),
    (1, "8 Cancellation and renewal", [
        "You may cancel this policy at any time by telling us the date on which the cancellation is to take "
        "effect; we refund the unearned premium pro rata. We may cancel by giving you at least 30 days' "
        "written notice, or 10 days' notice if the premium has not been paid. We send any offer to renew, or "
        "notice that we will not renew, at least 45 days before the end of the policy period.",
    ]),
    (1, "9 Complaints", [
        "If you are unhappy with our service, contact our customer relations team at 1-800-555-0199. If we "
        "have not resolved your complaint within 8 weeks, you may contact the insurance department of the "
        "state in which the residence premises is located.",
    ]),
]  # fmt: skip


def _deterministic_zip(data: bytes) -> bytes:
    """The same zip with fixed timestamps, so re-running the script does not change the file."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def write_policy_docx(sections: Sequence[Section] = POLICY, title: str = POLICY_TITLE) -> bytes:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = title, "genai-toolkit samples", ""
    properties.created = properties.modified = FIXED_TIME
    properties.revision = 1
    document.add_paragraph(title, style="Title")
    for level, heading, blocks in sections:
        document.add_heading(heading, level=level)
        for block in blocks:
            if isinstance(block, str):
                document.add_paragraph(block)
                continue
            table = document.add_table(rows=len(block), cols=len(block[0]))
            table.style = "Table Grid"
            for row, values in zip(table.rows, block, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hipaa-source", type=Path, default=DEFAULT_HIPAA_SOURCE)
    args = parser.parse_args()
    if args.hipaa_source.is_file():
        write_hipaa(args.hipaa_source)
    else:
        print(f"HIPAA source {args.hipaa_source} not found: health-privacy files left as they are")
    (ROOT / "insurance").mkdir(parents=True, exist_ok=True)
    (ROOT / "insurance" / "homeowners-policy-wording.docx").write_bytes(write_policy_docx())


if __name__ == "__main__":
    main()
