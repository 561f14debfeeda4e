"""Balancing on self-made radiographs: lesion-centred and healthy patches, oversampling, the classifier; the
whole balance -> evaluate path on DC1000-shaped phantoms and on the same lesions exported as COCO boxes and as
images + masks; plus the shipped weights on one real UFBA image (skipped without shared data)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_connectors.errors import BadInputError
from domains.dental.balance import (
    PATCH,
    _mean_sd,
    _oversample,
    _scores,
    balance_dataset,
    evaluate_balance,
    image_patches,
    lesion_source,
    train_classifier,
)
from domains.dental.phantom import make_phantom


def test_lesion_and_healthy_patches() -> None:
    grey, _ = make_phantom(0, (256, 512))
    caries = np.zeros(grey.shape, dtype=np.uint8)
    caries[60:66, 100:106] = 2
    caries[180:184, 400:404] = 3
    patches = image_patches(grey.astype(np.float32), caries, np.random.default_rng(0), healthy=5)
    labels = [label for _, label in patches]
    assert sorted(labels) == [0, 0, 0, 0, 0, 2, 3]
    assert all(patch.shape == (PATCH, PATCH) and patch.dtype == np.uint8 for patch, _ in patches)


def test_oversample_and_classifier() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, PATCH, PATCH), dtype=np.uint8)
    labels = np.array([0] * 6 + [1] * 3 + [2] * 2 + [3])
    x, y = _oversample(images, labels, 6, rng)
    assert np.bincount(y).tolist() == [6, 6, 6, 6]
    model = train_classifier(x, y, n_classes=4, augment=True, epochs=1, seed=0, device="cpu")
    assert model(__import__("torch").zeros(2, 1, PATCH, PATCH)).shape == (2, 4)


def _as_coco(dc1000: Path, root: Path) -> None:
    """The phantom's lesions as a Roboflow-style COCO export: one box per lesion, categories named by depth."""
    from scipy import ndimage

    names = {102: "shallow", 153: "medium", 255: "deep"}
    document = {"images": [], "annotations": [], "categories": [{"id": 0, "name": "caries"}]}
    document["categories"] += [{"id": i, "name": name} for i, name in enumerate(names.values(), start=1)]
    (root / "train").mkdir(parents=True)
    for number, colours in enumerate(sorted((dc1000 / "colors").glob("*.png"))):
        codes = np.asarray(Image.open(colours))
        shutil.copy(dc1000 / "images_1024" / colours.name, root / "train" / colours.name)
        document["images"].append({"id": number, "file_name": colours.name, "height": codes.shape[0],
                                   "width": codes.shape[1]})  # fmt: skip
        components, _ = ndimage.label(codes > 0)
        for box in ndimage.find_objects(components):
            category = list(names).index(int(codes[box].max())) + 1
            x, y = box[1].start, box[0].start
            bbox = [x, y, box[1].stop - x, box[0].stop - y]
            document["annotations"].append({"image_id": number, "category_id": category, "bbox": bbox})
    (root / "train" / "_annotations.coco.json").write_text(json.dumps(document))


def _as_masks(dc1000: Path, root: Path) -> None:
    shutil.copytree(dc1000 / "images_1024", root / "images")
    shutil.copytree(dc1000 / "colors", root / "masks")


