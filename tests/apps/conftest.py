"""A hub with user accounts, served on loopback once per test session (API, gradio_client, browser tests).

Fixture data is synthetic and written here: two one-paragraph Markdown knowledge bases, ``policies``
(granted to alice) and ``secret-kb`` (granted to bob), plus an admin. The model cache is the session's
shared data dir; the database and the vectors live in this fixture's own folder, so other hub tests keep
running in local mode.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

POLICY_TEXT = (
    "# Claims policy\n\nClaims must be filed within 30 days of the date of loss. A late claim needs a "
    "written explanation from the policy holder.\n"
)
SECRET_TEXT = "# Vault\n\nThe vault access code is 4417-ALPHA. Only the security team may know it.\n"
PASSWORDS = {"root": "root-password-1", "alice": "alice-password-1", "bob": "bob-password-1"}


@dataclass
class SecuredHub:
    url: str
    services: object  # apps.services.Services
    keys: dict[str, str]
    passwords: dict[str, str]
    docs: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app) -> tuple[str, object, threading.Thread]:
    """Run ``app`` with uvicorn in a daemon thread on a free loopback port; returns (url, server, thread)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server, thread


@pytest.fixture
def start_server():
    """``url = start_server(app)`` serves an ASGI app on loopback until the test ends."""
    started = []

    def start(app) -> str:
        url, server, thread = serve(app)
        started.append((server, thread))
        return url

    yield start
    for server, thread in started:
        server.should_exit = server.force_exit = True  # do not wait for open event streams
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def secured_hub(model_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from apps.server import create_app
    from apps.services import Services
    from apps.settings import load_settings
    from data_connectors.database import DatabaseConfig
    from rag.llm import LLMConfig
    from rag.vectorstore import ChromaConfig

    own = tmp_path_factory.mktemp("secured-hub")
    settings = load_settings(
        data_dir=model_cache_dir,
        device="cpu",
        llm=LLMConfig(model="smollm2-135m", max_new_tokens=40),
        database=DatabaseConfig(url=f"sqlite:///{own / 'toolkit.sqlite'}"),
        chroma=ChromaConfig(path=own / "chroma"),
        uploads={"max_mb": 1.0},
    )
    services = Services(settings)
    docs = own / "docs"
    for collection, name, text in [
        ("policies", "claims.md", POLICY_TEXT),
        ("secret-kb", "vault.md", SECRET_TEXT),
    ]:
        (docs / collection).mkdir(parents=True)
        (docs / collection / name).write_text(text)
        services.ingest([docs / collection], collection)
    services.users.add("root", PASSWORDS["root"], admin=True)
    services.users.add("alice", PASSWORDS["alice"])
    services.users.add("bob", PASSWORDS["bob"])
    services.users.grant("alice", "policies")
    services.users.grant("bob", "secret-kb")
    keys = {name: services.users.new_api_key(name) for name in PASSWORDS}
    url, server, thread = serve(create_app(services))
    yield SecuredHub(url=url, services=services, keys=keys, passwords=PASSWORDS, docs=docs)
    server.should_exit = server.force_exit = True  # do not wait for open event streams
    thread.join(timeout=10)
