"""Grounded content: number checks, one regeneration, flags, batch CSV. A scripted fake chat model stands in
for the LLM; one smoke test runs the packaged smollm2-135m."""

from __future__ import annotations

import csv

import pytest

from domains.retail.content import (
    ContentOptions,
    ContentWriter,
    check_grounding,
    product_facts,
    write_content,
    write_results_csv,
)
from domains.retail.recommend import Recommender

from .conftest import ScriptedChat

FACTS = [
    {
        "product_id": "P1",
        "name": "Alba Eco Espresso Machine",
        "category": "Coffee",
        "price": 249.99,
        "features": "15 bar pump pressure; 1.8 L water tank",
        "description": "An espresso machine.",
    }
]


def test_grounding_accepts_catalogue_numbers_and_flags_invented_ones():
    good = "Meet the Alba Eco Espresso Machine: 15 bar, a 1.8 L tank, only 249.99."
    assert check_grounding(good, FACTS) == []
    assert check_grounding("Alba Eco Espresso Machine, now 249,99 EUR", FACTS) == []  # decimal comma
    issues = check_grounding("The Alba Eco Espresso Machine for 199.00 with 20% off!", FACTS)
    assert issues == [
        "percentage 20% is not in the catalogue facts",
        "number 199 is not in the catalogue facts",
        'the offer "% off" is not in the catalogue facts',
    ]
    assert check_grounding("A great machine.", FACTS) == ["no product is named as in the catalogue"]


def test_bad_draft_is_regenerated_once():
    chat = ScriptedChat(["Alba Eco Espresso Machine at 99.99!", "Alba Eco Espresso Machine at 249.99."])
    result = write_content(chat, FACTS, ContentOptions(kind="social"), audience="coffee lovers")
    assert result.attempts == 2 and result.grounded and result.text.endswith("249.99.")
    assert "number 99.99 is not in the catalogue facts" in chat.requests[1][-1]["content"]


def test_still_wrong_after_retry_is_flagged():
    chat = ScriptedChat(["Alba Eco Espresso Machine, 3 for 500!"])
    result = write_content(chat, FACTS, ContentOptions(), audience="x")
    assert result.attempts == 2 and not result.grounded
    assert result.to_dict()["issues"] == [
        "number 3 is not in the catalogue facts",
        "number 500 is not in the catalogue facts",
    ]


def test_options_reach_the_prompt():
    chat = ScriptedChat(["Alba Eco Espresso Machine."])
    options = ContentOptions(kind="description", tone="luxury", length="short", language="French")
    write_content(chat, FACTS, options, audience="x")
    prompt = chat.requests[0][-1]["content"]
    assert "Tone: luxury" in prompt and "Language: French" in prompt and "About 60 words" in prompt
    assert "price 249.99" in prompt and "15 bar pump pressure" in prompt
    with pytest.raises(ValueError):
        ContentOptions(kind="poem")


def test_writer_for_customer_segment_and_batch(sample_tables, tmp_path):
    catalogue, history = sample_tables
    recommender = Recommender(catalogue, history, embeddings=None)
    picks = recommender.recommend("C0002", 3).items
    facts = product_facts(catalogue, [item.product_id for item in picks])
    reply = " ".join(f"{fact['name']} for {fact['price']:.2f}." for fact in facts)
    writer = ContentWriter(ScriptedChat([reply]), recommender)
    result = writer.for_customer("C0002", ContentOptions(kind="email"))
    assert result.grounded and result.attempts == 1 and result.audience == "customer C0002"
    assert result.product_ids == [item.product_id for item in picks]
    assert writer.for_segment("outdoor", ContentOptions()).audience == "segment outdoor"
    seen = []
    results = writer.batch(
        ["C0002", "C0002"], ContentOptions(), progress=lambda done, total: seen.append(done)
    )
    assert seen == [1, 2]
    rows = list(csv.DictReader(write_results_csv(results, tmp_path / "out.csv").open()))
    assert len(rows) == 2 and rows[0]["grounded"] == "True"


