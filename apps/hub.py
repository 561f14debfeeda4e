"""The ``genai serve`` hub: one Gradio Blocks app, one tab per flow (see ``apps.tabs``).

Whatever depends on who is looking (the collections a person may use, their own files) is filled in at page
load from ``request.username``, never baked into the page at build time, so a page never carries another
person's collection names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from apps.services import Services
from apps.tabs import TABS

DRAFT_NOTICE = (
    "Clinical and financial outputs are drafts for a qualified professional's review, not decisions."
)


def on_page_load(fn: Callable[..., Any], outputs: Any, inputs: Any = None) -> None:
    """Run ``fn`` (which may take a ``gr.Request``) on each page load of the hub being built.

    For tabs whose content depends on the logged-in user; call it from a tab's ``build``.
    """
    from gradio.context import Context

    if Context.root_block is None:
        raise RuntimeError(
            "on_page_load must be called while the hub is being built, inside build(services)."
        )
    Context.root_block.load(fn, inputs=inputs, outputs=outputs, show_progress="hidden")


def signed_in_as(services: Services, request: gr.Request) -> str:
    """The header line: who is logged in (and how to leave), or that this is a local single-user hub."""
    if services.access.local_mode:
        return "Local mode: no user accounts, listening on this machine only."
    user = services.access.user(request.username)
    role = "admin, all collections" if user.is_admin else ", ".join(user.collections) or "no collections yet"
    return f"Signed in as **{user.name}** ({role}) · [Log out](/logout)"


def build_hub(services: Services) -> gr.Blocks:
    with gr.Blocks(title="genai-toolkit") as hub:
        with gr.Row():
            gr.Markdown(f"# genai-toolkit\n{DRAFT_NOTICE}")
            account = gr.Markdown(elem_id="signed-in-as")
        with gr.Tabs():
            for tab in TABS:
                with gr.Tab(tab.TITLE):
                    tab.build(services)

        def account_line(request: gr.Request) -> str:
            return signed_in_as(services, request)

        hub.load(account_line, None, account, show_progress="hidden")
    hub.queue(default_concurrency_limit=4)
    return hub
