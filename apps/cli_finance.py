"""``genai finance``: transaction anomalies, board reports, and the bank FAQ / regulatory / report Q&A."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json
from data_connectors.errors import BadInputError

app = typer.Typer(help="Finance: transaction anomaly flags, board reports with charts, FAQ and document Q&A.")

PLOT_FORMATS = (".png", ".pdf", ".svg")


def _check_plot_path(plot: Path) -> None:
    """Fail before training, not after: matplotlib only learns the format and folder when it saves.

    Raises:
        BadInputError: the suffix is not a plot format, the path is a folder, or its folder does not exist.
    """
    if plot.suffix.lower() not in PLOT_FORMATS:
        raise BadInputError(
            f"--plot {plot}: the file must end in {', '.join(PLOT_FORMATS)}, got {plot.suffix or 'no suffix'!r}."
        )
    if plot.is_dir() or not plot.parent.is_dir():
        raise BadInputError(
            f"--plot {plot}: {'that is a folder' if plot.is_dir() else 'its folder does not exist'}; "
            "give a file path in an existing folder."
        )


@app.command()
@guarded
def anomalies(
    transactions: Annotated[
        Path, typer.Argument(help="CSV/XLSX: simulator layout, Time,V1..V28,Amount,Class, or any")
    ],
    alert_rate: Annotated[float, typer.Option(help="share of rows to alert on", min=0.0001, max=0.5)] = 0.01,
    epochs: Annotated[int, typer.Option(help="autoencoder training epochs", min=1)] = 20,
    plot: Annotated[
        Path | None, typer.Option(help="write the score/PR plot here (.png, .pdf or .svg)")
    ] = None,
    limit: Annotated[int, typer.Option(help="alerts to print (JSON has all)", min=0)] = 20,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Autoencoder alerts (with the features that made each unusual) beside an Isolation Forest baseline."""
    from domains.finance.anomalies import detect_anomalies, load_transactions, plot_report

    if plot is not None:
        _check_plot_path(plot)
    services = make_services(config)
    from genai_models.runtime import resolve_device

    report = detect_anomalies(
        load_transactions(transactions),
        alert_rate=alert_rate,
        epochs=epochs,
        device=resolve_device(services.settings.device),
    )
    if plot is not None:
        plot_report(report).savefig(plot, dpi=110)
    if as_json:
        print_json({**report.to_dict(), "plot": str(plot) if plot else None})
        return
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"{report.rows} rows ({report.layout} layout), {len(report.alerts)} alerts at {alert_rate:.2%}"
    )
    typer.echo(f"features: {', '.join(report.features)}")
    for name, values in (report.metrics or {}).items():
        typer.echo(
            f"{name:<17} precision {values.precision:.3f}  recall {values.recall:.3f}  "
            f"PR-AUC {values.pr_auc:.3f}"
        )
    for alert in report.alerts[:limit]:
        reasons = ", ".join(f"{feature} {share:.0%}" for feature, share in alert.top_features)
        forest = "also IF" if alert.isolation_forest_flag else "AE only"
        typer.echo(f"{alert.record_id}  score {alert.score:.3f}  ({forest})  {reasons}")


@app.command("board-report")
@guarded
def board_report(
    statements: Annotated[Path, typer.Argument(help="CSV/XLSX: statement,line_item,<period>...")],
    out: Annotated[Path, typer.Option(help="output folder")] = Path("board-report"),
    llm: Annotated[bool, typer.Option(help="LLM narrative (checked; template fallback)")] = True,
    collection: Annotated[
        str | None, typer.Option(help="also index the report into this knowledge base for Q&A")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ratios and growth, charts, a narrative whose numbers all come from the table, HTML + PDF."""
    from domains.finance.board_report import DRAFT_NOTICE, build_board_report, output_folder

    output_folder(out)  # a bad --out fails now, not after the LLM has written the narrative
    services = make_services(config)
    report = build_board_report(statements, out, chat_model=services.chat_model() if llm else None)
    document = report.to_dict()
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if collection:
        ingested = services.ingest([report.files["text"]], collection)
        document["collection"] = {"name": collection, "chunks": ingested.chunks}
    if as_json:
        print_json(document)
        return
    typer.echo(DRAFT_NOTICE)
    typer.echo(report.narrative)
    typer.echo(
        f"(narrative: {report.narrative_source}) wrote {report.files['html']} and {report.files['pdf']}"
    )
    if collection:
        typer.echo(
            f"indexed into knowledge base {collection!r}: ask with `genai finance ask --collection {collection}`"
        )


@app.command()
@guarded
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    collection: Annotated[
        str, typer.Option(help="knowledge base (bank FAQ, regulations, a board report)")
    ] = ("bank-faq"),
    regulatory: Annotated[
        bool, typer.Option(help="risk/regulatory Q&A for staff (no customer account-data guard)")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer from one knowledge base with citations, or refuse; never states account data."""
    from domains.finance.faq import BankAssistant

    services = make_services(config)
    assistant = BankAssistant(services.answerer(collection), guard_account_data=not regulatory)
    # Not streamed: a draft is checked as a whole (grounding, invented account data) and may be replaced.
    answer = assistant.ask(question)
    if as_json:
        print_json(answer.to_dict())
        return
    typer.echo(answer.answer)
    for citation in answer.citations:
        typer.echo(f"[{citation.n}] {citation.source}" + (f" p.{citation.page}" if citation.page else ""))
