"""The pypdf-only text PDF writer used for sample documents and test fixtures."""

from __future__ import annotations

import io

from pypdf import PdfReader

from data_connectors.pdf_writer import PdfLine, layout_pages, write_text_pdf


def test_pages_round_trip_through_pypdf_with_title_and_special_characters() -> None:
    pdf = write_text_pdf([["§ 164.404 — (a) back\\slash", PdfLine("Bold heading", bold=True)], []], title="T")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "T"
    assert reader.pages[0].extract_text().strip() == "§ 164.404 — (a) back\\slash\nBold heading"
    assert reader.pages[1].extract_text() == ""


def test_output_is_reproducible_byte_for_byte() -> None:
    pages = layout_pages([PdfLine("Heading", bold=True), "word " * 400])
    assert write_text_pdf(pages, title="x") == write_text_pdf(pages, title="x")


def test_layout_wraps_paragraphs_and_keeps_headings_with_their_text() -> None:
    pages = layout_pages(["para " * 100, PdfLine("Heading", bold=True), "after"], lines_per_page=8)
    assert all(len(page) <= 8 for page in pages)
    assert all(len(line.text) <= 92 for page in pages for line in page)
    heading_page = next(page for page in pages if PdfLine("Heading", bold=True) in page)
    assert PdfLine("after") in heading_page
