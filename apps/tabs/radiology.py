"""Radiology tab: upload a brain MRI (NIfTI or DICOM zip) and optional notes; get the brain mask, a slice viewer
with the mask outline, downloads and a draft report. Handlers only delegate to ``domains.radiology``."""

from __future__ import annotations

import uuid
from typing import Any

import gradio as gr

from apps.services import Services
from apps.tabs.errors import user_error

TITLE = "Radiology"
PLANES = ["axial", "coronal", "sagittal"]


def build(services: Services) -> None:
    from apps.hub import gpu_event
    from domains.radiology.pipeline import DRAFT_LABEL
    from genai_models.runtime import resolve_device

    config = services.settings.radiology
    device = config.device if config.device != "auto" else services.settings.device

    def run(
        upload: str | None,
        notes: str,
        engine: str,
        series: str,
        threshold: float,
        request: gr.Request | None = None,
        progress=gr.Progress(),  # noqa: B008
    ):
        from data_connectors.errors import BadInputError
        from domains.radiology.overlay import slice_rgb
        from domains.radiology.pipeline import DRAFT_REPORT_NAME, run_strip, viewer_volume
        from domains.radiology.report import draft_report

        if not upload:
            raise user_error("Upload a .nii/.nii.gz file or a zip of one DICOM series first.")
        user = services.access.user(request).name  # results go to the user's own outputs folder
        out_dir = services.user_files.folder(user, "outputs") / "radiology" / uuid.uuid4().hex[:12]
        try:
            report = run_strip(
                upload,
                out_dir,
                engine=engine,
                device=device,
                series=series.strip() or None,
                threshold=threshold,
                # the strip's own "done" is not the end here: the viewer and the draft follow
                progress=lambda fraction, message: progress(0.8 * fraction, desc=message),
            )
            volume = viewer_volume(upload, out_dir, series=series.strip() or None)
            progress(0.85, desc="drafting the report" + (" (the language model)" if notes.strip() else ""))
            chat = services.chat_model() if notes.strip() else None
            draft = draft_report(report, notes, chat)
        except BadInputError as error:
            raise user_error(str(error)) from None
        (out_dir / DRAFT_REPORT_NAME).write_text(draft.text + "\n", encoding="utf-8")
        files = [str(out_dir / name) for key, name in report.outputs.items() if key != "brain_dicom"]
        files += [str(out_dir / "report.json"), str(out_dir / DRAFT_REPORT_NAME)]
        depth = volume.depth("axial") - 1
        centre = volume.centre("axial")
        return (
            volume,
            slice_rgb(volume, "axial", centre),
            gr.update(value="axial"),
            gr.update(maximum=depth, value=centre),
            report.model_dump(mode="json"),
            draft.text,
            services.user_files.publish(files),  # copies: the data dir is never served directly
        )

    def clear():
        """Empty outputs: a new upload, or a run that fails, never leaves the previous patient's on screen."""
        return None, None, gr.update(value="axial"), gr.update(maximum=1, value=0), None, "", None

    def show(volume: Any, plane: str, index: float):
        from domains.radiology.overlay import slice_rgb

        return None if volume is None else slice_rgb(volume, plane, int(index))

    def change_plane(volume: Any, plane: str):
        from domains.radiology.overlay import slice_rgb

        if volume is None:
            return None, gr.update()
        centre = volume.centre(plane)
        return slice_rgb(volume, plane, centre), gr.update(maximum=volume.depth(plane) - 1, value=centre)

    gr.Markdown(
        f"Brain MRI skull stripping. Every output is a **{DRAFT_LABEL}**. Device: {resolve_device(device)}"
    )
    volume_state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(
                label="NIfTI (.nii, .nii.gz) or DICOM series (.zip)",
                type="filepath",
                file_types=[".nii", ".gz", ".zip"],
            )
            notes = gr.Textbox(label="Clinical notes (optional)", lines=5)
            engine = gr.Dropdown(["deepbet", "unet"], value=config.engine, label="Engine")
            series = gr.Textbox(label="DICOM series (only if the zip holds several)", max_lines=1)
            threshold = gr.Slider(
                0.05, 0.95, value=config.mask_threshold, step=0.05,
                label="Mask threshold (lower keeps a larger outline, like BET's -f)",
            )  # fmt: skip
            run_button = gr.Button("Strip skull", variant="primary")
        with gr.Column(scale=2):
            viewer = gr.Image(label=f"Mask outline ({DRAFT_LABEL})", type="numpy", interactive=False)
            plane = gr.Radio(PLANES, value="axial", label="Plane")
            index = gr.Slider(0, 1, value=0, step=1, label="Slice")
    draft = gr.Textbox(label="Draft report", lines=10)
    with gr.Row():
        report_json = gr.JSON(label="report.json")
        downloads = gr.File(label="Downloads", file_count="multiple")
    outputs = [volume_state, viewer, plane, index, report_json, draft, downloads]
    upload.change(clear, None, outputs)
    run_button.click(clear, None, outputs).then(
        run, [upload, notes, engine, series, threshold], outputs, **gpu_event(services)
    )
    plane.change(change_plane, [volume_state, plane], [viewer, index])
    index.change(show, [volume_state, plane, index], [viewer])
