"""The packaged MiniLM embeds real sentences into 384-d vectors that rank relevance sensibly."""

from __future__ import annotations

import numpy as np

from rag.embeddings import EmbeddingConfig, load_embeddings


def test_minilm_vectors_rank_a_relevant_sentence_first(model_cache_dir) -> None:
    embeddings = load_embeddings(EmbeddingConfig(device="cpu"), model_cache_dir)
    query = embeddings.embed_query("How many days do we have to notify patients of a data breach?")
    relevant, irrelevant = embeddings.embed_documents(
        [
            "Covered entities must notify affected individuals no later than 60 days after discovery of a breach.",
            "The quarterly sales of garden furniture rose by twelve percent in spring.",
        ]
    )
    assert len(query) == 384 and embeddings.dimension == 384
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-4)
    assert float(np.dot(query, relevant)) > float(np.dot(query, irrelevant)) + 0.2
    assert embeddings.count_tokens("breach notification") >= 2
    assert embeddings.embed_documents([]) == []
