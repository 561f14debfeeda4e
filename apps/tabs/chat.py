"""A plain streaming chat with the configured LLM (no documents): the quickest check that the model works."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from apps.services import Services

TITLE = "Chat"

SYSTEM_PROMPT = "You are a concise, careful assistant. Say so when you do not know."


def _as_text(content: Any) -> str:
    """Gradio message content may be a string or a list of parts; keep the text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def build(services: Services) -> None:
    from apps.hub import llm_chat_interface

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[str]:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += [{"role": turn["role"], "content": _as_text(turn["content"])} for turn in history]
        messages.append({"role": "user", "content": message})
        reply = ""
        for piece in services.chat_model().stream(messages):
            reply += piece
            yield reply

    gr.Markdown(f"Model: `{services.settings.llm.model}` ({services.settings.llm.backend} backend)")
    llm_chat_interface(services, respond, chatbot=gr.Chatbot(height=420), api_name="chat")
