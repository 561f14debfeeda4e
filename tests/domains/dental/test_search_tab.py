"""Similar-case search through a real Chroma image collection (deterministic fake features, so no model
loads), precision@k arithmetic, and the Gradio tab build. Images are phantoms written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from domains.dental.phantom import make_phantom
from domains.dental.search import category_of, evaluate_search, index_cases, similar_cases
from rag.image_collections import ImageCollection


def _fake_extractor(images: torch.Tensor) -> np.ndarray:
    """Mean intensity per image row band: similar phantoms get similar vectors."""
    return images[:, 0].reshape(len(images), 8, -1).mean(-1).numpy() + 0.01


def test_index_and_query(tmp_path: Path) -> None:
    paths = []
    for i in range(6):
        grey, _ = make_phantom(i, (64, 128))
        if i % 2:
            grey = grey[::-1].copy()
        path = tmp_path / f"cate{1 + i % 2}-{i:05d}.png"
        Image.fromarray(grey).save(path)
        paths.append(path)
    (tmp_path / "cate1-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    paths.insert(3, tmp_path / "cate1-broken.png")
    store = ImageCollection("dental-test", data_dir=tmp_path / "data", create=True)
    labels = [category_of(p.name) for p in paths]
    written, skipped = index_cases(store, paths, _fake_extractor, labels, batch=4)
    assert written == 6 and len(skipped) == 1 and "cate1-broken.png" in skipped[0]  # the other 6 are indexed
    assert index_cases(store, paths, _fake_extractor, labels)[0] == 6
    assert store.count() == 6  # upsert: idempotent
    cases = similar_cases(store, paths[0], _fake_extractor, k=2)
    assert (
        len(cases) == 2
        and all(c.label == "cate1" for c in cases)
        and paths[0].name not in [c.id for c in cases]
    )


def test_precision_at_k() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    result = evaluate_search([(a, "x"), (a, "x"), (b, "y"), (b, "y")], [(a, "x")], k=2)
    assert result["precision_at_2"] == 1.0 and result["random_precision_at_2"] == 0.5


def test_tab_builds(services) -> None:
    import gradio as gr

    from apps.tabs import dental

    with gr.Blocks():
        dental.build(services)
