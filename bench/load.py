"""Load test of `genai serve`: 20 concurrent chat sessions against the OpenAI-compatible API on loopback.

A server with one user account, an API key and the sample HIPAA knowledge base
(samples/knowledge_bases/health-privacy) runs in-process under uvicorn (a scratch data dir). Each session
loops for the time budget: it asks the next question from a fixed list, alternating streaming and
non-streaming requests with a key, and records latency (and time to first token when streaming). Requests
that started before the deadline are awaited. The LLM is the small packaged ``smollm2-135m`` with short
answers, so the figures measure the server (auth, retrieval, queueing on one shared model), not a big model.
The machine's load average before and after is recorded: on a shared machine it dominates the latencies.

    genai bench load [--quick]        # from the repository root; 60 s (quick: 20 s); writes bench/results/load.json
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_BASE = ROOT / "samples" / "knowledge_bases" / "health-privacy"
SESSIONS = 20
MAX_NEW_TOKENS = 32
QUESTIONS = [
    "Within how many days must a breach be reported to individuals?",
    "What is protected health information?",
    "Who must be notified after a breach affecting more than 500 residents of a state?",
    "What is the minimum necessary standard?",
    "Can a covered entity use health information for treatment without authorization?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _session(base: str, key: str, number: int, deadline: float, results: list[dict]) -> None:
    """One user: ask, wait for the whole answer, ask again, until the deadline."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    turn = 0
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        while time.perf_counter() < deadline:
            stream = (number + turn) % 2 == 0
            body = {
                "model": "documents:health-privacy",
                "messages": [{"role": "user", "content": QUESTIONS[(number + turn) % len(QUESTIONS)]}],
                "stream": stream,
                "max_tokens": MAX_NEW_TOKENS,
            }
            started = time.perf_counter()
            record: dict = {"session": number, "stream": stream, "ok": False, "first_token_s": None}
            try:
                if stream:
                    with client.stream("POST", "/v1/chat/completions", json=body) as response:
                        response.raise_for_status()
                        final = None
                        for line in response.iter_lines():
                            if not line.startswith("data: ") or line == "data: [DONE]":
                                continue
                            chunk = json.loads(line.removeprefix("data: "))
                            if "error" in chunk:
                                raise RuntimeError(chunk["error"]["message"])
                            delta = chunk["choices"][0]["delta"].get("content")
                            if delta and record["first_token_s"] is None:
                                record["first_token_s"] = time.perf_counter() - started
                            if chunk["choices"][0]["finish_reason"] == "stop":
                                final = chunk
                        record["ok"] = final is not None and "citations" in final
                else:
                    response = client.post("/v1/chat/completions", json=body)
                    response.raise_for_status()
                    record["ok"] = "citations" in response.json()["choices"][0]["message"]
            except (httpx.HTTPError, RuntimeError, ValueError, KeyError) as error:
                record["error"] = f"{type(error).__name__}: {error}"[:200]
            record["latency_s"] = time.perf_counter() - started
            results.append(record)
            turn += 1


def _summary(results: list[dict], seconds: float) -> dict:
    ok = [r for r in results if r["ok"]]
    latencies = [r["latency_s"] for r in ok]
    first_tokens = [r["first_token_s"] for r in ok if r["first_token_s"] is not None]
    return {
        "requests": len(results),
        "completed": len(ok),
        "errors": len(results) - len(ok),
        "error_samples": sorted({r["error"] for r in results if "error" in r})[:5],
        "latency_p50_s": _percentile(latencies, 0.50),
        "latency_p95_s": _percentile(latencies, 0.95),
        "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "first_token_p50_s": _percentile(first_tokens, 0.50),
        "first_token_p95_s": _percentile(first_tokens, 0.95),
        "requests_per_minute": round(len(ok) / seconds * 60, 2),
        "wall_s": round(seconds, 1),
    }


def main(out_dir: Path, quick: bool) -> None:
    import uvicorn

    from apps.server import create_app
    from apps.services import Services
    from apps.settings import load_settings
    from rag.llm import LLMConfig

    budget = 20.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(
            data_dir=Path(scratch),
            device="cpu",
            llm=LLMConfig(model="smollm2-135m", max_new_tokens=MAX_NEW_TOKENS),
        )
        services = Services(settings)
        services.ingest([KNOWLEDGE_BASE], "health-privacy")
        services.users.add("bench", "bench-password", admin=False)
        services.users.grant("bench", "health-privacy")
        key = services.users.new_api_key("bench")
        services.chat_model()  # load once before the clock starts, as a running server would have
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        results: list[dict] = []
        load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews every figure
        started = time.perf_counter()
        deadline = started + budget
        sessions = [
            threading.Thread(target=_session, args=(f"http://127.0.0.1:{port}", key, n, deadline, results))
            for n in range(SESSIONS)
        ]
        for session in sessions:
            session.start()
        for session in sessions:
            session.join()
        elapsed = time.perf_counter() - started
        server.should_exit = True
        thread.join(timeout=10)
    report = {
        "sessions": SESSIONS,
        "budget_s": budget,
        "llm": f"{settings.llm.model} (max_new_tokens={MAX_NEW_TOKENS})",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, no GPU",
        "knowledge_base": "samples/knowledge_bases/health-privacy",
        "load_average_before_after": [load_before, round(os.getloadavg()[0], 2)],
        **_summary(results, elapsed),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
