"""The hub builds, serves on loopback, streams a chat reply through gradio_client and shows the status page."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_hub(model_cache_dir):
    import uvicorn

    from apps.server import create_app
    from apps.services import Services
    from apps.settings import load_settings
    from rag.llm import LLMConfig

    settings = load_settings(
        data_dir=model_cache_dir, device="cpu", llm=LLMConfig(model="smollm2-135m", max_new_tokens=16)
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(Services(settings)), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def test_hub_serves_health_status_and_streaming_chat(live_hub: str) -> None:
    import httpx
    from gradio_client import Client

    assert httpx.get(live_hub + "healthz").json() == {"status": "ok"}
    assert httpx.get(live_hub).status_code == 200
    client = Client(live_hub, verbose=False)
    job = client.submit("Say hello in three words.", api_name="/chat")
    job.result(timeout=120)
    outputs = job.outputs()
    assert outputs and isinstance(outputs[-1], str) and outputs[-1].strip()


def test_uploads_and_results_live_in_a_private_temp_folder(monkeypatch, tmp_path: Path) -> None:
    """Review: /tmp/gradio held uploads named after patients, world-readable, after the server stopped."""
    import os
    import stat

    from apps.server import private_temp_dir
    from apps.users import UserFiles

    monkeypatch.setenv("GRADIO_TEMP_DIR", "")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = private_temp_dir()
    assert os.environ["GRADIO_TEMP_DIR"] == str(folder) and folder.parent == tmp_path
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    result = tmp_path / "report.json"
    result.write_text("{}")
    (published,) = UserFiles.publish([result])
    assert Path(published).parent.parent == folder
