"""Dental tab: upload a panoramic X-ray -> numbered teeth overlay, legend and tooth table (+ caries once the
user trained a caries model); a balancing page shows per-class counts before/after and synthetic samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from apps.services import Services

TITLE = "Dental"


def build(services: Services) -> None:
    settings = services.settings

    def analyse(path: str | None) -> tuple[Any, list[list[Any]], str]:
        from data_connectors.errors import BadInputError
        from domains.dental.render import render_overlay
        from domains.dental.segment import analyse_radiograph
        from genai_models.runtime import resolve_device

        if not path:
            return None, [], "Upload a panoramic radiograph (PNG/JPG/BMP/TIFF or DICOM)."
        caries = settings.dental.caries_path(settings.data_dir)
        try:
            result = analyse_radiograph(path, teeth_weights=settings.dental.teeth_path(), caries_weights=caries,
                                        device=resolve_device(settings.dental.device))  # fmt: skip
        except BadInputError as error:
            return None, [], f"**Cannot analyse this file:** {error}"
        rows = [[t.fdi, t.confidence, t.area_px, str(t.box_xyxy)] for t in result.teeth]
        notes = [f"**{result.to_json()['notice']}**", f"{len(result.teeth)} teeth found."]
        notes += [f"Warning: {w}" for w in result.warnings]
        if caries is None:
            notes.append("Caries overlay: no caries model yet; train one with "
                         "`genai dental train caries --data <DC1000-layout folder>`.")  # fmt: skip
        else:
            notes.append(f"{len(result.caries)} suspected caries regions (colour legend on the right).")
        return render_overlay(result), rows, "\n\n".join(notes)

    def balancing(folder: str) -> tuple[str, Any]:
        report_file = Path(folder or "") / "balance.json"
        if not report_file.is_file():
            return "No balance.json there; run `genai dental balance DATASET --out DIR` first.", None
        report = json.loads(report_file.read_text())
        lines = ["| class | before | after (synthetic) | FID-EffNetLite0 |", "|---|---|---|---|"]
        for name, before in report["counts_before"].items():
            synthetic = report["synthetic_counts"].get(name, 0)
            fid = report["fid_effnetlite0"].get(name)
            lines.append(
                f"| {name} | {before} | {report['counts_after'][name]} ({synthetic}) | {fid or '-'} |"
            )
        grids = sorted(Path(folder).glob("samples_*.png"))
        return "\n".join(lines), [(str(g), g.stem) for g in grids]

    with gr.Tab("Teeth and caries"):
        upload = gr.File(label="Panoramic radiograph", type="filepath")
        overlay = gr.Image(label="Numbered teeth (draft for review)", type="pil")
        notes = gr.Markdown()
        table = gr.Dataframe(headers=["FDI", "confidence", "area px", "box xyxy"], label="Teeth")
        upload.change(analyse, inputs=upload, outputs=[overlay, table, notes])
    with gr.Tab("Class balancing"):
        folder = gr.Textbox(label="Balanced dataset folder (from `genai dental balance`)")
        counts = gr.Markdown()
        gallery = gr.Gallery(label="Synthetic samples per class")
        gr.Button("Show").click(balancing, inputs=folder, outputs=[counts, gallery])
