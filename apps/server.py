"""One HTTP server: the Gradio hub at ``/`` and the OpenAI-compatible API at ``/v1``, run by uvicorn.

With user accounts the hub asks for a login (checked against ``apps.users``) and the API for a per-user key.
Without any, the toolkit is in local mode: one operator, no login, and the server refuses to bind anywhere
but loopback. Gradio may serve only its own upload/cache folders; the data dir (database, vectors, other
people's uploads and outputs) is blocked outright, so no ``/gradio_api/file=`` path can reach it, and inside
the shared cache each file is served only to the person it was given to (``apps.private_files``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from apps.services import Services
from data_connectors.errors import BadInputError

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(services: Services, *, host: str = "127.0.0.1"):
    import gradio as gr
    from fastapi import FastAPI

    from apps.api import install_api
    from apps.hub import build_hub
    from apps.private_files import protect_cached_files

    api = FastAPI(title="genai-toolkit", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_api(api, services, require_keys=host not in LOOPBACK)  # beyond loopback: keys, always
    hub = build_hub(services)
    with_users = services.users.has_users()
    app = gr.mount_gradio_app(
        api,
        hub,
        path="/",
        auth=services.users.authenticate if with_users else None,
        auth_message="Log in with the account your administrator created for you (genai users add).",
        footer_links=["api", "settings"],
        run_history=False,  # it keeps questions in the browser and offers uploads to a cloud bucket
        allowed_paths=[],
        blocked_paths=[str(services.settings.data_dir)],
        max_file_size=int(services.settings.uploads.max_mb * 1024 * 1024),
    )
    protect_cached_files(app)  # Gradio's cache is shared: each file goes only to whom it was given
    return app


def check_bind_address(services: Services, host: str) -> None:
    """Refuse to expose a server without accounts.

    Raises:
        BadInputError: no user is configured and ``host`` is not a loopback address.
    """
    if host not in LOOPBACK and not services.users.has_users():
        raise BadInputError(
            f"No user account is configured, so the hub runs in local mode and binds to 127.0.0.1 only "
            f"(got --host {host}); add an admin with `genai users add NAME --admin` first."
        )


def private_temp_dir() -> Path:
    """A folder only this user can read (0700), made Gradio's upload/cache folder and the parent of published
    results. Gradio's default, /tmp/gradio, is world-readable and outlives the server, with uploads under their
    own (often patient) names; ``run_server`` removes this one when it stops."""
    folder = Path(tempfile.mkdtemp(prefix="genai-serve-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def run_server(services: Services, *, host: str, port: int) -> None:
    check_bind_address(services, host)  # before the heavy imports, so the refusal is instant

    import uvicorn

    from apps.tabs.documents import ingest_samples

    created = ingest_samples(services)  # first start only: the sample knowledge bases (admins see them)
    if created:
        print(f"sample knowledge bases ingested: {', '.join(created)}", flush=True)
    temp = private_temp_dir()
    app = create_app(services, host=host)
    mode = "login required" if services.users.has_users() else "local mode: no accounts, loopback only"
    print(
        f"genai-toolkit hub on http://{host}:{port}/  API on http://{host}:{port}/v1  ({mode}; data dir "
        f"{services.settings.data_dir})",
        flush=True,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