@pytest.mark.slow
def test_smollm2_writes_checked_content(sample_tables, settings):
    from apps.services import Services

    class Capped(ScriptedChat):  # the real model, with replies capped at 24 tokens to keep the test short
        def stream(self, messages, **options):
            return model.stream(messages, **{**options, "max_new_tokens": 24})

    catalogue, history = sample_tables
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": "smollm2-135m"})})
    model = Services(settings).chat_model()
    writer = ContentWriter(Capped([]), Recommender(catalogue, history, embeddings=None))
    result = writer.for_products(["P0001"], ContentOptions(kind="social", length="short"))
    assert result.text and result.attempts in (1, 2)
    assert result.grounded == (result.issues == [])


def test_other_catalogue_products_named_are_flagged():
    text = "Alba Eco Espresso Machine for 249.99, or the Nordvik Pro Phone Charger."
    names = ["Alba Eco Espresso Machine", "Nordvik Pro Phone Charger"]
    assert check_grounding(text, FACTS, catalogue_names=names) == [
        "Nordvik Pro Phone Charger is named but is not among the featured products"
    ]


def test_segment_content_flags_a_product_the_segment_was_not_shown(sample_tables):
    catalogue, history = sample_tables
    recommender = Recommender(catalogue, history, embeddings=None)
    featured = set(recommender.popular(3, segment="outdoor"))
    outsider = catalogue.loc[~catalogue["product_id"].isin(featured), "name"].iloc[0]
    writer = ContentWriter(ScriptedChat([f"Try the {outsider}."] * 2), recommender)
    result = writer.for_segment("outdoor", ContentOptions(length="short"))
    assert not result.grounded and any(f"{outsider} is named" in issue for issue in result.issues)


def test_percentages_and_offers_need_their_own_facts():
    """A "9 bar" pump does not ground "9% off", and offers the facts do not state are flagged (facts written
    here)."""
    facts = [
        {
            "product_id": "P1",
            "name": "Alba Pump",
            "category": "Coffee",
            "price": 331.99,
            "features": "9 bar pump",
            "description": "Espresso machine.",
        },
    ]
    assert check_grounding("Alba Pump: 9% off today, was 331.99!", facts) == [
        "percentage 9% is not in the catalogue facts",
        'the offer "% off" is not in the catalogue facts',
        'the offer "was" is not in the catalogue facts',
    ]
    issues = check_grounding("Alba Pump: half price, free shipping, sale and a discount code!", facts)
    assert [i.split('"')[1] for i in issues] == ["half price", "free shipping", "sale", "discount"]
    on_offer = [{**facts[0], "description": "Free shipping in the summer sale, 10% off."}]
    assert check_grounding("Alba Pump: 10% off in our sale with free shipping.", on_offer) == []
    assert check_grounding("Alba Pump with a 9 bar pump for 331.99.", facts) == []


@pytest.mark.parametrize(
    "text",
    [
        "Alba Eco Espresso Machine: save time every morning.",
        "Alba Eco Espresso Machine with an energy-saving auto shut-off.",
        "Alba Eco Espresso Machine, a point-of-sale favourite.",
        "Alba Eco Espresso Machine with an energy-saving 15 bar pump.",
        "Alba Eco Espresso Machine, the only one for sale at the counter.",
        "Alba Eco Espresso Machine: save on energy bills.",
        "Alba Eco Espresso Machine: save on space with a folding design.",
        "Alba Eco Espresso Machine: savings on your electricity bill every month.",
        "Alba Eco Espresso Machine: big savings on your energy bills thanks to A+++ rating.",
        "Alba Eco Espresso Machine: save big on counter space.",
        "Alba Eco Espresso Machine: garage-sale charm in a modern design.",
        "Alba Eco Espresso Machine: save 15 minutes every morning.",
    ],
)
def test_everyday_words_are_not_offers(text):
    assert check_grounding(text, FACTS) == []


