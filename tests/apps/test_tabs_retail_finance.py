"""The retail and finance hub tabs build (no model is loaded until a button is pressed)."""

from __future__ import annotations

import gradio as gr


def test_tabs_build(services):
    from apps.tabs import TABS, finance, retail

    assert retail in TABS and finance in TABS
    with gr.Blocks() as blocks:
        for tab in (retail, finance):
            with gr.Tab(tab.TITLE):
                tab.build(services)
    assert blocks.fns  # handlers were wired
