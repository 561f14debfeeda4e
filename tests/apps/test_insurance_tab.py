"""The insurance Dashboard handler (called directly): skipped rows are shown to the user, a portfolio with no
usable row is a gr.Error, a path outside the user's files points to the upload, which is read. Portfolios are
the shipped sample (samples/claims/portfolio.csv) or a few rows written here."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
import pytest

from apps.tabs import insurance

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "claims" / "portfolio.csv"


@pytest.fixture
def dashboard(services, monkeypatch):
    shown = []
    monkeypatch.setattr(gr, "Info", lambda message, **_: shown.append(("info", message)))
    monkeypatch.setattr(gr, "Warning", lambda message, **_: shown.append(("warning", message)))
    with gr.Blocks() as blocks:
        insurance.build(services)
    handler = next(fn.fn for fn in blocks.fns.values() if fn.fn.__name__ == "dashboard")
    return lambda *args: (handler(*args), shown)


def test_skipped_rows_are_shown_and_an_upload_is_read(dashboard, tmp_path):
    table = pd.read_csv(SAMPLE, dtype=str)
    table.loc[:9, "amount"] = "unknown"
    table.to_csv(tmp_path / "upload.csv", index=False)
    (*_, profile), shown = dashboard("", str(tmp_path / "upload.csv"))
    assert profile["claims"].sum() == 1490
    assert shown[0] == ("info", "1,490 claims in the profile; 10 row(s) skipped.")
    assert shown[1][0] == "warning" and "10 of 1,500 row(s) (1%) were skipped" in shown[1][1]
    assert "(e.g. 'unknown')" in shown[1][1]


def test_no_usable_rows_and_foreign_paths_are_gr_errors(dashboard, tmp_path):
    table = pd.read_csv(SAMPLE, dtype=str).head(5).assign(amount="unknown")
    table.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(gr.Error, match="no usable rows: amount unreadable in 5 row"):
        dashboard("", str(tmp_path / "bad.csv"))
    with pytest.raises(gr.Error, match="upload the files instead"):
        dashboard(str(tmp_path / "bad.csv"))  # typed, not uploaded: outside the user's files