@pytest.mark.parametrize(
    ("text", "offer"),
    [
        ("Alba Eco Espresso Machine: save up to 249.99!", "save up to"),
        ("Alba Eco Espresso Machine: save 249.99 today.", "save"),
        ("Alba Eco Espresso Machine, now on sale.", "sale"),
        ("Alba Eco Espresso Machine at its sale price.", "sale"),
        ("Alba Eco Espresso Machine, sale-priced.", "sale"),
        ("Alba Eco Espresso Machine: buy 2, get 1 free.", "buy 2, get 1 free"),
        ("Alba Eco Espresso Machine: enjoy 15 percent off.", "percent off"),
        ("Alba Eco Espresso Machine, only $9.99 this week.", "only"),
        ("Alba Eco Espresso Machine, reduced to clear.", "reduced to clear"),
        ("Alba Eco Espresso Machine filters: two for £10.", "two for"),
        ("Alba Eco Espresso Machine: Black Friday deals.", "black friday"),
        ("Alba Eco Espresso Machine, on-sale now.", "sale"),
        ("Alba Eco Espresso Machine with pre-sale access.", "sale"),
    ],
)
def test_money_savings_and_sales_are_offers(text, offer):
    issues = check_grounding(text, FACTS)  # invented numbers ("buy 2", "$9.99") are flagged on their own too
    assert [i for i in issues if i.startswith("the offer")] == [
        f'the offer "{offer}" is not in the catalogue facts'
    ]


NORDVIK = {
    "product_id": "P0",
    "name": "Nordvik Lite Espresso Machine",
    "category": "Coffee",
    "price": 331.99,
    "features": "9 bar pump pressure; 0.5 L water tank",
    "description": "An espresso machine.",
}


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        (
            "Nordvik Lite Espresso Machine for just 249.99 and the Alba Eco Espresso Machine for 331.99!",
            "number 249.99 is given for Nordvik Lite Espresso Machine but belongs to another product",
        ),
        (
            "The Nordvik Lite Espresso Machine with 15 bar pump and 1.8 L tank.",
            "number 15 is given for Nordvik Lite Espresso Machine but belongs to another product",
        ),
    ],
)
def test_numbers_swapped_between_featured_products_are_flagged(text, issue):
    assert issue in check_grounding(text, [NORDVIK, *FACTS])


def test_each_products_numbers_in_its_own_sentence_are_grounded():
    text = (
        "The Nordvik Lite Espresso Machine has a 9 bar pump and costs 331.99. "
        "The Alba Eco Espresso Machine brings 15 bar and a 1.8 L tank for 249.99. Both are 100% espresso."
    )
    assert [i for i in check_grounding(text, [NORDVIK, *FACTS]) if "number" in i] == []


def test_other_product_ids_echoed_instructions_and_language_are_flagged():
    catalogue_ids = ["P0", "P1", "P0003", "7"]
    issues = check_grounding(
        "Audience: runners.\nAlba Eco Espresso Machine (id P0003): 15 bar, 1.8 L, 249.99.",
        FACTS,
        catalogue_ids=catalogue_ids,
        language="French",
    )
    assert "product id P0003 is not among the featured products" in issues
    assert "the draft repeats the instructions (Audience/Tone/Language/Facts lines)" in issues
    english = "Meet the Alba Eco Espresso Machine: it is the best for your kitchen and our favourite in the range."
    assert "the draft reads as English, not French" in check_grounding(english, FACTS, language="French")
    french = "Découvrez la Alba Eco Espresso Machine : le café pour vous et votre famille, avec une pompe de 15 bar."
    assert check_grounding(french, FACTS, language="French", catalogue_ids=catalogue_ids) == []
    assert check_grounding(english, FACTS, language="Klingon") == []  # languages we cannot tell are not judged


@pytest.mark.parametrize(
    "text",
    [
        "Alba Eco Espresso Machine: half off!",
        "Alba Eco Espresso Machine with complimentary delivery.",
        "Alba Eco Espresso Machine, no shipping fees.",
        "Alba Eco Espresso Machine: offer ends Sunday.",
        "Alba Eco Espresso Machine jetzt mit Rabatt.",
        "Alba Eco Espresso Machine : soldes d'hiver.",
        "Alba Eco Espresso Machine con descuento.",
        "Alba Eco Espresso Machine, livraison gratuite.",
    ],
)
def test_more_offer_wording_and_other_languages_are_offers(text):
    assert any(issue.startswith("the offer") for issue in check_grounding(text, FACTS))


