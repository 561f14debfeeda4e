"""The one way tabs report a user's mistake."""

from __future__ import annotations

import gradio as gr


def user_error(message: str) -> gr.Error:
    """A ``gr.Error`` shown to the user, without the traceback Gradio otherwise prints on the server console:
    bad input is expected, and a console full of tracebacks hides the real faults."""
    return gr.Error(message, print_exception=False)
