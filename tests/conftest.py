"""Shared fixtures. The suite runs offline on CPU: hubs are never contacted, telemetry is off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.update(
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
    HF_HUB_DISABLE_TELEMETRY="1",
    GRADIO_ANALYTICS_ENABLED="False",
    ANONYMIZED_TELEMETRY="False",
    TOKENIZERS_PARALLELISM="false",
)
for _name in [name for name in os.environ if name.startswith("GENAI_")]:
    del os.environ[_name]  # the developer's own settings must not leak into tests

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir per test session for joined/converted model files, so they are built once."""
    return tmp_path_factory.mktemp("genai-data")


@pytest.fixture
def settings(model_cache_dir: Path):
    from apps.settings import load_settings

    return load_settings(data_dir=model_cache_dir, device="cpu")


@pytest.fixture
def services(settings):
    from apps.services import Services

    return Services(settings)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the repository (real public data); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not present")
    return SHARED_DATA


class ScriptedChat:
    """A deterministic stand-in for ``rag.llm.ChatModel``: replies with a fixed text and records prompts."""

    name = "scripted"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[list[dict[str, str]]] = []

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None):
        self.calls.append(list(messages))
        yield self.reply

    def generate(self, messages, **options):
        return "".join(self.stream(messages, **options))


@pytest.fixture
def scripted_chat():
    """The ``ScriptedChat`` class, for tests that build one per reply."""
    return ScriptedChat
