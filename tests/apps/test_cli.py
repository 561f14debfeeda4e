"""The `genai` command line: doctor --json, exit codes, and an instant --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from genai_models.registry import ASSETS


def genai(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apps.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GENAI_DATA_DIR": str(data_dir), **env},
    )


def test_help_is_instant_and_lists_commands(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = genai("--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "doctor" in result.stdout and "serve" in result.stdout
    assert time.perf_counter() - started < 10  # no torch/transformers import for --help


def test_doctor_json_reports_every_asset(model_cache_dir: Path) -> None:
    result = genai("doctor", "--json", data_dir=model_cache_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {asset["name"] for asset in report["assets"]} == set(ASSETS)
    assert all(asset["state"] == "verified" for asset in report["assets"])
    assert report["data_dir"]["writable"] is True
    assert report["settings"]["llm"]["backend"] == "local"
    assert report["torch"].startswith("2.")
    assert [(check["role"], check["ok"]) for check in report["configured_models"]] == [
        ("llm", True),
        ("embeddings", True),
    ]


def test_doctor_fails_when_the_configured_model_is_missing(model_cache_dir: Path) -> None:
    missing = "/nonexistent/model.gguf"
    result = genai("doctor", "--json", data_dir=model_cache_dir, GENAI_LLM__MODEL=missing)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # the whole report still comes out
    assert report["ok"] is False
    llm = report["configured_models"][0]
    assert (llm["role"], llm["model"], llm["ok"]) == ("llm", missing, False)
    assert "Unknown model" in llm["detail"]
    text = genai("doctor", data_dir=model_cache_dir, GENAI_LLM__MODEL=missing)
    assert text.returncode == 1 and "configured llm: unusable" in text.stdout


def test_bad_input_exits_2_with_one_line(model_cache_dir: Path) -> None:
    result = genai("chat", "hello", "--model", "no-such-model", data_dir=model_cache_dir)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: Unknown model 'no-such-model'")
    assert len(result.stderr.strip().splitlines()) == 1
    bad_setting = genai("doctor", data_dir=model_cache_dir, GENAI_DEVICE="tpu")
    assert bad_setting.returncode == 2 and "'device'" in bad_setting.stderr


def test_chat_json_with_packaged_model(model_cache_dir: Path) -> None:
    result = genai(
        "chat",
        "Say hello.",
        "--model",
        "smollm2-135m",
        "--max-new-tokens",
        "8",
        "--json",
        data_dir=model_cache_dir,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reply"].strip()
