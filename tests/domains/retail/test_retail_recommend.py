"""Recommender: structure it must find (co-purchase, segments), cold start, validation, evaluation split.
Fixtures: the shipped sample (samples/retail, seeded) and tiny hand-written tables below."""

from __future__ import annotations

import runpy

import numpy as np
import pandas as pd
import pytest

from data_connectors.errors import BadInputError
from domains.retail.recommend import Recommender, holdout_last_purchase, load_catalogue, load_history

from .conftest import SAMPLE, HashEmbeddings


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ["espresso machine", "coffee grinder", "tent", "sleeping bag", "headlamp"]
    catalogue = pd.DataFrame(
        {
            "product_id": [f"P{i}" for i in range(5)],
            "name": names,
            "category": ["Coffee"] * 2 + ["Camping"] * 3,
            "price": [249.99, 89.0, 229.0, 119.0, 29.0],
            "features": ["x"] * 5,
            "description": names,
        }
    )
    rows = []
    for customer in range(6):  # everyone who bought the espresso machine later bought the grinder
        rows += [
            (f"C{customer}", "home-cook", "P0", "purchase", f"2025-01-0{customer + 1}T10:00:00"),
            (f"C{customer}", "home-cook", "P1", "purchase", f"2025-02-0{customer + 1}T10:00:00"),
        ]
    rows += [
        ("N1", "home-cook", "P0", "purchase", "2025-03-01T10:00:00"),
        ("O1", "outdoor", "P2", "purchase", "2025-03-01T10:00:00"),
        ("O2", "outdoor", "P4", "purchase", "2025-03-01T10:00:00"),
        ("O3", "outdoor", "P4", "purchase", "2025-03-02T10:00:00"),
    ]
    history = pd.DataFrame(rows, columns=["customer_id", "segment", "product_id", "event", "timestamp"])
    history["timestamp"] = pd.to_datetime(history["timestamp"])
    return catalogue, history


def test_sample_is_big_enough_and_reproducible(sample_tables):
    catalogue, history = sample_tables
    assert len(catalogue) >= 200 and len(history) >= 2000
    assert set(history["event"]) == {"purchase", "view"}
    script = runpy.run_path(str(SAMPLE / "make_retail_sample.py"))
    regenerated = script["make_catalogue"](np.random.default_rng(script["SEED"]))
    assert regenerated["name"].tolist() == catalogue["name"].tolist()


def test_copurchase_finds_the_complement():
    catalogue, history = _tiny()
    result = Recommender(catalogue, history, embeddings=None).recommend("N1", k=2)
    assert not result.cold_start and result.segment == "home-cook"
    assert result.items[0].product_id == "P1"
    assert result.items[0].reason == "bought together with espresso machine"
    assert "P0" not in [item.product_id for item in result.items]  # already bought


def test_cold_start_gets_popular_in_segment():
    catalogue, history = _tiny()
    recommender = Recommender(catalogue, history, embeddings=HashEmbeddings())
    result = recommender.recommend("NEW", k=1, segment="outdoor")
    assert result.cold_start and result.items[0].product_id == "P4"
    assert result.items[0].reason == "popular in segment outdoor"
    with pytest.raises(BadInputError, match="Unknown segment 'nope'"):
        recommender.recommend("NEW", segment="nope")


@pytest.mark.parametrize(
    "options",
    [
        {"view_weight": -1},
        {"content_weight": 0, "copurchase_weight": 0, "popularity_weight": 0},
        {"half_life_days": 0},
    ],
)
def test_bad_options_are_rejected(options):
    catalogue, history = _tiny()
    with pytest.raises(BadInputError):
        Recommender(catalogue, history, embeddings=None, **options)


def test_sample_recommendations_exclude_purchases(sample_tables):
    catalogue, history = sample_tables
    recommender = Recommender(catalogue, history, embeddings=HashEmbeddings())
    result = recommender.recommend("C0001", k=10)
    bought = set(history.loc[(history.customer_id == "C0001") & (history.event == "purchase"), "product_id"])
    ids = [item.product_id for item in result.items]
    assert len(ids) == 10 and not bought & set(ids)
    assert all(item.reason for item in result.items)
    assert result.to_dict()["items"][0]["product_id"] == ids[0]


