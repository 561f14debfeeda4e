"""Run folders end to end: train on digits (scikit-learn's bundled set) for a few steps, list and resolve runs
without escaping the runs folder, sample (per class), interpolate, evaluate. Evaluation here uses a pixel
"feature extractor" so it stays fast; the CLI test runs the real EfficientNet-Lite0."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from data_connectors.errors import BadInputError
from genai_models.data import ImageData
from genai_models.runs import (
    _seeded_subset,
    _to_run_classes,
    evaluate_run,
    interpolate,
    interpolate_run,
    list_runs,
    resolve_run,
    run_summary,
    sample_images,
    samples_per_class,
    train_run,
)
from genai_models.trainer import TrainConfig, load_run
from genai_models.zoo import build_model

TINY = {"depth": 2, "base_channels": 8, "latent_dim": 4}
CONFIG = TrainConfig(epochs=1, batch_size=32, max_steps=3, device="cpu", show_progress=False, preview_count=8)


def pixels(images: torch.Tensor):
    return images.flatten(1).double().numpy()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, extra in [("vae", {"classes": [0, 1, 2, 3, 4]}), ("conditional-gan", {}), ("autoencoder", {})]:
        train_run(name, "digits", root / "exp" / name, config=CONFIG, image_size=16, limit=300,
                  model_options=TINY, **extra)
    return root


def test_train_run_writes_the_run_folder_and_records_the_split(runs):
    info = json.loads((runs / "exp" / "vae" / "run.json").read_text())
    assert info["model"] == "vae" and info["data"]["spec"] == "digits"
    assert info["data"]["trained_classes"] == [0, 1, 2, 3, 4] and info["data"]["held_out_count"] == 30
    assert info["model_config"]["image_size"] == 16
    for name in ("best_model.pt", "checkpoint.pt", "metrics.csv", "samples.png", "loss_curves.png"):
        assert (runs / "exp" / "vae" / name).is_file()
    assert json.loads((runs / "exp" / "conditional-gan" / "run.json").read_text())["model_config"][
        "num_classes"] == 10


def test_bad_model_options_are_one_sentence(tmp_path):
    """Too few classes for the data (an embedding lookup would fail mid-training), and a constructor's own
    check on an option's value."""
    with pytest.raises(BadInputError, match="10 classes but the model was built for num_classes=5"):
        train_run("conditional-gan", "digits", tmp_path / "a", config=CONFIG, image_size=16, limit=100,
                  model_options={**TINY, "num_classes": 5})  # fmt: skip
    with pytest.raises(BadInputError, match="Model 'conditional-gan': num_classes must be an int >= 2"):
        train_run("conditional-gan", "digits", tmp_path / "b", config=CONFIG, image_size=16, limit=100,
                  model_options={**TINY, "num_classes": 1})  # fmt: skip


def test_list_and_resolve_stay_inside_the_runs_folder(runs, tmp_path):
    assert list_runs(runs) == ["exp/autoencoder", "exp/conditional-gan", "exp/vae"]
    assert resolve_run(runs, "exp/vae") == (runs / "exp" / "vae").resolve()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "run.json").write_text("{}")
    os.symlink(outside, runs / "link")
    for name in ["../" * 6 + "etc", str(outside), "link", "", "exp/missing"]:
        with pytest.raises(BadInputError) as refused:
            resolve_run(runs, name)
        assert str(runs) not in str(refused.value).replace(repr(name), "")  # only what the user typed
    assert list_runs(tmp_path / "nothing") == []


def test_summary_says_what_the_hub_can_do(runs):
    summary = run_summary(runs / "exp" / "conditional-gan")
    assert summary["conditional"] and not summary["has_latent"] and len(summary["class_names"]) == 10
    assert summary["loss_curves"].endswith("loss_curves.png")
    assert run_summary(runs / "exp" / "vae")["has_latent"]


