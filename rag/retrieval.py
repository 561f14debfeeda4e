"""Hybrid retrieval: dense (Chroma, cosine) + BM25, fused by reciprocal rank fusion, filtered by metadata.

Dense search finds paraphrases; BM25 finds exact terms (policy numbers, drug names, clause titles) that a
small embedding model blurs. Reciprocal rank fusion (RRF) adds ``1 / (rrf_k + rank)`` from each list, so the
two scales never need calibrating against each other. Near-duplicate passages (overlapping chunks of one
file, a paragraph repeated word for word across files) are dropped so the top-k say k different things; files
made from one template (invoices, plans, claims) differ only in their facts and are all kept. A cross-encoder
reranker runs only when the user configures a local model folder; none ships with the toolkit.

The BM25 side index is built from the texts stored in the collection itself, lazily and once per
collection ``version`` (see ``rag.vectorstore``), so it can never disagree with Chroma. It is a sparse
matrix of precomputed BM25 term weights (``rank_bm25``'s BM25Okapi with Lucene's idf): a query is a sum of a
few columns, milliseconds at 100k chunks, where ``rank_bm25`` loops over every document in Python.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict, Field, model_validator

from data_connectors.errors import BadInputError
from rag.vectorstore import DocumentStore

FilterValue = str | int | float | bool
Filters = Mapping[str, FilterValue]

_INT = re.compile(r"^-?\d+$")
_WORD = re.compile(r"\w+")
# Common English function words: they carry no evidence and BM25 would otherwise reward long chunks.
_STOPWORD_TEXT = (
    "a an and are as at be been but by can could did do does for from had has have how i if in into is "
    "it its may me might must my no not of on or our shall should so such than that the their them then "
    "there these they this those to under was we were what when where which who whom why will with would "
    "you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Metadata retrieval writes on every passage: values stored under these names (e.g. by an ingest's extra
# metadata before they were reserved) are dropped so they can never pose as a ranking or evidence score.
_SCORE_KEYS = frozenset({"score", "dense_score", "bm25_score", "rerank_score"})


class RetrievalConfig(BaseModel):
    """How passages are found. ``min_relevance`` is the evidence threshold used by answering: when the best
    passage's cosine similarity to the question is below it, the assistant refuses (calibrated on the
    rag-eval sets, see docs/documents-rag.md)."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    k: int = Field(5, ge=1, le=100, description="passages returned")
    fetch_k: int = Field(30, ge=1, le=1000, description="candidates taken from each side before fusion")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    min_relevance: float = Field(0.43, ge=-1.0, le=1.0, description="refuse below this cosine similarity")
    dedup_jaccard: float = Field(
        0.8, gt=0.0, le=1.0, description="drop a chunk this similar to a kept chunk of the same file"
    )
    reranker: str | None = Field(None, description="local sentence-transformers CrossEncoder folder")

    @model_validator(mode="after")
    def _fetch_at_least_k(self) -> RetrievalConfig:
        if self.fetch_k < self.k:
            raise ValueError(f"fetch_k must be >= k ({self.k}), got {self.fetch_k}; raise fetch_k or lower k")
        return self


# ---------------------------------------------------------------- BM25


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords; the same for chunks and queries."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


