"""Dental benchmark -> bench/results/dental.json.

Tooth Dice + FDI numbering of the shipped weights on their held-out UFBA-425 split (names in teeth_unet.json,
never trained on), CPU seconds per image (2 cores), the GPU training run's own numbers, similar-case
precision@5 vs random, and the balancing table when a `genai dental evaluate-balance` result is given in
GENAI_DENTAL_BALANCED (folder; without it the previous file's balancing table is kept). Caries Dice needs a
caries model trained from scratch on DC1000: read from bench/results/dental_caries_{gpu,cpu}.json when present. Needs ../shared/data/dental.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dental"


def _teeth(quick: bool) -> dict:
    """The shipped weights on their held-out split, plain and with mirror averaging (the default), same run."""
    from PIL import Image

    from domains.dental.labels import TEETH_CLASSES, fdi_to_index
    from domains.dental.metrics import image_scores, numbering_counts
    from domains.dental.segment import PACKAGED_WEIGHTS, load_network, segment_teeth

    spec = json.loads(PACKAGED_WEIGHTS.with_suffix(".json").read_text())
    names = spec["held_out_names"][: 8 if quick else None]
    net = load_network(PACKAGED_WEIGHTS, "cpu")
    results = {"held_out_images": len(names)}
    for mode, mirror_average in (("plain", False), ("mirror_average", True)):
        scores, correct, total, seconds = [], 0, 0, []
        for name in names:
            grey = np.asarray(Image.open(DATA / "ufba425" / "images" / f"{name}.jpg").convert("L"), np.float32)
            truth = fdi_to_index(np.asarray(Image.open(DATA / "ufba425" / "fdi_labelmaps" / f"{name}.png")))
            start = time.perf_counter()
            teeth_map, _ = segment_teeth(net, grey, mirror_average=mirror_average)
            seconds.append(time.perf_counter() - start)
            pred = fdi_to_index(teeth_map)
            scores.append(image_scores(pred, truth, TEETH_CLASSES))
            c, t = numbering_counts(pred, truth)
            correct, total = correct + c, total + t
        results[mode] = {
            "dice_mean_class": round(float(np.nanmean([s["dice_mean_class"] for s in scores])), 4),
            "dice_foreground": round(float(np.nanmean([s["dice_foreground"] for s in scores])), 4),
            "numbering_accuracy": round(correct / total, 4),
            "cpu_seconds_per_image": round(float(np.median(seconds[1:] or seconds)), 3),
        }
    results["note"] = (
        "shipped weights, CPU inference incl. post-processing (largest component per number, teeth grown into "
        "the summed tooth probability)"
    )
    return results


def _search(quick: bool) -> dict:
    import tempfile

    from domains.dental.search import category_of, embed_radiographs, evaluate_search
    from domains.dental.train import split_names
    from genai_models.metrics import effnet_extractor

    paths = sorted((DATA / "ufba425" / "images").iterdir())[:: 3 if quick else 1]
    train, held = split_names([p.stem for p in paths], 0.15, 0)
    features = dict(
        zip(
            [p.stem for p in paths],
            embed_radiographs(paths, effnet_extractor(tempfile.mkdtemp())),
            strict=True,
        )
    )
    return evaluate_search(
        [(features[n], category_of(n)) for n in train], [(features[n], category_of(n)) for n in held]
    )


def main(out_dir: Path, quick: bool) -> None:
    from domains.dental.segment import PACKAGED_WEIGHTS

    result: dict = {"quick": quick, "teeth_cpu": _teeth(quick), "search": _search(quick)}
    gpu = PACKAGED_WEIGHTS.parent / "teeth_metrics_gpu.json"
    if gpu.is_file():
        metrics = json.loads(gpu.read_text())
        result["teeth_gpu_training"] = {k: v for k, v in metrics.items() if k != "dice_pooled_per_fdi"}
    caries_runs = {
        device: json.loads(path.read_text())
        for device in ("gpu", "cpu")
        if (path := Path(out_dir) / f"dental_caries_{device}.json").is_file()
    }
    result["caries"] = caries_runs or "not run (no caries model trained)"
    previous = Path(out_dir) / "dental.json"
    balanced = os.environ.get("GENAI_DENTAL_BALANCED")
    if balanced and (Path(balanced) / "evaluation.json").is_file():
        result["balancing"] = {
            "balance": json.loads((Path(balanced) / "balance.json").read_text()),
            "evaluation": json.loads((Path(balanced) / "evaluation.json").read_text()),
        }
    elif previous.is_file() and "balancing" in (earlier := json.loads(previous.read_text())):
        result["balancing"] = earlier["balancing"]  # from the last run given GENAI_DENTAL_BALANCED (slow)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    previous.write_text(json.dumps(result, indent=1))
