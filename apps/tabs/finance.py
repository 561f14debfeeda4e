"""Finance tab: transaction anomalies with plots, contract terms and deadlines, board report, FAQ chat."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Finance"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def build(services: Services) -> None:
    from apps.hub import llm_chat_interface, llm_event
    from domains.finance.anomalies import detect_anomalies, load_transactions, plot_report
    from domains.finance.board_report import DRAFT_NOTICE, build_board_report
    from domains.finance.contracts import ContractExtractor, read_contract_text, upcoming_deadlines
    from domains.finance.faq import BankAssistant

    def anomalies(path: str | None, rate: float):
        try:
            table = load_transactions(path or SAMPLES / "finance" / "transactions.csv")
            report = detect_anomalies(table, alert_rate=rate / 100)
        except ValueError as error:
            raise user_error(str(error)) from None
        lines = [
            f"{report.rows} rows ({report.layout}), {len(report.alerts)} alerts",
            f"- features: {', '.join(report.features)}",
            *(f"- **warning**: {warning}" for warning in report.warnings),
        ]
        for name, values in (report.metrics or {}).items():
            lines.append(
                f"- **{name}**: precision {values.precision:.3f}, recall {values.recall:.3f}, "
                f"PR-AUC {values.pr_auc:.3f}"
            )
        rows = [
            (
                a.record_id,
                a.score,
                "yes" if a.isolation_forest_flag else "no",
                ", ".join(f"{f} {s:.0%}" for f, s in a.top_features),
            )
            for a in report.alerts
        ]
        alerts = pd.DataFrame(
            rows, columns=["record", "AE score", "also Isolation Forest", "why (error share)"]
        )
        return "\n".join(lines), plot_report(report), alerts

    def contract(path: str | None, within: float):
        try:
            source = path or str(SAMPLES / "contracts" / "vendor_supply_agreement_v1.txt")
            analysis = ContractExtractor().extract(read_contract_text(source), source=Path(source).name)
        except ValueError as error:
            raise user_error(str(error)) from None
        fields = pd.DataFrame(
            [
                (
                    name,
                    "; ".join(f.value) if isinstance(f.value, list) else f.value,
                    f"{f.char_start}-{f.char_end}",
                    f.clause[:300],
                )
                for name, f in analysis.fields.items()
            ],
            columns=["field (CUAD name)", "value", "chars", "clause"],
        )
        soon = upcoming_deadlines([analysis], today=date.today(), within_days=int(within))
        every = pd.DataFrame(
            [(d.date, d.kind, d.description) for d in analysis.deadlines], columns=["date", "kind", "what"]
        )
        return fields, every, f"{len(soon)} deadline(s) in the next {int(within)} days."

    def report(path: str | None, use_llm: bool):
        out = Path(tempfile.mkdtemp(prefix="board-report-"))
        try:
            result = build_board_report(
                path or SAMPLES / "finance" / "financial_statements.csv",
                out,
                chat_model=services.chat_model() if use_llm else None,
            )
        except ValueError as error:
            raise user_error(str(error)) from None
        table = result.display.rename(index=lambda m: m.replace("_", " ")).reset_index(names="metric")
        charts = [
            result.files[name] for name in ("revenue_profit", "margins", "liquidity_leverage", "cash_flow")
        ]
        note = f"{result.narrative}\n\n*narrative: {result.narrative_source}; {DRAFT_NOTICE}*"
        note += "".join(f"\n\n**warning**: {warning}" for warning in result.warnings)
        return note, table, charts, [result.files["html"], result.files["pdf"]]

    def chat(
        message: str, history: list[dict[str, Any]], collection: str, request: gr.Request | None = None
    ) -> Iterator[str]:
        try:
            services.access.check(request, collection.strip())
            assistant = BankAssistant(services.answerer(collection.strip()))
        except ValueError as error:
            raise user_error(str(error)) from None
        turns = [{"role": t["role"], "content": str(t["content"])} for t in history if isinstance(t, dict)]
        reply = ""
        for event in assistant.stream(message, history=turns):
            if isinstance(event, str):
                reply += event
                yield reply
            elif event.citations and not event.refused:
                yield (
                    event.answer
                    + "\n\n"
                    + "\n".join(f"[{c.n}] {Path(c.source).name}" for c in event.citations)
                )
            else:
                yield event.answer

    with gr.Tab("Anomalies"):
        with gr.Row():
            transactions = gr.File(label="transactions CSV (default: simulator sample)", type="filepath")
            rate = gr.Slider(0.1, 10, value=1.5, step=0.1, label="alert rate (%)")
        run = gr.Button("Detect", variant="primary")
        summary = gr.Markdown()
        plot = gr.Plot()
        alerts = gr.Dataframe(interactive=False)
        run.click(anomalies, [transactions, rate], [summary, plot, alerts])
    with gr.Tab("Contracts"):
        with gr.Row():
            contract_file = gr.File(
                label="contract (TXT/PDF/DOCX; default: sample vendor agreement)", type="filepath"
            )
            within = gr.Slider(7, 730, value=90, step=1, label="upcoming window (days)")
        analyse = gr.Button("Extract", variant="primary")
        fields = gr.Dataframe(interactive=False, wrap=True)
        deadlines = gr.Dataframe(interactive=False)
        upcoming = gr.Markdown()
        analyse.click(contract, [contract_file, within], [fields, deadlines, upcoming])
    with gr.Tab("Board report"):
        with gr.Row():
            statements = gr.File(label="statements CSV/XLSX (default: sample)", type="filepath")
            use_llm = gr.Checkbox(value=False, label="LLM narrative (numbers checked)")
        make = gr.Button("Build report", variant="primary")
        narrative = gr.Markdown()
        figures = gr.Dataframe(interactive=False)
        gallery = gr.Gallery(columns=2, height=520)
        downloads = gr.File(label="HTML and PDF", file_count="multiple")
        make.click(
            report, [statements, use_llm], [narrative, figures, gallery, downloads], **llm_event(services)
        )
    with gr.Tab("FAQ chat"):
        collection = gr.Textbox(label="knowledge base", value="bank-faq")
        llm_chat_interface(services, chat, additional_inputs=[collection], chatbot=gr.Chatbot(height=380))
