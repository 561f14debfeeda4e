"""Document assistant commands: ``genai ingest``, ``genai search``, ``genai ask`` and ``genai collections``.

``ingest``/``search``/``ask`` are top-level commands (see ``register``); ``collections`` is a group.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, fail, make_services, print_json
from data_connectors.errors import BadInputError

collections_app = typer.Typer(help="List, inspect and delete knowledge bases.", no_args_is_help=True)

CollectionOption = Annotated[str, typer.Option("--collection", "-c", help="knowledge base name, e.g. hipaa")]
FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help="metadata filter key=value (exact match, repeatable), e.g. claim_id=C-1"),
]


# ---------------------------------------------------------------- helpers


@contextmanager
def _bad_input() -> Iterator[None]:
    """Bad input inside a command: one line on stderr, exit code 2 (also under ``CliRunner``)."""
    try:
        yield
    except BadInputError as error:
        fail(str(error))


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``["claim_id=C-1"]`` -> ``{"claim_id": "C-1"}``.

    Raises:
        BadInputError: an item has no ``=`` or an empty key.
    """
    parsed: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"{option} expects key=value, got {pair!r}; e.g. {option} claim_id=C-1001.")
        parsed[key.strip()] = value.strip()
    return parsed


def _where(citation: dict) -> str:
    parts = [Path(citation["source"]).name]
    if citation.get("page") is not None:
        parts.append(f"p. {citation['page']}")
    if section := citation.get("section"):
        parts.append(section if section.lstrip().startswith("§") else f"§ {section}")  # "§ 164.522" stays one
    return ", ".join(parts)


def _print_passages(citations: list[dict]) -> None:
    for citation in citations:
        text = " ".join(citation["text"].split())
        typer.echo(f"[{citation['n']}] {_where(citation)}  (rank score {citation['score']:.3f}, not a confidence)")
        typer.echo(f"    {text[:300]}{'...' if len(text) > 300 else ''}")


# ---------------------------------------------------------------- commands


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files and/or folders (walked recursively)")],
    collection: CollectionOption,
    sync: Annotated[bool, typer.Option("--sync", help="also remove files no longer among PATHS")] = False,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", help="metadata key=value added to every chunk (repeatable)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add or update documents in a knowledge base; unchanged chunks are not embedded again."""
    with _bad_input():
        from rag.vectorstore import validate_collection_name

        validate_collection_name(collection)
        extra = parse_pairs(meta, "--meta")
        services = make_services(config)

        shown: list[bool] = []

        def progress(fraction: float, message: str) -> None:
            if not as_json:
                typer.echo(f"\r{fraction:4.0%} {message:<40}", nl=False, err=True)
                shown.append(True)

        try:
            report = services.ingest(paths, collection, sync=sync, extra_metadata=extra, progress=progress)
        finally:
            if shown:
                typer.echo("", err=True)  # what follows (the report or an error) starts on its own line
    nothing_indexed = report.failed > 0 and report.files == 0
    if as_json:
        print_json(report.to_dict())
        if nothing_indexed:
            raise typer.Exit(1)
        return
    typer.echo(
        f"{collection}: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.failed} failed ({report.files} files, {report.chunks} chunks, "
        f"{report.seconds:.1f}s)"
    )
    for failure in report.failures:
        typer.echo(f"  failed  {failure.path}: {failure.reason}")
    if report.failures:
        typer.echo("  (a file that failed keeps whatever an earlier ingest indexed from it)")
    for skipped in report.skipped:
        typer.echo(f"  skipped {skipped.path}: {skipped.reason}")
    for partial in report.partial:
        typer.echo(f"  partly  {partial.path}: {partial.reason}")
    if nothing_indexed:  # scripts must see that no file could be indexed
        raise typer.Exit(1)


def _with_source_path(scope: dict, store, collection: str) -> dict:
    """``--filter source=handbook.pdf``: the stored source is the file's full path, so a bare name or a path
    tail is matched against the collection's files and replaced by the one it names.

    Raises:
        BadInputError: no file, or several files, in the collection end with that name.
    """
    wanted = scope.get("source")
    if not isinstance(wanted, str) or Path(wanted).is_absolute():
        return scope
    sources = {str(meta.get("source", "")) for _, meta in store.iter_metadatas(collection)}
    tail = "/" + wanted.lstrip("/")
    matches = sorted(source for source in sources if source == wanted or source.endswith(tail))
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files"
        raise BadInputError(
            f"--filter source={wanted}: {found} in '{collection}' end with that name; give more of the path "
            "(search results show each passage's source)."
        )
    return {**scope, "source": matches[0]}


def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    collection: CollectionOption,
    k: Annotated[int, typer.Option("-k", help="passages to return", min=1, max=100)] = 10,
    filters: FilterOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the passages retrieval finds, with scores (no LLM): for debugging retrieval and for tools."""
    with _bad_input():
        from rag.answering import citation_for
        from rag.retrieval import HybridRetriever

        scope = parse_pairs(filters, "--filter")
        services = make_services(config)
        retrieval = services.settings.retrieval
        services.document_store.collection(collection)
        scope = _with_source_path(scope, services.document_store, collection)
        retriever = HybridRetriever(
            store=services.document_store,
            collection=collection,
            config=retrieval.model_copy(update={"k": k, "fetch_k": max(retrieval.fetch_k, k)}),
            filters=scope,
        )
        passages = retriever.invoke(query)
    citations = [citation_for(n, passage).to_dict() for n, passage in enumerate(passages, start=1)]
    if as_json:
        print_json({"passages": citations})
        return
    if not citations:
        typer.echo("no passages found")
    _print_passages(citations)


