"""Insurance tab: claim triage (draft recommendation with cited clauses and fraud indicators) and the claims
dashboard (volume, processing time, approval and flagged-fraud rates, risk profile per segment)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Insurance"


def _triage_markdown(result) -> str:
    lines = [
        f"### {result.claim_id}: recommend **{result.recommendation.upper()}**",
        f"*{result.notice}*",
        "",
    ]
    lines += [f"- {reason}" for reason in result.reasons]
    lines += [f"- ⚠ {warning}" for warning in result.warnings]
    lines += ["", f"**Coverage:** {result.coverage.status}"]
    lines += [f"> [{c.section}] {c.text[:300]}" for c in result.coverage.citations]
    lines += ["", f"**Fraud-risk score:** {result.fraud.score:.2f} ({result.fraud.level})"]
    lines += [f"- {'⚠' if i.fired else '✓'} {i.name}: {i.detail}" for i in result.fraud.indicators]
    lines += ["", "| field | value | confidence | source |", "|---|---|---|---|"]
    for name in ("claimant", "policy_number", "date_of_loss", "date_reported", "amount_claimed", "loss_type"):
        field = getattr(result.record, name)
        lines.append(
            f"| {name} | {field.value} | {field.confidence:.2f} ({field.method}) | {field.source or '-'} |"
        )
    return "\n".join(lines)


def build(services: Services) -> None:
    from apps.flows import SAMPLE_CLAIMS, run_triage
    from domains.insurance import DRAFT_NOTICE
    from domains.insurance.underwriting import PORTFOLIO_FILE, kpi_tables, load_portfolio, risk_profile

    def triage(files: list[str] | None, folder: str, policy: str, request: gr.Request | None = None):
        try:  # the policy collection's grant, and server folders only among the user's own files/samples
            user = services.access.check(request, policy.strip())
        except ValueError as error:
            raise user_error(str(error)) from None
        scratch = None  # uploaded claim documents are copied here and deleted after triage
        if files:
            claim_name = re.sub(r"[^A-Za-z0-9._-]", "_", folder.strip()).strip(".") or "uploaded-claim"
            scratch = tempfile.TemporaryDirectory(prefix="genai-claim-")
            claim_dir = Path(scratch.name) / claim_name
            claim_dir.mkdir(parents=True)
            for file in files:
                shutil.copy(file, claim_dir / Path(file).name)
        elif folder.strip():
            try:
                claim_dir = services.user_files.server_path(user.name, folder.strip(), shared=[SAMPLE_CLAIMS])
            except ValueError as error:
                raise user_error(str(error)) from None
        else:
            raise user_error("Upload the claim's documents or give the claim folder's path.")
        try:
            result = run_triage(services, claim_dir, policy.strip(), actor=user.name)
        except ValueError as error:
            raise user_error(str(error)) from None
        finally:
            if scratch is not None:
                scratch.cleanup()
        return _triage_markdown(result), result.model_dump(mode="json")

    def dashboard(path: str, upload: str | None = None, request: gr.Request | None = None):
        try:
            user = services.access.user(request)
            if upload:  # the user's own upload, read where Gradio stored it
                csv = Path(upload)
            else:
                csv = services.user_files.server_path(
                    user.name, path.strip() or PORTFOLIO_FILE, shared=[Path(PORTFOLIO_FILE).parent]
                )
            frame, issues = load_portfolio(csv)
            result = risk_profile(frame, issues=issues)
        except ValueError as error:
            raise user_error(str(error)) from None
        gr.Info(f"{result.rows:,} claims in the profile; {result.skipped_rows:,} row(s) skipped.")
        for warning in result.warnings:  # stays until closed: a partial profile must not pass unnoticed
            gr.Warning(warning, duration=None)
        tables = kpi_tables(frame)
        profile = pd.DataFrame([s.model_dump() for s in result.segments])
        by_segment = tables["by_segment"]
        return (tables["volume"], tables["processing_trend"], by_segment, by_segment, by_segment, profile)

    gr.Markdown(f"*{DRAFT_NOTICE}*")
    with gr.Tab("Claim triage"):
        with gr.Row():
            files = gr.File(label="Claim documents", file_count="multiple", type="filepath")
            folder = gr.Textbox(label="...or claim folder on the server (or claim number for uploads)")
            policy = gr.Textbox(label="Policy collection", value="insurance")
        summary = gr.Markdown()
        details = gr.JSON(label="Triage result (JSON)")
        gr.Button("Triage").click(triage, [files, folder, policy], [summary, details])
    with gr.Tab("Dashboard"):
        with gr.Row():
            path = gr.Textbox(label="Claims/portfolio CSV on the server", value=str(PORTFOLIO_FILE))
            upload = gr.File(
                label="...or upload a claims/portfolio CSV", file_types=[".csv"], type="filepath"
            )
        volume = gr.LinePlot(x="month", y="claims", color="segment", title="Claims volume per month")
        trend = gr.LinePlot(x="month", y="mean_processing_days", title="Average processing time (days)")
        with gr.Row():
            processing = gr.BarPlot(x="segment", y="mean_processing_days", title="Processing days by segment")
            approval = gr.BarPlot(x="segment", y="approval_rate", title="Approval rate")
            fraud = gr.BarPlot(x="segment", y="fraud_flag_rate", title="Flagged-fraud rate")
        profile = gr.Dataframe(label="Risk profile per segment", interactive=False)
        gr.Button("Refresh").click(
            dashboard, [path, upload], [volume, trend, processing, approval, fraud, profile]
        )
