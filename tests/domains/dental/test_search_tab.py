"""Similar-case search through a real Chroma image collection (deterministic fake features, so no model
loads), precision@k arithmetic, and the Gradio tab build. Images are phantoms written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data_connectors.errors import BadInputError
from domains.dental import DRAFT_NOTICE
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
    assert written == 6 and skipped == [  # the other 6 are indexed; the broken one is named by position
        "file #4: The image is a corrupt image file (Truncated File Read); re-export it."
    ]
    assert index_cases(store, paths, _fake_extractor, labels)[0] == 6
    assert store.count() == 6  # upsert: idempotent
    result = similar_cases(store, paths[0], _fake_extractor, k=2)
    assert len(result.cases) == 2 and all(c.label == "cate1" for c in result.cases)
    assert result.query_id not in [c.id for c in result.cases]
    document = result.to_json()
    assert document["draft"] is True and document["notice"] == DRAFT_NOTICE
    assert "cate1-00000" not in str(document)  # ids are content hashes, never file names


def _phantom_file(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(make_phantom(seed, (64, 128))[0]).save(path)
    return path


def test_cases_are_identified_by_content_not_name(tmp_path: Path) -> None:
    """Same names in two folders are two cases; a renamed copy of an indexed image is recognised as itself."""
    store = ImageCollection("dental-test", data_dir=tmp_path / "data", create=True)
    for folder, seed in (("clinicA", 0), ("clinicB", 10)):
        paths = [_phantom_file(tmp_path / folder / f"cate1-{i:03d}.png", seed + i) for i in range(3)]
        assert index_cases(store, paths, _fake_extractor, [category_of(p.name) for p in paths])[0] == 3
    assert store.count() == 6
    copy = tmp_path / "upload.png"
    copy.write_bytes((tmp_path / "clinicB" / "cate1-002.png").read_bytes())
    from_copy = similar_cases(store, copy, _fake_extractor, k=5)
    assert len(from_copy.cases) == 5 and from_copy.query_id not in [c.id for c in from_copy.cases]
    same_name = similar_cases(store, tmp_path / "clinicA" / "cate1-002.png", _fake_extractor, k=5)
    assert from_copy.query_id in [c.id for c in same_name.cases]  # clinicB's file of the same name is found


def test_an_unlabelled_copy_never_erases_a_case_label(tmp_path: Path) -> None:
    """A renamed copy (no category in its name) sorted before the labelled file once stored the case with an
    empty label (review); nor may a later run with the copy alone erase it."""
    store = ImageCollection("dental-test", data_dir=tmp_path / "data", create=True)
    labelled = _phantom_file(tmp_path / "cate5-00001.png", 0)
    copy = tmp_path / "John_Smith_2024.png"
    copy.write_bytes(labelled.read_bytes())
    other = _phantom_file(tmp_path / "cate2-00001.png", 3)
    paths = [copy, labelled, other]
    assert index_cases(store, paths, _fake_extractor, [category_of(p.name) for p in paths])[0] == 2
    assert index_cases(store, [copy], _fake_extractor, [None], batch=1)[0] == 1
    case = similar_cases(store, other, _fake_extractor, k=1).cases[0]
    assert case.label == "cate5" and store.count() == 2


def test_non_radiographs_are_refused_or_skipped(tmp_path: Path) -> None:
    store = ImageCollection("dental-test", data_dir=tmp_path / "data", create=True)
    good = _phantom_file(tmp_path / "cate1-000.png", 0)
    photo = tmp_path / "Doe_Jane_face.png"
    colour = np.zeros((200, 300, 3), dtype=np.uint8)
    colour[..., 0], colour[..., 1] = 220, 140
    Image.fromarray(colour).save(photo)
    thumb = tmp_path / "thumb.png"
    Image.fromarray(make_phantom(1, (40, 60))[0]).save(thumb)
    written, skipped = index_cases(store, [good, photo, thumb], _fake_extractor, ["cate1", None, None])
    assert (
        written == 1 and len(skipped) == 2 and "colour photograph" in skipped[0] and "thumbnail" in skipped[1]
    )
    assert skipped[0].startswith("file #2: ") and skipped[1].startswith("file #3: ")
    assert not any("Doe_Jane" in reason or "thumb" in reason.split(":")[0] for reason in skipped)
    corrupt = tmp_path / "Roe_Richard.png"
    corrupt.write_bytes(b"not a png")
    assert "Roe_Richard" not in index_cases(store, [corrupt], _fake_extractor, [None])[1][0]
    for query, reason in ((photo, "colour photograph"), (thumb, "thumbnail")):
        with pytest.raises(BadInputError, match=reason):
            similar_cases(store, query, _fake_extractor)


def test_labels_never_come_from_free_file_names() -> None:
    assert category_of("cate8-00123.jpg") == "cate8"
    assert category_of("Doe_Jane_DOB1984-03-02.png") is None and category_of("pano.png") is None


def test_precision_at_k() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    result = evaluate_search([(a, "x"), (a, "x"), (b, "y"), (b, "y")], [(a, "x")], k=2)
    assert result["precision_at_2"] == 1.0 and result["random_precision_at_2"] == 0.5


def test_tab_builds(services) -> None:
    import gradio as gr

    from apps.tabs import dental

    with gr.Blocks():
        dental.build(services)
