"""LLM speed: first-token latency and decode tokens/s for each packaged LLM and engine.

CPU (``genai bench llm``): the real packaged models through the toolkit's own backends, on a RAG-sized prompt.
GPU (``python bench/llm.py --gpu --out DIR``, run on a machine with CUDA): the same architectures built from
their ``config.json`` with random weights, because the weights cannot travel to the GPU machine; speed does
not depend on the weights' values, so ``min_new_tokens`` forces the full length. Compares plain
``transformers`` generation with a static KV cache compiled into CUDA graphs, at batch 1 and 8.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

PROMPT = (
    "You answer questions about insurance policies using only the passages below.\n\n"
    + "\n".join(
        f"[{n}] Section {n}: The insurer covers sudden and accidental water damage to the dwelling, "
        f"excluding flood, gradual seepage and wear and tear; claims must be reported within {30 + n} days."
        for n in range(1, 9)
    )
    + "\n\nQuestion: Is gradual seepage covered, and how quickly must a claim be reported? Cite passages."
)
CONFIG_DIR = Path(__file__).with_name("llm_configs")


def _cpu_case(model: str, engine: str, data_dir: Path, new_tokens: int, repeats: int) -> dict:
    from rag.llm import LLMConfig, load_chat_model

    config = LLMConfig(model=model, engine=engine, device="cpu", max_new_tokens=new_tokens)
    started = time.perf_counter()
    chat = load_chat_model(config, data_dir)
    load_s = time.perf_counter() - started
    first_token, decode_rates = [], []
    for repeat in range(repeats):
        # A different opening each time, so llama.cpp cannot reuse the previous prompt's KV cache.
        messages = [{"role": "user", "content": f"Request {repeat + 1}. {PROMPT}"}]
        started = time.perf_counter()
        first = None
        reply = ""
        for piece in chat.stream(messages):
            first = first or time.perf_counter()
            reply += piece
        ended = time.perf_counter()
        tokens = chat.count_tokens(reply)
        first_token.append(first - started)
        if tokens > 1 and ended > first:
            decode_rates.append((tokens - 1) / (ended - first))
    return {
        "model": model,
        "engine": engine,
        "device": "cpu",
        "load_s": round(load_s, 2),
        "prompt_tokens": chat.count_tokens(PROMPT),
        "first_token_s_median": round(statistics.median(first_token), 3),
        "decode_tok_s_median": round(statistics.median(decode_rates), 1) if decode_rates else None,
        "repeats": repeats,
    }


def _gpu_case(name: str, compiled: bool, batch: int, new_tokens: int) -> dict:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(CONFIG_DIR / name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).to("cuda").eval()
    prompt_len = 256
    inputs = torch.randint(100, config.vocab_size - 100, (batch, prompt_len), device="cuda")
    options = {
        "max_new_tokens": new_tokens,
        "min_new_tokens": new_tokens,
        "do_sample": False,
        "pad_token_id": 0,
    }
    if compiled:
        options["cache_implementation"] = "static"
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)

    def run(tokens: int) -> float:
        torch.cuda.synchronize()
        started = time.perf_counter()
        model.generate(inputs, **{**options, "max_new_tokens": tokens, "min_new_tokens": tokens})
        torch.cuda.synchronize()
        return time.perf_counter() - started

    for _ in range(2):  # warm-up (and compilation)
        run(new_tokens)
    first = statistics.median(run(1) for _ in range(3))
    full = statistics.median(run(new_tokens) for _ in range(3))
    return {
        "model": name,
        "engine": "transformers+static-cache+cuda-graphs" if compiled else "transformers",
        "device": torch.cuda.get_device_name(0),
        "batch": batch,
        "weights": "random (architecture only)",
        "prompt_tokens": prompt_len,
        "first_token_s_median": round(first, 4),
        "decode_tok_s_per_sequence": round((new_tokens - 1) / (full - first), 1),
        "decode_tok_s_total": round(batch * (new_tokens - 1) / (full - first), 1),
    }


def main(out_dir: Path, quick: bool = False, data_dir: Path | None = None, only_engine: str | None = None) -> None:
    """CPU benchmark of every packaged LLM with both engines; writes ``out_dir/llm.json``."""
    import os

    from apps.settings import apply_offline_environment, load_settings

    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    apply_offline_environment(settings)
    new_tokens, repeats = (48, 1) if quick else (128, 3)
    cases = [("smollm2-135m", "llama-cpp"), ("qwen2.5-0.5b", "llama-cpp"), ("smollm2-135m", "transformers")]
    if not quick:
        cases.append(("qwen2.5-0.5b", "transformers"))
    if only_engine:
        cases = [case for case in cases if case[1] == only_engine]
    results = [_cpu_case(model, engine, settings.data_dir, new_tokens, repeats) for model, engine in cases]
    document = {
        "benchmark": "llm",
        "host": platform.node(),
        "cpu_threads": os.cpu_count(),
        "new_tokens": new_tokens,
        "quick": quick,
        "results": results,
        "targets": {"default_answerer_first_token_s": 1.5, "default_answerer_decode_tok_s": 20},
    }
    _write(out_dir / "llm.json", document)


def _write(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    for row in document["results"]:
        print(json.dumps(row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gpu", action="store_true", help="architecture-only CUDA benchmark")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not args.gpu:
        main(args.out, args.quick)
    else:
        rows = []
        for name in sorted(p.name for p in CONFIG_DIR.iterdir()):
            for compiled in (False, True):
                for batch in (1, 8):
                    try:
                        rows.append(_gpu_case(name, compiled, batch, new_tokens=128))
                    except Exception as error:  # report a failing variant, keep measuring the others
                        rows.append({"model": name, "compiled": compiled, "batch": batch, "error": repr(error)})
                    print(json.dumps(rows[-1]), flush=True)
        _write(args.out / "llm_gpu.json", {"benchmark": "llm-gpu", "results": rows})
