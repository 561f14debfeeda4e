"""Balancing on self-made radiographs: lesion-centred and healthy patches (touching regions of two classes
included), skipped inputs named by content hash, oversampling, the classifier; the whole balance -> evaluate
path on DC1000-shaped phantoms (``write_phantom_caries_dataset``) and on the same lesions exported as COCO
boxes and as images + masks, the latter through the CLI; plus the shipped weights on one real UFBA image
(skipped without shared data)."""

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
    GENERATOR_RECIPES,
    PATCH,
    _mean_sd,
    _oversample,
    _scores,
    balance_dataset,
    evaluate_balance,
    image_patches,
    lesion_source,
    pseudonymous_skips,
    train_classifier,
    train_generator,
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


def test_touching_regions_of_two_classes_are_two_patches() -> None:
    """An FDI label map's teeth touch: each region of each class gets its own centred patch and label (they
    were once merged into one patch of the majority class)."""
    grey = np.zeros((128, 256), dtype=np.float32)
    grey[:, :120] = 0.3  # the left region's class-1 half is darker than its class-2 half
    grey[:, 120:] = 0.9
    labels = np.zeros(grey.shape, dtype=np.uint8)
    labels[40:80, 100:120] = 1  # 20 px wide, touching ...
    labels[40:80, 120:150] = 2  # ... a larger region of class 2
    labels[100:110, 200:210] = 1  # a second, separate class-1 region
    patches = image_patches(grey, labels, np.random.default_rng(0), healthy=0)
    assert [label for _, label in patches] == [1, 1, 2]  # by class, then in raster order
    touching_1, touching_2 = patches[0][0], patches[2][0]
    # each centred on its own region: the class-1 one on the dark side, the class-2 one on the bright side
    assert touching_1[PATCH // 2, PATCH // 2] < touching_2[PATCH // 2, PATCH // 2]


def test_skipped_inputs_are_named_by_content_hash(tmp_path: Path) -> None:
    """Clinics name files after patients: no reason may quote a file name of the dataset, and the entry names
    the radiograph by the hash every other dental output uses."""
    from data_connectors.images import content_id

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    smith = tmp_path / "images" / "Smith_John_1970.png"
    smith.write_bytes(b"not a png")
    roe = tmp_path / "images" / "Roe_Richard.png"
    roe.write_bytes(b"another radiograph")
    raw = [
        ("Smith_John_1970.png is a corrupt image file (broken); re-export it.", smith),
        ("Roe_Richard.png: no mask named Roe_Richard.* in masks", None),  # the dataset reader's wording
        ("Doe_Jane.jpg: image file not found in export", None),  # a COCO entry with no file behind it
        ("The mask 0123456789ab is not a readable image (OSError); re-export it or remove it.", roe),
    ]
    skips = pseudonymous_skips(raw, tmp_path)
    text = json.dumps(skips)
    assert not any(name in text for name in ("Smith", "John", "1970", "Roe", "Richard", "Doe", "Jane"))
    assert [skip["image"] for skip in skips] == [content_id(smith), content_id(roe), None, content_id(roe)]
    assert skips[0]["reason"].startswith(f"{content_id(smith)} is a corrupt image file")
    assert skips[1]["reason"] == f"{content_id(roe)}: no mask named {content_id(roe)}.* in masks"
    assert skips[2]["reason"] == "(name withheld): image file not found in export"
    assert skips[3]["reason"] == raw[3][0]


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
        # in category-id order; "caries", the unused supercategory, is left out
        ("coco", ["healthy", "shallow", "medium", "deep"]),
        ("masks", ["healthy", "class-102", "class-153", "class-255"]),
    ],
)
def test_balance_any_labelled_layout(
    phantom_caries_dataset: Path, tmp_path: Path, layout: str, classes, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = phantom_caries_dataset
    if layout != "dc1000":
        data = tmp_path / layout
        (_as_coco if layout == "coco" else _as_masks)(phantom_caries_dataset, data)
    if layout == "masks":  # patient-named files: an unreadable radiograph and mask, an image with no mask
        for number, patient in (("000", "Smith_John_1970"), ("001", "Doe_Jane_1980")):
            for folder in ("images", "masks"):
                (data / folder / f"{number}.png").rename(data / folder / f"{patient}.png")
        (data / "images" / "Smith_John_1970.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        (data / "masks" / "Doe_Jane_1980.png").write_bytes(b"not a png at all")
        Image.fromarray(np.full((64, 128), 90, np.uint8)).save(data / "images" / "Roe_Richard.png")
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
    if layout == "masks":  # through the CLI: its --json stdout is what the reviewer saw name a patient
        from typer.testing import CliRunner

        from apps.cli import app

        env = {"GENAI_DATA_DIR": str(tmp_path / "data"), "GENAI_DEVICE": "cpu"}
        result = CliRunner().invoke(app, ["dental", "balance", str(data), "--out", str(tmp_path / "out"),
                                          "--target-per-class", "15", "--gan-minutes", "0.05",
                                          "--generator", "dcgan+diffaugment", "--json"],
                                    env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert not any(name in result.stdout for name in ("Smith", "Doe", "Roe"))
        report = json.loads(result.stdout)
    else:
        report = balance_dataset(data, tmp_path / "out", target_per_class=15, gan_minutes=0.02,
                                 progress=lambda message: None)  # fmt: skip
    assert report["classes"] == classes and not stale.exists() and notes.read_text() == "mine"
    recipe = json.loads((tmp_path / "out" / "balance.json").read_text())["generator_recipe"]
    if layout == "masks":  # the recipe asked for on the command line, written down with its settings
        assert recipe == {"name": "dcgan+diffaugment", "diff_augment": True}
    else:
        assert recipe == {"name": "sngan+diffaugment", "diff_augment": True, "n_dis": 2, "betas": [0.0, 0.9]}
    assert kept.read_bytes() == b"mine"
    kept.unlink()  # so the check below sees only the run's own files
    written_text = (tmp_path / "out" / "balance.json").read_text()
    assert json.loads(written_text)["skipped_images"] == report["skipped_images"]  # the same list in both
    if layout == "masks":  # each skipped radiograph by its content hash, the reason quoting no file name
        from data_connectors.images import content_id

        hashes = {content_id(data / "images" / f"{name}.png") for name in ("Smith_John_1970", "Doe_Jane_1980",
                                                                            "Roe_Richard")}  # fmt: skip
        assert {skip["image"] for skip in report["skipped_images"]} == hashes
        assert len(report["skipped_images"]) == 3
        assert not any(name in written_text for name in ("Smith", "Doe", "Roe"))
    else:
        assert report["skipped_images"] == []
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
        import domains.dental.balance as balance_module

        trained_counts = []
        real_training = balance_module.train_classifier

        def counting(images, labels, **options):
            trained_counts.append(np.bincount(labels, minlength=len(classes)).tolist())
            return real_training(images, labels, **options)

        monkeypatch.setattr(balance_module, "train_classifier", counting)
        evaluation = evaluate_balance(tmp_path / "out", seeds=2, epochs=1, progress=lambda message: None)
        assert set(evaluation["results"]) == {"original", "classical", "classical+synthetic"}
        # per seed: original, classical, classical+synthetic; the last two train on equal class counts
        assert trained_counts[1] == trained_counts[2] and len(set(trained_counts[1])) == 1
        assert set(evaluation["results"]["original"]["per_class"]) == set(classes)


def test_each_generator_recipe_trains_the_gan_it_names() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, PATCH, PATCH), dtype=np.uint8)
    labels = np.array([0, 1] * 8)
    defaults = {"diff_augment": False, "n_dis": 1, "betas": (0.5, 0.999)}
    for name, options in GENERATOR_RECIPES.items():
        gan = train_generator(images, labels, n_classes=2, minutes=0.001, device="cpu", recipe=name)
        built = {key: tuple(value) if key == "betas" else value for key, value in gan.config.items()}
        assert {key: built[key] for key in defaults} == {**defaults, **options}, name


def test_an_unknown_generator_recipe_is_refused_before_any_work(
    phantom_caries_dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(BadInputError, match="--generator must be one of sngan\\+diffaugment, dcgan"):
        balance_dataset(phantom_caries_dataset, tmp_path / "out", target_per_class=5, generator="stylegan",
                        progress=lambda message: None)  # fmt: skip
    assert not (tmp_path / "out").exists()


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
    assert _mean_sd([0.5, None]) == {"mean": 0.5, "sd": None}  # one run measures no spread


def test_a_mask_with_image_content_is_skipped_not_turned_into_classes(
    phantom_caries_dataset: Path, tmp_path: Path
) -> None:
    """A photo (or a lossy-saved mask) in masks/ once became ~200 "classes" the GAN then topped up."""
    data = tmp_path / "data"
    for folder in ("images", "masks"):
        (data / folder).mkdir(parents=True)
    for number, image in enumerate(sorted((phantom_caries_dataset / "images_1024").glob("*.png"))[:3]):
        shutil.copy(image, data / "images" / f"{number}.png")
        shutil.copy(phantom_caries_dataset / "colors" / image.name, data / "masks" / f"{number}.png")
    noise = np.random.default_rng(0).integers(0, 256, (128, 256), dtype=np.uint8)
    Image.fromarray(noise).save(data / "masks" / "2.png")
    source = lesion_source(data)
    assert len(source.names) == 2 and len(source.classes) <= 4
    assert "different values, more than a label mask has" in source.skipped[0][0]


def test_lesion_source_takes_a_coco_json_file(phantom_caries_dataset: Path, tmp_path: Path) -> None:
    _as_coco(phantom_caries_dataset, tmp_path / "export")
    source = lesion_source(tmp_path / "export" / "train" / "_annotations.coco.json")
    assert source.classes == ["healthy", "shallow", "medium", "deep"] and len(source.names) == 8
    grey, labels, lesions = source.load(source.names[0])
    assert grey.shape[1] == 1024 and labels.max() > 0 and lesions and all(labels[c] > 0 for c, _ in lesions)


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


def test_an_out_folder_that_could_hold_user_data_is_refused(
    phantom_caries_dataset: Path, tmp_path: Path
) -> None:
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


def _radiograph(path: Path, size_hw: tuple[int, int] = (256, 512), dtype=np.uint8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    grey, _ = make_phantom(0, size_hw)
    Image.fromarray(grey.astype(dtype) * (257 if dtype == np.uint16 else 1)).save(path)
    return path


def test_every_annotation_is_a_lesion_even_inside_another(tmp_path: Path) -> None:
    """A small "shallow" box drawn under a larger "deep" one listed after it vanished from the rasterised
    mask, and touching boxes merged (review): each COCO/YOLO annotation is one patch, at its own centre."""
    _radiograph(tmp_path / "x.png", (256, 1024))
    boxes = [("shallow", [500, 100, 10, 10]), ("deep", [480, 80, 40, 40]), ("deep", [100, 100, 20, 20]),
             ("deep", [120, 100, 20, 20])]  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "x.png", "height": 256, "width": 1024}],
        "categories": [{"id": 1, "name": "shallow"}, {"id": 2, "name": "deep"}],
        "annotations": [{"image_id": 1, "category_id": 1 + (name == "deep"), "bbox": box} for name, box in boxes],
    }))  # fmt: skip
    source = lesion_source(tmp_path / "a.json")
    grey, labels, lesions = source.load(source.names[0])
    assert sorted(lesions) == [((100, 500), 2), ((105, 505), 1), ((110, 110), 2), ((110, 130), 2)]
    patches = image_patches(grey, labels, np.random.default_rng(0), healthy=0, lesions=lesions)
    assert sorted(label for _, label in patches) == [1, 2, 2, 2]


