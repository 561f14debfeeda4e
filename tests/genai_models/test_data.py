"""Data sources for the generative models. Fixtures: IDX files and PNGs written here from seeded arrays,
scikit-learn's bundled digits, and pydicom's bundled test files (CT_small.dcm, MR_small.dcm)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from data_connectors.errors import BadInputError
from data_connectors.idx import write_idx
from genai_models.data import load_dataset, load_image_folder, split_train_val


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_files_with_their_labels(tmp_path, suffix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.array([0, 1, 2, 0, 1, 2], np.uint8))
    data = load_dataset(str(tmp_path / f"train-images-idx3-ubyte{suffix}"), image_size=32)
    assert data.images.shape == (6, 1, 32, 32) and data.labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert data.class_names == ["0", "1", "2"]
    centre = data.images[:, 0, 2:30, 2:30]  # 28 -> 32 is zero padding, centred: the pixels are untouched
    assert torch.allclose(centre, torch.from_numpy(images / 255.0).float())
    assert data.images[:, :, :2].abs().sum() == 0


def test_idx_without_labels_file_gets_label_zero(tmp_path):
    write_idx(tmp_path / "x-images-idx3-ubyte", np.zeros((3, 8, 8), np.uint8))
    data = load_dataset(str(tmp_path / "x-images-idx3-ubyte"), image_size=8)
    assert data.labels.tolist() == [0, 0, 0] and data.images.shape == (3, 1, 8, 8)


def test_sklearn_digits():
    data = load_dataset("digits", image_size=16)
    assert data.images.shape == (1797, 1, 16, 16) and len(data.class_names) == 10
    assert data.images.min() >= 0 and data.images.max() <= 1 and data.images.max() > 0.9
    train, val = split_train_val(data, val_fraction=0.1, seed=0)
    assert len(train) + len(val) == 1797 and len(val) == 180
    assert torch.equal(split_train_val(data, val_fraction=0.1, seed=0)[1].labels, val.labels)  # seeded


def test_image_folder_one_class_per_subfolder_skips_corrupt_files(tmp_path):
    for name, value in [("cat", 40), ("dog", 200)]:
        (tmp_path / name).mkdir()
        for index in range(2):
            Image.fromarray(np.full((8, 8), value, np.uint8)).save(tmp_path / name / f"{index}.png")
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    data = load_dataset(str(tmp_path), image_size=8)
    assert data.class_names == ["cat", "dog"] and sorted(data.labels.tolist()) == [0, 0, 1, 1]
    assert len(data.skipped) == 1 and "broken.png" in data.skipped[0]
    assert data.images[data.labels == 0].max() == pytest.approx(40 / 255)
    rgb = load_dataset(str(tmp_path), image_size=8, channels=3)
    assert rgb.images.shape == (4, 3, 8, 8)


def test_colour_folders_stay_colour_and_a_limit_samples_every_class(tmp_path):
    for name, colour in (("apple", (200, 20, 20)), ("leaf", (20, 200, 20)), ("sky", (20, 20, 200))):
        (tmp_path / name).mkdir()
        for i in range(10):
            Image.fromarray(np.full((8, 8, 3), colour, np.uint8)).save(tmp_path / name / f"{i}.png")
    data = load_dataset(str(tmp_path), image_size=8)
    assert data.images.shape == (30, 3, 8, 8)  # RGB, as the data is (it used to become grey)
    limited = load_image_folder(tmp_path, image_size=8, limit=9)
    assert len(limited.labels) == 9 and set(limited.labels.tolist()) == {0, 1, 2}  # not the first class only
    assert torch.equal(limited.labels, load_image_folder(tmp_path, image_size=8, limit=9).labels)  # seeded


def test_sixteen_bit_png_keeps_its_range(tmp_path):
    (tmp_path / "scan").mkdir()
    pixels = np.array([[1000, 64000], [300, 65535]], np.uint16).repeat(4, axis=0).repeat(4, axis=1)
    Image.fromarray(pixels).save(tmp_path / "scan" / "a.png")
    data = load_image_folder(tmp_path, image_size=8)
    values = sorted(set(np.round(data.images.numpy().ravel() * 65535).astype(int).tolist()))
    assert values == [300, 1000, 64000, 65535]  # 8-bit truncation would have merged 300 and 1000 into 1 and 3


def test_dicom_is_windowed_to_unit_range_without_8_bit_truncation(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    for name in ("CT_small.dcm", "MR_small.dcm"):
        folder = tmp_path / name.split("_")[0]
        folder.mkdir()
        shutil.copy(get_testdata_file(name), folder / name)
    data = load_image_folder(tmp_path, image_size=64)
    assert data.class_names == ["CT", "MR"] and data.images.shape == (2, 1, 64, 64)
    assert data.images.min() == 0.0 and data.images.max() == pytest.approx(1.0)
    mr = data.images[1]  # 64x64 as stored: no resampling, so these are the file's own grey levels
    assert len(torch.unique(mr)) > 1000  # the MR slice has 1128 levels; 8 bits would keep at most 256


def test_bad_specs_say_what_is_accepted(tmp_path):
    with pytest.raises(BadInputError, match="not recognised"):
        load_dataset("imagenet")
    with pytest.raises(BadInputError, match="dataset-fashion-mnist"):
        load_dataset(f"fashion-mnist:{tmp_path}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x").mkdir()
    (tmp_path / "empty" / "x" / "note.png").write_text("not an image")
    with pytest.raises(BadInputError):
        load_dataset(str(tmp_path / "empty"))


def test_channels_other_than_grey_or_rgb_are_refused(tmp_path):
    for channels in (2, 4):
        with pytest.raises(BadInputError, match=r"--channels must be 1 \(grey\) or 3"):
            load_dataset("digits", image_size=8, channels=channels)


def test_grey_content_saved_as_rgb_keeps_a_grey_folder_grey(tmp_path):
    """One radiograph exported as an RGB JPEG (equal channels up to compression noise) among grey PNGs."""
    (tmp_path / "xray").mkdir()
    for index in range(3):
        Image.fromarray(np.full((8, 8), 60 * index, np.uint8)).save(tmp_path / "xray" / f"{index}.png")
    ramp = np.tile(np.linspace(0, 255, 8, dtype=np.uint8), (8, 1))
    Image.fromarray(np.stack([ramp] * 3, axis=-1)).save(tmp_path / "xray" / "rgb.jpg", quality=90)
    data = load_image_folder(tmp_path, image_size=8)
    assert data.images.shape == (4, 1, 8, 8)
    Image.fromarray(np.full((8, 8, 3), (200, 20, 20), np.uint8)).save(tmp_path / "xray" / "red.png")
    assert load_image_folder(tmp_path, image_size=8).images.shape[1] == 3  # real colour still makes it RGB


def test_a_small_coloured_marker_on_a_white_page_is_colour(tmp_path):
    """Classes told apart only by a small red or blue mark (regression review, 27 Nov)."""
    for name, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        (tmp_path / name).mkdir()
        page = np.full((64, 64, 3), 245, np.uint8)
        page[10:18, 10:18] = colour
        Image.fromarray(page).save(tmp_path / name / "0.png")
    assert load_image_folder(tmp_path, image_size=32).images.shape[1] == 3
