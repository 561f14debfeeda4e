"""Training runs end to end, for ``genai models`` and the hub tab: train a zoo model on a ``--data`` spec into a
run folder, then list, sample, interpolate and evaluate runs.

A run folder is what ``trainer.Trainer`` writes (``run.json``, weights, ``metrics.csv``, PNG grids, loss
curves); ``run.json["data"]`` also records the data spec, image size, channels, trained classes and the seeded
train/held-out split, so evaluation and interpolation reuse exactly the images the model never trained on.

Evaluation applies the metrics that fit the model kind: FID-EffNetLite0 / KID-EffNetLite0 / k-NN
precision-recall for samplers (GANs, VAEs; NOT comparable with Inception FID), reconstruction MSE / SSIM / PSNR
for autoencoders and VAEs, and anomaly AUROC (reconstruction error) when the run was trained on a subset of
classes (held-out images of the other classes are the anomalies) or when anomalous data is given.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import torch

from data_connectors.errors import BadInputError
from genai_models.data import ImageData, load_dataset, split_train_val
from genai_models.trainer import TrainConfig, Trainer, load_run, seed_everything, stored_model_config
from genai_models.zoo import AE_MODELS, GAN_MODELS, MODELS, VAE_MODELS, build_model, model_class

ModelKind = Literal["gan", "autoencoder", "vae"]
TRAINABLE = tuple(name for name in MODELS if name != "gmm")  # the GMM baseline is fitted in Python, not trained
RUN_FILES = ("run.json", "best_model.pt", "checkpoint.pt", "metrics.csv", "samples.png", "loss_curves.png")
FID_FEATURES = 1280  # EfficientNet-Lite0's pooled features
AUROC_RELIABLE = 100  # images per side below which AUROC gets a reliability note
FID_NOTE = ("FID-EffNetLite0/KID-EffNetLite0 use EfficientNet-Lite0 ImageNet features: they rank models trained "
            "on the same data but are NOT comparable with published Inception FID numbers.")

# ---------------------------------------------------------------- helpers


def model_kind(name: str) -> ModelKind:
    """``"gan"``, ``"autoencoder"`` or ``"vae"`` for a trainable zoo name."""
    if name in GAN_MODELS:
        return "gan"
    if name in AE_MODELS:
        return "autoencoder"
    if name in VAE_MODELS:
        return "vae"
    model_class(name)  # an unknown name gets the zoo's "Unknown model" message
    raise BadInputError(f"Model {name!r} cannot be trained into a run folder; choose one of: {', '.join(TRAINABLE)}.")


def _parse_classes(classes: list[int] | None, data: ImageData) -> list[int] | None:
    if not classes:
        return None
    wrong = [k for k in classes if not 0 <= k < len(data.class_names)]
    if wrong:
        raise BadInputError(
            f"--classes {wrong} are out of range; {data.source} has classes 0..{len(data.class_names) - 1}."
        )
    return sorted(set(classes))


def _with_classes(data: ImageData, classes: list[int] | None, *, keep: bool = True) -> ImageData:
    if classes is None:
        return data
    inside = torch.isin(data.labels, torch.tensor(classes))
    return data.subset(torch.nonzero(inside if keep else ~inside).squeeze(1))


def _to_run_classes(data: ImageData, info: dict[str, Any]) -> ImageData:
    """Relabel evaluation images with the run's class indices, matched by class name: another folder may hold
    other classes or the same ones in another order, and a conditional model's label k is its k-th class.

    Raises:
        BadInputError: the data holds a class the run did not train on.
    """
    run_classes = list(info.get("data", {}).get("classes") or [])
    if not run_classes:
        return data
    known = [run_classes[k] for k in trainable_classes(info)]
    present = [data.class_names[k] for k in sorted({int(k) for k in data.labels.tolist()})]
    unknown = [name for name in present if name not in known]
    if unknown:
        raise BadInputError(
            f"The evaluation data holds classes {unknown[:5]} that this conditional run did not train on "
            f"(it knows {known[:10]}); pass --data with only those classes."
        )
    if data.class_names == run_classes:
        return data
    mapping = torch.tensor([run_classes.index(n) if n in run_classes else -1 for n in data.class_names])
    return ImageData(data.images, mapping[data.labels], run_classes, data.source, data.skipped)


OWN_FILES = ("run.json", "checkpoint.pt", "best_model.pt", "metrics.csv", "loss_curves.png", "samples*.png",
             "*.partial")  # what a training run writes; --overwrite removes exactly these
FROM_DATA = {"image_size": "--image-size", "channels": "--channels"}  # follow the data; -o must not override
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")


class _Mismatch(ValueError):
    """A value does not fit an annotation (internal to ``coerce_model_options``)."""


def _convert(value: Any, hint: Any) -> Any:
    """``value`` (CLI text or a Python value) as the annotation ``hint`` wants it, else ``_Mismatch``."""
    import json
    import math
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        for member in args:
            try:
                return _convert(value, member)
            except _Mismatch:
                continue
        raise _Mismatch
    text = value.strip() if isinstance(value, str) else None
    if hint is type(None):
        if value is None or (text or "").lower() in ("none", "null"):
            return None
        raise _Mismatch
    if hint is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in TRUE_WORDS + FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise _Mismatch
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if text is not None and text.lstrip("+-").isdigit():
            return int(text)
        raise _Mismatch
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _Mismatch
        try:
            number = float(value)
        except ValueError:
            raise _Mismatch from None
        if not math.isfinite(number):
            raise _Mismatch
        return number
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if origin in (tuple, list):
        if text is not None:
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise _Mismatch from None
        if not isinstance(value, list | tuple):
            raise _Mismatch
        if args and args[-1] is Ellipsis:
            if not value:
                raise _Mismatch
            return tuple(_convert(item, args[0]) for item in value)
        if args and len(value) != len(args):
            raise _Mismatch
        return tuple(_convert(item, member) for item, member in zip(value, args or [Any] * len(value), strict=True))
    return value  # unannotated: as given


def _describe(hint: Any) -> str:
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(member) for member in args)
    if origin in (tuple, list):
        if args and args[-1] is Ellipsis:
            return f"a list of {_describe(args[0]).removeprefix('an ').removeprefix('a ')}s"
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    return {bool: "true or false", int: "an integer", float: "a finite number", str: "text",
            type(None): "none"}.get(hint, "a value")


def coerce_model_options(model_name: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Model constructor options (CLI text such as ``"false"``/``"[0, 0.9]"`` or Python values) checked against
    the constructor's signature and converted to its types: a bare string would make ``diff_augment="False"``
    truthy, and a one-item ``betas`` list would fail mid-training.

    Raises:
        BadInputError: unknown option, ``image_size``/``channels`` (they follow the data), or a value of the
            wrong type, naming the accepted form.
    """
    import inspect
    import json
    import typing

    cls = model_class(model_name)
    hints = typing.get_type_hints(cls.__init__)
    params = {p.name: p for p in inspect.signature(cls.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY}
    converted: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key in FROM_DATA:
            raise BadInputError(f"-o {key} is set from the data; pass {FROM_DATA[key]} instead.")
        if key not in params:
            raise BadInputError(f"Model {model_name!r} has no option {key!r}; it accepts: {', '.join(params)}.")
        try:
            converted[key] = _convert(value, hints.get(key, Any))
        except _Mismatch:
            default = params[key].default
            example = json.dumps(list(default) if isinstance(default, tuple) else default)
            raise BadInputError(f"-o {key}={value!r} is not accepted: {model_name} wants {_describe(hints[key])} "
                                f"for {key}; e.g. -o {key}={example}.") from None
    return converted


def _read_info(run_dir: Path) -> dict[str, Any]:
    """``run.json`` as a dict, or one sentence when it is unreadable."""
    import json

    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        info = None
    if not isinstance(info, dict) or not isinstance(info.get("model"), str):
        raise BadInputError(f"Run {run_dir.name!r} has an unreadable run.json; train it again into a new --out.")
    return info


def _check_out(out_dir: Path, data_spec: str, *, resume: bool, overwrite: bool) -> None:
    """Refuse an --out inside the data folder (the run's PNGs would become training images next time) and an
    existing run folder without --resume or --overwrite (its files would be mixed with the new run's)."""
    data_path = Path(data_spec).expanduser()
    if data_path.is_dir() and out_dir.expanduser().resolve().is_relative_to(data_path.resolve()):
        raise BadInputError(f"--out {out_dir} lies inside the --data folder, so its PNGs would become training "
                            "images; pick an --out outside it.")
    if resume and overwrite:
        raise BadInputError("--resume continues a run and --overwrite replaces it; pass only one of them.")
    holds_run = (out_dir / "run.json").exists() or (out_dir / "checkpoint.pt").exists()
    if holds_run and not resume and not overwrite:
        raise BadInputError(f"{out_dir} already holds a training run; pass --resume to continue it, --overwrite "
                            "to replace it, or pick another --out.")
    if holds_run and overwrite:
        for pattern in OWN_FILES:
            for path in out_dir.glob(pattern):
                path.unlink()


def _resume_mismatches(info: dict[str, Any], given: dict[str, Any], model_config: dict[str, Any]) -> list[str]:
    """``"--seed 0 (now 5)"`` for every option recorded in ``run.json`` that the resumed command changes
    (``given`` keys are the CLI option names; ``model_config`` is the rebuilt model's, for ``-o`` options)."""
    import json

    data, train = info.get("data", {}), info.get("train_config", {})
    sources = {"model": (info, "model"), "--data": (data, "spec"), "--classes": (data, "trained_classes"),
               "--limit": (data, "limit"), "--seed": (data, "split_seed"), "--batch-size": (train, "batch_size"),
               "--image-size": (data, "image_size"), "--channels": (data, "channels"),
               "val_fraction": (data, "val_fraction")}
    changed = [f"{key} {where[field]!r} (now {given[key]!r})" for key, (where, field) in sources.items()
               if key in given and field in where and not _same_option(key, where[field], given[key])]
    recorded = stored_model_config(info.get("model_config", {}))
    current = json.loads(json.dumps(model_config, default=str))  # tuples -> lists, as run.json stores them
    changed += [f"-o {key}={recorded[key]!r} (now {current[key]!r})" for key in current
                if key in recorded and recorded[key] != current[key]]
    return changed


def _same_option(key: str, recorded: Any, given: Any) -> bool:
    """``--data col/`` and ``--data ./col`` name the same folder."""
    if key == "--data" and isinstance(recorded, str) and isinstance(given, str):
        paths = Path(recorded).expanduser(), Path(given).expanduser()
        if all(path.exists() for path in paths):
            return paths[0].resolve() == paths[1].resolve()
    return recorded == given


def _refuse_resume_changes(out_dir: Path, info: dict[str, Any], given: dict[str, Any],
                           model_config: dict[str, Any]) -> None:
    changed = _resume_mismatches(info, given, model_config)
    if changed:
        raise BadInputError(f"Cannot resume {out_dir.name!r}: it was trained with {', '.join(changed)}; resume "
                            "with the run's options (only --epochs, --max-steps and --max-seconds may change) "
                            "or train a new run with another --out.")


def trainable_classes(info: dict[str, Any]) -> list[int]:
    """Run class indices the model trained on: its ``--classes``, else every class its data had (a one-class
    folder builds a two-class model, whose second class never saw an image)."""
    data = info.get("data", {})
    trained = data.get("trained_classes")
    return [int(k) for k in trained] if trained else list(range(len(data.get("classes") or [])))


def _seeded_subset(data: ImageData, count: int) -> ImageData:
    """A seeded random subset: folder data is sorted by class, and its first images would be the first classes."""
    picked = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:count]
    return data.subset(picked.sort().values)


