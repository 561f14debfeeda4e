"""One trainer for every model in ``genai_models`` (see ``base.GenerativeModel`` for the protocol).

What it does, in order: one Adam per parameter group (two for GANs); per-step LR schedules from
``torch.optim.lr_scheduler`` ("cyclic" = ``CyclicLR`` triangular2 without momentum cycling, as Adam needs;
"onecycle" = ``OneCycleLR``); bf16 autocast on CUDA; a tqdm bar with live losses; validation each epoch and
early stopping on the model's ``monitor`` metric; a checkpoint each epoch holding model, optimizers,
schedulers, RNG states and counters, so ``fit(resume=True)`` continues exactly where it stopped, also when a
time or step budget cut an epoch short: the resumed run trains that epoch's remaining batches, in the same order,
and its losses match an uninterrupted run's. The time budget counts the whole run, so a resumed run needs a
larger ``max_seconds``.

Run folder (when ``out_dir`` is given): ``run.json`` (model, data, config, result), ``checkpoint.pt`` (latest,
for resume), ``best_model.pt`` (weights at the best validation metric), ``metrics.csv`` (long format:
``step, epoch, split, name, value``), ``samples_epochNNN.png`` + ``samples.png`` and ``loss_curves.png``.
With ``out_dir=None`` nothing is written (library use, e.g. the anomaly detectors).

On CPU a fixed seed gives identical losses run after run: data order comes from a per-epoch seeded generator,
noise from the global RNG seeded by ``seed_everything``; workers are not used.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from data_connectors.errors import BadInputError
from genai_models.base import GenerativeModel
from genai_models.blocks import check_choice, save_grid

LR_SCHEDULES = ("constant", "cyclic", "onecycle")
PRECISIONS = ("auto", "bf16", "fp32")
METRIC_FIELDS = ("step", "epoch", "split", "name", "value")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step and suggests a lower learning rate."""


