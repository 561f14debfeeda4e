"""Segmentation end to end with the tiny phantom-trained network: outputs at the input size, FDI values,
draft flag, the CLI, and every kind of bad input getting one clear message (fixtures made here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from scipy import ndimage
from typer.testing import CliRunner

from data_connectors.errors import BadInputError
from domains.dental import DRAFT_NOTICE
from domains.dental.labels import FDI_TEETH, TEETH_FLIP_PERMUTATION
from domains.dental.network import build_network
from domains.dental.phantom import make_phantom
from domains.dental.render import write_outputs
from domains.dental.segment import (
    MAX_GROWTH_PX,
    LoadedNetwork,
    analyse_radiograph,
    grow_into_teeth,
    predict_classes,
    tooth_instances,
)


def _save(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


@pytest.mark.parametrize("size_hw", [(128, 256), (301, 707)])
def test_outputs_match_input_size(tmp_path: Path, tiny_teeth_weights: Path, size_hw: tuple[int, int]) -> None:
    grey, _ = make_phantom(42, size_hw)
    result = analyse_radiograph(_save(tmp_path / "p.png", grey), teeth_weights=tiny_teeth_weights)
    files = write_outputs(result, tmp_path / "out")
    teeth = np.asarray(Image.open(files["teeth"]))
    assert teeth.shape == size_hw and teeth.dtype == np.uint8
    assert set(np.unique(teeth).tolist()) <= {0, *FDI_TEETH}
    document = json.loads(Path(files["json"]).read_text())
    assert document["draft"] is True and document["notice"] == DRAFT_NOTICE
    for tooth in document["teeth"]:
        x0, y0, x1, y1 = tooth["box_xyxy"]
        assert 0 <= x0 <= x1 < size_hw[1] and 0 <= y0 <= y1 < size_hw[0]
        assert tooth["fdi"] in FDI_TEETH and 0 <= tooth["confidence"] <= 1 and tooth["area_px"] > 0
    assert Image.open(files["overlay"]).mode == "RGB"


def test_sixteen_bit_input(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    grey, _ = make_phantom(5, (128, 256))
    result = analyse_radiograph(
        _save(tmp_path / "p16.png", grey.astype(np.uint16) * 250), teeth_weights=tiny_teeth_weights
    )
    assert result.teeth_map.shape == (128, 256)
    assert result.grey.dtype == np.float32  # as documented: a float64 copy of a 3000x6000 upload is 144 MB


def _face_photo() -> np.ndarray:
    image = Image.new("RGB", (300, 400), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse([60, 60, 240, 320], fill=(225, 170, 130))
    draw.ellipse([100, 150, 130, 170], fill=(60, 40, 30))
    return np.asarray(image)


def _intraoral_photo() -> np.ndarray:
    image = Image.new("RGB", (640, 480), (150, 30, 40))
    draw = ImageDraw.Draw(image)
    for i in range(8):
        draw.rounded_rectangle([40 + 70 * i, 150, 95 + 70 * i, 300], radius=10, fill=(235, 230, 210))
    return np.asarray(image)


@pytest.mark.parametrize(
    ("maker", "message"),
    [
        (lambda: _face_photo(), "colour photograph"),
        (lambda: _intraoral_photo(), "colour photograph"),
        (lambda: make_phantom(0, (128, 256))[0][::4, ::4], "thumbnail"),
        (lambda: np.full((200, 300), 80, dtype=np.uint8), "blank"),
    ],
)
def test_rejected_inputs(tmp_path: Path, tiny_teeth_weights: Path, maker, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        analyse_radiograph(_save(tmp_path / "bad.png", maker()), teeth_weights=tiny_teeth_weights)


def test_very_wide_image_is_processed_with_warnings(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    grey, _ = make_phantom(1, (100, 500))
    wide = np.asarray(Image.fromarray(grey).resize((20000, 100), Image.NEAREST))
    result = analyse_radiograph(_save(tmp_path / "wide.png", wide), teeth_weights=tiny_teeth_weights)
    assert result.teeth_map.shape == (100, 20000)
    text = " ".join(result.warnings)
    assert "Very large image" in text and "aspect ratio" in text


def _cli(args: list[str]):
    from apps.cli import app

    return CliRunner().invoke(app, args)


def test_cli_segment_json(tmp_path: Path, tiny_teeth_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_DATA_DIR", str(tmp_path / "data"))
    image = _save(tmp_path / "p.png", make_phantom(7, (128, 256))[0])
    result = _cli(["dental", "segment", str(image), "--out", str(tmp_path / "o"), "--weights",
                   str(tiny_teeth_weights), "--device", "cpu", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["draft"] is True and Path(document["files"]["teeth"]).is_file()


@pytest.mark.parametrize("content", [b"just some text", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"])
def test_cli_bad_files_exit_2(tmp_path: Path, tiny_teeth_weights: Path, content: bytes) -> None:
    """Non-image and corrupt PNG: BadInputError, which ``apps.cli.main`` turns into exit code 2."""
    path = tmp_path / "DOE_JANE_MRN12345678_pano.png"  # clinics name files after the patient
    path.write_bytes(content)
    result = _cli(["dental", "segment", str(path), "--weights", str(tiny_teeth_weights), "--device", "cpu"])
    assert isinstance(result.exception, BadInputError)
    message = str(result.exception)
    assert message.startswith(("The file is not a readable image", "The image is a corrupt"))
    assert "DOE" not in message and "12345678" not in message


def test_cli_train_caries_on_patches(tmp_path: Path, phantom_caries_dataset: Path) -> None:
    args = ["dental", "train", "caries", "--data", str(phantom_caries_dataset), "--out", str(tmp_path / "m"),
            "--minutes", "0.1", "--size", "128", "256", "--device", "cpu", "--json"]  # fmt: skip
    result = _cli([*args, "--patch", "64", "64"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert set(metrics["dice_pooled_per_class"]) == {"caries-1", "caries-2", "caries-3"}
    assert json.loads((tmp_path / "m" / "caries_unet.json").read_text())["patch_hw"] == [64, 64]
    result = _cli(args)  # the caries default patch, 256x256, is clamped to the training size
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "caries_unet.json").read_text())["patch_hw"] == [128, 256]
    result = _cli([*args, "--patch", "160", "64"])
    assert isinstance(result.exception, BadInputError) and "patch must be a multiple" in str(result.exception)


def test_cli_fine_tunes_the_shipped_teeth_model(tmp_path: Path, phantom_dataset: Path) -> None:
    from domains.dental.segment import PACKAGED_WEIGHTS

    result = _cli(["dental", "train", "teeth", "--data", str(phantom_dataset), "--out", str(tmp_path / "m"),
                   "--minutes", "0.1", "--size", "64", "128", "--lr", "1e-4", "--init", "shipped",
                   "--device", "cpu", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = json.loads((tmp_path / "m" / "teeth_unet.json").read_text())
    shipped = json.loads(PACKAGED_WEIGHTS.with_suffix(".json").read_text())
    assert spec["init"]["weights"] == PACKAGED_WEIGHTS.name and spec["channels"] == shipped["channels"]


def test_cli_index_of_an_empty_folder_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "empty").mkdir()
    result = _cli(["dental", "index", str(tmp_path / "empty")])
    assert isinstance(result.exception, BadInputError) and "holds no radiograph" in str(result.exception)


def test_cli_index_counts_files_it_did_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "cases"
    folder.mkdir()
    for seed in (1, 2):
        _save(folder / f"cate1-{seed:05d}.png", make_phantom(seed, (128, 256))[0])
    (folder / "notes.txt").write_text("not a radiograph")
    result = _cli(["dental", "index", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 2 and report["not_images"] == 1 and report["skipped"] == []


def test_missing_weights_message(tmp_path: Path) -> None:
    image = _save(tmp_path / "p.png", make_phantom(7, (128, 256))[0])
    with pytest.raises(BadInputError, match="genai dental train"):
        analyse_radiograph(image, teeth_weights=tmp_path / "none_unet.pt")


def test_mirror_averaging_gives_the_mirror_image_the_mirrored_teeth() -> None:
    """A mirrored radiograph gets the mirrored class map with the FDI quadrants swapped (1<->2, 4<->3). A seeded
    random-weight network predicts many classes and is far from mirror-consistent on its own (checked below)."""
    torch.manual_seed(0)
    spec = {"task": "teeth", "n_classes": 33, "channels": [4, 8, 16], "strides": [2, 2], "size_hw": [64, 128]}
    net = LoadedNetwork(build_network(spec).eval(), spec, "cpu", Path("random.pt"))
    unit = np.random.default_rng(0).random((64, 128), dtype=np.float32)  # at the network's size: no resize
    mirror = np.ascontiguousarray(unit[:, ::-1])

    indices, probability = predict_classes(net, unit)
    mirrored, mirrored_probability = predict_classes(net, mirror)
    assert len(np.unique(indices)) > 10
    assert (mirrored == TEETH_FLIP_PERMUTATION[indices[:, ::-1]]).mean() > 0.999
    np.testing.assert_allclose(mirrored_probability, probability[:, ::-1], atol=1e-5)

    plain, _ = predict_classes(net, unit, mirror_average=False)
    plain_mirrored, _ = predict_classes(net, mirror, mirror_average=False)
    assert (plain_mirrored == TEETH_FLIP_PERMUTATION[plain[:, ::-1]]).mean() < 0.5


def test_one_tooth_per_number_and_small_islands_dropped() -> None:
    indices = np.zeros((40, 60), dtype=np.uint8)
    indices[5:25, 5:15] = 1  # tooth 11, 200 px
    indices[30:32, 5:7] = 1  # a second island of 11: only the largest keeps the number
    indices[5:25, 20:30] = 2  # tooth 12, 200 px
    indices[5:25, 35:45] = 3  # tooth 13, 200 px
    indices[30:35, 50:55] = 4  # 25 px "tooth 14", an eighth of the median tooth: noise
    instances, found = tooth_instances(indices, np.full(indices.shape, 0.9, dtype=np.float32))
    assert [label for label, _ in found] == [1, 2, 3]
    assert instances[31, 6] == 0 and instances[32, 52] == 0
    assert all(abs(confidence - 0.9) < 1e-6 for _, confidence in found)


def _softmax_like(tooth_probability: np.ndarray, likeliest: np.ndarray, classes: int = 4) -> np.ndarray:
    """``(classes, h, w)`` probabilities: background ``1 - tooth_probability``, the rest on ``likeliest``."""
    probabilities = np.zeros((classes, *tooth_probability.shape), dtype=np.float32)
    probabilities[0] = 1.0 - tooth_probability
    np.put_along_axis(probabilities, likeliest[None].astype(np.int64), tooth_probability[None], axis=0)
    return probabilities


TWO_TEETH = np.array([0, 1, 2])  # instance id -> class index


def test_teeth_grow_into_the_tooth_probability_not_into_stray_blobs() -> None:
    """Background wins the argmax where two numbers split a tooth's probability; near each tooth the summed
    tooth probability decides instead, each gap pixel goes to the tooth whose number is likeliest there, and a
    blob with no kept tooth stays background."""
    instances = np.zeros((20, 30), dtype=np.int32)
    instances[4:16, 3:9] = 1
    instances[4:16, 11:17] = 2  # columns 9-10: argmax said background, summed tooth probability says tooth
    tooth_probability = np.zeros(instances.shape, dtype=np.float32)
    tooth_probability[4:16, 3:17] = 0.9
    tooth_probability[4:16, 22:28] = 0.9  # a region holding no kept tooth (a spurious blob)
    likeliest = np.full(instances.shape, 3)
    likeliest[:, :10], likeliest[:, 10:17] = 1, 2
    grown = grow_into_teeth(instances, TWO_TEETH, _softmax_like(tooth_probability, likeliest), instances.shape)
    assert (grown[4:16, 9] == 1).all() and (grown[4:16, 10] == 2).all()
    assert not grown[:, 20:].any() and not grown[:4].any()
    assert (grown[instances > 0] == instances[instances > 0]).all()


@pytest.mark.parametrize("missed_tooth_looks_like", [3, 1])
def test_a_tooth_the_network_did_not_number_stays_unnumbered_and_no_tooth_is_in_pieces(
    missed_tooth_looks_like: int,
) -> None:
    """A restored crown the network missed is not shared out among its neighbours: they never take a pixel
    where another number is likelier, grow at most ``MAX_GROWTH_PX`` even where their own number is, and
    tooth probability near a tooth but not joined to it stays background."""
    instances = np.zeros((24, 32), dtype=np.int32)
    instances[4:16, 3:9] = 1
    instances[4:16, 22:28] = 2
    tooth_probability = np.zeros(instances.shape, dtype=np.float32)
    tooth_probability[4:16, 3:28] = 0.9  # columns 9-21: a tooth with no number of its own
    tooth_probability[18:20, 3:9] = 0.9  # a sliver under tooth 1, two rows of background between
    likeliest = np.full(instances.shape, missed_tooth_looks_like)
    likeliest[:, :9], likeliest[:, 22:] = 1, 2
    grown = grow_into_teeth(instances, TWO_TEETH, _softmax_like(tooth_probability, likeliest), instances.shape)
    reach = MAX_GROWTH_PX if missed_tooth_looks_like == 1 else 0
    assert (grown[4:16, 9 : 9 + reach] == 1).all() and not grown[4:16, 9 + reach : 22].any()
    assert not grown[18:20].any()
    for number in (1, 2):
        assert ndimage.label(grown == number)[1] == 1


def test_grown_teeth_at_a_larger_input_size_have_smooth_outlines() -> None:
    """On an upload larger than the network grid, outlines come from the bilinear tooth probability, not
    blocks of the grid's nearest pixels; with no tooth found the map is empty."""
    instances = np.zeros((16, 16), dtype=np.int32)
    yy, xx = np.mgrid[:16, :16]
    disc = (yy - 7.5) ** 2 + (xx - 7.5) ** 2 < 36
    instances[disc] = 1
    probabilities = _softmax_like(disc.astype(np.float32), np.ones(disc.shape, dtype=np.int64))
    grown = grow_into_teeth(instances, TWO_TEETH, probabilities, (64, 64))
    assert grown.shape == (64, 64) and set(np.unique(grown).tolist()) == {0, 1}
    blocky = np.kron(disc, np.ones((4, 4), dtype=bool))
    truth = ((np.mgrid[:64, :64] - 31.5) ** 2).sum(0) < (6 * 4) ** 2
    assert ((grown > 0) != truth).sum() < (blocky != truth).sum()
    assert not grow_into_teeth(np.zeros((16, 16), np.int32), TWO_TEETH, probabilities, (64, 64)).any()


