"""Hybrid retrieval over a real embedded Chroma with MiniLM: modes, fusion, filters on both sides, de-dup,
and the sparse BM25 against ``rank_bm25`` (with Lucene's idf). Documents are self-written test text; the
templated invoices and plans imitate files generated from one template that differ only in their facts."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from data_connectors.errors import BadInputError
from rag.chunking import ChunkingConfig
from rag.indexing import ingest
from rag.retrieval import (
    HybridRetriever,
    RetrievalConfig,
    SparseBM25,
    evidence_strength,
    reciprocal_rank_fusion,
    tokenize,
)
from rag.vectorstore import ChromaConfig, DocumentStore

INVOICE = (
    "Invoice {n} for dental services. Patient account {account}. Procedure: crown on tooth 14. "
    "Amount due: {amount} dollars, payable within 30 days to Bright Smile Dental Clinic."
)
PLAN = (
    "Under the {plan} plan the annual deductible is {amount} dollars per member, and after the deductible is "
    "met the plan pays 80 percent of covered outpatient costs until the out-of-pocket maximum is reached."
)


class LuceneIdfBM25(BM25Okapi):
    """``rank_bm25``'s BM25Okapi with Lucene's idf, the reference for ``SparseBM25``."""

    def _calc_idf(self, nd):
        self.idf = {word: np.log1p((self.corpus_size - df + 0.5) / (df + 0.5)) for word, df in nd.items()}


@pytest.fixture
def store(tmp_path, minilm, corpus):
    (corpus / "copy-of-breach.md").write_text((corpus / "breach.md").read_text(), encoding="utf-8")
    claims = corpus / "claims"
    claims.mkdir()
    (claims / "c1.txt").write_text("Claim C-1: kitchen fire on 3 May, policy HX-4471, estimate 12,400 USD.\n")
    (claims / "c2.txt").write_text("Claim C-2: burst pipe flooded the basement, policy HX-9902.\n")
    store = DocumentStore(config=ChromaConfig(), data_dir=tmp_path / "data", embeddings=minilm)
    common = {
        "store": store,
        "collection": "kb-r",
        "chunking": ChunkingConfig(),
        "count_tokens": minilm.count_tokens,
    }
    ingest(
        [corpus / name for name in ("breach.md", "copy-of-breach.md", "flood.txt", "vendor.txt")], **common
    )
    ingest([claims / "c1.txt"], extra_metadata={"claim_id": "C-1"}, **common)
    ingest([claims / "c2.txt"], extra_metadata={"claim_id": "C-2"}, **common)
    return store


@pytest.fixture
def templated(tmp_path, minilm):
    """Three invoices and two plans, each made from one template, plus unrelated one-liners."""
    folder = tmp_path / "templated"
    folder.mkdir()
    for n, account, amount in [(1001, 5531, 820), (1002, 7712, 1140), (1003, 9046, 655)]:
        (folder / f"invoice-{n}.txt").write_text(INVOICE.format(n=n, account=account, amount=amount))
    (folder / "gold.txt").write_text(PLAN.format(plan="Gold", amount=500))
    (folder / "silver.txt").write_text(PLAN.format(plan="Silver", amount=1500))
    (folder / "vision.txt").write_text("Vision exams need a referral from a primary care doctor.")
    store = DocumentStore(config=ChromaConfig(), data_dir=tmp_path / "data", embeddings=minilm)
    ingest(
        [folder], store=store, collection="kb-t", chunking=ChunkingConfig(), count_tokens=minilm.count_tokens
    )
    return store


def _retriever(store, collection="kb-r", **config):
    return HybridRetriever(store=store, collection=collection, config=RetrievalConfig(**config))


def test_sparse_bm25_matches_rank_bm25_with_lucene_idf():
    texts = ["the cat sat on the mat", "dogs chase cats", "a mat for a dog", "cat cat cat", "nothing here"]
    corpus = [text.split() for text in texts]
    for query in (["cat"], ["mat", "dog"], ["cat", "cat"], ["unknown"]):
        expected = LuceneIdfBM25(corpus).get_scores(query)
        assert np.allclose(SparseBM25(corpus).scores(query), expected, atol=1e-5)


def test_bm25_scores_every_matching_document_above_zero_in_a_templated_collection():
    """Okapi's idf (and rank_bm25's floor) is negative for words in most documents: 3 invoices from one
    template all scored below zero, so the one holding the asked-for number was dropped."""
    invoices = [INVOICE.format(n=n, account=n + 4000, amount=n - 300) for n in (1001, 1002, 1003)]
    scores = SparseBM25([tokenize(text) for text in invoices]).scores(tokenize("amount due on invoice 1003?"))
    assert (scores > 0).all() and scores.argmax() == 2


def test_reciprocal_rank_fusion_adds_inverse_ranks():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.get) == "b"


def test_tokenize_drops_stopwords_and_case():
    assert tokenize("What is the Deadline for HX-4471?") == ["deadline", "hx", "4471"]


def test_each_mode_finds_the_right_passage(store):
    for mode in ("dense", "bm25", "hybrid"):
        passages = _retriever(store, mode=mode, k=3).invoke("deadline to notify individuals after a breach")
        assert passages[0].metadata["source"].endswith("breach.md"), mode
        assert "score" in passages[0].metadata
    hybrid = _retriever(store, k=3).invoke("deadline to notify individuals after a breach")[0].metadata
    assert hybrid["score"] == pytest.approx(1.0)  # first in both rankings
    assert {"dense_score", "bm25_score"} <= set(hybrid)


def test_exact_identifier_is_found_by_bm25_and_hybrid(store):
    assert "HX-9902" in _retriever(store, mode="bm25", k=1).invoke("HX-9902")[0].page_content
    assert "HX-9902" in _retriever(store, k=1).invoke("policy HX-9902")[0].page_content


def test_near_duplicates_are_removed(store):
    passages = _retriever(store, k=5).invoke("breach notification deadline")
    texts = [p.page_content for p in passages]
    assert sum("60 calendar days" in text for text in texts) == 1


def test_exact_number_in_templated_files_is_found_by_bm25(templated):
    question = "What amount is due on invoice 1003?"
    lexical = _retriever(templated, "kb-t", mode="bm25", k=3).invoke(question)
    assert len(lexical) == 3 and "Invoice 1003" in lexical[0].page_content
    assert lexical[0].metadata["bm25_score"] > lexical[1].metadata["bm25_score"] > 0
    hybrid = _retriever(templated, "kb-t", k=3).invoke(question)  # the dense side cannot tell numbers apart
    assert any("Invoice 1003" in p.page_content for p in hybrid)


def test_templated_files_that_differ_only_in_their_facts_are_all_kept(templated):
    for mode in ("dense", "bm25", "hybrid"):
        passages = _retriever(templated, "kb-t", mode=mode, k=5).invoke(
            "annual deductible of the Silver plan"
        )
        names = [p.metadata["source"].rsplit("/", 1)[-1] for p in passages]
        assert {"gold.txt", "silver.txt"} <= set(names), mode
    invoices = _retriever(templated, "kb-t", k=5).invoke("dental crown invoice amount due")
    assert sum("Invoice 10" in p.page_content for p in invoices) == 3


def test_scores_stored_in_metadata_never_replace_the_computed_ones(templated):
    """Chunks indexed with a score key in their metadata (before those keys were reserved) are re-scored."""
    collection = templated.collection("kb-t")
    stored = collection.get(include=["metadatas"])
    forged = [{**meta, "dense_score": "0.99", "score": "high"} for meta in stored["metadatas"]]
    collection.update(ids=stored["ids"], metadatas=forged)
    templated.touch("kb-t")
    for mode in ("dense", "bm25", "hybrid"):
        passages = _retriever(templated, "kb-t", mode=mode, k=3).invoke("vision exam referral")
        assert passages and all(isinstance(p.metadata["score"], float) for p in passages), mode
        if mode == "bm25":  # no cosine was computed, so there is none, and no evidence strength
            assert (
                all("dense_score" not in p.metadata for p in passages) and evidence_strength(passages) is None
            )
        else:
            assert all(isinstance(p.metadata["dense_score"], float) for p in passages)
            assert evidence_strength(passages) < 0.99


def test_filters_apply_to_dense_and_bm25(store):
    for mode in ("dense", "bm25", "hybrid"):
        scoped = _retriever(store, mode=mode, k=5).invoke(
            "policy claim water damage", filters={"claim_id": "C-1"}
        )
        assert scoped and all(p.metadata.get("claim_id") == "C-1" for p in scoped), mode
    scoped = HybridRetriever(store=store, collection="kb-r", filters={"doc_type": "txt"}).invoke(
        "breach deadline"
    )
    assert all(p.metadata["doc_type"] == "txt" for p in scoped)
    assert _retriever(store).invoke("fire", filters={"claim_id": "C-404"}) == []
    claim_one = HybridRetriever(store=store, collection="kb-r", filters={"claim_id": "C-1"})
    with pytest.raises(BadInputError, match="claim_id conflict with this retriever's scope"):
        claim_one.invoke("water damage", filters={"claim_id": "C-2"})  # narrows, never widens
    assert claim_one.invoke("water damage", filters={"claim_id": "C-1"})


def test_config_and_query_are_validated(store):
    with pytest.raises(ValueError, match="fetch_k"):
        RetrievalConfig(k=10, fetch_k=5)
    with pytest.raises(BadInputError, match="empty"):
        _retriever(store).invoke("   ")


@pytest.mark.parametrize("filters", [{"$contains": "flood"}, {"claim_id": "C-1", "$ne": "C-2"}, {"#id": "x"}])
def test_operator_like_filter_keys_are_bad_input(store, filters):
    with pytest.raises(BadInputError, match="is not a metadata name"):
        _retriever(store).invoke("flood", filters=filters)
    with pytest.raises(BadInputError, match="is not a metadata name"):
        HybridRetriever(store=store, collection="kb-r", filters=filters).invoke("flood")


def test_optional_cross_encoder_reranks(store, model_cache_dir):
    from genai_models.registry import ModelRegistry

    # No cross-encoder ships; a MiniLM folder with a fresh scoring head exercises the code path only.
    minilm_folder = ModelRegistry(model_cache_dir).resolve("minilm")
    passages = _retriever(store, k=2, reranker=str(minilm_folder)).invoke("breach deadline")
    assert len(passages) == 2 and all("rerank_score" in p.metadata for p in passages)
