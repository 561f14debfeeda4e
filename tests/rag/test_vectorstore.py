"""The Chroma adapter in embedded mode and against a real ``chroma run`` server (real MiniLM vectors)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from data_connectors.errors import BadInputError
from rag.vectorstore import ChromaConfig, CollectionNotFoundError, DocumentStore, validate_collection_name


@pytest.mark.parametrize("name", ["a", "bad name", "-leading", "x..y", "trailing-", "ü-umlaut", "x" * 64])
def test_invalid_collection_names_are_refused_with_the_rule(name):
    with pytest.raises(BadInputError, match="3-63 letters"):
        validate_collection_name(name)


@pytest.mark.parametrize("name", ["hipaa", "health-privacy", "claims_2024.v2"])
def test_valid_collection_names_pass(name):
    assert validate_collection_name(name) == name


def test_embeddings_must_be_langchain_embeddings(tmp_path):
    with pytest.raises(TypeError, match="Embeddings"):
        DocumentStore(config=ChromaConfig(), data_dir=tmp_path, embeddings=object())


def _round_trip(store: DocumentStore) -> None:
    vector_store = store.vector_store("kb-one", create=True)
    assert vector_store._collection._embedding_function is None  # Chroma's default would download a model
    vector_store.add_documents(
        [
            Document(
                page_content="Deductibles apply to contents.", metadata={"source": "a.txt", "doc_type": "txt"}
            ),
            Document(page_content="Delivery within 14 days.", metadata={"source": "b.md", "doc_type": "md"}),
        ],
        ids=["a", "b"],
    )
    assert store.collections() == ["kb-one"]
    assert store.collection("kb-one").configuration["hnsw"]["space"] == "cosine"
    hits = store.dense_search("kb-one", store.embeddings.embed_query("Delivery within 14 days."), k=2)
    assert [hit[0] for hit in hits] == ["b", "a"]
    assert hits[0][3] == pytest.approx(1.0, abs=1e-3)  # cosine similarity of identical text
    only_txt = store.dense_search(
        "kb-one", store.embeddings.embed_query("delivery"), k=2, where={"doc_type": "txt"}
    )
    assert [hit[0] for hit in only_txt] == ["a"]
    count, version = store.version("kb-one")
    store.touch("kb-one")
    assert store.version("kb-one")[0] == count and store.version("kb-one")[1] != version
    assert store.stats("kb-one") == {
        "collection": "kb-one",
        "chunks": 2,
        "files": 2,
        "doc_types": {"md": 1, "txt": 1},
    }
    assert sorted(store.chunks("kb-one").ids) == ["a", "b"]
    with pytest.raises(CollectionNotFoundError) as missing:
        store.vector_store("kb-other")
    assert "kb-one" not in str(missing.value)  # the hub shows this to people who may not use kb-one
    store.delete("kb-one")
    assert store.collections() == []
    with pytest.raises(CollectionNotFoundError, match="genai ingest"):
        store.vector_store("kb-one")


def test_embedded_store_round_trip(tmp_path, minilm):
    _round_trip(DocumentStore(config=ChromaConfig(), data_dir=tmp_path, embeddings=minilm))
    assert (tmp_path / "chroma").is_dir()


def test_server_store_round_trip(tmp_path, minilm, chroma_server):
    _round_trip(DocumentStore(config=chroma_server, data_dir=tmp_path, embeddings=minilm))
    assert not (tmp_path / "chroma").exists()


def test_unreachable_server_is_reported_with_the_fix(tmp_path, minilm):
    config = ChromaConfig(mode="server", host="127.0.0.1", port=9)
    with pytest.raises(BadInputError, match="chroma run"):
        DocumentStore(config=config, data_dir=tmp_path, embeddings=minilm).collections()


def test_image_collections_and_knowledge_bases_share_a_store_without_mixing(tmp_path, minilm):
    import numpy as np

    from rag.image_collections import ImageCollection

    images = ImageCollection("dental-cases", data_dir=tmp_path, create=True)
    images.upsert(["a"], np.ones((1, 8), dtype=np.float32), [{"label": "x"}])
    store = DocumentStore(config=ChromaConfig(), data_dir=tmp_path, embeddings=minilm)
    store.collection("contracts", create=True)
    assert store.collections() == ["contracts"] and not store.exists("dental-cases")
    for create in (False, True):  # neither searched nor ingested into as a knowledge base
        with pytest.raises(BadInputError, match="'dental-cases' is an image collection"):
            store.collection("dental-cases", create=create)
    with pytest.raises(BadInputError, match="'contracts' is a knowledge base of documents"):
        ImageCollection("contracts", data_dir=tmp_path, create=True)
    assert ImageCollection("dental-cases", data_dir=tmp_path).count() == 1