def test_caries_model_gives_a_map_at_the_input_size(
    tmp_path: Path, tiny_teeth_weights: Path, tiny_caries_weights: Path
) -> None:
    grey, _ = make_phantom(7, (150, 333))  # not a multiple of the patch: the sliding window pads
    result = analyse_radiograph(
        _save(tmp_path / "p.png", grey), teeth_weights=tiny_teeth_weights, caries_weights=tiny_caries_weights
    )
    assert result.caries_map is not None and result.caries_map.shape == (150, 333)
    assert set(np.unique(result.caries_map).tolist()) <= {0, 1, 2, 3}
    document = result.to_json()
    assert document["model"]["caries_weights"] == "caries_unet.pt"
    for region in document["caries"]:
        assert region["class"] in {"caries-1", "caries-2", "caries-3"} and region["area_px"] > 0


def test_outputs_never_carry_the_file_name(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    """teeth.json identifies the upload by content hash: clinics name files after patients."""
    from data_connectors.images import content_id

    image = _save(tmp_path / "Doe_Jane_DOB1984-03-02.png", make_phantom(3, (128, 256))[0])
    files = write_outputs(analyse_radiograph(image, teeth_weights=tiny_teeth_weights), tmp_path / "out")
    text = Path(files["json"]).read_text()
    assert "Doe" not in text and "1984" not in text
    assert json.loads(text)["input"] == {"sha256_12": content_id(image), "format": "PNG", "bit_depth": 8}


def test_grey_non_panoramic_gets_a_warning(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    """A grey photograph-like image (no left-right symmetry) is analysed with a warning; a phantom is not."""
    scene = np.tile(np.linspace(20, 230, 320, dtype=np.float32), (200, 1))
    scene[40:160, 200:300] = 40  # a dark object on one side only
    noisy = np.clip(scene + np.random.default_rng(0).normal(0, 5, scene.shape), 0, 255).astype(np.uint8)
    result = analyse_radiograph(_save(tmp_path / "grey.png", noisy), teeth_weights=tiny_teeth_weights)
    assert any("not left-right symmetric" in w for w in result.warnings)
    assert result.quality["mirror_symmetry"] < 0.3
    phantom = analyse_radiograph(
        _save(tmp_path / "p.png", make_phantom(2)[0]), teeth_weights=tiny_teeth_weights
    )
    assert not any("symmetric" in w for w in phantom.warnings)


def test_caries_regions_match_the_caries_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """Boxes and areas come from the input-size map the user gets as caries.png, not network-size estimates."""
    from scipy import ndimage

    import domains.dental.segment as segment

    indices = np.zeros((512, 512), dtype=np.uint8)
    indices[100:103, 200:203] = 1
    indices[300:310, 50:57] = 3
    probability = np.full(indices.shape, 0.9, dtype=np.float32)
    monkeypatch.setattr(
        segment, "predict_classes", lambda net, unit, mirror_average=True: (indices, probability)
    )
    spec = {"n_classes": 4}
    net = LoadedNetwork(None, spec, "cpu", Path("caries_unet.pt"))
    grey = np.random.default_rng(0).random((411, 937), dtype=np.float32)
    caries_map, regions = segment.segment_caries(net, grey)
    assert caries_map.shape == (411, 937) and len(regions) == 2
    for region in regions:
        mask = ndimage.label(caries_map == segment.CARIES_NAMES.index(region["class"]))[0] > 0
        rows, cols = np.nonzero(mask)
        assert region["box_xyxy"] == [cols.min(), rows.min(), cols.max(), rows.max()]
        assert region["area_px"] == mask.sum() and region["confidence"] == pytest.approx(0.9)


def test_out_that_is_a_file_is_one_sentence(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    (tmp_path / "afile").write_text("x")
    image = _save(tmp_path / "p.png", make_phantom(7, (128, 256))[0])
    result = _cli(["dental", "segment", str(image), "--out", str(tmp_path / "afile"), "--weights",
                   str(tiny_teeth_weights), "--device", "cpu"])  # fmt: skip
    assert isinstance(result.exception, BadInputError) and "is a file" in str(result.exception)


def _arch(upright: bool) -> list:
    """Tooth boxes along a smiling (upright) or frowning (upside-down) pair of arches on a 1000x2000 image."""
    from domains.dental.segment import Tooth

    teeth = []
    for index, x in enumerate(np.linspace(200, 1800, 8)):
        lift = 150 * ((x - 1000) / 800) ** 2 * (1 if upright else -1)  # molars higher when upright
        for quadrant, centre in ((1 if x < 1000 else 2, 420), (4 if x < 1000 else 3, 580)):
            y = centre - lift
            teeth.append(
                Tooth(
                    quadrant * 10 + 1 + index % 8,
                    (int(x) - 40, int(y) - 60, int(x) + 40, int(y) + 60),
                    1,
                    0.9,
                )
            )
    return teeth


def test_an_upside_down_radiograph_and_too_few_teeth_are_flagged() -> None:
    from domains.dental.quality import looks_upside_down, segmentation_warnings

    shape = (1000, 2000)
    smile, frown = _arch(upright=True), _arch(upright=False)
    assert not looks_upside_down(smile, None, shape) and looks_upside_down(frown, None, shape)
    for tooth in smile:
        tooth.confidence = 0.95
    assert looks_upside_down(frown, smile, shape)  # turned over, it smiles and its teeth are surer
    for tooth in smile:
        tooth.confidence = 0.5  # turned over, the teeth are found less surely: a lopsided upright film
    assert not looks_upside_down(frown, smile, shape)
    assert segmentation_warnings(smile, shape, upside_down=False) == []
    assert any("upside down" in w for w in segmentation_warnings(frown, shape, upside_down=True))
    assert any("Only 3 teeth" in w for w in segmentation_warnings(smile[:3], shape, upside_down=False))


def test_a_crop_of_one_jaw_is_not_called_upside_down() -> None:
    """An upper-jaw crop's single row can frown with the crop; the review's turned-over crop then came back
    numbered 31-48. Both arches are needed to judge."""
    from domains.dental.quality import looks_upside_down

    frowning_upper = [tooth for tooth in _arch(upright=False) if tooth.fdi // 10 in (1, 2)]
    assert not looks_upside_down(frowning_upper, None, (1000, 2000))


def test_the_draft_notice_is_never_cut_off_on_a_small_image(tmp_path: Path, tiny_teeth_weights: Path) -> None:
    from domains.dental.render import _font

    image = _save(tmp_path / "small.png", make_phantom(1, (64, 64))[0])
    files = write_outputs(analyse_radiograph(image, teeth_weights=tiny_teeth_weights), tmp_path / "out")
    with Image.open(files["overlay"]) as overlay:
        assert overlay.width >= _font(10).getlength(DRAFT_NOTICE)
