"""One HTTP server: the Gradio hub at ``/`` (and later the HTTP API beside it), run by uvicorn."""

from __future__ import annotations

import logging

from apps.services import Services

log = logging.getLogger(__name__)


def create_app(services: Services):
    import gradio as gr
    from fastapi import FastAPI

    from apps.hub import build_hub

    api = FastAPI(title="genai-toolkit", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    hub = build_hub(services)
    return gr.mount_gradio_app(
        api, hub, path="/", max_file_size=int(services.settings.uploads.max_mb * 1024 * 1024)
    )


def run_server(services: Services, *, host: str, port: int) -> None:
    import uvicorn

    app = create_app(services)
    print(f"genai-toolkit hub on http://{host}:{port}/  (data dir {services.settings.data_dir})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
