"""Chunking: budgets, offsets, overlap, rows and stable ids. Most tests count whitespace-separated words (fast
and exact); the slow test uses the packaged MiniLM tokenizer on the shipped sample knowledge bases."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document
from pydantic import ValidationError

from rag.chunking import MAX_CHARS_PER_TOKEN, ChunkingConfig, split_documents

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "knowledge_bases"


def words(text: str) -> int:
    return len(text.split())


def sentence(n: int, length: int = 8) -> str:
    return " ".join([f"s{n}w{i}" for i in range(length - 1)] + [f"s{n}end."])


def doc(text: str, **metadata) -> Document:
    return Document(page_content=text, metadata={"source": "/kb/a.pdf", "doc_type": "pdf", **metadata})


def split(documents, chunk_tokens: int = 40, overlap_tokens: int = 10, counter=words) -> list[Document]:
    config = ChunkingConfig(chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)
    return split_documents(documents, count_tokens=counter, config=config)


def covered(text: str, chunks: list[Document]) -> bool:
    """Every non-space character of ``text`` lies inside some chunk's [char_start, char_end)."""
    inside = [False] * len(text)
    for chunk in chunks:
        for i in range(chunk.metadata["char_start"], chunk.metadata["char_end"]):
            inside[i] = True
    return all(flag or char.isspace() for flag, char in zip(inside, text, strict=True))


def test_config_validates_sizes_with_clear_messages() -> None:
    assert ChunkingConfig() == ChunkingConfig(chunk_tokens=200, overlap_tokens=30)
    with pytest.raises(ValidationError, match="overlap_tokens must be at most half"):
        ChunkingConfig(chunk_tokens=100, overlap_tokens=60)
    with pytest.raises(ValidationError, match="less than or equal to 254"):
        ChunkingConfig(chunk_tokens=300)


def test_chunks_respect_the_budget_keep_metadata_and_point_into_the_parent() -> None:
    text = "\n\n".join(" ".join(sentence(p * 10 + s) for s in range(4)) for p in range(5))
    parent = doc(text, page=3, title="T")
    chunks = split([parent])
    assert len(chunks) > 3
    for index, chunk in enumerate(chunks):
        meta = chunk.metadata
        assert words(chunk.page_content) <= 40
        assert text[meta["char_start"] : meta["char_end"]] == chunk.page_content
        assert meta["page"] == 3 and meta["title"] == "T" and meta["chunk_index"] == index
    assert covered(text, chunks)


def test_overlap_is_whole_sentences_from_the_end_of_the_previous_chunk() -> None:
    text = " ".join(sentence(n) for n in range(20))
    chunks = split([doc(text)], chunk_tokens=40, overlap_tokens=10)
    for previous, current in itertools.pairwise(chunks):
        start, end = current.metadata["char_start"], previous.metadata["char_end"]
        shared = text[start:end]
        assert shared, "consecutive chunks share a sentence"
        assert words(shared) <= 10
        assert re.fullmatch(r"(s\d+w0 .*?s\d+end\.\s*)+", shared), shared  # starts and ends on sentences


@pytest.mark.parametrize("seed", range(5))
def test_random_texts_keep_every_invariant(seed: int) -> None:
    """Seeded random paragraphs of 1-45-word sentences: budget, full coverage, progress and bounded overlap."""
    rng = random.Random(seed)
    paragraphs = [
        " ".join(sentence(rng.randrange(1000), rng.randint(1, 45)) for _ in range(rng.randint(1, 6)))
        for _ in range(rng.randint(1, 8))
    ]
    text = "\n\n".join(paragraphs)
    chunks = split([doc(text)], chunk_tokens=40, overlap_tokens=10)
    assert all(words(c.page_content) <= 40 for c in chunks)
    assert covered(text, chunks)
    for previous, current in itertools.pairwise(chunks):
        assert current.metadata["char_start"] > previous.metadata["char_start"]
        assert current.metadata["char_end"] > previous.metadata["char_end"]  # no chunk repeats only old text
        shared = text[current.metadata["char_start"] : previous.metadata["char_end"]]
        assert words(shared) <= 10


def test_chunks_never_cross_documents_and_prefer_paragraph_breaks() -> None:
    pages = [doc(sentence(1), page=1), doc(sentence(2), page=2)]
    chunks = split(pages)
    assert [c.metadata["page"] for c in chunks] == [1, 2]
    text = " ".join(sentence(n) for n in range(3)) + "\n\n" + " ".join(sentence(n) for n in range(3, 6))
    first, *_ = split([doc(text)], chunk_tokens=40, overlap_tokens=0)
    assert first.page_content.endswith("s2end.")  # 24 words fill half the budget: stop at the paragraph