def test_sixteen_bit_radiographs_and_masks_keep_their_values(tmp_path: Path) -> None:
    """convert("L") once clipped a 16-bit radiograph (59 % of patch pixels at 255) and turned mask values
    1000/2000/3000 into one class 255 (review)."""
    _radiograph(tmp_path / "images" / "a.png", dtype=np.uint16)
    mask = np.zeros((256, 512), dtype=np.uint16)
    for number, value in enumerate((1000, 2000, 3000)):
        mask[100:110, 100 + 100 * number : 110 + 100 * number] = value
    (tmp_path / "masks").mkdir()
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    source = lesion_source(tmp_path)
    assert source.classes == ["healthy", "class-1000", "class-2000", "class-3000"]
    grey, labels, lesions = source.load("images__a")
    assert grey.max() > 255 and lesions is None
    assert sorted(np.unique(labels).tolist()) == [0, 1, 2, 3]
    patches = image_patches(grey, labels, np.random.default_rng(0), healthy=0)
    assert max((patch == 255).mean() for patch, _ in patches) < 0.5


def test_yolo_skips_name_the_radiograph_and_keep_data_yaml(tmp_path: Path) -> None:
    from data_connectors.images import content_id

    (tmp_path / "data.yaml").write_text("names: [caries]\n")
    image = _radiograph(tmp_path / "images" / "Doe_Jane.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "Doe_Jane.txt").write_text("0 0.5 0.5 0.1 0.1\n5 0.5 0.5 0.1 0.1\n")
    source = lesion_source(tmp_path)
    [entry] = pseudonymous_skips(source.skipped, source.root)
    assert entry["image"] == content_id(image)
    assert "not among data.yaml's 1 names" in entry["reason"] and "Doe" not in entry["reason"]


def test_a_coco_file_whose_images_are_all_missing_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "Doe_Jane.png"}], "categories": [{"id": 1, "name": "caries"}],
        "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
    }))  # fmt: skip
    with pytest.raises(BadInputError, match=r"None of the images that a.json's annotations list was found \(1 missing"):
        lesion_source(tmp_path / "a.json")


