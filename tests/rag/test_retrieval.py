"""Hybrid retrieval over a real embedded Chroma with MiniLM: modes, fusion, filters on both sides, de-dup,
and the sparse BM25 against ``rank_bm25``. Documents are self-written test text."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from data_connectors.errors import BadInputError
from rag.chunking import ChunkingConfig
from rag.indexing import ingest
from rag.retrieval import HybridRetriever, RetrievalConfig, SparseBM25, reciprocal_rank_fusion, tokenize
from rag.vectorstore import ChromaConfig, DocumentStore


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


def _retriever(store, **config):
    return HybridRetriever(store=store, collection="kb-r", config=RetrievalConfig(**config))


def test_sparse_bm25_matches_rank_bm25():
    texts = ["the cat sat on the mat", "dogs chase cats", "a mat for a dog", "cat cat cat", "nothing here"]
    corpus = [text.split() for text in texts]
    for query in (["cat"], ["mat", "dog"], ["cat", "cat"], ["unknown"]):
        assert np.allclose(SparseBM25(corpus).scores(query), BM25Okapi(corpus).get_scores(query), atol=1e-5)


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


def test_optional_cross_encoder_reranks(store, model_cache_dir):
    from genai_models.registry import ModelRegistry

    # No cross-encoder ships; a MiniLM folder with a fresh scoring head exercises the code path only.
    minilm_folder = ModelRegistry(model_cache_dir).resolve("minilm")
    passages = _retriever(store, k=2, reranker=str(minilm_folder)).invoke("breach deadline")
    assert len(passages) == 2 and all("rerank_score" in p.metadata for p in passages)