def test_large_numbers_are_shown_as_written():
    assert "number 10,598,243 is not in the catalogue facts" in check_grounding(
        "Alba Eco Espresso Machine: 10,598,243 sold.", FACTS
    )


def test_ordinary_comparisons_and_names_with_numbers_are_not_misattributed():
    """Regressions of the first per-product rule (review, 27 Nov)."""
    grinder = {**NORDVIK, "product_id": "G", "name": "Nordvik Eco Coffee Grinder", "price": 114.99, "features": ""}
    brewer = {**NORDVIK, "product_id": "K", "name": "Brewer 2000", "price": 89.99, "features": ""}
    kettle = {**NORDVIK, "product_id": "K1", "name": "Kettle", "price": 39.99, "features": ""}
    kettle_pro = {**NORDVIK, "product_id": "K2", "name": "Kettle Pro", "price": 59.99, "features": "6 settings"}
    both = "The Nordvik Lite Espresso Machine and the Alba Eco Espresso Machine cost 331.99 and 249.99 respectively."
    assert check_grounding(both, [NORDVIK, *FACTS]) == []
    pairing = "The Nordvik Eco Coffee Grinder pairs perfectly with the Brewer 2000 for fresh coffee."
    assert check_grounding(pairing, [grinder, brewer]) == []
    assert check_grounding("The Kettle Pro costs 59.99 and has 6 temperature settings.", [kettle, kettle_pro]) == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "La Alba Eco Espresso Machine : 15 bar de pression, 1,8 L de réservoir. Un espresso de qualité en un "
            "instant, à 249,99 €.",
            "French",
        ),
        (
            "¡Hola! La Alba Eco Espresso Machine te espera: bomba de 15 bar y depósito de 1,8 L. Ideal en la "
            "oficina o en casa. Solo 249,99 €.",
            "Spanish",
        ),
        (
            "La Alba Eco Espresso Machine: la pressione della pompa da 15 bar e la capacità da 1,8 L, in cucina "
            "o in ufficio, a 249,99 €.",
            "Italian",
        ),
        ("Alba Eco Espresso Machine: aktive Geräuschunterdrückung reduziert Umgebungslärm.", "German"),
        ("Alba Eco Espresso Machine, pour votre remise en forme, avec une réduction de bruit.", "French"),
        ("Alba Eco Espresso Machine completa nuestra oferta de cafeteras.", "Spanish"),
    ],
)
def test_correct_copy_in_other_languages_is_not_flagged(text, language):
    assert check_grounding(text, FACTS, language=language) == []


def test_numbers_are_tied_only_to_the_name_right_before_them():
    """Second regression review (27 Nov): a name earlier in the sentence, a list of names or a name inside a
    word ("Pan" in "companion") does not claim a number; a spec line in the facts is no echoed prompt."""
    def product(pid, name, price, features=""):
        return {"product_id": pid, "name": name, "category": "Kitchen", "price": price, "features": features,
                "description": "x"}

    kettle, toaster = product("1", "Kettle Pro", 49.99, "1.7 l; boils in 3 minutes"), product("2", "Toaster", 29.99)
    pan = product("3", "Pan", 19.99)
    for text, facts in [
        ("The Kettle Pro, unlike the Toaster, boils 1.7 l in 3 minutes.", [kettle, toaster]),
        ("The Toaster pairs perfectly with the Kettle Pro, and at 29.99 it is a steal.", [kettle, toaster]),
        ("Our Kettle Pro and Toaster cost 49.99 and 29.99.", [kettle, toaster]),
        ("Our Kettle Pro is a great companion in any kitchen at 49.99.", [kettle, pan]),
    ]:
        assert [i for i in check_grounding(text, facts) if "belongs" in i] == [], text
    game = product("4", "Board Game Classic", 34.99, "Players: 2-6; Language: English")
    assert check_grounding("Board Game Classic\nPlayers: 2-6\nLanguage: English\nPrice: 34.99", [game]) == []