def _batched(function: Any, images: torch.Tensor, device: str | torch.device, size: int = 256) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([function(chunk.to(device)).float().cpu() for chunk in images.split(size)])


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


# PUBLIC API


def train_run(model_name: str, data_spec: str, out_dir: Path | str, *, config: TrainConfig, image_size: int = 32,
              channels: int | None = None, classes: list[int] | None = None, val_fraction: float = 0.1,
              limit: int | None = None, model_options: dict[str, Any] | None = None,
              resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Load ``data_spec`` (see ``data.load_dataset``), hold out ``val_fraction`` (seeded by ``config.seed``),
    optionally keep only ``classes`` for training, build ``model_name`` for the data's size, channels and class
    count, and train it into ``out_dir``. Returns a JSON-able summary (run folder, result, files, and the names
    of skipped files, which ``run.json`` leaves out).

    ``resume`` continues the run in ``out_dir`` and refuses a change of data, classes, limit, seed, batch size,
    image size, channels or model options (the split and the best-model comparison would mix two setups);
    ``overwrite`` first removes the run files (``OWN_FILES``) of a run already there.

    Raises:
        BadInputError: unknown or untrainable model, unreadable data, classes out of range, bad options, an
            ``out_dir`` inside the data folder or holding a run without ``resume``/``overwrite``, a resume that
            changes the setup.
    """
    model_kind(model_name)
    out_dir = Path(out_dir)
    options = coerce_model_options(model_name, model_options)
    _check_out(out_dir, data_spec, resume=resume, overwrite=overwrite)
    info = _read_info(out_dir) if resume and (out_dir / "run.json").exists() else None
    given = {"model": model_name, "--data": data_spec, "--limit": limit, "--seed": config.seed,
             "--batch-size": config.batch_size, "--image-size": image_size, "val_fraction": val_fraction}
    if info is not None:  # fail before loading the data
        _refuse_resume_changes(out_dir, info, given | ({"--channels": channels} if channels else {}), {})
    data = load_dataset(data_spec, image_size=image_size, channels=channels, limit=limit)
    classes = _parse_classes(classes, data)
    train, held_out = split_train_val(data, val_fraction=val_fraction, seed=config.seed)
    train, val = _with_classes(train, classes), _with_classes(held_out, classes)
    if len(train) == 0 or len(val) == 0:
        raise BadInputError(f"No images of classes {classes} in {data.source}; pick classes that occur in the data.")
    options = {"image_size": image_size, "channels": int(data.images.shape[1])} | options
    if model_name == "conditional-gan":
        options.setdefault("num_classes", max(2, len(data.class_names)))
    seed_everything(config.seed)
    model = build_model(model_name, **options)
    if info is not None:
        _refuse_resume_changes(out_dir, info, given | {"--classes": classes, "--channels": options["channels"]},
                               model.config)
    wanted = getattr(model, "num_classes", None) if getattr(model, "conditional", False) else None
    if wanted is not None and int(train.labels.max()) >= wanted:  # else an embedding lookup fails mid-training
        raise BadInputError(
            f"The data has {len(data.class_names)} classes but the model was built for num_classes={wanted}; "
            "leave num_classes out (it follows the data) or pick fewer classes."
        )
    data_info = {**train.describe(), "spec": data_spec, "image_size": image_size, "channels": options["channels"],
                 "limit": limit, "trained_classes": classes, "val_fraction": val_fraction, "split_seed": config.seed,
                 "held_out_count": len(held_out)}
    result = Trainer(model, config=config, out_dir=out_dir, run_info={"data": data_info}).fit(
        train.dataset(), val.dataset(), resume=resume)
    return {"run_dir": str(out_dir), "model": model_name, "kind": model_kind(model_name),
            "train_images": len(train), "val_images": len(val), "data": data.source,
            "result": {k: v for k, v in asdict(result).items() if k != "history"},
            "files": [str(out_dir / name) for name in RUN_FILES if (out_dir / name).exists()],
            "skipped_files": data.skipped}


def held_out_data(info: dict[str, Any], *, data_spec: str | None = None) -> ImageData:
    """Images the run never trained on: ``data_spec`` when given (Fashion-MNIST: its test split), else the
    run's own held-out split (all classes). Sized like the model's input."""
    data_info = info.get("data", {})
    config = info["model_config"]
    size, channels = config.get("image_size", 32), config.get("channels", 1)
    spec = data_spec or data_info.get("spec")
    if spec is None:
        raise BadInputError("This run does not record its data spec; pass --data with images to evaluate on.")
    if spec == "fashion-mnist" or spec.startswith("fashion-mnist:"):  # it has its own test split
        return load_dataset(spec, image_size=size, channels=channels, split="test")
    data = load_dataset(spec, image_size=size, channels=channels, limit=None if data_spec else data_info.get("limit"))
    if data_spec:
        return data
    _, held_out = split_train_val(data, val_fraction=data_info.get("val_fraction", 0.1),
                                  seed=data_info.get("split_seed", 0))
    return held_out


def list_runs(runs_dir: Path | str) -> list[str]:
    """Run folders under ``runs_dir`` (those holding a ``run.json``), as paths relative to it, sorted."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    return sorted(str(path.parent.relative_to(root)) for path in root.rglob("run.json"))


def resolve_run(runs_dir: Path | str, name: str) -> Path:
    """``runs_dir/name`` as a resolved path, refusing anything that escapes ``runs_dir`` (``..``, absolute
    paths, symlinks pointing outside) or is not a run folder. Messages leave the folder's path out: the hub
    shows them to members, who must not learn the server's layout."""
    root = Path(runs_dir).expanduser().resolve()
    path = (root / (name or "")).resolve()
    if not path.is_relative_to(root) or path == root:
        raise BadInputError(f"Run {name!r} is not inside the runs folder; pick a run from the list.")
    if not (path / "run.json").is_file():
        raise BadInputError(f"Run {name!r} does not exist in the runs folder; train one with `genai models train`.")
    return path


def run_summary(run_dir: Path | str) -> dict[str, Any]:
    """What the hub shows about a run: model, kind, data, classes, training result and its PNG files."""
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise BadInputError(f"Run {Path(run_dir).name!r} is not a training run (no run.json); train one with `genai models train`.")
    info = _read_info(run_dir)
    cls = model_class(info["model"])
    data = info.get("data", {})
    return {"run_dir": str(run_dir), "model": info["model"], "kind": model_kind(info["model"]),
            "conditional": bool(cls.conditional), "has_latent": bool(cls.has_latent),
            "class_names": data.get("classes", []), "trained_classes": trainable_classes(info),
            "data": data.get("spec", data.get("source")), "device": info.get("device"),
            "result": info.get("result"),
            "loss_curves": str(run_dir / "loss_curves.png") if (run_dir / "loss_curves.png").exists() else None,
            "samples": str(run_dir / "samples.png") if (run_dir / "samples.png").exists() else None}


def class_count(model: torch.nn.Module) -> int | None:
    """Number of classes a conditional model generates; None for unconditional models."""
    return int(model.num_classes) if getattr(model, "conditional", False) else None


def sample_images(model: torch.nn.Module, count: int, *, class_index: int | None = None,
                  labels: torch.Tensor | None = None, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """``count`` samples ``(count, C, H, W)`` in [0, 1] on CPU, reproducible for a ``seed``. Conditional models
    only: ``class_index`` picks one class, ``labels`` ``(count,)`` one class per sample; by default classes
    cycle 0, 1, 2, ...

    The global RNG is forked, not reseeded, so calling this from a server leaves other work's randomness alone.

    Raises:
        BadInputError: the model cannot sample (autoencoders), ``class_index`` on an unconditional model or out
            of range, ``labels`` out of range, ``count`` < 1.
    """
    name = getattr(model, "name", type(model).__name__)
    if not hasattr(model, "sample"):
        raise BadInputError(f"{name} reconstructs images but has no prior to sample from (autoencoders cannot "
                            "sample); train a VAE or GAN, or use `genai models evaluate`.")
    if not isinstance(count, int) or count < 1:
        raise BadInputError(f"count must be an integer >= 1; received {count!r}; e.g. -n 64.")
    classes = class_count(model)
    if class_index is not None and classes is None:
        raise BadInputError(f"--class only applies to conditional models; {name} is unconditional, so drop --class.")
    if class_index is not None and not 0 <= class_index < classes:
        raise BadInputError(f"--class {class_index} is out of range; this model has classes 0..{classes - 1}.")
    if labels is not None and (classes is None or len(labels) != count):
        raise BadInputError(f"labels need a conditional model and one label per sample ({count}); drop them.")
    if labels is not None and len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise BadInputError(f"labels must lie in 0..{classes - 1} for this model; received "
                            f"{int(labels.min())}..{int(labels.max())}; map them to the run's classes.")
    device = _device_of(model)
    if classes is not None and labels is None:
        labels = torch.full((count,), class_index) if class_index is not None else torch.arange(count) % classes
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        generator = torch.Generator(device=device).manual_seed(seed)
        chunks = [model.sample(len(index), labels=None if labels is None else labels[index].to(device),
                               generator=generator).float().cpu()
                  for index in torch.arange(count).split(batch_size)]
    return torch.cat(chunks).clamp(0, 1)


def sample_run(model: torch.nn.Module, info: dict[str, Any], count: int, *, class_index: int | None = None,
               seed: int = 0) -> torch.Tensor:
    """``sample_images`` limited to the classes the run trained on (``trainable_classes``): ``class_index`` must
    be one of them, and without it the samples cycle through them only.

    Raises:
        BadInputError: as ``sample_images``, or ``class_index`` names a class the run never trained on.
    """
    known = trainable_classes(info) if class_count(model) is not None else []
    if not known:
        return sample_images(model, count, class_index=class_index, seed=seed)
    names = info.get("data", {}).get("classes") or []
    if class_index is not None and class_index not in known:
        listed = ", ".join(f"{k} ({names[k]})" for k in known[:10])
        why = "is out of range" if not 0 <= class_index < len(names) else "is not a class this run trained on"
        raise BadInputError(f"--class {class_index} {why}; pick one of {listed}.")
    labels = None if class_index is not None else torch.tensor(known)[torch.arange(count) % len(known)]
    return sample_images(model, count, class_index=class_index, labels=labels, seed=seed)


def samples_per_class(model: torch.nn.Module, per_class: int, *, seed: int = 0) -> torch.Tensor:
    """Conditional models: ``(classes * per_class, C, H, W)``, class k in row k of a ``per_class``-column grid."""
    classes = class_count(model)
    if classes is None:
        raise BadInputError(f"{model.name} is unconditional; per-class samples need a conditional model.")
    return torch.cat([sample_images(model, per_class, class_index=k, seed=seed + k) for k in range(classes)])


def interpolate(model: torch.nn.Module, first: torch.Tensor, second: torch.Tensor, *, steps: int = 8
                ) -> torch.Tensor:
    """Decode ``steps`` evenly spaced points on the line between the latent codes of two ``(C, H, W)`` images
    -> ``(steps, C, H, W)`` in [0, 1] (first and last are the two reconstructions). VAEs use the posterior mean;
    for the Dirichlet VAE the line stays on the simplex.

    Raises:
        BadInputError: the model has no encoder (GANs), or ``steps`` < 2.
    """
    if not getattr(model, "has_latent", False):
        raise BadInputError(f"{model.name} has no encoder; latent interpolation needs an autoencoder or VAE run.")
    if not isinstance(steps, int) or steps < 2:
        raise BadInputError(f"steps must be an integer >= 2; received {steps!r}; e.g. 8.")
    device = _device_of(model)
    with torch.no_grad():
        latents = model.encode(torch.stack([first, second]).float().to(device))  # (2, D)
        weights = torch.linspace(0, 1, steps, device=device).unsqueeze(1)  # (steps, 1)
        path = (1 - weights) * latents[0] + weights * latents[1]  # (steps, D)
        return model.decode(path).float().cpu().clamp(0, 1)


def interpolate_run(run_dir: Path | str, first_index: int, second_index: int, *, steps: int = 8,
                    device: str = "cpu") -> torch.Tensor:
    """``interpolate`` between two held-out images of a run, chosen by their index in the held-out set."""
    model, info = load_run(run_dir, device=device)
    data = held_out_data(info)
    for index in (first_index, second_index):
        if not 0 <= index < len(data):
            raise BadInputError(f"Image index {index} is out of range; the held-out set has {len(data)} images.")
    return interpolate(model, data.images[first_index], data.images[second_index], steps=steps)


def reconstruction_errors(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared reconstruction error ``(N,)`` (the anomaly score: higher = more unusual)."""
    device = _device_of(model)
    return _batched(lambda chunk: (model.reconstruct(chunk) - chunk).pow(2).flatten(1).mean(dim=1), images, device)


def evaluate_run(run_dir: Path | str, *, data_spec: str | None = None, anomalies_spec: str | None = None,
                 count: int = 500, device: str = "cpu", extractor: Any = None, data_dir: Path | str | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """Score a run with the metrics that fit its kind (see the module docstring).

    Args:
        data_spec: evaluation images (default: the run's held-out split; Fashion-MNIST: its test split).
        anomalies_spec: images to treat as anomalies for AUROC (default: held-out images of classes the run
            did not train on, when it trained on a subset).
        count: at most this many evaluation images (and as many samples).
        extractor: feature extractor for FID/KID/precision/recall (default: the packaged EfficientNet-Lite0,
            which needs ``data_dir``).

    Raises:
        BadInputError: not a run folder, unreadable data, fewer than 5 evaluation images, evaluation classes a
            conditional run did not train on.
    """
    from genai_models.metrics import (
        FID_NAME,
        anomaly_auroc,
        generative_scores,
        psnr,
        reconstruction_mse,
        ssim,
    )

    model, info = load_run(run_dir, device=device)
    kind = model_kind(info["model"])
    if anomalies_spec and kind == "gan":
        raise BadInputError(f"--anomalies scores reconstruction error, which a GAN ({info['model']}) does not "
                            "have; drop --anomalies or evaluate an autoencoder or VAE run.")
    data = held_out_data(info, data_spec=data_spec)
    trained = info.get("data", {}).get("trained_classes")
    normal = _with_classes(data, trained) if trained and not data_spec else data
    if class_count(model) is not None:
        normal = _to_run_classes(normal, info)
    normal = _seeded_subset(normal, count)
    if len(normal) < 5:
        raise BadInputError(f"Only {len(normal)} evaluation images; pass --data with at least 5 images.")
    metrics: dict[str, float] = {}
    notes: list[str] = []
    if kind in ("gan", "vae"):
        if extractor is None:
            if data_dir is None:
                raise BadInputError("FID-EffNetLite0 needs the data directory holding the packaged weights.")
            from genai_models.metrics import effnet_extractor

            extractor = effnet_extractor(data_dir, device=device)
        labels = normal.labels if class_count(model) is not None else None  # conditional: the real class mix
        fake = sample_images(model, len(normal), labels=labels, seed=seed)
        metrics |= generative_scores(extractor, normal.images, fake, name=getattr(extractor, "name", FID_NAME))
        notes.append(FID_NOTE)
        if len(normal) < FID_FEATURES:
            notes.append(
                f"FID from {len(normal)} images per side, fewer than the {FID_FEATURES} feature dimensions: it is "
                "biased upward and comparable only with FIDs from the same number of images (KID is not biased)."
            )
    if kind in ("autoencoder", "vae"):
        recon = _batched(model.reconstruct, normal.images, device)
        metrics |= {"recon_mse": reconstruction_mse(recon, normal.images), "ssim": ssim(recon, normal.images),
                    "psnr": psnr(recon, normal.images)}
        anomalies = None
        if anomalies_spec:
            anomalies = load_dataset(anomalies_spec, image_size=info["model_config"].get("image_size", 32),
                                     channels=info["model_config"].get("channels", 1))
        elif trained and not data_spec:
            anomalies = _with_classes(data, trained, keep=False)
        if anomalies is not None and len(anomalies):
            anomalies = _seeded_subset(anomalies, count)
            metrics["anomaly_auroc"] = anomaly_auroc(reconstruction_errors(model, normal.images).numpy(),
                                                     reconstruction_errors(model, anomalies.images).numpy())
            notes.append(f"anomaly_auroc: reconstruction error of {len(normal)} normal vs {len(anomalies)} "
                         f"anomalous images ({anomalies_spec or 'evaluation images of the classes it did not train on'}).")
            fewest = min(len(normal), len(anomalies))
            if fewest < AUROC_RELIABLE:
                notes.append(f"anomaly_auroc from only {fewest} images on one side: one image can move it by "
                             f"{1 / fewest:.2f}, so treat it as a rough figure; evaluate at least "
                             f"{AUROC_RELIABLE} images per side (--count, more data) for a reliable one.")
    return {"run_dir": str(run_dir), "model": info["model"], "kind": kind, "device": device,
            "eval_images": len(normal), "data": data.source, "metrics": metrics, "notes": notes}
