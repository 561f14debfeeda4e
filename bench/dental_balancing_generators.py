"""Dental GAN class balancing, generator by generator -> bench/results/dental_balancing_generators.json.

For each generator recipe and budget (``domains.dental.balance.GENERATOR_RECIPES``) on DC1000: `balance`
(lesion-centred patches, caries classes topped up to 300 with the conditional GAN) then `evaluate-balance`
(patch classifier original / classical / classical+synthetic, 3 seeds x 8 epochs, real test patches). Per
class it adds the FID-EffNetLite0 of real vs synthetic training patches, and the mean per-pixel standard
deviation across the synthetic patches next to the real ones' (a collapsed generator scores near 0). The
original and classical regimes do not depend on the generator: every run retrains them, which shows the
run-to-run spread on this machine. The GAN budgets are wall-clock: run it on an idle machine (about an hour
on 2 CPU cores). Needs ../shared/data/dental/dc1000.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dental" / "dc1000"
RUNS = (("dcgan", 1.0), ("dcgan", 15.0), ("dcgan+diffaugment", 15.0), ("sngan+diffaugment", 15.0))


def _pixel_spread(folder: Path, pattern: str) -> float | None:
    """Mean over pixels of the standard deviation across the patches: near 0 when they are all alike."""
    from PIL import Image

    files = sorted(folder.glob(pattern))
    if len(files) < 2:
        return None
    patches = np.stack([np.asarray(Image.open(path), np.float32) / 255.0 for path in files])
    return round(float(patches.std(axis=0).mean()), 3)


def main(out_dir: Path, quick: bool) -> None:
    from domains.dental.balance import GENERATOR_RECIPES, balance_dataset, evaluate_balance

    runs = [(recipe, 0.05) for recipe in GENERATOR_RECIPES] if quick else RUNS
    seeds, epochs = (1, 1) if quick else (3, 8)
    result: dict = {
        "quick": quick,
        "dataset": "DC1000 (../shared/data/dental/dc1000)",
        "target_per_class": 300,
        "classifier": {"seeds": seeds, "epochs": epochs},
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        for index, (recipe, minutes) in enumerate(runs):
            out = Path(scratch) / f"run{index}"
            started = time.monotonic()
            balance = balance_dataset(
                DATA, out, target_per_class=300, gan_minutes=minutes, generator=recipe, progress=print
            )
            evaluation = evaluate_balance(out, seeds=seeds, epochs=epochs, progress=print)
            result["runs"].append(
                {
                    "generator": recipe,
                    "gan_minutes": minutes,
                    "fid_effnetlite0": balance["fid_effnetlite0"],
                    "pixel_spread": {
                        name: {
                            "synthetic": _pixel_spread(out / "train" / name, "syn_*.png"),
                            "real": _pixel_spread(out / "train" / name, "real_*.png"),
                        }
                        for name in balance["synthetic_counts"]
                    },
                    "train_counts_real": evaluation["train_counts_real"],
                    "train_per_class_balanced_regimes": evaluation["train_per_class_balanced_regimes"],
                    "test_counts": evaluation["test_counts"],
                    "results": evaluation["results"],
                    "seconds": round(time.monotonic() - started),
                }
            )
            print(f"{recipe} {minutes} min: " + ", ".join(
                f"{regime} {row['macro_f1']['mean']:.3f}" for regime, row in evaluation["results"].items()
            ))  # fmt: skip
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    name = "dental_balancing_generators_quick.json" if quick else "dental_balancing_generators.json"
    (Path(out_dir) / name).write_text(json.dumps(result, indent=1))
