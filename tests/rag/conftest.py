"""Fixtures for the document assistant: the packaged MiniLM, a real ``chroma run`` server, tiny text files.

Every document here is self-written test text; nothing is downloaded.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def minilm(model_cache_dir: Path):
    """The packaged MiniLM (real embeddings), loaded once per session."""
    from rag.embeddings import EmbeddingConfig, load_embeddings

    return load_embeddings(EmbeddingConfig(device="cpu"), model_cache_dir)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``chroma run`` server on 127.0.0.1 and a free port; yields its ``ChromaConfig``, then stops it."""
    from rag.vectorstore import ChromaConfig

    if not CHROMA.exists() and shutil.which("chroma") is None:
        pytest.skip("the chroma console script is not installed")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [
            str(CHROMA if CHROMA.exists() else "chroma"),
            "run",
            "--path",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma run did not open its port within 30 s")
    yield ChromaConfig(mode="server", host="127.0.0.1", port=port)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three short self-written documents in a folder."""
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "breach.md").write_text(
        "# Breach notification\n\nA covered entity shall notify each affected individual without unreasonable "
        "delay and in no case later than 60 calendar days after discovery of a breach.\n",
        encoding="utf-8",
    )
    (folder / "flood.txt").write_text(
        "Flood insurance covers direct physical loss by or from flood to the insured dwelling. A separate "
        "deductible applies to building and to contents claims.\n",
        encoding="utf-8",
    )
    (folder / "vendor.txt").write_text(
        "The vendor shall deliver goods within 14 days of a purchase order. Late deliveries incur a penalty "
        "of 2 percent of the order value per week of delay.\n",
        encoding="utf-8",
    )
    return folder
