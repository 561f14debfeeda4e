"""The status tab: members see health only, administrators also the configuration, nobody sees a secret.

Decided in the handler from the login: checked with a stand-in request on a fresh data dir (users added
here, an LLM server URL carrying made-up credentials), then live through ``gradio_client`` on
``secured_hub``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

SECRET_URL = "http://svc:llm-pass-S3cret@127.0.0.1:8000/v1?api_key=qk-S3cret&timeout=5"


def test_secrets_are_masked_and_other_values_kept() -> None:
    from apps.doctor import REDACTED, redact_secrets

    settings = {
        "database": {"url": "postgresql+psycopg://genai:db-S3cret@db.internal:5432/genai?sslmode=require"},
        "llm": {"api_key_env": "OPENAI_API_KEY", "api_key": "sk-S3cret", "max_new_tokens": 384},
        "chroma": {"path": "sqlite:////srv/genai/chroma", "token": None},
        "extra": [{"password": "hunter2-S3cret"}],
    }
    shown = redact_secrets(settings)
    assert "S3cret" not in str(shown)
    assert (
        shown["database"]["url"]
        == f"postgresql+psycopg://genai:{REDACTED}@db.internal:5432/genai?sslmode=require"
    )
    assert shown["llm"] == {"api_key_env": "OPENAI_API_KEY", "api_key": REDACTED, "max_new_tokens": 384}
    assert shown["chroma"] == settings["chroma"]  # no secret: unchanged, not even re-written


@pytest.fixture
def status_refresh(tmp_path: Path):
    from apps.services import Services
    from apps.settings import load_settings
    from apps.tabs import status
    from rag.llm import LLMConfig

    services = Services(load_settings(data_dir=tmp_path, device="cpu", llm=LLMConfig(base_url=SECRET_URL)))
    services.users.add("root", "root-password-1", admin=True)
    services.users.add("alice", "alice-password-1")
    with gr.Blocks() as blocks:
        status.build(services)
    refresh = next(fn.fn for fn in blocks.fns.values() if fn.api_name == "status")
    return services, refresh


def test_members_see_health_admins_the_configuration(status_refresh) -> None:
    services, refresh = status_refresh
    member = refresh(SimpleNamespace(username="alice"))
    admin = refresh(SimpleNamespace(username="root"))
    assert "**Health**" in member and "| minilm |" in member
    assert "Configuration" not in member and str(services.settings.data_dir) not in member
    assert "127.0.0.1:8000" not in member and '"llm"' not in member
    assert admin.startswith(member.split("\n")[0]) and "Configuration (administrators only)" in admin
    assert str(services.settings.data_dir) in admin and '"max_new_tokens"' in admin
    assert "http://svc:***@127.0.0.1:8000/v1?api_key=***&timeout=5" in admin
    assert "S3cret" not in admin + member
    with pytest.raises(gr.Error, match="Log in first"):
        refresh(None)


@pytest.mark.slow
def test_status_is_decided_on_the_server_for_each_login(secured_hub) -> None:
    from gradio_client import Client

    def status_of(user: str) -> str:
        client = Client(secured_hub.url, auth=(user, secured_hub.passwords[user]), verbose=False)
        return client.predict(api_name="/status")

    member, admin = status_of("alice"), status_of("root")
    assert "**Health**" in member and "Configuration" not in member
    assert (
        "Configuration (administrators only)" in admin
        and str(secured_hub.services.settings.data_dir) in admin
    )
