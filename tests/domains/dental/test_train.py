"""Training pieces on CPU: GPU-style augmentation keeps FDI labels consistent, the seeded split,
lesion-centred crops, and seconds-long training runs on phantoms that write weights, spec and held-out
metrics."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from domains.dental.labels import TEETH_FLIP_PERMUTATION, fdi_to_index, index_to_fdi
from domains.dental.phantom import make_phantom
from domains.dental.train import augment, dataset_names, foreground_points, sample_crops, split_names, train


def test_flip_augmentation_swaps_quadrants() -> None:
    grey, labels = make_phantom(3, (64, 128), missing=0)
    images = torch.from_numpy(grey)[None, None].repeat(16, 1, 1, 1)
    indices = torch.from_numpy(fdi_to_index(labels))[None].repeat(16, 1, 1)
    torch.manual_seed(0)
    x, out = augment(images, indices, torch.as_tensor(TEETH_FLIP_PERMUTATION), strength=0.0)
    flipped = [not torch.allclose(xi[0], images[0, 0].float() / 255, atol=1e-3) for xi in x]
    assert 0 < sum(flipped) < 16
    for labels_out in out:  # the image's left is the patient's right (quadrants 1, 4), flipped or not
        left = set(np.unique(index_to_fdi(labels_out[:, :64].numpy())).tolist()) - {0}
        assert {fdi // 10 for fdi in left} == {1, 4}


def test_augment_ranges() -> None:
    images = torch.randint(0, 256, (4, 1, 32, 64), dtype=torch.uint8)
    labels = torch.randint(0, 33, (4, 32, 64), dtype=torch.uint8)
    x, y = augment(images, labels, torch.as_tensor(TEETH_FLIP_PERMUTATION))
    assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    assert y.dtype == torch.long and set(y.unique().tolist()) <= set(range(33))


def test_split_is_seeded_and_stratified(phantom_dataset: Path) -> None:
    names = dataset_names("teeth", phantom_dataset)
    train, held = split_names(names, 0.2, seed=0)
    assert split_names(names, 0.2, seed=0) == (train, held)
    assert not set(train) & set(held) and len(train) + len(held) == len(names)
    assert {name.split("-")[0] for name in held} == {"cate1", "cate2"}


def test_augmented_copies_of_one_radiograph_stay_on_one_side_of_the_split() -> None:
    """Roboflow's "3x" export saves each radiograph three times as ``<name>_png.rf.<hash>``."""
    names = [f"{i:04d}_png.rf.{copy}{i:04x}" for i in range(20) for copy in "abc"]
    train, held = split_names(names, 0.2, seed=0)
    sources = lambda part: {name.split(".rf.")[0] for name in part}  # noqa: E731
    assert held and not sources(train) & sources(held) and len(train) + len(held) == len(names)


def test_split_of_per_patient_names_and_too_few_names() -> None:
    """``P001-pano`` prefixes are patients, not categories: one group, so a held-out split exists."""
    from data_connectors.errors import BadInputError

    names = [f"P{i:03d}-pano" for i in range(20)]
    train_names, held = split_names(names, 0.3, seed=0)
    assert len(held) == 6 and len(train_names) == 14
    assert (
        len(split_names([f"caries-{i}" for i in range(9)] + [f"sound-{i}" for i in range(9)], 0.3, 0)[1]) == 6
    )
    with pytest.raises(BadInputError, match="cannot be split"):
        split_names(["a", "b"], 0.3, seed=0)


