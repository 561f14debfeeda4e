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


def test_a_bad_upload_is_one_plain_sentence(services, tmp_path):
    import pytest

    from apps.tabs import retail

    (tmp_path / "empty.csv").write_text("")
    with gr.Blocks() as blocks:
        retail.build(services)
    recommend = next(fn.fn for fn in blocks.fns.values() if fn.fn.__name__ == "recommend")
    with pytest.raises(gr.Error) as refused:
        recommend("C0001", 5, "", str(tmp_path / "empty.csv"), None)
    assert refused.value.message.startswith("Cannot parse catalogue empty.csv")  # no quotes around it
    assert refused.value.print_exception is False  # expected bad input: no traceback on the server console
