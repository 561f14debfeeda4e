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
GPU_CONCURRENCY_ID = "gpu"  # the one queue every GPU-heavy event of every tab joins


def gpu_event(services: Services) -> dict[str, Any]:
    """Event keyword arguments (``btn.click(fn, ..., **gpu_event(services))``) for a GPU-heavy handler.

    Every such event, whatever its tab, joins one Gradio concurrency group limited to
    ``server.gpu_concurrency`` (default 1), so two MRIs, or an MRI and a training run, never share the GPU's
    memory; the others wait in the queue and see their position. Gradio keeps the smallest limit given for a
    group, so a tab must not pass its own number.
    """
    return {
        "concurrency_id": GPU_CONCURRENCY_ID,
        "concurrency_limit": services.settings.server.gpu_concurrency,
    }


def llm_on_gpu(services: Services) -> bool:
    """True when the chat model is generated in this process on CUDA (transformers engine).

    llama.cpp is our CPU build and an OpenAI-compatible server runs elsewhere, so neither touches this GPU.
    """
    llm = services.settings.llm
    if llm.backend != "local" or llm.engine == "llama-cpp":
        return False
    if llm.device == "auto":
        import torch

        return torch.cuda.is_available()
    return llm.device.startswith("cuda")


def llm_event(services: Services, limit: int = 2) -> dict[str, Any]:
    """Event keyword arguments for a handler that generates with the chat model.

    It joins the GPU group only when the model runs on this GPU (``llm_on_gpu``); otherwise it keeps its
    own ``limit``, so answers on the CPU or from a model server never wait behind an MRI.
    """
    return gpu_event(services) if llm_on_gpu(services) else {"concurrency_limit": limit}


def llm_chat_interface(services: Services, fn: Callable[..., Any], **kwargs: Any) -> gr.ChatInterface:
    """``gr.ChatInterface(fn, **kwargs)`` whose generating events follow ``llm_event``.

    ChatInterface takes a concurrency limit but no group, so the events it adds to the hub being built get
    the GPU group afterwards (Gradio reads it when an event is queued).
    """
    from gradio.context import Context

    events = llm_event(services)
    root = Context.root_block
    before = set(root.fns) if root is not None else set()
    chat = gr.ChatInterface(fn, concurrency_limit=events["concurrency_limit"], **kwargs)
    if "concurrency_id" in events and root is not None:
        for key, block_fn in root.fns.items():
            if key not in before and block_fn.concurrency_limit == events["concurrency_limit"]:
                block_fn.concurrency_id = events["concurrency_id"]
    return chat


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
