"""The dental tab's balancing page shows only balanced datasets under the toolkit's own data dir: a typed or
crafted path (``..``, absolute) never reaches the file system. The report is a hand-written balance.json."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr


def _balancing_handler(data_dir: Path):
    from apps.services import Services
    from apps.settings import load_settings
    from apps.tabs import dental

    with gr.Blocks() as blocks:
        dental.build(Services(load_settings(data_dir=data_dir, device="cpu")))
    return next(fn.fn for fn in blocks.fns.values() if getattr(fn.fn, "__name__", "") == "balancing")


def test_balancing_page_lists_and_reads_only_the_toolkit_folder(tmp_path: Path) -> None:
    from domains.dental.balance import balanced_datasets, balanced_root

    folder = balanced_root(tmp_path) / "dc1000"
    folder.mkdir(parents=True)
    report = {
        "counts_before": {"healthy": 500, "caries-1": 40},
        "counts_after": {"healthy": 500, "caries-1": 300},
        "synthetic_counts": {"caries-1": 260},
        "fid_effnetlite0": {"caries-1": 41.5},
    }
    (folder / "balance.json").write_text(json.dumps(report))
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "balance.json").write_text(json.dumps(report))
    assert balanced_datasets(tmp_path) == ["dc1000"]

    balancing = _balancing_handler(tmp_path)
    table, _ = balancing("dc1000")
    assert "| caries-1 | 40 | 300 (260) | 41.5 |" in table
    for crafted in ("../../elsewhere", str(secret), "", None):
        message, gallery = balancing(crafted)
        assert gallery is None and "No balanced dataset chosen" in message


def test_balanced_datasets_made_after_start_are_listed_on_page_load(tmp_path: Path) -> None:
    """UI review: the list was fixed when the server built the page, and the API refused every name."""
    from apps.services import Services
    from apps.settings import load_settings
    from apps.tabs import dental
    from domains.dental.balance import balanced_root

    with gr.Blocks() as blocks:
        dental.build(Services(load_settings(data_dir=tmp_path, device="cpu")))
    events = [fn for fn in blocks.fns.values() if getattr(fn.fn, "__name__", "") == "listed"]
    assert {target[1] for fn in events for target in fn.targets} == {"click", "load"}
    listed = events[0]
    (balanced_root(tmp_path) / "later").mkdir(parents=True)
    (balanced_root(tmp_path) / "later" / "balance.json").write_text("{}")
    assert listed.fn()["choices"] == ["later"]
    dropdown = next(b for b in blocks.blocks.values() if isinstance(b, gr.Dropdown))
    assert dropdown.allow_custom_value


def test_teeth_tab_offers_the_clis_files_for_download(tmp_path: Path) -> None:
    """UI review: the tab showed the overlay only; the label map and teeth.json were CLI-only. Shipped weights on
    a synthetic panoramic (domains.dental.phantom)."""
    import numpy as np
    from PIL import Image

    from apps.services import Services
    from apps.settings import load_settings
    from apps.tabs import dental
    from domains.dental.phantom import make_phantom

    services = Services(load_settings(data_dir=tmp_path / "data", device="cpu"))
    with gr.Blocks() as blocks:
        dental.build(services)
    analyse = next(fn.fn for fn in blocks.fns.values() if getattr(fn.fn, "__name__", "") == "analyse")
    image = make_phantom(1, (256, 512))[0]
    xray = tmp_path / "pano.png"
    Image.fromarray(image).save(xray)
    overlay, rows, notes, files = analyse(str(xray))
    assert overlay is not None and rows and "draft" in notes.lower()
    assert {Path(f).name for f in files} == {"teeth.png", "overlay.png", "teeth.json"}
    assert np.asarray(Image.open(next(f for f in files if f.endswith("teeth.png")))).shape == image.shape[:2]
    assert not any(Path(f).is_relative_to(tmp_path / "data") for f in files)  # served from copies
    assert analyse(None)[3] is None
