"""`genai models list|train|sample|evaluate` in-process through the real entry point: tiny models trained for
a few steps on scikit-learn's bundled digits, evaluated with the packaged EfficientNet-Lite0; bad input exits 2
with one line. The hub tab builds and its handlers serve only runs under the configured runs folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gradio as gr
import pytest

from apps.cli import main

TINY = ["--image-size", "16", "-o", "depth=2", "-o", "base_channels=8", "-o", "latent_dim=4", "--limit", "200",
        "--max-steps", "3", "--batch-size", "32", "--device", "cpu", "--json"]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], model_cache_dir: Path):
    monkeypatch.setenv("GENAI_DATA_DIR", str(model_cache_dir))  # the packaged EfficientNet-Lite0 is joined once

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["genai", "models", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        return int(exit_info.value.code or 0), captured.out, captured.err

    return run


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """A VAE trained on digits 0-4 and a conditional GAN on all digits, 3 steps each (library call)."""
    from genai_models.runs import train_run
    from genai_models.trainer import TrainConfig

    root = tmp_path_factory.mktemp("model-runs")
    config = TrainConfig(epochs=1, batch_size=32, max_steps=3, device="cpu", show_progress=False, preview_count=8)
    options = {"depth": 2, "base_channels": 8, "latent_dim": 4}
    train_run("vae", "digits", root / "vae", config=config, image_size=16, limit=200, classes=[0, 1, 2, 3, 4],
              model_options=options)
    train_run("conditional-gan", "digits", root / "cgan", config=config, image_size=16, limit=200,
              model_options=options)
    return root


def test_list(cli):
    code, out, _ = cli("list", "--json")
    models = {row["name"]: row for row in json.loads(out)["models"]}
    assert code == 0 and models["conditional-gan"]["conditional"] and models["vae"]["kind"] == "vae"
    assert "gmm" not in models


def test_train_writes_a_run_folder(cli, tmp_path):
    run = tmp_path / "dcgan"
    code, out, err = cli("train", "dcgan", "--data", "digits", "--out", str(run), "--lr-schedule", "cyclic", *TINY)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["result"]["steps"] == 3 and summary["kind"] == "gan"
    for name in ("run.json", "best_model.pt", "checkpoint.pt", "metrics.csv", "samples.png", "loss_curves.png"):
        assert str(run / name) in summary["files"]


def test_sample_and_evaluate_a_vae(cli, runs_dir):
    run = runs_dir / "vae"
    code, out, err = cli("sample", str(run), "-n", "8", "--out", str(run / "grid.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["shape"] == [1, 16, 16] and (run / "grid.png").is_file()

    code, out, err = cli("evaluate", str(run), "--count", "8", "--device", "cpu", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert {"FID-EffNetLite0", "KID-EffNetLite0", "precision", "recall", "recon_mse", "ssim", "psnr",
            "anomaly_auroc"} <= set(report["metrics"])
    assert any("NOT comparable" in note for note in report["notes"])


def test_conditional_gan_samples_one_class(cli, runs_dir):
    run = runs_dir / "cgan"
    code, out, err = cli("sample", str(run), "-n", "4", "--class", "7", "--json")
    assert code == 0 and json.loads(out)["class"] == 7 and (run / "sampled.png").is_file(), err
    code, _, err = cli("sample", str(run), "-n", "4", "--class", "10")
    assert code == 2 and "out of range" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args,words", [
    (["train", "stylegan", "--data", "digits", "--out", "{tmp}/x"], "Unknown model"),
    (["train", "gmm", "--data", "digits", "--out", "{tmp}/x"], "cannot be trained"),
    (["train", "vae", "--data", "no-such-data", "--out", "{tmp}/x"], "not recognised"),
    (["train", "vae", "--data", "digits", "--out", "{tmp}/x", "--classes", "0,42"], "out of range"),
    (["train", "vae", "--data", "digits", "--out", "{tmp}/x", "-o", "colour"], "KEY=VALUE"),
    (["sample", "{tmp}/missing"], "not a training run"),
    (["evaluate", "{tmp}/missing"], "not a training run"),
])
def test_bad_input_exits_2_with_one_sentence(cli, tmp_path, args, words):
    code, out, err = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2 and words in err and not out and len(err.strip().splitlines()) == 1


def test_class_on_an_unconditional_model_is_bad_input(cli, runs_dir):
    code, _, err = cli("sample", str(runs_dir / "vae"), "--class", "1")
    assert code == 2 and "unconditional" in err


def test_tab_builds_and_serves_only_runs_under_its_folder(model_cache_dir, runs_dir, tmp_path):
    from apps.services import Services
    from apps.settings import load_settings
    from apps.tabs import TABS, models, status

    assert TABS.index(models) < TABS.index(status)
    services = Services(load_settings(data_dir=model_cache_dir, device="cpu", models={"runs_dir": runs_dir}))
    with gr.Blocks() as blocks, gr.Tab(models.TITLE):
        models.build(services)
    handlers = {block.fn.__name__: block for block in blocks.fns.values()}
    for name in ("sample", "interpolate"):
        assert (handlers[name].concurrency_id, handlers[name].concurrency_limit) == ("gpu", 1)
    assert "vae" in handlers["refresh"].fn()["choices"]
    text, curves, _, classes = handlers["show"].fn("cgan")
    assert "conditional-gan" in text and curves.endswith("loss_curves.png") and len(classes["choices"]) == 11
    assert handlers["sample"].fn("cgan", 20, "all classes", 0).shape[:2] == (10 * 20, 2 * 20)  # 16 px tiles + 2 px padding
    assert handlers["interpolate"].fn("vae", 0, 1, 4).shape == (20, 4 * 20, 3)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.json").write_text((runs_dir / "vae" / "run.json").read_text())
    for name in ("../" * 8 + "etc", "../" + runs_dir.name + "/../outside", str(outside), "missing"):
        with pytest.raises(gr.Error):
            handlers["sample"].fn(name, 4, "all classes", 0)


def test_boolean_options_are_parsed_and_reruns_need_overwrite(cli, tmp_path):
    run = tmp_path / "cgan"
    args = ["train", "conditional-gan", "--data", "digits", "--out", str(run), "-o", "diff_augment=False", *TINY]
    code, _, err = cli(*args)
    assert code == 0, err
    assert json.loads((run / "run.json").read_text())["model_config"]["diff_augment"] is False  # was 'False': on
    code, out, err = cli(*args)
    assert code == 2 and "--overwrite" in err and not out and len(err.strip().splitlines()) == 1
    code, _, err = cli(*args, "--overwrite")
    assert code == 0, err
    code, _, err = cli(*args[:-len(TINY)], *TINY, "--resume", "--seed", "5")
    assert code == 2 and "--seed 0 (now 5)" in err


def test_sample_out_may_be_a_folder_and_must_name_an_image_format(cli, runs_dir, tmp_path):
    run = runs_dir / "cgan"
    code, out, err = cli("sample", str(run), "-n", "4", "--out", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["out"] == str(tmp_path / "samples.png"), err
    code, _, err = cli("sample", str(run), "-n", "4", "--out", str(tmp_path / "s.txt"))
    assert code == 2 and ".png" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args,words", [
    (["-o", "diff_augment=maybe"], "true or false"),
    (["-o", "betas=[0]"], "list of 2"),
    (["-o", "image_size=64"], "--image-size"),
    (["--channels", "4"], "1 (grey) or 3"),
])
def test_bad_train_options_exit_2(cli, tmp_path, args, words):
    code, out, err = cli("train", "conditional-gan", "--data", "digits", "--out", str(tmp_path / "x"), *args)
    assert code == 2 and words in err and not out and len(err.strip().splitlines()) == 1
