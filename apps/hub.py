"""The ``genai serve`` hub: one Gradio Blocks app, one tab per flow (see ``apps.tabs``)."""

from __future__ import annotations

import gradio as gr

from apps.services import Services
from apps.tabs import TABS

DRAFT_NOTICE = (
    "Clinical and financial outputs are drafts for a qualified professional's review, not decisions."
)


def build_hub(services: Services) -> gr.Blocks:
    with gr.Blocks(title="genai-toolkit") as hub:
        gr.Markdown(f"# genai-toolkit\n{DRAFT_NOTICE}")
        with gr.Tabs():
            for tab in TABS:
                with gr.Tab(tab.TITLE):
                    tab.build(services)
    hub.queue(default_concurrency_limit=4)
    return hub
