"""The Generative-models tab never sends the server's data-dir path to members: not in the page config every
visitor receives, and in the empty-selection hint only for admins. No run is trained (empty runs folder)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from apps.settings import load_settings
from apps.tabs import models


def test_the_runs_folder_is_shown_to_admins_only(tmp_path: Path) -> None:
    from apps.services import Services

    services = Services(load_settings(data_dir=tmp_path, device="cpu"))
    with gr.Blocks() as blocks:
        models.build(services)
    assert str(tmp_path) not in json.dumps(blocks.get_config_file())
    no_run = next(fn.fn for fn in blocks.fns.values() if fn.fn.__name__ == "no_run")
    services.users.add("alice", "alice-password-1")  # in this test's own database, gone with tmp_path
    services.users.add("root", "root-password-1", admin=True)
    assert str(tmp_path) not in no_run(SimpleNamespace(username="alice"))
    assert str(tmp_path) in no_run(SimpleNamespace(username="root"))
    # A run trained from a server folder: members see the folder's name, admins the path.
    run = tmp_path / "models" / "runs" / "xray-vae"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"model": "vae", "data": {"spec": "/srv/hospital-a/xrays"}}))
    show = next(fn.fn for fn in blocks.fns.values() if fn.fn.__name__ == "show")
    assert "`xrays`" in show("xray-vae", SimpleNamespace(username="alice"))[0]
    assert "/srv/hospital-a/xrays" in show("xray-vae", SimpleNamespace(username="root"))[0]
