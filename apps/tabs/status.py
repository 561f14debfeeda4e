"""Status page: what ``genai doctor`` reports, computed on each page load and on demand."""

from __future__ import annotations

import gradio as gr

from apps.doctor import doctor_markdown, doctor_report
from apps.services import Services

TITLE = "Status"


def build(services: Services) -> None:
    def refresh() -> str:
        return doctor_markdown(doctor_report(services))

    report = gr.Markdown(value=refresh)  # a callable value is re-evaluated at every page load
    gr.Button("Refresh").click(refresh, outputs=report)