def ask(
    question: Annotated[str, typer.Argument(help="a question about the documents")],
    collection: CollectionOption,
    filters: FilterOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer from the documents with numbered citations, or say the documents do not contain the answer."""
    from rag.answering import Answer

    with _bad_input():
        scope = parse_pairs(filters, "--filter")
        services = make_services(config)
        services.document_store.collection(collection)
        answerer = services.answerer(collection, _with_source_path(scope, services.document_store, collection))
        final, streamed = None, ""
        for event in answerer.stream(question):
            if isinstance(event, Answer):
                final = event
            elif not as_json:
                if not streamed:  # the draft streams as it is written; it is checked once complete
                    typer.echo("Draft (unchecked): ", nl=False)
                streamed += event
                typer.echo(event, nl=False)
                sys.stdout.flush()
    if final is None:
        return
    if as_json:
        print_json(final.to_dict())
        return
    typer.echo()
    if final.answer != streamed.strip():  # a refusal, or citations checked and added after streaming
        typer.echo(f"\nChecked answer: {final.answer}")
    elif final.refused:  # refused before any generation: the draft above is the refusal itself
        typer.echo("Checked: refused; the documents do not answer this.")
    else:
        typer.echo("Checked: kept as written; its citations are listed below.")
    citations = [citation.to_dict() for citation in final.citations]
    if citations:
        typer.echo("\nClosest passages:" if final.refused else "\nSources:")
        _print_passages(citations)


@collections_app.command("list")
def list_collections(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Knowledge bases in the configured store."""
    with _bad_input():
        names = make_services(config).document_store.collections()
    if as_json:
        print_json({"collections": names})
        return
    typer.echo("\n".join(names) if names else "no knowledge bases yet; create one with `genai ingest`")


@collections_app.command()
def stats(
    name: Annotated[str, typer.Argument(help="knowledge base name")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Chunk and file counts of one knowledge base."""
    with _bad_input():
        report = make_services(config).document_store.stats(name)
    if as_json:
        print_json(report)
        return
    types = ", ".join(f"{kind} {count}" for kind, count in sorted(report["doc_types"].items()))
    typer.echo(f"{name}: {report['chunks']} chunks from {report['files']} files ({types or 'empty'})")


@collections_app.command()
def delete(
    name: Annotated[str, typer.Argument(help="knowledge base name")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a knowledge base and its ingest records (the source files are untouched); asks first unless
    --yes (with --json, --yes is required: stdout carries only the JSON document)."""
    if as_json and not yes:
        fail(f"--json cannot ask for confirmation; add --yes to delete knowledge base {name!r}.")
    with _bad_input():
        from rag.indexing import delete_knowledge_base

        store = make_services(config).document_store
        store.collection(name)
        if not yes and not typer.confirm(f"Delete knowledge base {name!r}?", err=True):
            raise typer.Exit(1)
        chunks = delete_knowledge_base(store, name)
    if as_json:
        print_json({"deleted": name, "chunks": chunks})
        return
    typer.echo(f"deleted {name} ({chunks} chunks)")


# PUBLIC API


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``search``, ``ask`` and the ``collections`` group to the main ``genai`` app."""
    app.command()(ingest)
    app.command()(search)
    app.command()(ask)
    app.add_typer(collections_app, name="collections")
