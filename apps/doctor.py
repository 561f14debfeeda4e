"""``genai doctor``: what this installation can do, in one report (CLI table, ``--json``, hub status tab)."""

from __future__ import annotations

import platform
import re
import tempfile
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from apps.services import Services
from genai_models.registry import ASSETS, AssetError

REDACTED = "***"
_SECRET_KEY = re.compile(  # a name that ends in one of these words (``max_new_tokens`` is no secret)
    r"(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|access_key|private_key|credentials?)$",
    re.IGNORECASE,
)


def _device_report() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "torch": torch.__version__,
        "cuda_available": cuda,
        "cuda_device": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_threads": torch.get_num_threads(),
    }


def _writable(services: Services) -> tuple[bool, str]:
    try:
        services.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=services.settings.data_dir):
            pass
    except OSError as error:
        return False, str(error)
    return True, "ok"


def _configured_models(services: Services) -> list[dict[str, Any]]:
    """Whether the LLM and embedding model in the settings resolve (packaged and verified, or an existing
    local path), without loading either; a remote (OpenAI-compatible) LLM is the server's to check."""
    settings = services.settings
    wanted = [("embeddings", settings.embeddings.model, "embedding")]
    if settings.llm.backend == "local":
        wanted.insert(0, ("llm", settings.llm.model, "llm-gguf"))
    checks = []
    for role, model, kind in wanted:
        try:
            path = services.registry.resolve(model, kind=kind if model in ASSETS else None)
        except AssetError as error:
            checks.append({"role": role, "model": model, "ok": False, "detail": str(error)})
        else:
            checks.append({"role": role, "model": model, "ok": True, "detail": str(path)})
    return checks


def redact_secrets(value: Any, key: str = "") -> Any:
    """``value`` with every secret masked: fields named like a password/token/key (``*_env`` fields only
    name an environment variable and stay) and the password part of URLs such as a database URL."""
    if isinstance(value, dict):
        return {name: redact_secrets(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [redact_secrets(item, key) for item in value]
    if value and _SECRET_KEY.search(key) and not key.endswith("_env"):
        return REDACTED
    if isinstance(value, str) and "://" in value:
        return _redact_url(value)
    return value


def _redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    pairs = [pair.partition("=") for pair in parts.query.split("&") if pair]
    if not password and not any(_SECRET_KEY.search(name) for name, _, _ in pairs):
        return url  # unchanged, not rebuilt: ``sqlite:////abs/path`` would lose a slash
    netloc = parts.netloc.rsplit("@", 1)
    if password:
        netloc[0] = f"{parts.username or ''}:{REDACTED}"
    query = "&".join(
        f"{name}={REDACTED}" if _SECRET_KEY.search(name) else f"{name}={item}" if sep else name
        for name, sep, item in pairs
    )
    return urlunsplit(parts._replace(netloc="@".join(netloc), query=query))


def doctor_report(services: Services) -> dict[str, Any]:
    """Versions, device, every registry asset (verified/missing/corrupt), the configured models, data dir,
    settings in force; ``ok`` only when all of them are usable."""
    from rag.llm import llama_cpp_available

    writable, detail = _writable(services)
    assets = [services.registry.status(name).__dict__ for name in ASSETS]
    configured = _configured_models(services)
    return {
        "python": platform.python_version(),
        **_device_report(),
        "llama_cpp": llama_cpp_available(),
        "data_dir": {"path": str(services.settings.data_dir), "writable": writable, "detail": detail},
        "assets": assets,
        "configured_models": configured,
        "ok": writable
        and all(asset["state"] == "verified" for asset in assets)
        and all(check["ok"] for check in configured),
        "settings": redact_secrets(services.settings.public_dict()),
    }


def health_markdown(report: dict[str, Any]) -> str:
    """What every signed-in person may see: whether the toolkit works, and on which device; no paths,
    no settings."""
    device = report["cuda_device"] or f"CPU ({report['cpu_threads']} threads)"
    lines = [
        f"**Health** {'all checks pass' if report['ok'] else 'attention needed (ask an administrator)'}",
        f"**Python** {report['python']} · **torch** {report['torch']} · **device** {device} · "
        f"**llama.cpp** {'yes' if report['llama_cpp'] else 'no'} · "
        f"**data directory** {'writable' if report['data_dir']['writable'] else 'NOT writable'}",
        "**configured models** "
        + " · ".join(f"{c['role']} {'ok' if c['ok'] else 'NOT usable'}" for c in report["configured_models"]),
        "",
        "| asset | kind | state |",
        "|---|---|---|",
    ]
    lines += [f"| {a['name']} | {a['kind']} | {a['state']} |" for a in report["assets"]]
    return "\n".join(lines)


def doctor_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown, for administrators: health, then where things are and the settings in
    force (secrets already masked by ``doctor_report``)."""
    import json

    data = report["data_dir"]
    lines = [
        health_markdown(report),
        "",
        "### Configuration (administrators only)",
        f"**Data directory** `{data['path']}`: {'writable' if data['writable'] else data['detail']}",
        "",
        "| asset | detail |",
        "|---|---|",
    ]
    lines += [f"| {a['name']} | {a['detail']} |" for a in report["assets"]]
    lines += [
        f"| configured {c['role']} `{c['model']}` | {c['detail']} |" for c in report["configured_models"]
    ]
    llm = report["settings"]["llm"]
    lines += ["", f"**LLM** backend `{llm['backend']}`, model `{llm['model']}`, engine `{llm['engine']}`"]
    lines += ["", "```json", json.dumps(report["settings"], indent=2), "```"]
    return "\n".join(lines)
