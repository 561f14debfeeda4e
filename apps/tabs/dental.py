"""Dental tab: upload a panoramic X-ray -> numbered teeth overlay, legend and tooth table (+ caries once the
user trained a caries model); a balancing page shows per-class counts before/after and synthetic samples."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from apps.services import Services

TITLE = "Dental"


def build(services: Services) -> None:
    from apps.hub import gpu_event, on_page_load
    from domains.dental.balance import balanced_datasets, balanced_root

    settings = services.settings

    def analyse(path: str | None, request: gr.Request | None = None) -> tuple[Any, list[list[Any]], str, Any]:
        import uuid

        from data_connectors.errors import BadInputError
        from domains.dental.render import render_overlay, write_outputs
        from domains.dental.segment import analyse_radiograph
        from genai_models.runtime import resolve_device

        if not path:
            return None, [], "Upload a panoramic radiograph (PNG/JPG/BMP/TIFF or DICOM).", None
        caries = settings.dental.caries_path(settings.data_dir)
        try:
            result = analyse_radiograph(
                path,
                teeth_weights=settings.dental.teeth_path(),
                caries_weights=caries,
                device=resolve_device(settings.dental.device),
                mirror_average=settings.dental.mirror_average,
            )
        except BadInputError as error:
            return None, [], f"**Cannot analyse this file:** {error}", None
        rows = [[t.fdi, round(t.confidence, 4), t.area_px, str(t.box_xyxy)] for t in result.teeth]
        notes = [f"**{result.to_json()['notice']}**", f"{len(result.teeth)} teeth found."]
        notes += [f"Warning: {w}" for w in result.warnings]
        if caries is None:
            notes.append("Caries overlay: no caries model yet; train one with "
                         "`genai dental train caries --data <DC1000-layout folder>`.")  # fmt: skip
        else:
            notes.append(f"{len(result.caries)} suspected caries regions (colour legend on the right).")
        # the CLI's files (label map in the upload's size, overlay, teeth.json), kept in the user's own outputs
        # folder and served as copies, like the radiology tab's
        user = services.access.user(request).name
        files = write_outputs(result, services.user_files.folder(user, "outputs") / "dental" / uuid.uuid4().hex[:12])
        return render_overlay(result), rows, "\n\n".join(notes), services.user_files.publish(list(files.values()))

    def balancing(name: str | None) -> tuple[str, Any]:
        # Only folders under the toolkit's own balanced-datasets root: a typed path could read any server folder.
        root = balanced_root(services.settings.data_dir)
        if not name or name not in balanced_datasets(services.settings.data_dir):
            return (f"No balanced dataset chosen; run `genai dental balance DATASET` (it writes under {root}) "
                    "and press Refresh.", None)  # fmt: skip
        folder = root / name
        report = json.loads((folder / "balance.json").read_text())
        lines = ["| class | before | after (synthetic) | FID-EffNetLite0 |", "|---|---|---|---|"]
        for label, before in report["counts_before"].items():
            synthetic = report["synthetic_counts"].get(label, 0)
            fid = report["fid_effnetlite0"].get(label)
            lines.append(
                f"| {label} | {before} | {report['counts_after'][label]} ({synthetic}) | {fid or '-'} |"
            )
        grids = sorted(folder.glob("samples_*.png"))
        return "\n".join(lines), [(str(g), g.stem) for g in grids]

    with gr.Tab("Teeth and caries"):
        upload = gr.File(label="Panoramic radiograph", type="filepath")
        overlay = gr.Image(label="Numbered teeth (draft for review)", type="pil")
        notes = gr.Markdown()
        table = gr.Dataframe(headers=["FDI", "confidence", "area px", "box xyxy"], label="Teeth")
        downloads = gr.File(label="Downloads: teeth.png (FDI label map), overlay.png, teeth.json", file_count="multiple")
        upload.change(analyse, inputs=upload, outputs=[overlay, table, notes, downloads], **gpu_event(services))
    with gr.Tab("Class balancing"):
        with gr.Row():
            # choices refreshed on every page load; any typed name is accepted, since ``balancing`` checks it
            # against the balanced-datasets root (an API client cannot see the page's list)
            dataset = gr.Dropdown(
                balanced_datasets(services.settings.data_dir),
                value=None,
                label="Balanced dataset",
                allow_custom_value=True,
            )
            refresh = gr.Button("Refresh list")
        counts = gr.Markdown()
        gallery = gr.Gallery(label="Synthetic samples per class")
        def listed() -> dict[str, Any]:
            return gr.update(choices=balanced_datasets(services.settings.data_dir))

        refresh.click(listed, outputs=dataset)
        on_page_load(listed, outputs=dataset)
        dataset.change(balancing, inputs=dataset, outputs=[counts, gallery])
