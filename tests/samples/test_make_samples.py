"""The generated sample files in the repository match what samples/make_samples.py writes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE_BASES = REPO / "samples" / "knowledge_bases"


@pytest.fixture(scope="module")
def make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "samples" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_policy_docx_is_up_to_date(make_samples) -> None:
    shipped = (KNOWLEDGE_BASES / "insurance" / "homeowners-policy-wording.docx").read_bytes()
    assert make_samples.write_policy_docx() == shipped, "run samples/make_samples.py and commit the result"


@pytest.mark.shared_data
def test_shipped_hipaa_excerpts_are_up_to_date(
    make_samples, shared_data: Path, tmp_path: Path, monkeypatch
) -> None:
    source = shared_data / "documents" / "regulations" / "hipaa-simplification-201303.marker.md"
    if not source.is_file():
        pytest.skip(f"{source} is not present")
    monkeypatch.setattr(make_samples, "ROOT", tmp_path)
    make_samples.write_hipaa(source)
    for name in ["hipaa-breach-notification.pdf", "hipaa-privacy-rule-excerpt.md"]:
        shipped = (KNOWLEDGE_BASES / "health-privacy" / name).read_bytes()
        assert (tmp_path / "health-privacy" / name).read_bytes() == shipped, name
