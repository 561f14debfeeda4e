"""``genai ingest/search/ask/collections`` through the real CLI (typer runner), real MiniLM and embedded
Chroma; ``ask`` uses a fake chat model so the test checks the CLI, not an LLM. Documents are self-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apps.cli import app
from rag.llm import ChatModel


class CitingChat(ChatModel):
    name = "fake"

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        yield from ["Within 60 days ", "[1]."]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli-docs")
    folder = data / "docs"
    folder.mkdir()
    (folder / "breach.md").write_text(
        "# Breach notification\n\n## Deadline\n\nNotify each affected individual no later than 60 calendar days after "
        "discovery of a breach.\n",
        encoding="utf-8",
    )
    (folder / "vendor.txt").write_text(
        "The vendor delivers within 14 days of a purchase order.\n", encoding="utf-8"
    )
    return {"GENAI_DATA_DIR": str(data / "data"), "GENAI_DEVICE": "cpu"}, folder


def _run(env, *args):
    result = CliRunner().invoke(app, list(args), env=env[0])
    return result, (json.loads(result.stdout) if result.exit_code == 0 and "--json" in args else None)


def test_ingest_search_ask_collections(env, monkeypatch):
    folder = env[1]
    result, report = _run(
        env, "ingest", str(folder), "--collection", "cli-kb", "--meta", "claim_id=C-1", "--json"
    )
    assert result.exit_code == 0, result.output
    assert {k: report[k] for k in ("added", "updated", "deleted", "unchanged", "failed")} == {
        "added": 2,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "failed": 0,
    }
    assert report["failures"] == [] and report["collection"] == "cli-kb"
    _, again = _run(env, "ingest", str(folder), "--collection", "cli-kb", "--meta", "claim_id=C-1", "--json")
    assert (again["added"], again["unchanged"]) == (0, 2)

    result, found = _run(env, "search", "breach deadline", "--collection", "cli-kb", "-k", "1", "--json")
    assert result.exit_code == 0, result.output
    assert list(found) == ["passages"] and len(found["passages"]) == 1
    passage = found["passages"][0]
    assert set(passage) == {"n", "source", "page", "section", "text", "score"}
    assert passage["n"] == 1 and passage["source"].endswith("breach.md") and passage["section"] == "Deadline"
    _, scoped = _run(env, "search", "breach", "--collection", "cli-kb", "--filter", "claim_id=C-2", "--json")
    assert scoped == {"passages": []}
    _, by_name = _run(env, "search", "delivery", "--collection", "cli-kb", "--filter", "source=vendor.txt", "--json")
    assert [Path(p["source"]).name for p in by_name["passages"]] == ["vendor.txt"]  # a bare name is enough
    unknown, _ = _run(env, "search", "delivery", "--collection", "cli-kb", "--filter", "source=nothing.md")
    assert unknown.exit_code == 2 and "no file in 'cli-kb' end with that name" in unknown.stderr

    monkeypatch.setattr("apps.services.Services.chat_model", lambda self: CitingChat())
    result, answer = _run(env, "ask", "What is the breach deadline?", "--collection", "cli-kb", "--json")
    assert result.exit_code == 0, result.output
    assert list(answer) == ["answer", "refused", "citations", "dropped_passages"]
    assert answer["answer"] == "Within 60 days [1]." and answer["refused"] is False
    assert set(answer["citations"][0]) == {"n", "source", "page", "section", "text", "score"}
    plain = CliRunner().invoke(
        app, ["ask", "What is the breach deadline?", "--collection", "cli-kb"], env=env[0]
    )
    assert "Within 60 days [1]." in plain.stdout and "Sources:" in plain.stdout
    assert plain.stdout.startswith("Draft (unchecked): ") and "Checked: kept as written" in plain.stdout
    off_topic = CliRunner().invoke(
        app, ["ask", "Who won the 1966 football world cup?", "--collection", "cli-kb"], env=env[0]
    )  # refused before generation: the "draft" is the refusal, and the check says so
    assert "Checked: refused; the documents do not answer this." in off_topic.stdout
    assert "Closest passages:" in off_topic.stdout

    _, listed = _run(env, "collections", "list", "--json")
    assert listed == {"collections": ["cli-kb"]}
    _, stats = _run(env, "collections", "stats", "cli-kb", "--json")
    assert (stats["chunks"], stats["files"]) == (2, 2)
    declined = CliRunner().invoke(app, ["collections", "delete", "cli-kb"], input="n\n", env=env[0])
    assert declined.exit_code == 1  # the question goes to stderr (the runner echoes the typed "n" to stdout)
    assert "Delete knowledge base 'cli-kb'?" in declined.stderr and "Delete" not in declined.stdout
    _, deleted = _run(env, "collections", "delete", "cli-kb", "--yes", "--json")
    assert deleted == {"deleted": "cli-kb", "chunks": 2}


@pytest.mark.parametrize(
    "args, message",
    [
        (["ingest", "{folder}", "--collection", "x"], "invalid"),
        (["ingest", "/no/such/path", "--collection", "kb-x"], "None of the paths exist"),
        (["ingest", "{folder}", "--collection", "kb-x", "--meta", "novalue"], "key=value"),
        (["ingest", "{folder}", "--collection", "kb-x", "--meta", "source=x"], "cannot be overridden"),
        (["search", "q", "--collection", "missing-kb"], "does not exist"),
        (["search", "q", "--collection", "missing-kb", "--filter", "=x"], "key=value"),
        (["ask", "q", "--collection", "missing-kb", "--json"], "does not exist"),
        (["collections", "stats", "missing-kb"], "does not exist"),
        (["collections", "delete", "missing-kb", "--yes"], "does not exist"),
        (["collections", "delete", "cli-kb", "--json"], "add --yes"),
    ],
)
def test_bad_input_exits_2_with_one_line(env, args, message):
    args = [arg.replace("{folder}", str(env[1])) for arg in args]
    result = CliRunner().invoke(app, args, env=env[0])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stdout == ""


def test_help_is_available():
    for command in (["ingest"], ["search"], ["ask"], ["collections"], ["collections", "delete"]):
        assert CliRunner().invoke(app, [*command, "--help"]).exit_code == 0


def test_documents_tab_builds(services):
    import gradio as gr

    from apps.tabs import TABS, documents

    assert documents in TABS
    with gr.Blocks():
        documents.build(services)


def test_sample_knowledge_bases_are_ingested_once(services, tmp_path):
    root = tmp_path / "kbs"
    (root / "tiny-kb").mkdir(parents=True)
    (root / "tiny-kb" / "a.txt").write_text("A tiny sample document.", encoding="utf-8")
    from apps.tabs.documents import ingest_samples

    assert ingest_samples(services, root) == ["tiny-kb"]
    assert ingest_samples(services, root) == []
    services.document_store.delete("tiny-kb")


def test_packaged_samples_folder_exists():
    from apps.tabs.documents import SAMPLES_DIR

    assert Path(__file__).resolve().parents[2] / "samples" / "knowledge_bases" == SAMPLES_DIR


def test_ingest_of_only_unreadable_files_exits_1_and_lists_them(env, tmp_path):
    """A script must see that nothing was indexed: exit 1, with every failure listed on its own line."""
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\nnot really a pdf")
    result = CliRunner().invoke(app, ["ingest", str(corrupt), "--collection", "only-bad"], env=env[0])
    assert result.exit_code == 1, result.output
    assert "0 added" in result.stdout and "failed  " in result.stdout and "corrupt.pdf" in result.stdout
    result = CliRunner().invoke(app, ["ingest", str(corrupt), "--collection", "only-bad", "--json"], env=env[0])
    assert result.exit_code == 1 and json.loads(result.stdout)["failed"] == 1
