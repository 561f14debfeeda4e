"""Files a dentist opens: ``teeth.png`` (FDI label map at the input size), ``overlay.png`` (outlines, numbers,
legend, draft banner) and ``teeth.json``. The overlay is drawn at most ``MAX_OVERLAY_WIDTH`` wide; the label
map is always at the input's exact size."""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from data_connectors.errors import BadInputError
from domains.dental import DRAFT_NOTICE
from domains.dental.labels import CARIES_NAMES, FDI_TEETH
from domains.dental.segment import DentalResult

MAX_OVERLAY_WIDTH = 2048
CARIES_COLOURS = {1: (255, 220, 0), 2: (255, 120, 0), 3: (255, 0, 60)}


def fdi_colour(fdi: int) -> tuple[int, int, int]:
    """A stable, distinct colour per FDI number (hue walks the 32 teeth, quadrants alternate lightness)."""
    index = FDI_TEETH.index(fdi) if fdi in FDI_TEETH else 0
    hue = (index * 0.618034) % 1.0
    red, green, blue = colorsys.hls_to_rgb(hue, 0.55 if (fdi // 10) % 2 else 0.45, 0.85)
    return int(red * 255), int(green * 255), int(blue * 255)


def _outline(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return mask & ~ndimage.binary_erosion(mask, iterations=max(1, mask.shape[1] // 700))


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(10, size))


def render_overlay(result: DentalResult) -> Image.Image:
    """RGB overlay: teeth outlined in their colour with their FDI number, caries filled, legend, banner."""
    height, width = result.teeth_map.shape
    scale = min(1.0, MAX_OVERLAY_WIDTH / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grey = Image.fromarray(np.round(result.grey * 255).astype(np.uint8)).resize(size, Image.BILINEAR)
    teeth = np.asarray(Image.fromarray(result.teeth_map).resize(size, Image.NEAREST))
    canvas = np.repeat(np.asarray(grey)[..., None], 3, axis=2).astype(np.float32)
    for tooth in result.teeth:
        mask = teeth == tooth.fdi
        colour = np.array(fdi_colour(tooth.fdi), dtype=np.float32)
        canvas[mask] = canvas[mask] * 0.8 + colour * 0.2
        canvas[_outline(mask)] = colour
    if result.caries_map is not None:
        caries = np.asarray(Image.fromarray(result.caries_map).resize(size, Image.NEAREST))
        for label, colour in CARIES_COLOURS.items():
            mask = caries == label
            canvas[mask] = canvas[mask] * 0.4 + np.array(colour, dtype=np.float32) * 0.6
    image = Image.fromarray(canvas.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    text_size = max(10, size[0] // 60)
    for tooth in result.teeth:
        x0, y0, x1, y1 = (v * scale for v in tooth.box_xyxy)
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        draw.text(centre, str(tooth.fdi), fill=(255, 255, 255), font=_font(text_size), anchor="mm",
                  stroke_width=2, stroke_fill=(0, 0, 0))  # fmt: skip
    return _with_legend_and_banner(image, result, text_size)


def _with_legend_and_banner(image: Image.Image, result: DentalResult, text_size: int) -> Image.Image:
    rows = [(f"{t.fdi}  {t.confidence:.2f}", fdi_colour(t.fdi)) for t in result.teeth]
    if result.caries_map is not None:
        rows += [(CARIES_NAMES[k], c) for k, c in CARIES_COLOURS.items()]
    font = _font(text_size)
    line = int(text_size * 1.4)
    per_column = max(1, (image.height - 2 * line) // line)
    columns = max(1, -(-len(rows) // per_column))
    legend_width = columns * text_size * 7
    banner = line + 8
    width = max(image.width + legend_width, int(font.getlength(DRAFT_NOTICE)) + 12)  # the notice never cut off
    framed = Image.new("RGB", (width, image.height + banner), (20, 20, 20))
    framed.paste(image, (0, banner))
    draw = ImageDraw.Draw(framed)
    draw.text((6, 4), DRAFT_NOTICE, fill=(255, 210, 0), font=font)
    draw.text((image.width + 6, banner), "FDI  conf.", fill=(230, 230, 230), font=font)
    for i, (label, colour) in enumerate(rows):
        column, row = divmod(i, per_column)
        x, y = image.width + 6 + column * text_size * 7, banner + (row + 1) * line
        draw.rectangle([x, y + 2, x + text_size - 2, y + text_size], fill=colour)
        draw.text((x + text_size + 4, y), label, fill=(230, 230, 230), font=font)
    return framed


def write_outputs(result: DentalResult, out_dir: Path) -> dict[str, str]:
    """Write ``teeth.png``, ``overlay.png``, ``teeth.json`` (+ ``caries.png`` with a caries model).

    Raises:
        BadInputError: ``out_dir`` (or a folder above it) is an existing file.
    """
    out_dir = Path(out_dir)
    blocking = next((p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise BadInputError(
            f"--out {out_dir} cannot be a folder: {blocking} is a file; choose another --out."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "teeth": out_dir / "teeth.png",
        "overlay": out_dir / "overlay.png",
        "json": out_dir / "teeth.json",
    }
    Image.fromarray(result.teeth_map).save(paths["teeth"])
    render_overlay(result).save(paths["overlay"])
    if result.caries_map is not None:
        paths["caries"] = out_dir / "caries.png"
        Image.fromarray(result.caries_map).save(paths["caries"])
    document = {**result.to_json(), "files": {k: str(v) for k, v in paths.items()}}
    paths["json"].write_text(json.dumps(document, indent=2))
    return {k: str(v) for k, v in paths.items()}
