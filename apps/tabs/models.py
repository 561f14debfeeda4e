"""Generative-models tab: pick a training run (only runs under ``settings.models`` runs folder), see its loss
curves, draw samples (per class for conditional models) and interpolate between two held-out images in the
latent space of autoencoders and VAEs. Sampling and interpolation join the shared GPU queue."""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Generative models"
ALL_CLASSES = "all classes"


def build(services: Services) -> None:
    from apps.hub import gpu_event, on_page_load
    from genai_models.runs import list_runs

    settings = services.settings
    runs_dir = settings.models.runs_path(settings.data_dir)

    def _run(name: str | None):
        from data_connectors.errors import BadInputError
        from genai_models.runs import resolve_run

        try:
            return resolve_run(runs_dir, name or "")
        except BadInputError as error:
            raise user_error(str(error)) from None

    def _load(name: str | None):
        from genai_models.runtime import resolve_device
        from genai_models.trainer import load_run

        return load_run(_run(name), device=resolve_device(settings.device))

    def _grid(images, columns: int) -> Any:
        from genai_models.blocks import make_grid

        return make_grid(images, columns=columns).numpy()

    def refresh() -> Any:
        return gr.update(choices=list_runs(runs_dir))

    def no_run(request: gr.Request | None = None) -> str:
        """The hint for an empty selection; the runs folder (a server path) is named to admins only."""
        try:
            folder = f"`{runs_dir}`" if services.access.user(request).is_admin else "the runs folder"
        except ValueError as error:
            raise user_error(str(error)) from None
        return (
            f"No run selected. Train one into {folder} with "
            "`genai models train MODEL --data digits --out <runs folder>/NAME`."
        )

    def show(name: str | None, request: gr.Request | None = None) -> tuple[str, Any, Any, Any]:
        from genai_models.runs import run_summary

        if not name:
            return no_run(request), None, None, gr.update(choices=[ALL_CLASSES], value=ALL_CLASSES)
        summary = run_summary(_run(name))
        result = summary["result"] or {}
        data = str(summary["data"])
        if "/" in data and not services.access.user(request).is_admin:  # a server folder: its name only
            data = data.rstrip("/").rsplit("/", 1)[-1]
        lines = [
            f"**{summary['model']}** ({summary['kind']}), data `{data}`, trained on "
            f"{summary['device']}",
            f"{result.get('epochs_completed', '?')} epochs, {result.get('steps', '?')} steps "
            f"({result.get('stopped_reason', 'unfinished')}); best {result.get('monitor')} = "
            f"{result.get('best_metric')}",
        ]
        if not summary["has_latent"]:
            lines.append("Latent interpolation needs an autoencoder or VAE run.")
        classes = [ALL_CLASSES]
        if summary["conditional"]:  # only the classes the run trained on (--classes, one-class folders)
            classes += [
                f"{k}: {label}" for k, label in enumerate(summary["class_names"]) if k in summary["trained_classes"]
            ]
        return (
            "\n\n".join(lines),
            summary["loss_curves"],
            summary["samples"],
            gr.update(choices=classes, value=ALL_CLASSES),
        )

    def sample(name: str | None, count: float, choice: str, seed: float) -> Any:
        import torch

        from data_connectors.errors import BadInputError
        from genai_models.runs import class_count, sample_run, trainable_classes

        count = int(count)
        try:
            model, info = _load(name)
            if choice and choice != ALL_CLASSES:
                images = sample_run(model, info, count, class_index=int(choice.split(":")[0]), seed=int(seed))
                return _grid(images, 8)
            if class_count(model) is not None:  # one row per class the run trained on
                trained = trainable_classes(info)
                per_class = max(1, count // len(trained))
                rows = [sample_run(model, info, per_class, class_index=k, seed=int(seed) + k) for k in trained]
                return _grid(torch.cat(rows), per_class)
            return _grid(sample_run(model, info, count, seed=int(seed)), 8)
        except BadInputError as error:
            raise user_error(str(error)) from None

    def interpolate(name: str | None, first: float, second: float, steps: float) -> Any:
        from data_connectors.errors import BadInputError
        from genai_models.runs import interpolate_run
        from genai_models.runtime import resolve_device

        try:
            strip = interpolate_run(
                _run(name), int(first), int(second), steps=int(steps), device=resolve_device(settings.device)
            )
        except BadInputError as error:
            raise user_error(str(error)) from None
        return _grid(strip, int(steps))

    gpu = gpu_event(services)  # the hub-wide "gpu" queue, sized by settings.server.gpu_concurrency
    runs = list_runs(runs_dir)
    with gr.Row():
        run = gr.Dropdown(runs, value=None, label="Training run")
        gr.Button("Refresh list").click(refresh, outputs=run)
    summary = gr.Markdown()
    on_page_load(no_run, summary)
    with gr.Row():
        curves = gr.Image(label="Loss curves", type="filepath")
        training_samples = gr.Image(label="Last training preview", type="filepath")
    with gr.Tab("Sample"):
        with gr.Row():
            count = gr.Slider(1, 256, value=64, step=1, label="Images")
            label = gr.Dropdown([ALL_CLASSES], value=ALL_CLASSES, label="Class (conditional models)")
            seed = gr.Number(0, precision=0, label="Seed")
        grid = gr.Image(label="Samples (conditional, all classes: one row per class)")
        gr.Button("Sample").click(sample, [run, count, label, seed], grid, **gpu)
    with gr.Tab("Interpolate (AE/VAE)"):
        with gr.Row():
            first = gr.Number(0, precision=0, label="First held-out image #")
            second = gr.Number(1, precision=0, label="Second held-out image #")
            steps = gr.Slider(2, 16, value=8, step=1, label="Steps")
        strip = gr.Image(label="Decoded points on the latent line between the two images")
        gr.Button("Interpolate").click(interpolate, [run, first, second, steps], strip, **gpu)
    run.change(show, run, [summary, curves, training_samples, label])
