"""Status page: what ``genai doctor`` reports, computed on each page load and on demand.

Everyone signed in sees the health part; only administrators see paths and the settings in force (decided in
the handler from the login, so a member's page never receives them), and secrets are masked for everyone.
"""

from __future__ import annotations

import gradio as gr

from apps.doctor import doctor_markdown, doctor_report, health_markdown
from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Status"


def build(services: Services) -> None:
    from apps.hub import on_page_load

    def refresh(request: gr.Request | None = None) -> str:
        try:
            user = services.access.user(request)
        except ValueError as error:
            raise user_error(str(error)) from None
        report = doctor_report(services)
        return doctor_markdown(report) if user.is_admin else health_markdown(report)

    report = gr.Markdown()
    on_page_load(refresh, report)
    gr.Button("Refresh").click(refresh, outputs=report, api_name="status")
