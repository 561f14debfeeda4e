"""The one trainer: files in the run folder, CPU determinism, exact resume, LR schedules, early stopping."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch
from torch.utils.data import TensorDataset

from data_connectors.errors import BadInputError
from genai_models.trainer import TrainConfig, Trainer, _make_scheduler, load_run, seed_everything
from genai_models.zoo import build_model

MODEL = {"image_size": 16, "depth": 2, "base_channels": 8, "latent_dim": 8}


def _fit(tmp_path, tiny_images, *, name="dcgan", epochs=2, resume=False, **config):
    seed_everything(0)
    model = build_model(name, **MODEL)
    images, labels = tiny_images
    options = dict(epochs=epochs, batch_size=16, device="cpu", show_progress=False, log_every=1, patience=0,
                   preview_count=8) | config
    trainer = Trainer(model, config=TrainConfig(**options), out_dir=tmp_path, run_info={"data": {"source": "blobs"}})
    return trainer.fit(TensorDataset(images[:48], labels[:48]), TensorDataset(images[48:], labels[48:]),
                       resume=resume)


def _losses(run_dir) -> list[tuple[str, str, str]]:
    with (run_dir / "metrics.csv").open() as handle:
        return [(r["step"], r["name"], r["value"]) for r in csv.DictReader(handle) if r["split"] == "train"]


def test_run_folder_has_every_artifact(tmp_path, tiny_images):
    result = _fit(tmp_path, tiny_images, lr_schedule="cyclic")
    assert result.epochs_completed == 2 and result.steps == 6 and result.images_per_second > 0
    for name in ("run.json", "checkpoint.pt", "best_model.pt", "metrics.csv", "samples.png",
                 "samples_epoch002.png", "loss_curves.png"):
        assert (tmp_path / name).is_file(), name
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["model"] == "dcgan" and info["data"]["source"] == "blobs" and info["result"]["steps"] == 6
    names = {name for _, name, _ in _losses(tmp_path)}
    assert names == {"d_loss", "g_loss"}  # two optimizers, both logged
    model, _ = load_run(tmp_path)
    assert model.sample(2).shape == (2, 1, 16, 16)


def test_cpu_runs_are_deterministic(tmp_path, tiny_images):
    _fit(tmp_path / "a", tiny_images, name="vae")
    _fit(tmp_path / "b", tiny_images, name="vae")
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")


@pytest.mark.parametrize("name", ["wgan-gp", "vae"])
def test_resume_continues_exactly(tmp_path, tiny_images, name):
    _fit(tmp_path / "full", tiny_images, name=name, epochs=3, lr_schedule="cyclic", cycle_epochs=1.0)
    _fit(tmp_path / "split", tiny_images, name=name, epochs=1, lr_schedule="cyclic", cycle_epochs=1.0)
    _fit(tmp_path / "split", tiny_images, name=name, epochs=3, lr_schedule="cyclic", cycle_epochs=1.0, resume=True)
    assert _losses(tmp_path / "full") == _losses(tmp_path / "split")


@pytest.mark.parametrize("name", ["wgan-gp", "vae"])
def test_resume_after_a_budget_cut_an_epoch_short_finishes_that_epoch(tmp_path, tiny_images, name):
    _fit(tmp_path / "full", tiny_images, name=name, epochs=3, lr_schedule="cyclic", cycle_epochs=1.0)
    cut = _fit(tmp_path / "split", tiny_images, name=name, epochs=3, lr_schedule="cyclic", cycle_epochs=1.0,
               max_steps=4)  # 3 steps per epoch: stops after the first batch of epoch 2
    assert (cut.steps, cut.epochs_completed) == (4, 1) and cut.history[-1]["partial_batches"] == 1
    resumed = _fit(tmp_path / "split", tiny_images, name=name, epochs=3, lr_schedule="cyclic", cycle_epochs=1.0,
                   resume=True)
    assert (resumed.steps, resumed.epochs_completed) == (9, 3)
    assert _losses(tmp_path / "full") == _losses(tmp_path / "split")
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]  # the cut epoch's early validation is gone
    with (tmp_path / "split" / "metrics.csv").open() as handle:
        val_rows = [(r["epoch"], r["name"]) for r in csv.DictReader(handle) if r["split"] == "val"]
    assert {epoch for epoch, _ in val_rows} == {"0", "1", "2"} and len(val_rows) == len(set(val_rows))


def test_resume_without_checkpoint_is_bad_input(tmp_path, tiny_images):
    with pytest.raises(BadInputError, match="checkpoint"):
        _fit(tmp_path, tiny_images, resume=True)


def test_resume_with_another_model_is_bad_input(tmp_path, tiny_images):
    _fit(tmp_path, tiny_images, name="dcgan", epochs=1)
    with pytest.raises(BadInputError, match="belongs to another model or other options"):
        _fit(tmp_path, tiny_images, name="vae", epochs=2, resume=True)


def test_a_onecycle_run_cannot_be_resumed_longer(tmp_path, tiny_images):
    _fit(tmp_path, tiny_images, name="vae", epochs=1, lr_schedule="onecycle")
    with pytest.raises(BadInputError, match="Cannot resume a onecycle run with another length"):
        _fit(tmp_path, tiny_images, name="vae", epochs=3, lr_schedule="onecycle", resume=True)


def test_early_stopping_and_budgets(tmp_path, tiny_images):
    result = _fit(tmp_path / "es", tiny_images, name="autoencoder", epochs=50, lr=1e-9, patience=1, min_delta=1.0)
    assert result.epochs_completed == 2 and "early stopping" in result.stopped_reason
    result = _fit(tmp_path / "steps", tiny_images, name="autoencoder", epochs=50, max_steps=4)
    assert result.steps == 4 and "step budget" in result.stopped_reason


def test_cyclic_schedule_never_yields_non_finite_lr():
    for steps_per_epoch in (1, 2, 3, 1000):  # an epoch shorter than a cycle: the book divided by zero here
        for schedule in ("cyclic", "onecycle"):
            optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
            config = TrainConfig(lr=1e-3, lr_schedule=schedule, cycle_epochs=0.1)
            scheduler = _make_scheduler(optimizer, config, steps_per_epoch, total_steps=5 * steps_per_epoch)
            for _ in range(5 * steps_per_epoch - 1):
                optimizer.step()
                scheduler.step()
                lr = optimizer.param_groups[0]["lr"]
                assert math.isfinite(lr) and 0 < lr <= 1e-3


def test_train_config_rejects_bad_values():
    with pytest.raises(BadInputError, match="lr_schedule"):
        TrainConfig(lr_schedule="cosine")
    with pytest.raises(BadInputError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(BadInputError, match="lr"):
        TrainConfig(lr=float("nan"))


def test_loss_curves_show_a_short_runs_training_points(tmp_path):
    """A run shorter than log_every steps logs only per-epoch train_* rows: they get their own panel now."""
    from PIL import Image

    from genai_models.trainer import METRIC_FIELDS, _write_loss_curves

    with (tmp_path / "metrics.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRIC_FIELDS)
        writer.writeheader()
        writer.writerows([dict(step=3, epoch=0, split="epoch", name="train_loss", value=1.0),
                          dict(step=3, epoch=0, split="epoch", name="images_per_second", value=50.0),
                          dict(step=3, epoch=0, split="val", name="val_loss", value=0.9)])
    _write_loss_curves(tmp_path / "metrics.csv", tmp_path / "loss_curves.png")
    assert Image.open(tmp_path / "loss_curves.png").width == 2 * 4 * 90  # train: loss and val: val_loss panels
