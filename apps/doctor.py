"""``genai doctor``: what this installation can do, in one report (CLI table, ``--json``, hub status tab)."""

from __future__ import annotations

import platform
import tempfile
from typing import Any

from apps.services import Services
from genai_models.registry import ASSETS


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


def doctor_report(services: Services) -> dict[str, Any]:
    """Versions, device, every registry asset (verified/missing/corrupt), data dir, settings in force."""
    from rag.llm import llama_cpp_available

    writable, detail = _writable(services)
    assets = [services.registry.status(name).__dict__ for name in ASSETS]
    return {
        "python": platform.python_version(),
        **_device_report(),
        "llama_cpp": llama_cpp_available(),
        "data_dir": {"path": str(services.settings.data_dir), "writable": writable, "detail": detail},
        "assets": assets,
        "ok": writable and all(asset["state"] == "verified" for asset in assets),
        "settings": services.settings.public_dict(),
    }


def doctor_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown, for the hub's status tab."""
    device = report["cuda_device"] or f"CPU ({report['cpu_threads']} threads)"
    lines = [
        f"**Python** {report['python']} · **torch** {report['torch']} · **device** {device} · "
        f"**llama.cpp** {'yes' if report['llama_cpp'] else 'no'}",
        f"**Data directory** `{report['data_dir']['path']}`: "
        f"{'writable' if report['data_dir']['writable'] else 'NOT writable: ' + report['data_dir']['detail']}",
        "",
        "| asset | kind | state | detail |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a['name']} | {a['kind']} | {a['state']} | {a['detail']} |" for a in report["assets"]]
    llm = report["settings"]["llm"]
    lines += ["", f"**LLM** backend `{llm['backend']}`, model `{llm['model']}`, engine `{llm['engine']}`"]
    return "\n".join(lines)