def test_without_synthetic_patches_the_two_augmented_regimes_are_one_run(tmp_path: Path) -> None:
    """They drew their oversampling from one random stream in turn, so a dataset with no synthetic patch showed
    a synthetic "effect" (0.769 vs 0.676, review)."""
    rng = np.random.default_rng(0)
    rows = []
    for split, per_class in (("train", (12, 4)), ("test", (4, 4))):
        for label, (name, count) in enumerate(zip(("healthy", "caries"), per_class, strict=True)):
            (tmp_path / split / name).mkdir(parents=True)
            for number in range(count):
                file = f"{split}/{name}/real_{'0' * 12}_{number:05d}.png"
                patch = np.clip(rng.normal(80 + 100 * label, 20, (PATCH, PATCH)), 0, 255).astype(np.uint8)
                Image.fromarray(patch).save(tmp_path / file)
                rows.append({"file": file, "split": split, "class": name, "synthetic": 0, "source": "0" * 12})
    with (tmp_path / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "split", "class", "synthetic", "source"])
        writer.writeheader()
        writer.writerows(rows)
    (tmp_path / "balance.json").write_text(json.dumps({"classes": ["healthy", "caries"]}))
    messages: list[str] = []
    report = evaluate_balance(tmp_path, seeds=1, epochs=2, progress=messages.append)
    assert report["synthetic_patches"] == 0 and "no synthetic patches" in messages[0]
    assert report["results"]["classical"] == report["results"]["classical+synthetic"]