def test_holdout_hides_target_and_its_session(sample_tables):
    _, history = sample_tables
    train, targets = holdout_last_purchase(history)
    assert targets["customer_id"].is_unique
    for target in targets.head(20).itertuples():
        mine = train[train["customer_id"] == target.customer_id]
        assert (mine["timestamp"] < target.timestamp - pd.Timedelta(hours=24)).all()


def test_loaders_name_the_problem(tmp_path):
    bad = tmp_path / "history.csv"
    bad.write_text("customer_id,segment,product_id,event,timestamp\nC1,a,P1,click,2025-01-01\n")
    with pytest.raises(BadInputError, match="click"):
        load_history(bad)
    missing = tmp_path / "catalogue.csv"
    missing.write_text("product_id,name\nP1,x\n")
    with pytest.raises(BadInputError, match="lacks column"):
        load_catalogue(missing)


def test_catalogue_prices_are_read_with_currency_and_decimal_commas(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(
        'product_id,name,category,price,features,description\nP1,a,X,"331,99 €",f,d\nP2,b,X,"$1,299.00",f,d\n',
        encoding="utf-8",
    )
    assert load_catalogue(path)["price"].tolist() == [331.99, 1299.0]
    path.write_text("product_id,name,category,price,features,description\nP1,a,X,ask us,f,d\n")
    with pytest.raises(BadInputError, match=r"non-numeric prices for products \['P1'\]"):
        load_catalogue(path)


def test_numeric_ids_with_a_blank_cell_still_match_and_unknown_products_are_counted(tmp_path):
    """Numeric product ids, one history row without a customer id (pandas reads the column as floats: 7 ->
    "7.0"), and one event naming a product the catalogue lacks."""
    (tmp_path / "catalogue.csv").write_text(
        "product_id,name,category,price,features,description\n101,kettle,Kitchen,20,x,kettle\n"
        "102,teapot,Kitchen,15,x,teapot\n"
    )
    (tmp_path / "history.csv").write_text(
        "customer_id,segment,product_id,event,timestamp\n7,home,101,purchase,2025-01-01\n"
        ",home,102,view,2025-01-02\n7,home,999,purchase,2025-01-03\n"
    )
    history = load_history(tmp_path / "history.csv")
    assert sorted(history["customer_id"].dropna()) == ["7", "7"]
    assert sorted(history["product_id"]) == ["101", "102", "999"]
    recommender = Recommender(load_catalogue(tmp_path / "catalogue.csv"), history, embeddings=None)
    assert recommender.unknown_product_events == 1 and recommender.history_note.startswith("1 history events")
    assert not recommender.recommend("7", 2).cold_start  # the customer's history is found


@pytest.mark.slow
def test_minilm_blend_beats_global_popularity(sample_tables, services):
    catalogue, history = sample_tables
    train, targets = holdout_last_purchase(history)
    targets = targets.head(80)
    recommender = Recommender(catalogue, train, embeddings=services.embeddings())
    hits = popular = 0
    for target in targets.itertuples():
        bought = set(
            train.loc[(train.customer_id == target.customer_id) & (train.event == "purchase"), "product_id"]
        )
        hits += target.product_id in [i.product_id for i in recommender.recommend(target.customer_id).items]
        popular += target.product_id in recommender.popular(10, exclude=bought)
    assert hits > popular


def test_ids_with_leading_zeros_match_the_customers_history(tmp_path):
    """Zero-padded ids ("000123", "00001"), as many shops export them (tables written here)."""
    rows = [f"{i:05d},Item {i},Cat,{10 + i}.00,f,d" for i in range(1, 7)]
    (tmp_path / "catalogue.csv").write_text(
        "product_id,name,category,price,features,description\n" + "\n".join(rows) + "\n"
    )
    (tmp_path / "history.csv").write_text(
        "customer_id,segment,product_id,event,timestamp\n000123,home,00001,purchase,2025-01-01T10:00:00\n"
        "000123,home,00002,purchase,2025-01-02T10:00:00\n000456,home,00003,purchase,2025-01-02T10:00:00\n"
    )
    catalogue, history = load_catalogue(tmp_path / "catalogue.csv"), load_history(tmp_path / "history.csv")
    assert catalogue["product_id"].tolist()[0] == "00001"
    result = Recommender(catalogue, history, embeddings=None).recommend("000123", 3)
    assert not result.cold_start and {"00001", "00002"}.isdisjoint(i.product_id for i in result.items)