def test_tiny_training_run_writes_files(tiny_teeth_weights: Path) -> None:
    spec = json.loads(tiny_teeth_weights.with_suffix(".json").read_text())
    metrics = spec["metrics"]
    assert spec["n_classes"] == 33 and spec["size_hw"] == [64, 128]
    assert 0 <= metrics["dice_foreground"] <= 1 and 0 <= metrics["numbering_accuracy"] <= 1
    assert metrics["steps"] >= 1 and not set(spec["train_names"]) & set(spec["held_out_names"])
    state = torch.load(tiny_teeth_weights, weights_only=True)
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_crops_are_mostly_centred_on_lesions() -> None:
    labels = np.zeros((3, 64, 128), dtype=np.uint8)
    labels[:2, 40:44, 100:104] = 2  # a 4x4 lesion; the third image has none
    images = torch.arange(3, dtype=torch.uint8)[:, None, None, None].expand(3, 1, 64, 128).contiguous()
    x, y = sample_crops(
        images,
        torch.from_numpy(labels),
        foreground_points(labels),
        [0, 1, 2] * 100,
        (32, 32),
        random.Random(0),
    )
    assert x.shape == (300, 1, 32, 32) and y.shape == (300, 32, 32)
    assert torch.equal(x[:, 0, 0, 0], torch.tensor([0, 1, 2] * 100, dtype=torch.uint8))  # crops stay paired
    with_lesion = (y.flatten(1) > 0).any(1).reshape(100, 3).float().mean(0)
    # two thirds centred on the lesion + a fifth of the random third would hit it; never in the empty image
    assert 0.65 < with_lesion[:2].mean() < 0.9 and with_lesion[2] == 0


def test_tiny_caries_run_slides_its_patch(tiny_caries_weights: Path) -> None:
    spec = json.loads(tiny_caries_weights.with_suffix(".json").read_text())
    assert spec["patch_hw"] == [64, 64] and spec["size_hw"] == [128, 256] and spec["n_classes"] == 4
    assert set(spec["metrics"]["dice_pooled_per_class"]) == {"caries-1", "caries-2", "caries-3"}


def test_patch_must_fit_the_image(phantom_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="patch must be a multiple of 4 and fit in size"):
        train("teeth", phantom_dataset, tmp_path, minutes=0.01, device="cpu", size=(64, 128), patch=(96, 64),
              channels=(4, 8, 16), progress=lambda message: None)  # fmt: skip


def test_fine_tuning_starts_from_the_given_weights(
    phantom_dataset: Path, tiny_teeth_weights: Path, tmp_path: Path
) -> None:
    """``init`` takes the network from the weights' spec (no --channels given) and their values: at lr 0 the
    convolution weights come out as they went in. Another seed draws another split, so some held-out images
    were trained on by the start weights: said, and counted in the spec."""
    import time

    names = dataset_names("teeth", phantom_dataset)
    first_held_out = json.loads(tiny_teeth_weights.with_suffix(".json").read_text())["held_out_names"]
    seed = next(seed for seed in range(1, 20) if split_names(names, 0.15, seed)[1] != first_held_out)
    messages: list[str] = []
    train("teeth", phantom_dataset, tmp_path, minutes=0.05, device="cpu", size=(64, 128), batch=4, lr=0.0,
          seed=seed, init=tiny_teeth_weights, eval_reserve_s=1.0, started=time.monotonic(),
          progress=messages.append)  # fmt: skip
    spec = json.loads((tmp_path / "teeth_unet.json").read_text())
    assert spec["channels"] == [4, 8, 16] and spec["init"]["weights"] == tiny_teeth_weights.name
    assert spec["init"]["held_out_images_it_trained_on"] > 0
    assert any("held-out scores will be optimistic" in message for message in messages)
    before = torch.load(tiny_teeth_weights, weights_only=True)
    after = torch.load(tmp_path / "teeth_unet.pt", weights_only=True)
    convolutions = [key for key in before if key.endswith("conv.weight")]
    assert convolutions and all(torch.equal(before[key], after[key]) for key in convolutions)


def test_fine_tuning_refuses_weights_of_another_task_or_network(
    phantom_caries_dataset: Path, phantom_dataset: Path, tiny_teeth_weights: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="is a 'teeth' model, not 'caries'"):
        train("caries", phantom_caries_dataset, tmp_path, minutes=0.01, device="cpu", size=(128, 256),
              init=tiny_teeth_weights, progress=lambda message: None)  # fmt: skip
    with pytest.raises(ValueError, match="leave --channels and --res-units out"):
        train("teeth", phantom_dataset, tmp_path, minutes=0.01, device="cpu", size=(64, 128),
              channels=(8, 16, 32), init=tiny_teeth_weights, progress=lambda message: None)  # fmt: skip
    with pytest.raises(ValueError, match=r"needs none_unet\.pt and none_unet\.json"):
        train("teeth", phantom_dataset, tmp_path, minutes=0.01, device="cpu", init=tmp_path / "none_unet.pt",
              progress=lambda message: None)  # fmt: skip