def test_labelled_images_with_an_exif_rotation_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """The reader turns such an image as viewers do; its mask may follow either the stored or the shown pixels,
    and a square image passed every size check with its lesion in the wrong place (review)."""
    grey, _ = make_phantom(0, (256, 256))
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(grey).save(tmp_path / "images" / "a.jpg", exif=exif)
    Image.fromarray(grey).save(tmp_path / "images" / "b.png")
    mask = np.zeros((256, 256), np.uint8)
    mask[40:80, 150:180] = 1
    for name in ("a", "b"):
        Image.fromarray(mask).save(tmp_path / "masks" / f"{name}.png")
    source = lesion_source(tmp_path)
    with pytest.raises(BadInputError, match="EXIF orientation tag"):
        source.load("images__a")
    assert source.load("images__b")[1].any()


def test_palette_masks_keep_their_indices_as_classes(tmp_path: Path) -> None:
    """Two palette colours of one grey level were one class (review): a palette mask's labels are its indices."""
    _radiograph(tmp_path / "images" / "a.png")
    mask = np.zeros((256, 512), np.uint8)
    mask[100:110, 100:110], mask[100:110, 300:310] = 1, 2
    palette_mask = Image.fromarray(mask, mode="P")
    palette_mask.putpalette([0, 0, 0, 255, 0, 0, 0, 130, 0] + [0] * (256 * 3 - 9))  # red and green: both grey 76
    (tmp_path / "masks").mkdir()
    palette_mask.save(tmp_path / "masks" / "a.png")
    assert lesion_source(tmp_path).classes == ["healthy", "class-1", "class-2"]