class SparseBM25:
    """BM25 as a sparse term-weight matrix: ``rank_bm25``'s BM25Okapi term frequency part (k1, b) with
    Lucene's idf ``log(1 + (N - df + 0.5) / (df + 0.5))``.

    Why Lucene's idf: Okapi's ``log((N - df + 0.5) / (df + 0.5))`` is negative for a term in more than half
    the documents, and ``rank_bm25``'s floor for it (a fraction of the mean idf) is negative too in a small
    collection of similar files, so the one invoice that holds the asked-for number scored below zero. Lucene's
    idf is positive for every term: a document scores above zero exactly when it holds a query term.

    Args:
        corpus: tokenised documents (see ``tokenize``).
    """

    def __init__(self, corpus: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75):
        from scipy import sparse

        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}; use k1=1.5, b=0.75")
        self.vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(corpus), dtype=np.float64)
        for row, tokens in enumerate(corpus):
            lengths[row] = len(tokens)
            frequencies: dict[int, int] = {}
            for token in tokens:
                column = self.vocabulary.setdefault(token, len(self.vocabulary))
                frequencies[column] = frequencies.get(column, 0) + 1
            rows += [row] * len(frequencies)
            cols += frequencies.keys()
            counts += frequencies.values()
        size, terms = len(corpus), len(self.vocabulary)
        tf = sparse.csr_matrix(
            (
                np.asarray(counts, dtype=np.float64),
                (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
            ),
            shape=(size, terms),
        )
        document_frequency = np.bincount(tf.indices, minlength=terms).astype(np.float64)
        idf = np.log1p((size - document_frequency + 0.5) / (document_frequency + 0.5))
        average_length = lengths.mean() if size and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / average_length)
        weights = tf.copy()
        row_of_entry = np.repeat(np.arange(size), np.diff(tf.indptr))
        weights.data = idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm[row_of_entry])
        self.size = size
        self._columns = weights.tocsc().astype(np.float32)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query (repeated query words count again, as in rank_bm25)."""
        columns: dict[int, float] = {}
        for token in query_tokens:
            if token in self.vocabulary:
                column = self.vocabulary[token]
                columns[column] = columns.get(column, 0.0) + 1.0
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        picked = self._columns[:, list(columns)]
        return np.asarray(
            picked @ np.fromiter(columns.values(), dtype=np.float32, count=len(columns))
        ).ravel()


@dataclass
class _SideIndex:
    """BM25 over one collection's stored chunks, with a lazily built metadata index for filters."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    bm25: SparseBM25
    _by_key: dict[str, dict[Any, np.ndarray]] = field(default_factory=dict)

    def rows_matching(self, filters: Filters) -> np.ndarray | None:
        """Rows whose metadata matches every filter exactly; None when there is no filter."""
        selected: np.ndarray | None = None
        for key, value in filters.items():
            if key not in self._by_key:
                groups: dict[Any, list[int]] = {}
                for row, metadata in enumerate(self.metadatas):
                    if key in metadata:
                        groups.setdefault(metadata[key], []).append(row)
                self._by_key[key] = {name: np.asarray(rows) for name, rows in groups.items()}
            rows = [
                self._by_key[key].get(accepted, np.empty(0, dtype=np.int64)) for accepted in _accepted(value)
            ]
            matched = np.unique(np.concatenate(rows)) if rows else np.empty(0, dtype=np.int64)
            selected = matched if selected is None else np.intersect1d(selected, matched)
        return selected


_side_indexes: dict[tuple[str, str], tuple[tuple[int, str], _SideIndex]] = {}
_side_lock = threading.Lock()


def _accepted(value: FilterValue) -> list[FilterValue]:
    """A filter value and, for a string of digits, its integer form (CLI filters arrive as strings)."""
    if isinstance(value, str) and _INT.match(value):
        return [value, int(value)]
    return [value]


