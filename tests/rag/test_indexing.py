"""Incremental ingestion with the record manager: exact counts, sync, failures, BM25 consistency, and an
ingest killed mid-way that converges when run again. Documents are self-written test text."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from data_connectors.errors import BadInputError
from rag.chunking import ChunkingConfig
from rag.indexing import delete_knowledge_base, ingest, record_manager
from rag.retrieval import side_index
from rag.vectorstore import ChromaConfig, CollectionNotFoundError, DocumentStore

CHUNKING = ChunkingConfig(chunk_tokens=48, overlap_tokens=8)


def _long_text(topic: str, paragraphs: int) -> str:
    return "\n\n".join(
        f"Paragraph {i} about {topic}: the insured must report each loss in writing within {i + 10} days, "
        f"keep receipts for repairs, and allow the adjuster to inspect item number {i}."
        for i in range(paragraphs)
    )


def _ingest(store, paths, **options):
    return ingest(
        paths,
        store=store,
        collection="kb-test",
        chunking=CHUNKING,
        count_tokens=store.embeddings.count_tokens,
        batch_size=4,
        **options,
    )


@pytest.fixture
def store(tmp_path, minilm):
    return DocumentStore(config=ChromaConfig(), data_dir=tmp_path / "data", embeddings=minilm)


def test_reingest_changed_and_sync_counts_are_exact(store, corpus):
    (corpus / "policy.md").write_text(_long_text("claims", 12), encoding="utf-8")  # spans several batches
    first = _ingest(store, [corpus])
    total = first.chunks
    policy_chunks = sum(1 for _, m in store.iter_metadatas("kb-test") if m["source"].endswith("policy.md"))
    assert policy_chunks > 4  # more than one batch of 4
    assert (first.added, first.updated, first.deleted, first.unchanged, first.failed) == (total, 0, 0, 0, 0)
    assert store.collection("kb-test").count() == total

    again = _ingest(store, [corpus])
    assert (again.added, again.deleted, again.unchanged) == (0, 0, total)

    (corpus / "flood.txt").write_text("Flood cover excludes basements and mould damage.\n", encoding="utf-8")
    changed = _ingest(store, [corpus])
    assert (changed.added, changed.updated, changed.deleted, changed.unchanged) == (0, 1, 0, total - 1)

    (corpus / "vendor.txt").unlink()
    without_sync = _ingest(store, [corpus])
    assert (without_sync.added, without_sync.deleted) == (0, 0)
    synced = _ingest(store, [corpus], sync=True)
    assert (synced.added, synced.deleted, synced.unchanged) == (0, 1, total - 1)
    sources = {Path(m["source"]).name for _, m in store.iter_metadatas("kb-test")}
    assert sources == {"breach.md", "flood.txt", "policy.md"}
    assert sorted(record_manager(store, "kb-test").list_keys()) == sorted(store.chunks("kb-test").ids)


def test_an_edit_re_embeds_only_the_chunks_it_touches(store, corpus):
    """A sentence changed in the middle of a long file updates the chunks holding it; the rest, whose offsets
    moved and whose file hash changed, stay unchanged (positions and the byte hash are not part of a chunk)."""
    policy = corpus / "policy.md"
    policy.write_text(_long_text("claims", 12), encoding="utf-8")
    first = _ingest(store, [policy])
    text = policy.read_text(encoding="utf-8")
    middle = len(text) // 2
    policy.write_text(text[:middle] + " An added sentence on flood claims. " + text[middle:], encoding="utf-8")
    edited = _ingest(store, [policy])
    assert edited.added + edited.updated <= 2 and edited.deleted == 0
    assert edited.unchanged >= first.chunks - 2 and edited.unchanged + edited.updated + edited.added == edited.chunks
    assert sorted(record_manager(store, "kb-test").list_keys()) == sorted(store.chunks("kb-test").ids)


def test_single_file_list_and_metadata(store, corpus):
    single = _ingest(store, [corpus / "breach.md"], extra_metadata={"claim_id": "C-1"})
    assert (single.files, single.added) == (1, 1)
    both = _ingest(store, [corpus / "flood.txt", corpus / "vendor.txt"])
    assert (both.files, both.added, both.deleted) == (2, 2, 0)
    claims = [m.get("claim_id") for _, m in store.iter_metadatas("kb-test")]
    assert sorted(claims, key=str) == ["C-1", None, None]


def test_bad_files_are_reported_and_the_rest_indexed_and_kept_on_sync(store, corpus):
    first = _ingest(store, [corpus])
    (corpus / "flood.txt").write_bytes(b"\x00\x01\x02binary")  # now unreadable: keeps its earlier chunks
    (corpus / "notes.xyz").write_text("unsupported", encoding="utf-8")
    report = _ingest(store, [corpus], sync=True)
    assert report.failed == 1 and report.failures[0].path.endswith("flood.txt")
    assert [Path(s.path).name for s in report.skipped] == ["notes.xyz"]
    assert (report.added, report.deleted, report.unchanged) == (0, 0, first.chunks - 1)
    assert store.collection("kb-test").count() == first.chunks
    assert report.to_dict()["failures"][0]["reason"]


def test_sync_keeps_the_chunks_of_a_folder_that_is_not_there(store, corpus, tmp_path):
    """An unmounted share among the paths: reported as failed, and --sync keeps what was indexed from it."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "claims.txt").write_text("Claims are paid within 30 days of approval.\n", encoding="utf-8")
    first = _ingest(store, [corpus, share])
    share.rename(tmp_path / "unmounted")
    report = _ingest(store, [corpus, share], sync=True)
    assert report.failed == 1 and report.failures[0].path == str(share)
    assert report.deleted == 0 and store.collection("kb-test").count() == first.chunks