def test_sampling_rules():
    vae, gan = build_model("vae", image_size=16, **TINY), build_model("conditional-gan", image_size=16, num_classes=3,
                                                                       depth=2, base_channels=8)
    first = sample_images(vae.eval(), 5, seed=3)
    assert first.shape == (5, 1, 16, 16) and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, sample_images(vae, 5, seed=3))  # reproducible for a seed
    assert samples_per_class(gan.eval(), 2).shape == (6, 1, 16, 16)
    assert sample_images(gan, 4, class_index=2).shape == (4, 1, 16, 16)
    with pytest.raises(BadInputError, match="unconditional"):
        sample_images(vae, 4, class_index=1)
    with pytest.raises(BadInputError, match="out of range"):
        sample_images(gan, 4, class_index=3)
    with pytest.raises(BadInputError, match=r"labels must lie in 0\.\.2"):
        sample_images(gan, 4, labels=torch.tensor([0, 1, 2, 3]))
    with pytest.raises(BadInputError, match="autoencoder"):
        sample_images(build_model("autoencoder", image_size=16, **TINY), 4)


def test_interpolation_runs_between_the_two_reconstructions(runs):
    model, _ = load_run(runs / "exp" / "vae")
    images = torch.rand(2, 1, 16, 16)
    strip = interpolate(model, images[0], images[1], steps=5)
    assert strip.shape == (5, 1, 16, 16)
    assert torch.allclose(strip[0], model.reconstruct(images[:1])[0], atol=1e-5)
    assert torch.allclose(strip[-1], model.reconstruct(images[1:])[0], atol=1e-5)
    assert interpolate_run(runs / "exp" / "vae", 0, 3, steps=4).shape == (4, 1, 16, 16)
    with pytest.raises(BadInputError, match="out of range"):
        interpolate_run(runs / "exp" / "vae", 0, 10_000)
    gan, _ = load_run(runs / "exp" / "conditional-gan")
    with pytest.raises(BadInputError, match="no encoder"):
        interpolate(gan, images[0], images[1])


def test_evaluation_picks_the_metrics_of_the_model_kind(runs):
    vae = evaluate_run(runs / "exp" / "vae", count=20, extractor=pixels)  # 13 of 30 held out are 0-4
    assert {"FID-EffNetLite0", "precision", "recon_mse", "ssim", "psnr", "anomaly_auroc"} <= set(vae["metrics"])
    assert vae["eval_images"] == 13 and any("NOT comparable" in note for note in vae["notes"])
    gan = evaluate_run(runs / "exp" / "conditional-gan", count=20, extractor=pixels)
    assert "FID-EffNetLite0" in gan["metrics"] and "recon_mse" not in gan["metrics"]
    assert any("FID from 20 images per side" in note for note in gan["notes"])
    ae = evaluate_run(runs / "exp" / "autoencoder", count=20, anomalies_spec="digits")
    assert "FID-EffNetLite0" not in ae["metrics"] and 0 <= ae["metrics"]["anomaly_auroc"] <= 1


def _folder(root, classes: list[str], per_class: int = 4):
    """Tiny class-per-subfolder PNG data written here (flat grey squares)."""
    for value, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            Image.fromarray(np.full((8, 8), 40 * value + index, np.uint8)).save(root / name / f"{index}.png")
    return str(root)


def test_conditional_evaluation_maps_classes_by_name_and_refuses_unknown_ones(runs, tmp_path):
    info = {"data": {"classes": [str(k) for k in range(10)], "trained_classes": None}}
    data = ImageData(torch.zeros(3, 1, 4, 4), torch.tensor([0, 1, 1]), ["3", "7"], "folder")
    assert _to_run_classes(data, info).labels.tolist() == [3, 7, 7]  # folder index 0 is the run's class 3
    with pytest.raises(BadInputError, match=r"classes \['3'\] that"):
        _to_run_classes(data, {"data": {"classes": info["data"]["classes"], "trained_classes": [7]}})
    with pytest.raises(BadInputError, match=r"classes \['cat'\] that this conditional run did not train on"):
        evaluate_run(runs / "exp" / "conditional-gan", data_spec=_folder(tmp_path / "d", ["1", "3", "cat"]),
                     count=20, extractor=pixels)


