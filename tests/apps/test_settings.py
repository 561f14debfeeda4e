"""One settings object: defaults < YAML < GENAI_* environment < explicit overrides; bad values explained."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.settings import apply_offline_environment, load_settings
from data_connectors.errors import BadInputError


def test_defaults_are_offline_and_embedded(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.allow_network is False
    assert settings.chroma.mode == "embedded"
    assert settings.llm.backend == "local" and settings.embeddings.model == "minilm"
    assert settings.data_dir == tmp_path.resolve()


def test_precedence_yaml_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "genai.yaml"
    config.write_text("llm:\n  model: smollm2-135m\n  max_new_tokens: 100\nuploads:\n  max_mb: 5\n")
    monkeypatch.setenv("GENAI_LLM__MAX_NEW_TOKENS", "200")
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.llm.model == "smollm2-135m"  # from YAML
    assert settings.llm.max_new_tokens == 200  # env beats YAML
    assert settings.uploads.max_mb == 5
    assert (
        load_settings(config, data_dir=tmp_path, device="cpu").llm.device == "cpu"
    )  # global device fills in


def test_invalid_values_name_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_CHROMA__MODE", "cloud")
    with pytest.raises(BadInputError, match=r"'chroma.mode'"):
        load_settings(data_dir=tmp_path)
    with pytest.raises(BadInputError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml")


def test_offline_environment_is_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    apply_offline_environment(load_settings(data_dir=tmp_path))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"