def test_bad_arguments_raise_bad_input(store, tmp_path):
    with pytest.raises(BadInputError, match="None of the paths exist"):
        _ingest(store, [tmp_path / "missing"])
    with pytest.raises(BadInputError, match="No path"):
        _ingest(store, [])
    with pytest.raises(BadInputError, match="invalid"):
        ingest([tmp_path], store=store, collection="x", chunking=CHUNKING, count_tokens=len)


def test_bm25_side_index_follows_the_collection(store, corpus):
    _ingest(store, [corpus])
    before = side_index(store, "kb-test")
    assert side_index(store, "kb-test") is before  # cached while nothing changes
    (corpus / "vendor.txt").write_text("Suppliers must hold ISO 9001 certification.\n", encoding="utf-8")
    _ingest(store, [corpus])
    after = side_index(store, "kb-test")
    assert after is not before
    assert any("ISO 9001" in text for text in after.texts)
    assert not any("Late deliveries" in text for text in after.texts)


def test_delete_knowledge_base_drops_records(store, corpus):
    _ingest(store, [corpus])
    assert delete_knowledge_base(store, "kb-test") == 3
    assert record_manager(store, "kb-test").list_keys() == []
    with pytest.raises(CollectionNotFoundError):
        store.collection("kb-test")


def test_a_replaced_chroma_folder_is_filled_again(store, corpus):
    first = _ingest(store, [corpus])
    store.client.delete_collection("kb-test")  # as if the Chroma folder were deleted behind our back
    again = _ingest(store, [corpus])
    assert again.added == first.added and again.unchanged == 0
    assert store.collection("kb-test").count() == first.chunks


def test_server_mode_ingest_is_incremental(tmp_path, minilm, chroma_server, corpus):
    server = DocumentStore(config=chroma_server, data_dir=tmp_path / "data", embeddings=minilm)
    assert _ingest(server, [corpus]).added == 3
    assert _ingest(server, [corpus]).unchanged == 3
    delete_knowledge_base(server, "kb-test")


# A child process ingests with a fake embedding that kills the process (SIGKILL) on its Nth call.
_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from rag.chunking import ChunkingConfig
    from rag.indexing import ingest, record_manager
    from rag.vectorstore import ChromaConfig, DocumentStore

    data_dir, folder, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])

    class Dying(DeterministicFakeEmbedding):
        calls: int = 0
        def embed_documents(self, texts):
            self.calls += 1
            if self.calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().embed_documents(texts)

    store = DocumentStore(config=ChromaConfig(), data_dir=data_dir, embeddings=Dying(size=16))
    ingest([folder], store=store, collection="kb-kill", chunking=ChunkingConfig(chunk_tokens=32, overlap_tokens=4),
           count_tokens=lambda text: len(text.split()), batch_size=3)
    chunks = store.chunks("kb-kill")
    print(json.dumps({"chunks": sorted(zip(chunks.ids, chunks.texts)),
                      "records": sorted(record_manager(store, "kb-kill").list_keys())}))
    """
)


def _child(data_dir: Path, folder: Path, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir), str(folder), str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_killed_ingest_converges_to_the_uninterrupted_index(tmp_path, corpus):
    (corpus / "policy.md").write_text(_long_text("claims", 10), encoding="utf-8")
    killed = _child(tmp_path / "interrupted", corpus, kill_at=3)
    assert killed.returncode == -9  # SIGKILL in the middle of the third batch
    rerun = _child(tmp_path / "interrupted", corpus, kill_at=0)
    clean = _child(tmp_path / "clean", corpus, kill_at=0)
    assert rerun.returncode == 0 and clean.returncode == 0, rerun.stderr[-2000:] + clean.stderr[-2000:]
    assert json.loads(rerun.stdout) == json.loads(clean.stdout)
    assert len(json.loads(clean.stdout)["chunks"]) > 6
