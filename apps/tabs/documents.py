"""Documents: pick or create a knowledge base, upload files, watch the ingest, chat with cited answers.

Handlers only delegate to ``rag`` (ingest, retrieve, answer); the citations panel renders the same
``Answer`` object the CLI prints.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from apps.services import Services
from apps.tabs.errors import user_error
from data_connectors.errors import BadInputError

log = logging.getLogger(__name__)

TITLE = "Documents"

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples" / "knowledge_bases"


# ---------------------------------------------------------------- helpers


def _as_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _citations_markdown(answer: Any) -> str:
    """The citations panel: each passage with where it comes from."""
    if not answer.citations:
        return "_No passages cited._"
    heading = "**Closest passages** (not enough evidence to answer)" if answer.refused else "**Sources**"
    blocks = [heading]
    for citation in answer.citations:
        where = Path(citation.source).name
        if citation.page is not None:
            where += f", page {citation.page}"
        if citation.section:
            where += f", {citation.section}"
        text = " ".join(citation.text.split())
        blocks.append(f"**[{citation.n}]** {where} (rank score {citation.score:.2f})\n\n> {text[:600]}")
    return "\n\n".join(blocks)


# PUBLIC API


def ingest_samples(services: Services, root: Path = SAMPLES_DIR) -> list[str]:
    """Ingest each folder of ``root`` into a knowledge base of the same name, unless it already exists.

    Called once when the hub starts; cheap after the first start (only a collection listing). A sample that
    fails is logged and skipped so the hub still starts. Returns the collections created.
    """

    if not root.is_dir():
        return []
    store = services.document_store
    existing = set(store.collections())
    created = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        if folder.name in existing:
            continue
        try:
            report = services.ingest([folder], folder.name)
        except BadInputError as error:
            log.warning("sample knowledge base %s not ingested: %s", folder.name, error)
            continue
        log.info("sample knowledge base %s: %d chunks", folder.name, report.added)
        created.append(folder.name)
    return created


def build(services: Services) -> None:
    from apps.hub import llm_event, on_page_load
    from apps.users import GuardedDocuments

    settings = services.settings

    def refresh(selected: str | None, request: gr.Request | None = None) -> Any:
        """Only the knowledge bases this user is granted (checked again on every ingest and question)."""
        names = GuardedDocuments(services, request).collections()
        return gr.update(
            choices=names, value=selected if selected in names else (names[0] if names else None)
        )

    def upload(
        files: list[str] | None,
        new_name: str,
        selected: str | None,
        request: gr.Request | None = None,
        progress=gr.Progress(),  # noqa: B008 - Gradio's idiom
    ) -> Any:
        collection = (new_name or "").strip() or selected
        if not collection:
            raise user_error("Pick a knowledge base or type a new name first.")
        if not files:
            raise user_error("Choose one or more files to upload.")
        try:
            report = GuardedDocuments(services, request).ingest(
                collection, files, progress=lambda fraction, message: progress(fraction, desc=message)
            )
        except BadInputError as error:
            raise user_error(str(error)) from None
        lines = [
            f"**{collection}**: {report.added} added, {report.deleted} deleted, {report.unchanged} "
            f"unchanged, {report.failed} failed ({report.seconds:.1f}s)"
        ]
        lines += [f"Not ingested: {Path(f.path).name}: {f.reason}" for f in report.failures + report.skipped]
        lines += [f"Ingested in part: {Path(f.path).name}: {f.reason}" for f in report.partial]
        return "\n\n".join(lines), refresh(collection, request), ""

    def respond(
        message: str,
        history: list[dict[str, Any]],
        collection: str | None,
        request: gr.Request | None = None,
    ) -> Iterator[tuple]:
        from data_connectors.audit import AuditLog
        from rag.answering import Answer

        if not collection:
            raise user_error("Pick a knowledge base first (or upload files to create one).")
        turns = [{"role": t["role"], "content": _as_text(t["content"])} for t in history]
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        try:
            guarded = GuardedDocuments(services, request)
            answerer = guarded.answerer(collection)
            AuditLog(services.database).record(  # as the API does: who asked what of which collection
                actor=guarded.user.name, action="hub.ask", collection=collection, question=message
            )
            for event in answerer.stream(message, history=turns):
                if isinstance(event, Answer):
                    history[-1]["content"] = event.answer
                    yield history, _citations_markdown(event), ""
                else:
                    history[-1]["content"] += event
                    yield history, "_Answering..._", ""
        except BadInputError as error:
            raise user_error(str(error)) from None

    gr.Markdown(
        "Ask questions about your documents. Every answer cites its passages [n]; when the documents do not "
        "say, the assistant answers *I could not find this in the documents.* and shows the closest passages."
    )
    with gr.Row():
        with gr.Column(scale=1):
            collection = gr.Dropdown(  # choices are filled per user at page load; every use is checked
                choices=[], value=None, label="Knowledge base", interactive=True, allow_custom_value=True
            )
            new_name = gr.Textbox(label="...or a new knowledge base name", placeholder="e.g. claims-2024")
            files = gr.File(
                label=f"Upload documents (PDF, DOCX, HTML, MD, TXT, CSV, XLSX; up to {settings.uploads.max_mb:g} MB)",
                file_count="multiple",
                type="filepath",
            )
            ingest_button = gr.Button("Ingest", variant="secondary")
            ingest_status = gr.Markdown()
        with gr.Column(scale=2):
            chatbot = gr.Chatbot(height=420, label="Answers")
            question = gr.Textbox(
                label="Question", placeholder="What is the deadline for breach notification?"
            )
            ask_button = gr.Button("Ask", variant="primary")
        with gr.Column(scale=1):
            citations = gr.Markdown("_Citations appear here._", label="Citations")

    on_page_load(refresh, collection, inputs=collection)
    ingest_button.click(upload, [files, new_name, collection], [ingest_status, collection, new_name])
    for trigger in (ask_button.click, question.submit):
        trigger(
            respond, [question, chatbot, collection], [chatbot, citations, question], **llm_event(services)
        )