def test_rows_stay_whole_and_an_oversized_row_is_split_without_loss() -> None:
    rows = [
        Document(
            page_content=f"Item: pipe {n}\nCost: {n}0",
            metadata={"source": "/kb/e.csv", "doc_type": "csv", "row": n},
        )
        for n in range(1, 4)
    ]
    chunks = split(rows, chunk_tokens=20, overlap_tokens=0)
    assert [c.page_content for c in chunks] == [r.page_content for r in rows]
    assert all("row_split" not in c.metadata for c in chunks)

    long_text = "\n".join(f"Field {n}: " + "word " * 6 for n in range(10))
    long_row = Document(page_content=long_text, metadata={"source": "/kb/e.csv", "doc_type": "csv", "row": 9})
    pieces = split([long_row], chunk_tokens=20, overlap_tokens=0)
    assert len(pieces) > 1 and all(p.metadata["row_split"] and p.metadata["row"] == 9 for p in pieces)
    assert all(p.page_content.startswith("Field") for p in pieces)  # cut at line breaks
    assert covered(long_text, pieces)


def test_oversized_sentences_are_cut_at_words_then_characters() -> None:
    run_on = " ".join(f"w{i}" for i in range(100))  # no sentence end at all
    blob = "x" * 500  # no whitespace at all
    for text in (run_on, blob):
        chunks = split([doc(text)], chunk_tokens=16, overlap_tokens=0, counter=lambda t: len(t) // 10 + 1)
        assert all(len(c.page_content) // 10 + 1 <= 16 for c in chunks)
        assert covered(text, chunks)


def test_a_counter_that_is_not_additive_still_never_exceeds_the_budget() -> None:
    text = " ".join(sentence(n, length=3) for n in range(60))
    chunks = split([doc(text)], chunk_tokens=100, overlap_tokens=20, counter=len)  # spaces count too
    assert all(len(c.page_content) <= 100 for c in chunks)
    assert covered(text, chunks)


def test_chunk_ids_are_stable_and_depend_on_source_location_and_text() -> None:
    text = " ".join(sentence(n) for n in range(12))
    first = split([doc(text, page=1), doc(text, page=2)])
    again = split([doc(text, page=1), doc(text, page=2)])
    ids = [c.metadata["chunk_id"] for c in first]
    assert ids == [c.metadata["chunk_id"] for c in again]
    assert len(set(ids)) == len(ids)  # same text on another page is another chunk
    moved = split([Document(page_content=text, metadata={"source": "/kb/b.pdf", "page": 1})])
    assert not set(ids) & {c.metadata["chunk_id"] for c in moved}
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids)


def test_repeated_text_in_one_document_gets_distinct_ids() -> None:
    boilerplate = sentence(0, length=12)
    text = "\n\n".join([boilerplate, sentence(1, length=12), boilerplate])
    chunks = split([doc(text)], chunk_tokens=16, overlap_tokens=0)
    same = [c for c in chunks if c.page_content == boilerplate]
    assert len(same) == 2 and same[0].metadata["chunk_id"] != same[1].metadata["chunk_id"]


def test_text_the_tokenizer_reads_as_unknown_is_capped_in_characters(minilm) -> None:
    """MiniLM reads each Thai word (no spaces inside) as one [UNK]: 200 "tokens" were a 23,599-char chunk."""
    thai = "ผู้เอาประกันภัยต้องแจ้งบริษัทประกันภัยเป็นลายลักษณ์อักษรภายในสามสิบวันนับจากวันที่เกิดความเสียหาย"
    assert minilm.count_tokens(thai) == 1
    text = " ".join([thai] * 120)
    chunks = split([doc(text)], chunk_tokens=200, overlap_tokens=30, counter=minilm.count_tokens)
    limit = 200 * MAX_CHARS_PER_TOKEN
    assert all(len(c.page_content) <= limit for c in chunks) and covered(text, chunks)
    assert len(chunks) <= 2 * len(text) // limit + 1  # overlap stays bounded in characters too


def test_runs_of_spaces_do_not_count_against_the_character_cap() -> None:
    """Column-aligned contracts (CUAD) hold long runs of spaces that cost no tokens: one 30-word sentence with
    40 spaces between words stays one chunk although it is far longer than 40 * MAX_CHARS_PER_TOKEN."""
    text = (" " * 40).join(f"w{i}" for i in range(29)) + " end."
    assert len(text) > 40 * MAX_CHARS_PER_TOKEN
    chunks = split([doc(text)], chunk_tokens=40, overlap_tokens=10)
    assert [c.page_content for c in chunks] == [text]


def test_blank_documents_give_no_chunks() -> None:
    assert split([doc("   \n\n  ")]) == []


@pytest.mark.slow
def test_sample_knowledge_bases_fit_the_real_minilm_tokenizer(model_cache_dir: Path) -> None:
    from data_connectors.documents import load_documents
    from rag.embeddings import EmbeddingConfig, load_embeddings

    count = load_embeddings(EmbeddingConfig(device="cpu"), model_cache_dir).count_tokens
    documents = load_documents([SAMPLES]).documents
    config = ChunkingConfig()
    chunks = split_documents(documents, count_tokens=count, config=config)
    assert len(chunks) > len(documents)
    assert max(count(c.page_content) for c in chunks) <= config.chunk_tokens
    again = split_documents(documents, count_tokens=count, config=config)
    assert [c.metadata["chunk_id"] for c in chunks] == [c.metadata["chunk_id"] for c in again]
    assert len({c.metadata["chunk_id"] for c in chunks}) == len(chunks)
    pdf_pages = sorted({c.metadata["page"] for c in chunks if c.metadata["doc_type"] == "pdf"})
    assert pdf_pages == list(range(1, len(pdf_pages) + 1))