@pytest.mark.parametrize(
    ("layout", "classes"),
    [
        ("dc1000", ["healthy", "caries-1", "caries-2", "caries-3"]),
        ("coco", ["healthy", "deep", "medium", "shallow"]),  # "caries", the unused supercategory, is left out
        ("masks", ["healthy", "class-102", "class-153", "class-255"]),
    ],
)
def test_balance_any_labelled_layout(
    phantom_caries_dataset: Path, tmp_path: Path, layout: str, classes
) -> None:
    data = phantom_caries_dataset
    if layout != "dc1000":
        data = tmp_path / layout
        (_as_coco if layout == "coco" else _as_masks)(phantom_caries_dataset, data)
    if layout == "masks":  # one unreadable radiograph and one unreadable mask: reported, the others balanced
        (data / "images" / "000.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        (data / "masks" / "001.png").write_bytes(b"not a png at all")
    stale = tmp_path / "out" / "train" / "healthy" / "syn_99999.png"  # left by an interrupted earlier run
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    (tmp_path / "out" / "balance.json").write_text(  # that run's marker
        json.dumps({"tool": "genai dental balance", "status": "incomplete", "classes": ["healthy"]})
    )
    notes = tmp_path / "out" / "notes.txt"  # the user's own files: never touched
    notes.write_text("mine")
    kept = tmp_path / "out" / "train" / "healthy" / "my-scan.png"
    kept.write_bytes(b"mine")
    report = balance_dataset(data, tmp_path / "out", target_per_class=15, gan_minutes=0.02,
                             progress=lambda message: None)  # fmt: skip
    assert report["classes"] == classes and not stale.exists() and notes.read_text() == "mine"
    assert kept.read_bytes() == b"mine"
    kept.unlink()  # so the check below sees only the run's own files
    skipped = "".join(report["skipped_images"])
    expected = (2, True, True) if layout == "masks" else (0, False, False)
    assert (len(report["skipped_images"]), "000.png" in skipped, "001.png" in skipped) == expected
    written = json.loads((tmp_path / "out" / "balance.json").read_text())
    assert written["skipped_images"] == expected[0]  # the count only: skip reasons name files
    assert all(report["counts_after"][name] >= 15 for name in classes if report["counts_before"][name])
    with (tmp_path / "out" / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    synthetic = [row for row in rows if row["synthetic"] == "1"]
    assert synthetic and all(row["split"] == "train" and "syn_" in row["file"] for row in synthetic)
    real = [row for row in rows if row["synthetic"] == "0"]
    assert all(re.fullmatch(r"[0-9a-f]{12}", row["source"]) for row in real)  # content hash, not file name
    assert all(re.fullmatch(r"real_[0-9a-f]{12}_\d{5}\.png", Path(row["file"]).name) for row in real)
    assert {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").glob("*/*/*.png")} == {
        row["file"] for row in rows
    }
    assert {row["class"] for row in rows} <= set(classes)
    if layout == "dc1000":
        evaluation = evaluate_balance(tmp_path / "out", seeds=2, epochs=1, progress=lambda message: None)
        assert set(evaluation["results"]) == {"original", "classical", "classical+synthetic"}
        assert set(evaluation["results"]["original"]["per_class"]) == set(classes)


def test_macro_f1_leaves_out_classes_absent_from_the_test_split() -> None:
    import torch

    labels = np.array([0] * 10 + [1] * 5 + [2] * 5)  # no class-3 patch among the test patches

    class Perfect(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.one_hot(torch.from_numpy(labels), 4).float()

    images = np.zeros((20, PATCH, PATCH), dtype=np.uint8)
    scores = _scores(Perfect(), images, labels, ["healthy", "a", "b", "c"], "cpu")
    assert scores["macro_f1"] == 1.0 and scores["absent_classes"] == ["c"]
    assert scores["per_class"]["c"] == {"precision": None, "recall": None, "f1": None}
    assert _mean_sd([None, None]) is None and _mean_sd([0.5, None, 0.7])["mean"] == 0.6


def test_lesion_source_takes_a_coco_json_file(phantom_caries_dataset: Path, tmp_path: Path) -> None:
    _as_coco(phantom_caries_dataset, tmp_path / "export")
    source = lesion_source(tmp_path / "export" / "train" / "_annotations.coco.json")
    assert source.classes == ["healthy", "deep", "medium", "shallow"] and len(source.names) == 8
    grey, labels = source.load(source.names[0])
    assert grey.shape[1] == 1024 and labels.max() > 0


def test_class_folders_cannot_be_balanced(tmp_path: Path) -> None:
    for name in ("healthy", "caries"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / name / "a.png")
    with pytest.raises(BadInputError, match="says nothing about where the lesions are"):
        balance_dataset(tmp_path, tmp_path / "out", target_per_class=5, progress=lambda message: None)


@pytest.mark.shared_data
@pytest.mark.slow
def test_shipped_weights_on_real_radiograph(shared_data: Path, tmp_path: Path) -> None:
    from domains.dental.segment import PACKAGED_WEIGHTS, analyse_radiograph

    if not PACKAGED_WEIGHTS.is_file():
        pytest.skip("no shipped teeth weights")
    image = shared_data / "dental" / "ufba425" / "images" / "cate1-00002.jpg"
    result = analyse_radiograph(image)
    assert result.teeth_map.shape == (512, 512) and len(result.teeth) >= 20


def test_an_out_folder_that_could_hold_user_data_is_refused(phantom_caries_dataset: Path, tmp_path: Path) -> None:
    """A Roboflow export has train/ and test/ folders of its own: balancing into it, into a folder holding it,
    or into a folder with foreign split folders must refuse before anything is deleted."""
    data = tmp_path / "export"
    _as_coco(phantom_caries_dataset, data)
    (data / "train").mkdir(exist_ok=True)
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    foreign = tmp_path / "elsewhere"  # another tool's folder, even with a file called balance.json
    (foreign / "test").mkdir(parents=True)
    (foreign / "test" / "scan.png").write_bytes(b"user data")
    (foreign / "balance.json").write_text('{"classes": ["cavity"]}')
    for out, message in ((data, "overlaps the dataset"), (tmp_path, "overlaps the dataset"),
                         (data / "train", "overlaps the dataset"), (foreign, "not empty and no balance run wrote it")):  # fmt: skip
        with pytest.raises(BadInputError, match=message):
            balance_dataset(data, out, target_per_class=5, progress=lambda message: None)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file() and "elsewhere" not in str(p)) == before
    assert (foreign / "test" / "scan.png").read_bytes() == b"user data"
