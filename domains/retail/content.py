"""Personalised marketing content grounded in catalogue facts.

The LLM writes a product description, e-mail or social post from a facts block (name, price, features,
description of each product) and what we know about the audience (segment, recent purchases). Small models
happily invent prices, specs and offers, so every number in the draft is checked against the facts
(percentages against the facts' percentages only: "9% off" is not grounded by a "9 bar" pump; a number that
follows a product's name in its sentence against that product's own facts, so swapped prices are caught), and
every promotion ("half price", "free shipping", "was ...", "sale", "Rabatt", "soldes") must appear in the facts
too. A draft that echoes the instructions or is not in the requested language is flagged as well. A draft with
problems is regenerated once with them named, and what is still wrong is returned in ``issues`` for a person to
fix, never silently published.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from data_connectors.errors import BadInputError
from domains.retail.recommend import Recommender
from rag.llm import ChatModel

ContentKind = Literal["email", "description", "social"]
Tone = Literal["friendly", "formal", "playful", "luxury"]
Length = Literal["short", "medium", "long"]
Progress = Callable[[int, int], None]  # (done, total)

WORDS = {"short": 60, "medium": 120, "long": 220}
KIND_INSTRUCTIONS = {
    "description": "Write a product description for the shop's product page.",
    "email": "Write a marketing e-mail with a subject line (start with 'Subject:') and a short body.",
    "social": "Write one social media post with at most two hashtags.",
}
SYSTEM_PROMPT = (
    "You write retail marketing copy. Use only the facts given. Never invent prices, discounts, numbers, "
    "sizes or features; copy prices and numbers exactly as written in the facts."
)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:[.,](\d+))?(?!\d)")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
# Offer wording. "Save" counts with money or a percentage ("save $20", "save 15%", "save up to"), and "sale" also
# hyphenated ("sale-priced", "pre-sale"): "save time", "save on energy bills", "energy-saving", "point-of-sale",
# "for sale", "save 30 minutes" and "garage-sale charm" are no offers.
_PROMOTION = re.compile(
    r"(?:\b(?:half[- ]price|free (?:shipping|delivery|gift|returns)|(?:was|now only|save|(?<!energy-)(?<!energy )saving)"
    r"\s+[$€£]?\d+(?![\d.,]*\s*(?:minutes?|mins?|hours?|hrs?|days?|seconds?|weeks?|years?)\b)|save up to|only\s+[$€£]\d+|"
    r"(?<!\w)(?<!point-of-)(?<!point of )(?<!for )(?<!garage-)(?<!garage )(?<!yard-)(?<!yard )"
    r"(?<!bake )sale(?!\w)|discount(?:ed|s)?|clearance|coupon|promo(?:tion)?(?: code)?|voucher|"
    r"buy (?:one|two|three|\d+),? get (?:one|two|\d+)(?: free)?|bogo|(?:two|three|four|\d+) for [$€£]\d+|"
    r"reduced to clear|black friday|cyber monday|limited[- ]time|today only|this weekend only|lowest price|"
    r"price drop|per ?cent off|half off|offer ends|complimentary (?:shipping|delivery|gift)|"
    r"no (?:shipping|delivery) (?:fees?|charges?)|"
    # the same in the languages shops write in most: discount, sale, free delivery
    # (not "reduziert", "réduction", "remise", "oferta": noise reduction, "remise en forme", a product range)
    r"rabatt|kostenlose[rn]? (?:versand|lieferung)|soldes|livraison gratuite|"
    r"descuento|rebajas|env[ií]o gratis|sconto|saldi|spedizione gratuita|korting|gratis verzending)\b|"
    r"% off\b)",
    re.IGNORECASE,
)
# Prompt lines a small model copies into its draft.
_ECHOED_INSTRUCTIONS = re.compile(r"^\W*((?:audience|tone|language|facts)\s*:.*)$", re.IGNORECASE | re.MULTILINE)
# A few of each language's commonest words: enough to tell an English draft from the French one asked for
# (only English against the language asked for: the Romance languages share too many words to tell apart).
_COMMON_WORDS = {
    "english": "the and with for your you our is to of this it that are",
    "french": "le la les et avec pour votre vous nos est des une un du de en ce à",
    "german": "der die das und mit für ihr sie unser ist ein eine zu den im auf",
    "spanish": "el la los las y con para tu su es una un del de en que nuestro por",
    "italian": "il la gli e con per tuo è una un del di in che nostro questo sono",
    "portuguese": "o os e com para seu sua é um uma do da de em que não",
    "dutch": "de het en met voor je jouw onze een van dat die ook niet",
}


class ContentOptions(BaseModel):
    """What to write and how; ``language`` is any language name the model knows (English, French, ...)."""

    model_config = ConfigDict(frozen=True)

    kind: ContentKind = "email"
    tone: Tone = "friendly"
    length: Length = "medium"
    language: str = Field("English", min_length=2, max_length=40)


@dataclass
class ContentResult:
    kind: str
    audience: str
    product_ids: list[str]
    text: str
    attempts: int
    issues: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict:
        return {**asdict(self), "grounded": self.grounded}


# ---------------------------------------------------------------- helpers


def _number_spans(text: str) -> list[tuple[float, int]]:
    """Every number in ``text`` with its position: 1,299.99 / 249,99 (decimal comma) / 15 / 0.5 all parse."""
    found = []
    for match in _NUMBER.finditer(text):
        whole = match.group(1).replace(",", "")
        found.append(
            (round(float(f"{whole}.{match.group(2)}" if match.group(2) else whole), 2), match.start())
        )
    return found


def _numbers(text: str) -> set[float]:
    return {value for value, _ in _number_spans(text)}


def _without_percents(text: str) -> str:
    """``text`` with percentages blanked out, positions kept."""
    return _PERCENT.sub(lambda match: " " * len(match.group(0)), text)


def _show(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _fact_numbers(fact: dict) -> set[float]:
    text = " ".join(str(value) for value in fact.values())
    return _numbers(_without_percents(text)) | {round(float(fact["price"]), 2)}


# What may stand between a product's name and a number said of it: "Nordvik for just 249.99", "Alba (15 bar)",
# "the grinder costs 114.99", "with a 1.8 L tank". Anything longer ("Toaster pairs perfectly with ..., and at
# 29.99") no longer ties the number to that name.
_NAME_TO_NUMBER = re.compile(
    r"\W*(?:(?:for|at|only|just|now|from|costs?|is|priced|with|has|a|an|its|of)\W+){0,4}",
    re.IGNORECASE,
)


def _named_before(text: str, position: int, facts: list[dict]) -> dict | None:
    """The featured product a number at ``position`` is said of: the one whose name holds it ("Brewer 2000"),
    else the one whose name comes right before it ("Nordvik for just 249.99", the longer name when one starts
    another: "Kettle Pro", not "Kettle"). None when the number is not right after a name, or follows a list of
    names ("Kettle Pro and Toaster cost 49.99 and 29.99") or "respectively"."""
    lowered = text.lower()
    spans = sorted(
        (match.start(), match.end(), fact)
        for fact in facts
        for match in re.finditer(rf"(?<!\w){re.escape(str(fact['name']).lower())}(?!\w)", lowered)
    )
    for start, end, fact in spans:
        if start <= position < end:
            return fact  # the number is part of this product's name
    before = [(start, end, fact) for start, end, fact in spans if end <= position]
    if not before:
        return None
    start, end, fact = max(before, key=lambda span: (span[1], span[1] - span[0]))
    if _NAME_TO_NUMBER.fullmatch(text[end:position]) is None or "respectively" in lowered[end:position + 40]:
        return None
    earlier = [span for span in before if span[1] <= start]
    if earlier and re.fullmatch(r"\W*(?:and|or|&)?\W*(?:the\W+)?", lowered[max(s[1] for s in earlier) : start]):
        return None  # a list of names shares what follows
    return fact


def _language_issue(text: str, language: str) -> str | None:
    """Whether a draft reads as another language than the one asked for (only for the languages we know)."""
    wanted = language.strip().lower()
    if wanted not in _COMMON_WORDS:
        return None
    words = re.findall(r"\w+", text.lower())
    scores = {name: sum(word in common.split() for word in words) for name, common in _COMMON_WORDS.items()}
    if wanted != "english":
        if scores["english"] >= 4 and scores["english"] >= 2 * scores[wanted]:
            return f"the draft reads as English, not {language}"
        return None
    other = max((name for name in scores if name != "english"), key=scores.get)
    if scores[other] >= 4 and scores[other] >= 2 * scores["english"]:
        return "the draft does not read as English"
    return None


def _percents(text: str) -> set[float]:
    return {round(float(match.group(1).replace(",", ".")), 2) for match in _PERCENT.finditer(text)}


def _promotions(text: str) -> list[str]:
    """Offer wording in ``text``, lower case, digits dropped ("was 331.99" -> "was")."""
    terms = (
        re.sub(r"[\s$€£\d]+$", "", match.group(0).lower()) or match.group(0)
        for match in _PROMOTION.finditer(text)
    )
    return list(dict.fromkeys(re.sub(r"[- ]+", " ", term).strip() for term in terms))


def _facts_block(facts: list[dict]) -> str:
    lines = []
    for fact in facts:
        lines.append(
            f"- {fact['name']} (id {fact['product_id']}, {fact['category']}): price {fact['price']:.2f}; "
            f"features: {fact['features']}; {fact['description']}"
        )
    return "\n".join(lines)


def _prompt(facts: list[dict], audience: str, options: ContentOptions) -> list[dict[str, str]]:
    request = (
        f"{KIND_INSTRUCTIONS[options.kind]} Audience: {audience}. Tone: {options.tone}. "
        f"Language: {options.language}. About {WORDS[options.length]} words.\n\nFacts:\n{_facts_block(facts)}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": request}]


# PUBLIC API


def product_facts(catalogue: pd.DataFrame, product_ids: Iterable[str]) -> list[dict]:
    """The catalogue rows for ``product_ids`` as plain dicts (the only facts the writer may use).

    Raises:
        BadInputError: an id is not in the catalogue.
    """
    rows = catalogue.set_index("product_id")
    facts = []
    for product_id in product_ids:
        if product_id not in rows.index:
            raise BadInputError(
                f"Product {product_id!r} is not in the catalogue; pick an id from its product_id."
            )
        facts.append({"product_id": product_id, **rows.loc[product_id].to_dict()})
    return facts


def check_grounding(
    text: str,
    facts: list[dict],
    *,
    catalogue_names: Iterable[str] = (),
    catalogue_ids: Iterable[str] = (),
    language: str | None = None,
) -> list[str]:
    """Issues with ``text`` against ``facts``: numbers not found in any fact (percentages only among the
    facts' percentages; a number after a product's name in its sentence among that product's facts), offers
    the facts do not state, no product named, other catalogue products named or referred to by id (small
    models swap names and prices between products), echoed instructions, and another language than asked."""
    facts_text = " ".join(" ".join(str(value) for value in fact.values()) for fact in facts)
    allowed = set().union(*(_fact_numbers(fact) for fact in facts))
    issues = [
        f"percentage {value:g}% is not in the catalogue facts"
        for value in sorted(_percents(text) - _percents(facts_text))
    ]
    unknown, misattributed = set(), {}
    for value, position in _number_spans(_without_percents(text)):
        if value not in allowed:
            unknown.add(value)
            continue
        named = _named_before(text, position, facts) if len(facts) > 1 else None
        if named is not None and value not in _fact_numbers(named):
            misattributed.setdefault(value, str(named["name"]))
    issues += [f"number {_show(value)} is not in the catalogue facts" for value in sorted(unknown)]
    issues += [
        f"number {_show(value)} is given for {name} but belongs to another product"
        for value, name in sorted(misattributed.items())
    ]
    offered = {re.sub(r"[- ]+", " ", term) for term in _promotions(facts_text)}
    issues += [
        f'the offer "{term}" is not in the catalogue facts'
        for term in _promotions(text)
        if term not in offered
    ]
    if not any(str(fact["name"]).lower() in text.lower() for fact in facts):
        issues.append("no product is named as in the catalogue")
    featured = {str(fact["name"]).lower() for fact in facts}
    issues += [
        f"{name} is named but is not among the featured products"
        for name in sorted(set(catalogue_names))
        if name.lower() in text.lower() and name.lower() not in featured
    ]
    featured_ids = {str(fact["product_id"]) for fact in facts}
    issues += [
        f"product id {product_id} is not among the featured products"
        for product_id in sorted(set(map(str, catalogue_ids)) - featured_ids)
        # numeric ids are numbers, checked above; "P0003" is a reference to another product
        if re.search(r"[^\W\d]", product_id) and re.search(rf"(?<!\w){re.escape(product_id)}(?!\w)", text)
    ]
    facts_lower = facts_text.lower()
    echoed = [line for line in _ECHOED_INSTRUCTIONS.findall(text) if line.strip().lower() not in facts_lower]
    if echoed:  # "Language: English" in a board game's own facts is a spec, not an echo
        issues.append("the draft repeats the instructions (Audience/Tone/Language/Facts lines)")
    if language and (wrong_language := _language_issue(text, language)):
        issues.append(wrong_language)
    return issues


def write_content(
    chat_model: ChatModel,
    facts: list[dict],
    options: ContentOptions,
    *,
    audience: str,
    catalogue_names: Iterable[str] = (),
    catalogue_ids: Iterable[str] = (),
) -> ContentResult:
    """Draft, check, regenerate once with the problems named, and report what is still wrong."""
    if not facts:
        raise BadInputError(
            "Content needs at least one product; give product ids or a customer with history."
        )
    messages = _prompt(facts, audience, options)
    max_tokens = int(WORDS[options.length] * 2.5)
    text = chat_model.generate(messages, max_new_tokens=max_tokens).strip()
    checks = {
        "catalogue_names": list(catalogue_names),
        "catalogue_ids": list(catalogue_ids),
        "language": options.language,
    }
    issues = check_grounding(text, facts, **checks)
    attempts = 1
    if issues:
        correction = (
            f"Your draft has problems: {'; '.join(issues)}. Rewrite it using only the facts, with each "
            f"product's name and price exactly as given, in {options.language}."
        )
        retry = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": correction}]
        text = chat_model.generate(retry, max_new_tokens=max_tokens).strip()
        issues = check_grounding(text, facts, **checks)
        attempts = 2
    product_ids = [str(fact["product_id"]) for fact in facts]
    return ContentResult(options.kind, audience, product_ids, text, attempts, issues)


class ContentWriter:
    """Writes content for a customer, a segment or named products, using the recommender to pick products.

    Args:
        chat_model: the LLM (``Services.chat_model()``).
        recommender: a ``Recommender`` over the catalogue and history.
        products_per_piece: how many products an e-mail or post features (a description always has one).
    """

    def __init__(
        self, chat_model: ChatModel, recommender: Recommender, *, products_per_piece: int = 3
    ) -> None:
        if not 1 <= products_per_piece <= 10:
            raise BadInputError(f"products_per_piece must be 1..10, got {products_per_piece}.")
        self.chat_model = chat_model
        self.recommender = recommender
        self.products_per_piece = products_per_piece
        self._names = recommender.catalogue["name"].astype(str).tolist()
        self._ids = recommender.catalogue["product_id"].astype(str).tolist()

    def _count(self, options: ContentOptions) -> int:
        return 1 if options.kind == "description" else self.products_per_piece

    def for_customer(self, customer_id: str, options: ContentOptions) -> ContentResult:
        picks = self.recommender.recommend(customer_id, self._count(options))
        history = self.recommender.history
        bought = history[(history["customer_id"] == str(customer_id)) & (history["event"] == "purchase")]
        names = self.recommender.catalogue.set_index("product_id").loc[bought["product_id"].tail(2), "name"]
        audience = f"a customer in the {picks.segment or 'general'} segment"
        if len(names):
            audience += f" who recently bought {', '.join(names)}"
        facts = product_facts(self.recommender.catalogue, [item.product_id for item in picks.items])
        result = write_content(
            self.chat_model,
            facts,
            options,
            audience=audience,
            catalogue_names=self._names,
            catalogue_ids=self._ids,
        )
        result.audience = f"customer {customer_id}"
        return result

    def for_segment(self, segment: str, options: ContentOptions) -> ContentResult:
        if segment not in self.recommender.segment_popularity:
            known = ", ".join(sorted(self.recommender.segment_popularity))
            raise BadInputError(f"Unknown segment {segment!r}; known segments are {known}.")
        ids = self.recommender.popular(self._count(options), segment=segment)
        facts = product_facts(self.recommender.catalogue, ids)
        result = write_content(
            self.chat_model,
            facts,
            options,
            audience=f"customers in the {segment} segment",
            catalogue_names=self._names,
            catalogue_ids=self._ids,
        )
        result.audience = f"segment {segment}"
        return result

    def for_products(self, product_ids: list[str], options: ContentOptions) -> ContentResult:
        facts = product_facts(self.recommender.catalogue, product_ids)
        return write_content(
            self.chat_model,
            facts,
            options,
            audience="all shoppers",
            catalogue_names=self._names,
            catalogue_ids=self._ids,
        )

    def batch(
        self, customer_ids: Iterable[str], options: ContentOptions, *, progress: Progress | None = None
    ) -> list[ContentResult]:
        """One piece per customer, reporting ``progress(done, total)`` after each."""
        customer_ids = list(customer_ids)
        results = []
        for done, customer_id in enumerate(customer_ids, start=1):
            results.append(self.for_customer(customer_id, options))
            if progress is not None:
                progress(done, len(customer_ids))
        return results


def write_results_csv(results: list[ContentResult], path: Path | str) -> Path:
    """One row per piece: audience, kind, products, grounded, issues, text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["audience", "kind", "product_ids", "grounded", "attempts", "issues", "text"])
        for result in results:
            writer.writerow(
                [
                    result.audience,
                    result.kind,
                    " ".join(result.product_ids),
                    result.grounded,
                    result.attempts,
                    "; ".join(result.issues),
                    result.text,
                ]
            )
    return path