def _chroma_where(filters: Filters) -> dict[str, Any] | None:
    clauses = []
    for key, value in filters.items():
        accepted = _accepted(value)
        clauses.append({key: accepted[0]} if len(accepted) == 1 else {"$or": [{key: a} for a in accepted]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _check_filter_keys(filters: Filters) -> None:
    """Raises BadInputError for a key Chroma would read as an operator (``$contains``) or a field (``#id``)."""
    for key in filters:
        if not isinstance(key, str) or not key or key.startswith(("$", "#")):
            raise BadInputError(
                f"Filter key {key!r} is not a metadata name; filter on a stored key such as claim_id=C-1 "
                "(keys cannot be empty or start with '$' or '#')."
            )


@dataclass(frozen=True)
class _Kept:
    """What de-duplication compares of a passage already kept."""

    source: str
    text: str  # lower-cased, whitespace collapsed
    words: frozenset[str]


def _kept(document: Document) -> _Kept:
    text = " ".join(document.page_content.lower().split())
    return _Kept(str(document.metadata.get("source", "")), text, frozenset(_WORD.findall(text)))


def _near_duplicate(candidate: _Kept, kept: list[_Kept], threshold: float) -> bool:
    """The same text from any file, or an overlapping chunk of the same file (word-set Jaccard >= threshold).

    Other files are never compared by overlap: files made from one template (the Gold and the Silver plan,
    forty claim letters) share most of their words and differ only in the facts asked about.
    """
    return any(
        candidate.text == other.text
        or (
            candidate.source == other.source
            and len(candidate.words & other.words) / max(len(candidate.words | other.words), 1) >= threshold
        )
        for other in kept
    )


@lru_cache(maxsize=2)
def _cross_encoder(path: str):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, device="cpu")


# PUBLIC API


def side_index(store: DocumentStore, collection: str) -> _SideIndex:
    """The BM25 index of a collection, rebuilt when its ``(count, version)`` changed since the last build."""
    key = (store.location, collection)
    version = store.version(collection)
    with _side_lock:
        cached = _side_indexes.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    chunks = store.chunks(collection)
    built = _SideIndex(
        chunks.ids, chunks.texts, chunks.metadatas, SparseBM25([tokenize(t) for t in chunks.texts])
    )
    with _side_lock:
        _side_indexes[key] = (version, built)
    return built


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], *, k: int = 60) -> dict[str, float]:
    """Fused score per id: the sum over rankings of ``1 / (k + rank)``, rank counted from 1."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class HybridRetriever(BaseRetriever):
    """Passages of one knowledge base for a query, best first, each with ``score`` in its metadata.

    ``score`` is the ranking score of the mode: cosine similarity (dense), BM25 (bm25), or the RRF score
    divided by its maximum ``2 / (rrf_k + 1)`` (hybrid, so 1.0 means ranked first by both). ``dense_score``
    (cosine) and ``bm25_score`` are kept when known; answering uses ``dense_score`` as evidence strength.
    Per-call ``filters=`` are added to the retriever's own ``filters`` (e.g. a claim's scope).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: DocumentStore
    collection: str
    config: RetrievalConfig = RetrievalConfig()
    filters: dict[str, FilterValue] = Field(default_factory=dict)

    def _dense(self, query: str, filters: Filters) -> list[tuple[str, str, dict[str, Any], float]]:
        vector = self.store.embeddings.embed_query(query)
        return self.store.dense_search(
            self.collection, vector, k=self.config.fetch_k, where=_chroma_where(filters)
        )

    def _bm25(self, query: str, filters: Filters) -> list[tuple[str, str, dict[str, Any], float]]:
        index = side_index(self.store, self.collection)
        scores = index.bm25.scores(tokenize(query))
        rows = index.rows_matching(filters)
        # Every idf is positive, so a score above zero means the row holds at least one query term.
        candidates = np.flatnonzero(scores > 0) if rows is None else rows[scores[rows] > 0]
        if candidates.size > self.config.fetch_k:
            top = np.argpartition(-scores[candidates], self.config.fetch_k - 1)[: self.config.fetch_k]
            candidates = candidates[top]
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [
            (index.ids[r], index.texts[r], dict(index.metadatas[r]), float(scores[r])) for r in candidates
        ]

    def _rerank(self, query: str, passages: list[Document]) -> list[Document]:
        model = _cross_encoder(self.config.reranker or "")
        logits = model.predict([(query, passage.page_content) for passage in passages])
        for passage, logit in zip(passages, logits, strict=True):
            passage.metadata["rerank_score"] = float(logit)
        return sorted(passages, key=lambda passage: -passage.metadata["rerank_score"])

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, filters: Filters | None = None
    ) -> list[Document]:
        if not isinstance(query, str) or not query.strip():
            raise BadInputError("The query is empty; type a question or keywords to search for.")
        # The retriever's own filters are its scope (e.g. one claim): a call may narrow it, never replace it.
        asked = filters or {}
        conflicts = sorted(key for key in asked if key in self.filters and self.filters[key] != asked[key])
        if conflicts:
            raise BadInputError(f"Filter(s) {', '.join(conflicts)} conflict with this retriever's scope.")
        scope = {**self.filters, **(filters or {})}
        _check_filter_keys(scope)
        mode = self.config.mode
        dense = self._dense(query, scope) if mode in ("dense", "hybrid") else []
        lexical = self._bm25(query, scope) if mode in ("bm25", "hybrid") else []
        found: dict[str, Document] = {}
        for side, hits in (("dense_score", dense), ("bm25_score", lexical)):
            for chunk_id, text, metadata, score in hits:
                stored = {key: value for key, value in metadata.items() if key not in _SCORE_KEYS}
                document = found.setdefault(
                    chunk_id, Document(id=chunk_id, page_content=text, metadata=stored)
                )
                document.metadata[side] = round(score, 6)
        if mode == "hybrid":
            best = 2.0 / (self.config.rrf_k + 1)
            fused = reciprocal_rank_fusion(
                [[h[0] for h in dense], [h[0] for h in lexical]], k=self.config.rrf_k
            )
            ranking = sorted(fused, key=lambda chunk_id: -fused[chunk_id])
            scores = {chunk_id: fused[chunk_id] / best for chunk_id in ranking}
        else:
            hits = dense or lexical
            ranking, scores = [h[0] for h in hits], {h[0]: h[3] for h in hits}
        passages, kept = [], []
        limit = self.config.fetch_k if self.config.reranker else self.config.k
        for chunk_id in ranking:
            candidate = _kept(found[chunk_id])
            if _near_duplicate(candidate, kept, self.config.dedup_jaccard):
                continue
            found[chunk_id].metadata["score"] = round(scores[chunk_id], 6)
            passages.append(found[chunk_id])
            kept.append(candidate)
            if len(passages) == limit:
                break
        if self.config.reranker and passages:
            passages = self._rerank(query, passages)[: self.config.k]
        return passages


def evidence_strength(passages: Sequence[Document]) -> float | None:
    """The best cosine similarity among the passages (None when no passage came from dense search)."""
    scores = [p.metadata["dense_score"] for p in passages if "dense_score" in p.metadata]
    return max(scores) if scores else None
