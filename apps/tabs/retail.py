"""Retail tab: product recommendations for a customer and fact-checked marketing content."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import gradio as gr
import pandas as pd

from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Retail"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "retail"


def build(services: Services) -> None:
    from apps.hub import llm_event
    from domains.retail.content import ContentOptions, ContentWriter
    from domains.retail.recommend import Recommender, load_catalogue, load_history

    @lru_cache(maxsize=2)
    def recommender(catalogue: str, history: str) -> Recommender:
        return Recommender(load_catalogue(catalogue), load_history(history), embeddings=services.embeddings())

    def files(catalogue: str | None, history: str | None) -> Recommender:
        """The recommender for the uploaded (or sample) files; bad files raise ValueError for the handler."""
        return recommender(catalogue or str(SAMPLE / "catalogue.csv"), history or str(SAMPLE / "history.csv"))

    def recommend(customer: str, k: float, segment: str, catalogue: str | None, history: str | None):
        try:
            recommender = files(catalogue, history)
            result = recommender.recommend(customer.strip(), int(k), segment=segment.strip() or None)
        except ValueError as error:
            raise user_error(str(error)) from None
        state = "new customer: popular in segment" if result.cold_start else f"segment **{result.segment}**"
        rows = [(i.product_id, i.name, i.category, i.price, i.score, i.reason) for i in result.items]
        table = pd.DataFrame(rows, columns=["product", "name", "category", "price", "score", "reason"])
        note = f" {recommender.history_note}" if recommender.history_note else ""
        return f"Customer **{result.customer_id}** ({state}).{note}", table

    def write(
        customer: str,
        segment: str,
        kind: str,
        tone: str,
        length: str,
        language: str,
        catalogue: str | None,
        history: str | None,
    ):
        try:
            options = ContentOptions(kind=kind, tone=tone, length=length, language=language)
            writer = ContentWriter(services.chat_model(), files(catalogue, history))
            result = (
                writer.for_customer(customer.strip(), options)
                if customer.strip()
                else writer.for_segment(segment.strip(), options)
            )
        except ValueError as error:
            raise user_error(str(error)) from None
        checks = (
            "All numbers match the catalogue."
            if result.grounded
            else "**Check before use:** " + "; ".join(result.issues)
        )
        return (
            result.text,
            f"{checks} (attempts: {result.attempts}; products: {', '.join(result.product_ids)})",
        )

    with gr.Accordion("Data (default: the shipped sample)", open=False):
        catalogue = gr.File(label="catalogue CSV/XLSX", type="filepath")
        history = gr.File(label="purchase/browse history CSV", type="filepath")
    with gr.Tab("Recommendations"):
        with gr.Row():
            customer = gr.Textbox(label="customer id", value="C0001")
            k = gr.Slider(1, 30, value=10, step=1, label="how many")
            segment = gr.Textbox(label="segment (new customers)", placeholder="outdoor")
        go = gr.Button("Recommend", variant="primary")
        summary = gr.Markdown()
        table = gr.Dataframe(interactive=False)
        go.click(recommend, [customer, k, segment, catalogue, history], [summary, table])
    with gr.Tab("Content"):
        with gr.Row():
            content_customer = gr.Textbox(label="customer id (or leave empty)", value="C0001")
            content_segment = gr.Textbox(label="segment (when no customer)", value="home-cook")
        with gr.Row():
            kind = gr.Dropdown(["email", "description", "social"], value="email", label="kind")
            tone = gr.Dropdown(["friendly", "formal", "playful", "luxury"], value="friendly", label="tone")
            length = gr.Dropdown(["short", "medium", "long"], value="short", label="length")
            language = gr.Textbox(label="language", value="English")
        write_button = gr.Button("Write", variant="primary")
        text = gr.Textbox(label="draft", lines=10)
        check = gr.Markdown()
        write_button.click(
            write,
            [content_customer, content_segment, kind, tone, length, language, catalogue, history],
            [text, check],
            **llm_event(services),
        )
