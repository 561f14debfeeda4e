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


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("llm: [unclosed\n", "not valid YAML at line 2"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("hello\n", "must be a YAML mapping"),
    ],
    ids=["syntax-error", "a-list", "plain-text"],
)
def test_a_bad_settings_file_is_one_sentence(tmp_path: Path, text: str, words: str) -> None:
    config = tmp_path / "genai.yaml"
    config.write_text(text)
    with pytest.raises(BadInputError, match=words):
        load_settings(config, data_dir=tmp_path)


def test_a_section_from_the_environment_that_is_not_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_LLM", "{bad")
    with pytest.raises(BadInputError, match=r"\"llm\".*GENAI_LLM__MODEL"):
        load_settings(data_dir=tmp_path)


def test_an_unusable_data_dir_or_database_is_bad_input(tmp_path: Path) -> None:
    from apps.services import Services

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    with pytest.raises(BadInputError, match="cannot be created \\(it is a file\\); set data_dir"):
        Services(load_settings(data_dir=a_file))
    missing = {"url": f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"}
    services = Services(load_settings(data_dir=tmp_path, database=missing))
    with pytest.raises(BadInputError, match=r"cannot be opened .*GENAI_DATABASE__URL"):
        services.users.has_users()