@dataclass(frozen=True)
class TrainConfig:
    """Training options (all primitives, stored in ``run.json``).

    Args:
        epochs: passes over the training set (>= 1).
        batch_size: images per step (>= 1).
        lr: Adam learning rate; the peak LR for "cyclic" and "onecycle".
        lr_schedule: "constant", "cyclic" (CyclicLR triangular2 between lr/10 and lr) or "onecycle".
        cycle_epochs: length of one full cyclic-LR cycle in epochs (half up, half down; > 0).
        seed: seeds data order, noise and initial weights (via ``seed_everything``).
        device: "auto", "cpu" or "cuda[:N]".
        precision: "auto" (bf16 autocast on CUDA, fp32 on CPU), "bf16" or "fp32".
        patience: epochs without improvement of the monitored metric before stopping (0 = never stop early).
        min_delta: smallest decrease that counts as an improvement.
        max_seconds: wall-clock budget for training steps (None = unlimited); stops cleanly mid-epoch.
        max_steps: step budget (None = unlimited).
        grad_clip: max gradient norm (0 = no clipping).
        log_every: write train losses to metrics.csv every N steps.
        preview_count: images in each PNG sample grid.
        show_progress: show the tqdm bar.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-4
    lr_schedule: str = "constant"
    cycle_epochs: float = 2.0
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    patience: int = 5
    min_delta: float = 0.0
    max_seconds: float | None = None
    max_steps: int | None = None
    grad_clip: float = 0.0
    log_every: int = 10
    preview_count: int = 64
    show_progress: bool = True

    def __post_init__(self) -> None:
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("precision", self.precision, PRECISIONS)
        for name in ("epochs", "batch_size", "log_every", "preview_count"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise BadInputError(f"{name} must be an integer >= 1; received {value!r}; pass e.g. {name}=1.")
        for name in ("lr", "cycle_epochs"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise BadInputError(f"{name} must be a finite number > 0; received {value!r}; e.g. {name}=2e-4.")
        if self.patience < 0 or self.grad_clip < 0 or self.min_delta < 0:
            raise BadInputError(
                f"patience, grad_clip and min_delta must be >= 0; received {self.patience}, {self.grad_clip}, "
                f"{self.min_delta}; use 0 to switch a feature off."
            )


@dataclass
class TrainResult:
    """What ``fit`` returns (and ``run.json["result"]`` stores)."""

    epochs_completed: int
    steps: int
    monitor: str
    best_metric: float | None
    best_epoch: int | None
    stopped_reason: str
    train_seconds: float
    images_per_second: float
    history: list[dict[str, float]] = field(default_factory=list)  # one dict per epoch


# ---------------------------------------------------------------- helpers


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA); call it before building the model for identical weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(obj: Any, path: Path) -> None:
    partial = path.with_suffix(".partial")
    torch.save(obj, partial)
    os.replace(partial, path)  # an interrupted save never leaves a half-written checkpoint


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int,
                    total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    from torch.optim import lr_scheduler

    if config.lr_schedule == "cyclic":
        # step_size_up >= 1 always: the book's version divided by zero when an epoch had fewer steps than cycles.
        half_cycle = max(1, round(steps_per_epoch * config.cycle_epochs / 2))
        return lr_scheduler.CyclicLR(optimizer, base_lr=config.lr / 10, max_lr=config.lr, step_size_up=half_cycle,
                                     mode="triangular2", cycle_momentum=False)
    if config.lr_schedule == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(2, total_steps),
                                       cycle_momentum=False)
    return None


def _step_scheduler(scheduler: torch.optim.lr_scheduler.LRScheduler | None) -> None:
    if scheduler is None:
        return
    total = getattr(scheduler, "total_steps", None)
    if total is None or scheduler.last_epoch + 1 < total:  # OneCycleLR raises past its last step
        scheduler.step()


def _write_loss_curves(metrics_csv: Path, target: Path) -> None:
    """One panel per logged quantity: training losses against step (the every-``log_every``-steps rows as a
    line, each epoch's mean as a marker, so a run shorter than ``log_every`` steps still shows its points) and
    validation metrics against epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = {}
    with metrics_csv.open() as handle:
        for row in csv.DictReader(handle):
            split, name = row["split"], row["name"]
            if split == "epoch" and name.startswith("train_"):  # per-epoch mean of a training loss
                split, name, kind = "train", name.removeprefix("train_"), "epoch mean"
            elif split in ("train", "val"):
                kind = "logged"
            else:
                continue
            x = float(row["epoch"]) if split == "val" else float(row["step"])
            series.setdefault((split, name), {}).setdefault(kind, []).append((x, float(row["value"])))
    if not series:
        return
    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for axis, ((split, name), kinds) in zip(axes.flat, sorted(series.items()), strict=False):
        for kind, points in sorted(kinds.items(), reverse=True):  # the logged line first, then epoch markers
            xs, ys = zip(*points, strict=True)
            few = len(points) <= 20 or split == "val"
            axis.plot(xs, ys, marker="o" if few or kind == "epoch mean" else None, markersize=4,
                      linestyle="none" if kind == "epoch mean" else "-", label=kind)
        if len(kinds) > 1:
            axis.legend(fontsize=7)
        axis.set_title(f"{split}: {name}", fontsize=9)
        axis.set_xlabel("step" if split == "train" else "epoch", fontsize=8)
    for axis in list(axes.flat)[len(series):]:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(target, dpi=90)
    plt.close(figure)


# PUBLIC API


class Trainer:
    """Trains one ``GenerativeModel``.

    Args:
        model: the model (built after ``seed_everything(config.seed)`` for reproducible weights).
        config: ``TrainConfig``.
        out_dir: run folder (created); None trains in memory only.
        run_info: extra JSON-able facts stored in ``run.json`` (e.g. ``{"data": {...}}``).
    """

    def __init__(self, model: GenerativeModel, *, config: TrainConfig | None = None, out_dir: Path | str | None = None,
                 run_info: dict[str, Any] | None = None) -> None:
        from genai_models.runtime import resolve_device

        if not isinstance(model, GenerativeModel):
            raise BadInputError(
                f"model must be a genai_models GenerativeModel; received {type(model).__name__}; "
                "build it with genai_models.zoo.build_model(name)."
            )
        self.model = model
        self.config = config or TrainConfig()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.run_info = run_info or {}
        self.device = torch.device(resolve_device(self.config.device))
        self.bf16 = self.device.type == "cuda" and self.config.precision in ("auto", "bf16")
        if self.config.precision == "bf16" and self.device.type != "cuda":
            self.bf16 = True  # explicit request: CPU autocast supports bf16 too (slow, for testing)

    # -- pieces

    def _loader(self, dataset: Dataset, *, epoch: int, shuffle: bool, skip_batches: int = 0) -> DataLoader:
        """Batches in a seeded per-epoch order; ``skip_batches`` drops the ones a budget-cut epoch already trained."""
        size = self.config.batch_size
        # A loader's own generator also feeds its worker seed, so creating one never draws from the global RNG.
        generator = torch.Generator().manual_seed(self.config.seed * 1000 + epoch)
        if not shuffle:
            return DataLoader(dataset, batch_size=size, shuffle=False, generator=generator, num_workers=0)
        order = torch.randperm(len(dataset), generator=generator).tolist()
        usable = len(order) - len(order) % size if len(order) > size else len(order)  # drop a short last batch
        batches = [order[start:start + size] for start in range(0, usable, size)]
        return DataLoader(dataset, batch_sampler=batches[skip_batches:], generator=generator, num_workers=0)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _to_device(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = batch
        return images.to(self.device, non_blocking=True).float(), labels.to(self.device, non_blocking=True).long()

    @torch.no_grad()
    def _validate(self, dataset: Dataset) -> dict[str, float]:
        self.model.eval()
        totals: dict[str, float] = {}
        count = 0
        for batch in self._loader(dataset, epoch=0, shuffle=False):
            images, labels = self._to_device(batch)
            with self._autocast():
                values = self.model.validation_step((images, labels))
            for key, value in values.items():
                totals[key] = totals.get(key, 0.0) + float(value) * images.shape[0]
            count += images.shape[0]
        self.model.train()
        return {key: value / max(count, 1) for key, value in totals.items()}

    def _preview(self, dataset: Dataset, epoch: int) -> None:
        count = min(self.config.preview_count, len(dataset))
        images, labels = next(iter(DataLoader(dataset, batch_size=count, shuffle=False)))
        images, labels = self._to_device((images, labels))
        generator = torch.Generator(device=self.device).manual_seed(self.config.seed)
        self.model.eval()
        with self._autocast():
            grid = self.model.preview(images, labels, generator=generator)
        self.model.train()
        save_grid(grid.float(), self.out_dir / f"samples_epoch{epoch:03d}.png")
        save_grid(grid.float(), self.out_dir / "samples.png")

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        if self.out_dir is None or not rows:
            return
        path = self.out_dir / "metrics.csv"
        new = not path.exists()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=METRIC_FIELDS)
            if new:
                writer.writeheader()
            writer.writerows(rows)

    def _truncate_metrics(self, epoch: int, step: int) -> None:
        """On resume, keep only rows the checkpoint covers: whole epochs before ``epoch`` and training losses up to
        ``step`` (a budget-cut epoch's validation rows go; it validates again when it ends)."""
        path = self.out_dir / "metrics.csv"
        if not path.exists():
            return
        with path.open() as handle:
            rows = [row for row in csv.DictReader(handle) if int(row["epoch"]) < epoch
                    or (row["split"] == "train" and int(row["step"]) <= step)]
        path.unlink()
        self._write_rows(rows)

    def _write_run_json(self, result: TrainResult | None) -> None:
        if self.out_dir is None:
            return
        document = {
            "model": self.model.name,
            "model_config": self.model.config,
            "train_config": asdict(self.config),
            "device": str(self.device),
            "precision": "bf16" if self.bf16 else "fp32",
            "torch": torch.__version__,
            **self.run_info,
            "result": None if result is None else {k: v for k, v in asdict(result).items() if k != "history"},
        }
        (self.out_dir / "run.json").write_text(json.dumps(document, indent=2, default=str))

    # -- training

    def fit(self, train: Dataset, val: Dataset | None = None, *, resume: bool = False) -> TrainResult:
        """Train; with ``resume=True`` continue from ``out_dir/checkpoint.pt`` (model, optimizers, schedulers,
        RNG states, epoch and step), so the continued run matches an uninterrupted one.

        Raises:
            BadInputError: empty dataset, or ``resume`` without a run folder/checkpoint.
            TrainingDiverged: a loss became NaN/inf (lower ``lr`` or enable ``grad_clip``).
        """
        from tqdm.auto import tqdm

        config, model = self.config, self.model
        if len(train) == 0:
            raise BadInputError("The training set is empty; point --data at a folder or file with images.")
        model.to(self.device).train()
        groups = model.optimizer_groups()
        optimizers = {name: torch.optim.Adam(params, lr=config.lr, betas=model.betas)
                      for name, params in groups.items()}
        steps_per_epoch = len(self._loader(train, epoch=0, shuffle=True))
        total_steps = min(config.epochs * steps_per_epoch, config.max_steps or math.inf)
        schedulers = {name: _make_scheduler(opt, config, steps_per_epoch, int(total_steps))
                      for name, opt in optimizers.items()}
        # "epoch" counts whole epochs; a budget that cuts one short leaves its trained batches and loss sums in
        # "batches_in_epoch" and "epoch_sums", so a resumed run finishes that epoch instead of skipping the rest.
        state = {"epoch": 0, "step": 0, "best": None, "best_epoch": None, "bad_epochs": 0, "train_seconds": 0.0,
                 "images": 0, "history": [], "batches_in_epoch": 0, "epoch_sums": {}}
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            checkpoint_path = self.out_dir / "checkpoint.pt" if self.out_dir else None
            if checkpoint_path is None or not checkpoint_path.exists():
                raise BadInputError(f"Cannot resume: no checkpoint.pt in {self.out_dir}; train without --resume.")
            # On the CPU first: the RNG states must stay CPU tensors; weights and optimizer states are moved
            # to the model's device by load_state_dict.
            checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
            try:
                model.load_state_dict(checkpoint["model"])
            except RuntimeError as error:
                first = str(error).strip().splitlines()[0]
                raise BadInputError(
                    f"Cannot resume: {checkpoint_path} belongs to another model or other options ({first}); "
                    "resume with the same model and -o options, or train without --resume."
                ) from None
            for name, optimizer in optimizers.items():
                optimizer.load_state_dict(checkpoint["optimizers"][name])
                if schedulers[name] is not None and checkpoint["schedulers"].get(name) is not None:
                    planned = getattr(schedulers[name], "total_steps", None)
                    schedulers[name].load_state_dict(checkpoint["schedulers"][name])
                    if planned is not None and schedulers[name].total_steps != planned:
                        raise BadInputError(
                            "Cannot resume a onecycle run with another length: its schedule ended at "
                            f"{schedulers[name].total_steps} steps and would stay at the last, tiny rate; "
                            "resume with the same --epochs/--max-steps, or use another --lr-schedule."
                        )
            state.update(checkpoint["state"])
            state["history"] = [row for row in state["history"] if "partial_batches" not in row]
            _set_rng_state(checkpoint["rng"])
            self._truncate_metrics(state["epoch"], state["step"])
        elif self.out_dir is not None:
            (self.out_dir / "metrics.csv").unlink(missing_ok=True)
        self._write_run_json(None)

        stopped = "epochs done"
        for epoch in range(state["epoch"], config.epochs):
            sums: dict[str, float] = dict(state["epoch_sums"])
            seen = state["batches_in_epoch"]
            rows: list[dict[str, Any]] = []
            bar = tqdm(self._loader(train, epoch=epoch, shuffle=True, skip_batches=seen),
                       desc=f"{model.name} epoch {epoch + 1}", initial=seen, total=steps_per_epoch,
                       disable=not config.show_progress, leave=False)
            started = time.perf_counter()
            for batch in bar:
                images, labels = self._to_device(batch)
                logs: dict[str, float] = {}
                for phase in model.phases(state["step"]):
                    optimizer = optimizers[phase]
                    optimizer.zero_grad(set_to_none=True)
                    with self._autocast():
                        losses = model.training_step((images, labels), phase=phase, step=state["step"])
                    loss = losses["loss"]
                    if not torch.isfinite(loss):
                        raise TrainingDiverged(
                            f"{model.name}: the {phase} loss became {float(loss)} at step {state['step']}; "
                            f"lower lr (now {config.lr}) or set grad_clip."
                        )
                    loss.backward()
                    if config.grad_clip:
                        torch.nn.utils.clip_grad_norm_(groups[phase], config.grad_clip)
                    optimizer.step()
                    named = losses if len(optimizers) == 1 else {k: v for k, v in losses.items() if k != "loss"}
                    logs.update({key: float(value.detach()) for key, value in named.items()})
                for scheduler in schedulers.values():
                    _step_scheduler(scheduler)
                for key, value in logs.items():
                    sums[key] = sums.get(key, 0.0) + value
                seen += 1
                state["step"] += 1
                state["images"] += images.shape[0]
                if state["step"] % config.log_every == 0:
                    rows += [dict(step=state["step"], epoch=epoch, split="train", name=k, value=v)
                             for k, v in logs.items()]
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
                elapsed = state["train_seconds"] + time.perf_counter() - started
                if config.max_seconds is not None and elapsed >= config.max_seconds:
                    stopped = f"time budget of {config.max_seconds:g} s reached"
                    break
                if config.max_steps is not None and state["step"] >= config.max_steps:
                    stopped = f"step budget of {config.max_steps} reached"
                    break
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            state["train_seconds"] += time.perf_counter() - started
            bar.close()
            cut_short = stopped != "epochs done" and seen < steps_per_epoch  # a budget stopped it mid-epoch
            rng_after_steps = _rng_state()  # validation and previews may draw noise; the resumed run must not see it

            epoch_row = {f"train_{k}": v / max(seen, 1) for k, v in sums.items()}
            epoch_row["images_per_second"] = state["images"] / max(state["train_seconds"], 1e-9)
            for name, optimizer in optimizers.items():
                epoch_row[f"lr_{name}"] = optimizer.param_groups[0]["lr"]
            if val is not None and len(val):
                epoch_row.update(self._validate(val))
            rows += [dict(step=state["step"], epoch=epoch, split="val" if k.startswith("val_") else "epoch",
                          name=k, value=v) for k, v in epoch_row.items()]
            state["history"].append({"epoch": epoch + 1, "step": state["step"], **epoch_row}
                                    | ({"partial_batches": seen} if cut_short else {}))
            if cut_short:
                state["batches_in_epoch"], state["epoch_sums"] = seen, sums
            else:
                state["epoch"], state["batches_in_epoch"], state["epoch_sums"] = epoch + 1, 0, {}

            current = epoch_row.get(model.monitor)
            improved = current is not None and (state["best"] is None or current < state["best"] - config.min_delta)
            if improved:
                state["best"], state["best_epoch"], state["bad_epochs"] = current, epoch + 1, 0
            elif current is not None and not cut_short:  # half an epoch is no evidence for early stopping
                state["bad_epochs"] += 1
            if current is not None and config.patience and state["bad_epochs"] >= config.patience:
                stopped = f"early stopping: {model.monitor} did not improve for {config.patience} epochs"

            if self.out_dir is not None:
                self._write_rows(rows)
                self._preview(val if val is not None and len(val) else train, epoch + 1)
                if improved or current is None:
                    _atomic_save(model.state_dict(), self.out_dir / "best_model.pt")
                _atomic_save({
                    "model": model.state_dict(),
                    "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "schedulers": {k: s.state_dict() if s else None for k, s in schedulers.items()},
                    "state": state,
                    "rng": rng_after_steps if cut_short else _rng_state(),
                }, self.out_dir / "checkpoint.pt")
                _write_loss_curves(self.out_dir / "metrics.csv", self.out_dir / "loss_curves.png")
            if stopped != "epochs done":
                break

        result = TrainResult(
            epochs_completed=state["epoch"], steps=state["step"], monitor=model.monitor, best_metric=state["best"],
            best_epoch=state["best_epoch"], stopped_reason=stopped, train_seconds=round(state["train_seconds"], 3),
            images_per_second=round(state["images"] / max(state["train_seconds"], 1e-9), 1),
            history=list(state["history"]),
        )
        self._write_run_json(result)
        return result


def stored_model_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run.json ``model_config`` as the constructor takes it: runs trained before -o values were typed stored
    booleans as text ("False"), which the constructors now refuse."""
    booleans = {"true": True, "false": False}
    return {key: booleans.get(value.lower(), value) if isinstance(value, str) else value
            for key, value in config.items()}


def load_run(run_dir: Path | str, *, device: str = "cpu", weights: str = "best") -> tuple[GenerativeModel, dict]:
    """Rebuild a trained model from its run folder: ``(model in eval mode, run.json document)``.

    Args:
        weights: "best" (``best_model.pt``, falling back to the last checkpoint) or "last".

    Raises:
        BadInputError: the folder has no ``run.json`` or no weights, or either is truncated or broken.
    """
    import pickle
    import zipfile

    from genai_models.zoo import build_model

    run_dir = Path(run_dir)
    name = run_dir.name
    if not (run_dir / "run.json").is_file():
        raise BadInputError(f"Run {name!r} is not a training run (no run.json); train one with `genai models train`.")
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        info = None
    if not isinstance(info, dict) or not isinstance(info.get("model"), str) or not isinstance(
            info.get("model_config"), dict):
        raise BadInputError(f"Run {name!r} has a broken run.json (not the JSON training writes); train it again.")
    model = build_model(info["model"], **stored_model_config(info["model_config"]))
    best, last = run_dir / "best_model.pt", run_dir / "checkpoint.pt"
    path = best if weights == "best" and best.exists() else last
    if not path.exists():
        raise BadInputError(f"Run {name!r} has no best_model.pt or checkpoint.pt; its training never finished an epoch.")
    try:
        if path == best:
            state = torch.load(path, map_location=device, weights_only=True)
        else:
            state = torch.load(path, map_location=device, weights_only=False)["model"]
        model.load_state_dict(state)
    except (RuntimeError, EOFError, OSError, KeyError, TypeError, ValueError, pickle.UnpicklingError,
            zipfile.BadZipFile):
        raise BadInputError(f"Run {name!r}: {path.name} is truncated or does not match run.json; train the run "
                            "again or resume it from its checkpoint.") from None
    return model.to(device).eval(), info