def test_coco_string_image_ids_and_annotations_for_another_shape(tmp_path: Path) -> None:
    """String ids ("img-A") lost every annotation (review); annotations drawn for an image of another shape
    (here: rotated) are refused, never stretched onto it."""
    _radiograph(tmp_path / "a.png", (256, 512))
    _radiograph(tmp_path / "b.png", (256, 512))
    (tmp_path / "c.json").write_text(json.dumps({
        "images": [{"id": "img-A", "file_name": "a.png", "height": 256, "width": 512},
                   {"id": "img-B", "file_name": "b.png", "height": 512, "width": 256}],
        "categories": [{"id": 1, "name": "caries"}],
        "annotations": [{"image_id": "img-A", "category_id": 1, "bbox": [100, 100, 20, 20]},
                        {"image_id": "img-B", "category_id": 1, "bbox": [100, 100, 20, 20]}],
    }))  # fmt: skip
    source = lesion_source(tmp_path / "c.json")
    assert source.classes == ["healthy", "caries"]
    assert source.load("a")[2] == [((220, 220), 1)]
    with pytest.raises(BadInputError, match="annotations are for a 256x512 image but the image is 512x256"):
        source.load("b")


def test_colour_masks_keep_one_class_per_colour(tmp_path: Path) -> None:
    """Red and green are both grey 76: read as grey they merged into one class. A grey mask saved as RGB keeps
    its grey values."""
    _radiograph(tmp_path / "images" / "a.png")
    _radiograph(tmp_path / "images" / "b.png")
    colour = np.zeros((256, 512, 3), np.uint8)
    colour[100:110, 100:110] = (255, 0, 0)
    colour[100:110, 300:310] = (0, 130, 0)
    grey_as_rgb = np.zeros((256, 512, 3), np.uint8)
    grey_as_rgb[50:60, 50:60] = 2
    (tmp_path / "masks").mkdir()
    Image.fromarray(colour).save(tmp_path / "masks" / "a.png")
    Image.fromarray(grey_as_rgb).save(tmp_path / "masks" / "b.png")
    source = lesion_source(tmp_path)
    assert source.classes == ["healthy", "class-2", "class-#008200", "class-#ff0000"]
    labels = source.load("images__a")[1]
    assert sorted(np.unique(labels).tolist()) == [0, 2, 3]
