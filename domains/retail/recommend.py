"""Top-k product recommendations from a catalogue and a purchase/browse history.

A customer's history (purchases weigh 1, views ``view_weight``, older events decay with ``half_life_days``)
scores every product by two item-item signals, each scaled to [0, 1] per customer and blended:
- content: cosine similarity of the products' text embeddings (finds alternatives and related items even
  for products nobody bought yet);
- co-purchase: cosine similarity of the products' purchase columns over all customers (finds complements:
  people who bought the espresso machine bought the grinder).
Popularity within the customer's segment is blended in too (on the sample it carries as much weight as
co-purchase: segments there shape half of all purchases). Customers without history get the
most purchased products of their segment (cold start), or of everyone when the segment is unknown too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from langchain_core.embeddings import Embeddings

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, parse_timestamps, read_table

CATALOGUE_COLUMNS = ("product_id", "name", "category", "price", "features", "description")
HISTORY_COLUMNS = ("customer_id", "segment", "product_id", "event", "timestamp")
EVENTS = ("purchase", "view")
ID_COLUMNS = ("customer_id", "product_id", "segment")  # read as text: "000123" keeps its leading zeros


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    name: str
    category: str
    price: float
    score: float
    reason: str


@dataclass
class RecommendationResult:
    customer_id: str
    segment: str | None
    cold_start: bool
    items: list[Recommendation] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- helpers


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else scores


def _cosine_columns(matrix: np.ndarray) -> np.ndarray:
    """Item-item cosine similarity of the columns of a (customers x items) matrix, zero diagonal."""
    norms = np.linalg.norm(matrix, axis=0)
    norms[norms == 0] = 1.0
    unit = matrix / norms
    similarity = unit.T @ unit
    np.fill_diagonal(similarity, 0.0)
    return similarity


def product_text(row: pd.Series) -> str:
    """The text embedded for a product: what a shopper would read."""
    return f"{row['name']}. {row['category']}. {row['features']}. {row['description']}"


# PUBLIC API


def load_catalogue(path: Path | str) -> pd.DataFrame:
    """Read a product catalogue (CSV/XLSX/JSON) with ``CATALOGUE_COLUMNS``; ids become strings.

    Raises:
        BadInputError: columns are missing, ids repeat, or prices are not numbers.
    """
    catalogue = read_table(path, required=CATALOGUE_COLUMNS, what="catalogue", text_columns=ID_COLUMNS)
    catalogue["product_id"] = as_ids(catalogue["product_id"])
    duplicated = catalogue["product_id"][catalogue["product_id"].duplicated()].unique().tolist()
    if duplicated:
        raise BadInputError(f"The catalogue repeats product_id {duplicated[:5]}; each product needs one row.")
    # "331,99 €", "$1,299.00" and "1.299,00" read as everywhere else in the toolkit
    catalogue["price"] = pd.to_numeric(catalogue["price"].map(lambda value: parse_money(value, what="price")))
    if catalogue["price"].isna().any():
        bad = catalogue.loc[catalogue["price"].isna(), "product_id"].tolist()[:5]
        raise BadInputError(f"The catalogue has non-numeric prices for products {bad}; fix the price column.")
    for column in ("name", "category", "features", "description"):
        catalogue[column] = catalogue[column].fillna("").astype(str)
    return catalogue.reset_index(drop=True)


def as_ids(values: pd.Series) -> pd.Series:
    """Identifiers as text without surrounding spaces; blank cells stay missing. The loaders read ID columns
    as text (``ID_COLUMNS``), so "000123" keeps its zeros and a column with a blank cell is not turned into
    floats ("101.0"); nothing here converts numbers back, which would lose the zeros."""
    return values.astype(str).str.strip()


def load_history(path: Path | str) -> pd.DataFrame:
    """Read a purchase/browse history with ``HISTORY_COLUMNS`` (event: purchase|view, ISO timestamps).

    Raises:
        BadInputError: columns are missing, an event is not purchase/view, or a timestamp does not parse.
    """
    history = read_table(path, required=HISTORY_COLUMNS, what="history", text_columns=ID_COLUMNS)
    for column in ("customer_id", "segment", "product_id"):
        history[column] = as_ids(history[column])
    history["event"] = history["event"].astype(str).str.strip().str.lower()
    unknown = sorted(set(history["event"]) - set(EVENTS))
    if unknown:
        raise BadInputError(f"The history has events {unknown}; accepted events are {', '.join(EVENTS)}.")
    history["timestamp"] = parse_timestamps(history["timestamp"])
    if history["timestamp"].isna().any():
        raise BadInputError(
            "The history has timestamps that do not parse; use ISO 8601 (2025-01-31T14:05:00)."
        )
    return history.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


class Recommender:
    """Blends content similarity, co-purchase similarity and segment popularity (see the module docstring).

    Args:
        catalogue: products, as from ``load_catalogue``.
        history: events, as from ``load_history``; events on products not in the catalogue are ignored.
        embeddings: any langchain ``Embeddings`` (the packaged MiniLM in production); None switches the
            content signal off.
        content_weight, copurchase_weight, popularity_weight: blend weights, each >= 0, not all zero.
        view_weight: how much a view counts against a purchase (0..1).
        half_life_days: an event this much older than the customer's latest counts half.
    """

    def __init__(
        self,
        catalogue: pd.DataFrame,
        history: pd.DataFrame,
        *,
        embeddings: Embeddings | None,
        content_weight: float = 0.2,
        copurchase_weight: float = 0.6,
        popularity_weight: float = 0.6,
        view_weight: float = 0.3,
        half_life_days: float = 90.0,
    ) -> None:
        weights = {
            "content_weight": content_weight,
            "copurchase_weight": copurchase_weight,
            "popularity_weight": popularity_weight,
        }
        for name, value in {**weights, "view_weight": view_weight}.items():
            if value < 0:
                raise BadInputError(f"{name} must be >= 0, got {value}; use 0 to switch that signal off.")
        if sum(weights.values()) == 0:
            raise BadInputError(
                "All blend weights are 0; give at least one of content/copurchase/popularity."
            )
        if half_life_days <= 0:
            raise BadInputError(f"half_life_days must be > 0, got {half_life_days}.")
        self.catalogue = catalogue.reset_index(drop=True)
        self.index = {pid: i for i, pid in enumerate(self.catalogue["product_id"])}
        known = history["product_id"].isin(self.index)
        self.history = history[known].copy()
        # Events of products missing from the catalogue cannot be recommended from: counted, not hidden.
        self.unknown_product_events = int((~known).sum())
        self.history_note = (
            f"{self.unknown_product_events} history events name products missing from the catalogue and were "
            "left out."
            if self.unknown_product_events
            else None
        )
        self.content_weight = content_weight if embeddings is not None else 0.0
        self.copurchase_weight = copurchase_weight
        self.popularity_weight = popularity_weight
        self.view_weight = view_weight
        self.half_life_days = half_life_days
        self.content = self._content_similarity(embeddings) if embeddings is not None else None
        self.copurchase = self._copurchase_similarity()
        purchases = self.history[self.history["event"] == "purchase"]
        self.popularity = self._counts(purchases)
        self.segment_popularity = {
            segment: self._counts(group) for segment, group in purchases.groupby("segment")
        }
        self.segments = self.history.groupby("customer_id")["segment"].last().to_dict()

    def _counts(self, events: pd.DataFrame) -> np.ndarray:
        counts = np.zeros(len(self.catalogue))
        np.add.at(counts, events["product_id"].map(self.index).to_numpy(dtype=int), 1.0)
        return counts

    def _content_similarity(self, embeddings: Embeddings) -> np.ndarray:
        texts = [product_text(row) for _, row in self.catalogue.iterrows()]
        vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        similarity = np.clip(vectors @ vectors.T, 0.0, None)
        np.fill_diagonal(similarity, 0.0)
        return similarity

    def _copurchase_similarity(self) -> np.ndarray:
        purchases = self.history[self.history["event"] == "purchase"]
        customers = {c: i for i, c in enumerate(purchases["customer_id"].unique())}
        matrix = np.zeros((max(len(customers), 1), len(self.catalogue)), dtype=np.float32)
        rows = purchases["customer_id"].map(customers).to_numpy(dtype=int)
        cols = purchases["product_id"].map(self.index).to_numpy(dtype=int)
        matrix[rows, cols] = 1.0
        return _cosine_columns(matrix)

    def _profile(self, events: pd.DataFrame) -> np.ndarray:
        """Per-product weight of one customer's events: event type times recency decay."""
        age_days = (events["timestamp"].max() - events["timestamp"]).dt.total_seconds() / 86400
        decay = 0.5 ** (age_days.to_numpy() / self.half_life_days)
        kind = np.where(events["event"].to_numpy() == "purchase", 1.0, self.view_weight)
        profile = np.zeros(len(self.catalogue))
        np.add.at(profile, events["product_id"].map(self.index).to_numpy(dtype=int), kind * decay)
        return profile

    def _items(
        self, scores: np.ndarray, k: int, exclude: set[int], reasons: list[str]
    ) -> list[Recommendation]:
        order = [i for i in np.argsort(-scores, kind="stable") if i not in exclude][:k]
        items = []
        for i in order:
            row = self.catalogue.iloc[i]
            items.append(
                Recommendation(
                    product_id=row["product_id"],
                    name=row["name"],
                    category=row["category"],
                    price=float(row["price"]),
                    score=round(float(scores[i]), 4),
                    reason=reasons[i],
                )
            )
        return items

    def popular(
        self, k: int = 10, *, segment: str | None = None, exclude: set[str] | frozenset[str] = frozenset()
    ) -> list[str]:
        """Ids of the ``k`` most purchased products (within ``segment`` when it is known)."""
        counts = self.segment_popularity.get(segment, self.popularity) if segment else self.popularity
        skip = {self.index[p] for p in exclude if p in self.index}
        return [
            self.catalogue.iloc[i]["product_id"] for i in np.argsort(-counts, kind="stable") if i not in skip
        ][:k]

    def recommend(self, customer_id: str, k: int = 10, *, segment: str | None = None) -> RecommendationResult:
        """Top ``k`` products the customer has not bought yet, each with the reason it was chosen.

        ``segment`` is used for customers without history (cold start); known customers keep their own.
        """
        if k < 1:
            raise BadInputError(f"k must be >= 1, got {k}.")
        customer_id = str(customer_id)
        events = self.history[self.history["customer_id"] == customer_id]
        segment = self.segments.get(customer_id, segment)
        if segment is not None and segment not in self.segment_popularity and events.empty:
            known = ", ".join(sorted(self.segment_popularity))
            raise BadInputError(f"Unknown segment {segment!r}; known segments are {known}.")
        popularity = _scaled(self.segment_popularity.get(segment, self.popularity))
        if events.empty:
            where = f"segment {segment}" if segment else "all customers"
            reasons = [f"popular in {where}"] * len(self.catalogue)
            return RecommendationResult(
                customer_id, segment, True, self._items(popularity, k, set(), reasons)
            )
        profile = self._profile(events)
        parts = {"bought together with": self.copurchase_weight * _scaled(profile @ self.copurchase)}
        if self.content is not None:
            parts["similar to"] = self.content_weight * _scaled(profile @ self.content)
        scores = sum(parts.values()) + self.popularity_weight * popularity
        reasons = self._reasons(profile, parts)
        bought = set(events.loc[events["event"] == "purchase", "product_id"].map(self.index))
        return RecommendationResult(customer_id, segment, False, self._items(scores, k, bought, reasons))

    def _reasons(self, profile: np.ndarray, parts: dict[str, np.ndarray]) -> list[str]:
        """Name the signal that contributed most, and the history product that drove it."""
        matrices = {"bought together with": self.copurchase, "similar to": self.content}
        stacked = np.vstack(list(parts.values()))
        winner = np.argmax(stacked, axis=0)
        names = list(parts)
        reasons = []
        for item, part in enumerate(winner):
            contributions = profile * matrices[names[part]][:, item]
            source = int(np.argmax(contributions))
            reasons.append(
                f"{names[part]} {self.catalogue.iloc[source]['name']}"
                if contributions[source] > 0
                else "popular in your segment"
            )
        return reasons


def holdout_last_purchase(
    history: pd.DataFrame, *, hide_hours: float = 24.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split for evaluation: each customer's last purchase is the target (customers with >= 2 purchases).

    The training part drops the target and every event of that customer in the ``hide_hours`` before it (the
    browsing session that led to the purchase), so the test asks "what will they buy next?", not "what did
    they just look at?".
    """
    purchases = history[history["event"] == "purchase"]
    counts = purchases.groupby("customer_id").size()
    eligible = purchases[purchases["customer_id"].isin(counts[counts >= 2].index)]
    targets = eligible.groupby("customer_id").tail(1)
    cutoff = targets.set_index("customer_id")["timestamp"] - pd.Timedelta(hours=hide_hours)
    limit = history["customer_id"].map(cutoff)
    train = history[limit.isna() | (history["timestamp"] < limit)]
    return train.reset_index(drop=True), targets.reset_index(drop=True)