def test_evaluation_subsets_are_seeded_draws_across_sorted_classes():
    sorted_by_class = ImageData(torch.zeros(100, 1, 4, 4), torch.arange(100) // 50, ["a", "b"], "folder")
    picked = _seeded_subset(sorted_by_class, 20)
    assert len(picked) == 20 and set(picked.labels.tolist()) == {0, 1}


# ---------------------------------------------------------------- reviewer regressions (2026-11-27)

STEPS = TrainConfig(epochs=1, batch_size=32, max_steps=1, device="cpu", show_progress=False, preview_count=4)


def _train(out, model="vae", **extra):
    return train_run(model, extra.pop("data", "digits"), out, config=extra.pop("config", STEPS), image_size=16,
                     limit=extra.pop("limit", 80), model_options=extra.pop("model_options", TINY), **extra)


def test_resume_refuses_another_setup_and_accepts_the_same_one(tmp_path):
    from dataclasses import replace

    _train(tmp_path / "run")
    for change, words in [({"data": _folder(tmp_path / "d", ["a", "b"], per_class=6)}, "--data 'digits'"),
                          ({"config": replace(STEPS, seed=5)}, "--seed 0 (now 5)"),
                          ({"config": replace(STEPS, batch_size=8)}, "--batch-size 32 (now 8)"),
                          ({"limit": 90}, "--limit 80 (now 90)"), ({"classes": [1, 2]}, "--classes None"),
                          ({"model_options": {**TINY, "beta": 2.0}}, "-o beta=1.0 (now 2.0)")]:
        with pytest.raises(BadInputError, match="Cannot resume") as refused:
            _train(tmp_path / "run", resume=True, **change)
        assert words in str(refused.value) and "another --out" in str(refused.value)
    resumed = _train(tmp_path / "run", resume=True, config=replace(STEPS, epochs=2, max_steps=2))
    assert resumed["result"]["steps"] == 2  # only the budget changed


def test_an_existing_run_folder_needs_resume_or_overwrite(tmp_path):
    run = tmp_path / "run"
    _train(run)
    (run / "samples_epoch009.png").write_bytes(b"old run")
    (run / "notes.txt").write_text("the user's own file")
    with pytest.raises(BadInputError, match="already holds a training run; pass --resume"):
        _train(run)
    with pytest.raises(BadInputError, match="only one of them"):
        _train(run, resume=True, overwrite=True)
    _train(run, overwrite=True)
    assert not (run / "samples_epoch009.png").exists() and (run / "notes.txt").exists()
    assert (run / "run.json").is_file() and (run / "samples_epoch001.png").is_file()


def test_out_inside_the_data_folder_is_refused(tmp_path):
    data = _folder(tmp_path / "images", ["a", "b"], per_class=6)
    with pytest.raises(BadInputError, match="inside the --data folder"):
        _train(tmp_path / "images" / "run", data=data)


def test_model_options_follow_the_constructor_types():
    from genai_models.runs import coerce_model_options

    def gan(**options):
        return coerce_model_options("conditional-gan", options)

    for text, value in [("False", False), ("false", False), ("no", False), ("0", False), ("True", True),
                        ("yes", True), ("1", True)]:
        assert gan(diff_augment=text) == {"diff_augment": value}
    assert gan(betas="[0, 0.9]", n_dis="2", latent_dim=8) == {"betas": (0.0, 0.9), "n_dis": 2, "latent_dim": 8}
    assert coerce_model_options("vae", {"beta": "4", "kl_schedule": "cyclical"}) == {"beta": 4.0,
                                                                                    "kl_schedule": "cyclical"}
    for options, words in [({"diff_augment": "maybe"}, "wants true or false"), ({"betas": "[0]"}, "list of 2"),
                           ({"n_dis": "1.5"}, "an integer"), ({"diff_augment": 1}, "true or false"),
                           ({"image_size": "64"}, "pass --image-size"), ({"channels": 3}, "pass --channels"),
                           ({"colour": "red"}, "has no option 'colour'")]:
        with pytest.raises(BadInputError, match=words):
            gan(**options)
    with pytest.raises(BadInputError, match="diff_augment must be True or False"):
        build_model("conditional-gan", diff_augment="False")  # library callers get the constructor's check


def test_conditional_classes_the_run_did_not_train_on_are_refused(tmp_path):
    info = {"data": {"classes": [str(k) for k in range(10)], "trained_classes": [3, 4]}}
    same_names = ImageData(torch.zeros(2, 1, 4, 4), torch.tensor([0, 3]), info["data"]["classes"], "digits")
    with pytest.raises(BadInputError, match=r"classes \['0'\] that"):  # equal class lists used to skip the check
        _to_run_classes(same_names, info)
    gan = build_model("conditional-gan", image_size=16, num_classes=10, depth=2, base_channels=8).eval()
    from genai_models.runs import sample_run

    with pytest.raises(BadInputError, match="--class 0 is not a class this run trained on; pick one of 3"):
        sample_run(gan, info, 4, class_index=0)
    assert sample_run(gan, info, 4, class_index=4).shape == (4, 1, 16, 16)
    one_class = {"data": {"classes": ["lesion"], "trained_classes": None}}  # built with num_classes=2
    with pytest.raises(BadInputError, match=r"--class 1 is out of range; pick one of 0 \(lesion\)"):
        sample_run(build_model("conditional-gan", image_size=16, num_classes=2, depth=2, base_channels=8), one_class,
                   2, class_index=1)


def test_broken_run_files_are_one_sentence(tmp_path):
    run = tmp_path / "run"
    _train(run)
    (run / "best_model.pt").write_bytes((run / "best_model.pt").read_bytes()[:100])
    with pytest.raises(BadInputError, match=r"best_model\.pt is truncated"):
        load_run(run)
    (run / "run.json").write_text('{"model": "vae", "model_con')
    with pytest.raises(BadInputError, match=r"broken run\.json"):
        load_run(run)
    with pytest.raises(BadInputError, match=r"unreadable run\.json"):
        run_summary(run)


def test_anomalies_on_a_gan_are_refused_and_few_images_get_an_auroc_note(runs):
    with pytest.raises(BadInputError, match="--anomalies scores reconstruction error"):
        evaluate_run(runs / "exp" / "conditional-gan", anomalies_spec="digits", count=20, extractor=pixels)
    ae = evaluate_run(runs / "exp" / "autoencoder", count=20, anomalies_spec="digits")
    assert any("anomaly_auroc from only 20 images" in note for note in ae["notes"])


def test_run_json_keeps_no_skipped_file_names(tmp_path):
    data = _folder(tmp_path / "images", ["a", "b"], per_class=6)
    (tmp_path / "images" / "a" / "patient_1234.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    summary = _train(tmp_path / "run", data=data)
    stored = (tmp_path / "run" / "run.json").read_text()
    assert "patient_1234" not in stored and json.loads(stored)["data"]["skipped_count"] == 1
    assert any("patient_1234" in name for name in summary["skipped_files"])  # the console shows them once


def test_grids_refuse_a_file_name_without_an_image_suffix(tmp_path):
    from genai_models.blocks import save_grid

    with pytest.raises(BadInputError, match=r"end the file name with one of \.png"):
        save_grid(torch.zeros(2, 1, 4, 4), tmp_path / "s.txt")
    save_grid(torch.zeros(2, 1, 4, 4), tmp_path / "s.jpg")
    assert (tmp_path / "s.jpg").is_file()


def test_runs_that_stored_booleans_as_text_still_load(runs, tmp_path):
    """Before -o values were typed, run.json held "diff_augment": "False" (regression review, 27 Nov)."""
    import shutil

    legacy = tmp_path / "legacy"
    shutil.copytree(runs / "exp" / "conditional-gan", legacy)
    info = json.loads((legacy / "run.json").read_text())
    info["model_config"]["diff_augment"] = "False"
    (legacy / "run.json").write_text(json.dumps(info))
    model, _ = load_run(legacy)
    assert model.config["diff_augment"] is False
