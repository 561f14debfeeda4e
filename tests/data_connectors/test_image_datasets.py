"""Dataset layouts (images+masks, class folders, COCO JSON, YOLO txt): small folders written by each test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_connectors.errors import BadInputError
from data_connectors.image_datasets import (
    rasterise,
    read_class_folders,
    read_coco,
    read_image_dataset,
    read_mask_folder,
    read_yolo,
)


def _png(path: Path, size_hw: tuple[int, int] = (40, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size_hw, 100, dtype=np.uint8)).save(path)
    return path


def test_mask_folder_pairs_by_stem_and_reports_unpaired(tmp_path: Path) -> None:
    _png(tmp_path / "images" / "a.jpg")
    _png(tmp_path / "images" / "b.png")
    _png(tmp_path / "masks" / "a.png")
    index = read_image_dataset(tmp_path)
    assert index.layout == "mask-folder"
    assert [r.image.name for r in index.records] == ["a.jpg"] and index.records[0].mask.name == "a.png"
    assert "b.png" in index.skipped[0]


def test_class_folders_counts(tmp_path: Path) -> None:
    for name, count in (("healthy", 3), ("caries", 1)):
        for i in range(count):
            _png(tmp_path / name / f"{i}.png")
    (tmp_path / "empty").mkdir()
    index = read_class_folders(tmp_path)
    assert index.counts() == {"caries": 1, "healthy": 3}
    assert index.skipped == ["empty/: no images"]


def test_coco_boxes_polygons_and_missing_images(tmp_path: Path) -> None:
    _png(tmp_path / "x.jpg")
    document = {
        "images": [
            {"id": 1, "file_name": "x.jpg", "height": 40, "width": 80},
            {"id": 2, "file_name": "gone.jpg"},
        ],
        "categories": [{"id": 0, "name": "cavity"}, {"id": 1, "name": "deep"}],
        "annotations": [
            {"image_id": 1, "category_id": 0, "bbox": [10, 5, 20, 10], "segmentation": []},
            {
                "image_id": 1,
                "category_id": 1,
                "bbox": [40, 10, 10, 10],
                "segmentation": [[40, 10, 50, 10, 50, 20]],
            },
        ],
    }
    (tmp_path / "_annotations.coco.json").write_text(json.dumps(document))
    index = read_image_dataset(tmp_path)
    assert index.layout == "coco" and len(index.records) == 1 and "gone.jpg" in index.skipped[0]
    record = index.records[0]
    assert record.annotations[0].box_xyxy == (10, 5, 30, 15)
    mask = rasterise(record, index.categories)
    assert mask.shape == (40, 80) and mask[10, 20] == 1 and mask[12, 48] == 2


def test_roboflow_coco_export_reads_every_split_and_ignores_other_json(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("valid", 1), ("test", 2)):
        images = [{"id": i, "file_name": f"{split}{i}.jpg", "height": 40, "width": 80} for i in range(count)]
        for image in images:
            _png(tmp_path / split / image["file_name"])
        document = {"images": images, "categories": [{"id": 0, "name": "cavity"}], "annotations": []}
        (tmp_path / split / "_annotations.coco.json").write_text(json.dumps(document))
    (tmp_path / "README.dataset.json").write_text(json.dumps({"name": "CranexD", "license": "CC BY 4.0"}))
    index = read_image_dataset(tmp_path)
    assert index.layout == "coco" and index.categories == ["cavity"]
    assert sorted((r.split, r.image.name) for r in index.records)[:2] == [
        ("test", "test0.jpg"),
        ("test", "test1.jpg"),
    ]
    assert [r.split for r in index.records].count("train") == 3 and len(index.records) == 6


def test_png_masks_in_a_labels_folder_are_masks_not_yolo(tmp_path: Path) -> None:
    _png(tmp_path / "images" / "a.png")
    _png(tmp_path / "labels" / "a.png")
    index = read_image_dataset(tmp_path)
    assert index.layout == "mask-folder" and index.records[0].mask == tmp_path / "labels" / "a.png"


def test_coco_bad_json(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BadInputError, match="not a COCO annotation file"):
        read_coco(tmp_path / "bad.json")


def test_yolo_boxes_polygons_and_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("names: ['caries', 'healthy']\n")
    _png(tmp_path / "train" / "images" / "p.jpg", (100, 200))
    labels = tmp_path / "train" / "labels"
    labels.mkdir(parents=True)
    (labels / "p.txt").write_text("0 0.5 0.5 0.1 0.2\n1 0.1 0.1 0.2 0.1 0.2 0.3\nx y\n0 0.1 0.2 0.3\n")
    index = read_yolo(tmp_path)
    assert index.categories == ["caries", "healthy"]
    record = index.records[0]
    assert record.split == "train" and len(record.annotations) == 2
    assert record.annotations[0].box_xyxy == pytest.approx((90, 40, 110, 60))
    assert record.annotations[1].polygons[0][0] == pytest.approx((20, 10))
    assert len(index.skipped) == 2  # the two malformed lines, with their line numbers
    assert index.counts() == {"caries": 1, "healthy": 1}


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a folder"):
        read_mask_folder(tmp_path / "nope", tmp_path)


def test_coco_multi_polygon_rle_and_malformed_annotation(tmp_path: Path) -> None:
    """All parts of a multi-polygon object are drawn; an RLE mask falls back to its box; ``bbox: []`` and an
    annotation with a null image_id are skipped and reported."""
    _png(tmp_path / "a.png", (50, 100))
    document = {
        "images": [{"id": 1, "file_name": "a.png", "height": 50, "width": 100}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [
            {"image_id": 1, "category_id": 1, "bbox": [10, 10, 80, 10],
             "segmentation": [[10, 10, 20, 10, 20, 20, 10, 20], [80, 10, 90, 10, 90, 20, 80, 20]]},
            {"image_id": 1, "category_id": 1, "bbox": [40, 30, 10, 10],
             "segmentation": {"counts": "abc", "size": [50, 100]}},
            {"image_id": 1, "category_id": 1, "bbox": []},
            {"image_id": None, "category_id": 1, "bbox": [1, 1, 2, 2]},
            {"image_id": float("inf"), "category_id": 1, "bbox": [1, 1, 2, 2]},
        ],
    }  # fmt: skip
    (tmp_path / "_annotations.coco.json").write_text(json.dumps(document))
    index = read_image_dataset(tmp_path)
    record = index.records[0]
    assert len(record.annotations) == 2 and len(record.annotations[0].polygons) == 2
    assert len(index.skipped) == 2 and "2 annotation(s) without a valid image_id" in index.skipped[0]
    assert "annotation 3 is malformed" in index.skipped[1]
    mask = rasterise(record, ["caries"])
    assert mask[15, 15] == 1 and mask[15, 85] == 1 and mask[15, 50] == 0  # both parts, not the box between
    assert mask[35, 45] == 1  # the RLE annotation's box


def test_coco_image_without_size_takes_it_from_the_file(tmp_path: Path) -> None:
    """Hand-made exports often leave height/width out: the lesions must still be drawn, not lost on a 0x0 canvas."""
    _png(tmp_path / "a.png", (50, 100))
    document = {
        "images": [{"id": 1, "file_name": "a.png"}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 10]}],
    }
    (tmp_path / "c.json").write_text(json.dumps(document))
    record = read_coco(tmp_path / "c.json").records[0]
    assert record.size_hw == (50, 100) and rasterise(record, ["caries"])[15, 15] == 1


def test_coco_annotations_off_the_image_or_of_an_unknown_category_are_skipped(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", (50, 100))
    document = {
        "images": [{"id": 1, "file_name": "a.png", "height": 50, "width": 100}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [
            {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 10]},
            {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
             "segmentation": [[-50, -50, 2000, -50, 2000, 3000, -50, 3000]]},
            {"image_id": 1, "category_id": 99, "bbox": [10, 10, 5, 5]},
            {"image_id": 1, "category_id": 1, "bbox": [float("nan"), 1, 2, 2]},
            {"image_id": 1, "category_id": 1, "bbox": [0, 0, 101, 50]},  # a pixel past the edge: kept
        ],
    }  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps(document))
    index = read_coco(tmp_path / "c.json")
    assert len(index.records[0].annotations) == 2
    reasons = " | ".join(index.skipped)
    assert "annotation 2 is malformed" in reasons and "outside the image" in reasons
    assert "annotation 3 is malformed" in reasons and "category_id 99" in reasons
    assert "annotation 4 is malformed" in reasons


def test_yolo_lines_off_the_image_or_of_an_unknown_class_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("names: ['caries']\n")
    _png(tmp_path / "images" / "p.png", (100, 200))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "p.txt").write_text(
        "0 0.5 0.5 0.1 0.2\n0 0.5 0.5 2 2\n0 nan nan nan nan\n0 3 3 0.1 0.1\n5 0.5 0.5 0.1 0.1\n0 0.5 0.5 0 0.1\n"
    )
    index = read_yolo(tmp_path)
    assert len(index.records[0].annotations) == 1
    # each names the radiograph first, so the pseudonymised report points at the image, not at p.txt
    assert [reason.split(": ")[:2] for reason in index.skipped] == [["p.png", f"p.txt line {n}"] for n in (2, 3, 4, 5, 6)]
    assert "not among data.yaml's 1 names" in index.skipped[3]


@pytest.mark.parametrize("text", ["names: [caries\n  - : :", "- caries\n- deep\n", "names: 3\n"])
def test_malformed_data_yaml_is_one_sentence(tmp_path: Path, text: str) -> None:
    (tmp_path / "data.yaml").write_text(text)
    _png(tmp_path / "images" / "p.png")
    with pytest.raises(BadInputError, match=r"data\.yaml"):
        read_image_dataset(tmp_path)


def test_jpeg_masks_are_refused_with_the_reason(tmp_path: Path) -> None:
    _png(tmp_path / "images" / "a.png")
    _png(tmp_path / "images" / "b.png")
    _png(tmp_path / "masks" / "a.png")
    _png(tmp_path / "masks" / "b.jpg")
    index = read_mask_folder(tmp_path / "images", tmp_path / "masks")
    assert [r.image.name for r in index.records] == ["a.png"]
    assert "b.jpg is a JPEG" in index.skipped[0] and "save masks as PNG" in index.skipped[0]


def test_yolo_names_keyed_by_id_strings_keep_their_ids(tmp_path: Path) -> None:
    """Keys '0'..'11' once sorted as text, so class 2 was named c10; a sparse dict rejected its own ids."""
    names = "\n".join(f"  '{i}': c{i}" for i in range(12))
    (tmp_path / "data.yaml").write_text(f"names:\n{names}\n")
    _png(tmp_path / "images" / "p.png", (100, 200))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "p.txt").write_text("2 0.5 0.5 0.1 0.1\n10 0.5 0.5 0.1 0.1\n")
    index = read_yolo(tmp_path)
    assert [a.category for a in index.records[0].annotations] == ["c2", "c10"]
    assert index.categories == [f"c{i}" for i in range(12)]
    (tmp_path / "data.yaml").write_text("names: {0: caries, 2: deep}\n")
    (tmp_path / "labels" / "p.txt").write_text("2 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1 0.1\n")
    index = read_yolo(tmp_path)
    assert [a.category for a in index.records[0].annotations] == ["deep"] and "class 1" in index.skipped[0]


def test_only_jpeg_masks_say_why_none_is_usable(tmp_path: Path) -> None:
    _png(tmp_path / "images" / "a.png")
    _png(tmp_path / "masks" / "a.jpg")
    with pytest.raises(BadInputError, match=r"usable mask .*a\.jpg is a JPEG"):
        read_mask_folder(tmp_path / "images", tmp_path / "masks")


def test_coco_box_with_a_negative_size_is_skipped(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", (50, 100))
    document = {
        "images": [{"id": 1, "file_name": "a.png", "height": 50, "width": 100}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [{"image_id": 1, "category_id": 1, "bbox": [60, 30, -10, -10]}],
    }
    (tmp_path / "c.json").write_text(json.dumps(document))
    index = read_coco(tmp_path / "c.json")
    assert index.records[0].annotations == [] and "negative width or height" in index.skipped[0]


def test_a_mask_of_another_size_is_skipped_not_stretched(tmp_path: Path) -> None:
    """Stretched to its image, a cropped mask put every lesion 60 px off (review): it is skipped with why."""
    _png(tmp_path / "images" / "a.png", (100, 200))
    _png(tmp_path / "images" / "b.png", (100, 200))
    _png(tmp_path / "masks" / "a.png", (100, 200))
    _png(tmp_path / "masks" / "b.png", (80, 200))
    index = read_image_dataset(tmp_path)
    assert [r.image.name for r in index.records] == ["a.png"] and index.records[0].size_hw == (100, 200)
    assert index.skipped == [
        "b.png: its mask b.png is 200x80 pixels but the image is 200x100; a label mask must match its image pixel "
        "for pixel"
    ]


def test_annotations_without_an_image_are_counted_not_dropped_silently(tmp_path: Path) -> None:
    """COCO annotations of an image entry whose file is missing, or of an id no entry has, and YOLO label files
    with no image, were once lost without a word (review: 9 of 67 lesions)."""
    _png(tmp_path / "coco" / "x.png")
    box = {"category_id": 1, "bbox": [1, 1, 5, 5]}
    (tmp_path / "coco" / "a.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "x.png"}, {"id": 2, "file_name": "gone.png"}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [{"image_id": 1, **box}, {"image_id": 2, **box}, {"image_id": 2, **box},
                        {"image_id": 9, **box}],
    }))  # fmt: skip
    coco = read_coco(tmp_path / "coco" / "a.json")
    assert coco.counts() == {"caries": 1}
    assert "1 annotation(s) name an image_id that no image entry has" in coco.skipped[0]
    assert coco.skipped[1].startswith("image id 2 (gone.png): image file not found")
    assert coco.skipped[1].endswith("its 2 annotation(s) were left out")
    (tmp_path / "yolo" / "train" / "labels").mkdir(parents=True)
    _png(tmp_path / "yolo" / "train" / "images" / "a.png")
    for stem in ("a", "b"):
        (tmp_path / "yolo" / "train" / "labels" / f"{stem}.txt").write_text("0 0.5 0.5 0.1 0.1\n0 0.2 0.2 0.1 0.1\n")
    (tmp_path / "yolo" / "train" / "labels" / "c.txt").write_text("")  # an empty label file loses nothing
    yolo = read_yolo(tmp_path / "yolo")
    assert yolo.skipped == ["b.txt: no image named b.* in train/images; its 2 annotation(s) were left out"]


def test_coco_classes_keep_the_category_id_order(tmp_path: Path) -> None:
    _png(tmp_path / "x.png")
    (tmp_path / "a.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "x.png"}],
        "categories": [{"id": 2, "name": "shallow"}, {"id": 0, "name": "deep"}, {"id": 1, "name": "medium"}],
    }))  # fmt: skip
    assert read_coco(tmp_path / "a.json").categories == ["deep", "medium", "shallow"]
    (tmp_path / "a.json").write_text(json.dumps({
        "images": [], "categories": [{"id": 1, "name": "zeta"}, {"id": 2, "name": "alpha"}]
    }))  # fmt: skip
    assert read_coco(tmp_path / "a.json").categories == ["zeta", "alpha"]


def test_a_folder_with_no_layout_says_which_layouts_are_read(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="holds no labelled dataset: expected images/ \\+ masks/"):
        read_image_dataset(tmp_path)


def test_annotation_centre_is_the_area_centroid_or_the_box_centre() -> None:
    from data_connectors.image_datasets import Annotation, annotation_centre

    square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    assert annotation_centre(Annotation("a", (0, 0, 30, 10), [square, [(x + 20, y) for x, y in square[::-1]]])) == (
        15.0, 5.0,  # two parts, wound either way
    )
    assert annotation_centre(Annotation("a", (0, 0, 4, 6))) == (2.0, 3.0)
    # a self-intersecting polygon's centroid falls off the lesion (x 286.5 for a box from 300): the box centre
    bowtie = [(300.0, 300.0), (340.0, 340.0), (340.0, 300.0), (300.0, 360.0)]
    assert annotation_centre(Annotation("a", (300, 300, 340, 360), [bowtie])) == (320.0, 330.0)
