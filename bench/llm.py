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
import os
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
SAMPLE_TEXT = Path(__file__).parents[1] / "samples" / "knowledge_bases" / "health-privacy"
RAG_QUESTIONS = [
    "When must a covered entity notify individuals of a breach?",
    "Who may receive protected health information without authorization?",
    "What must a notice of privacy practices contain?",
]


def _timed(chat, messages) -> tuple[float, float | None]:
    """(seconds to the first piece, decode tokens/s after it)."""
    started = time.perf_counter()
    first = None
    reply = ""
    for piece in chat.stream(messages):
        first = first or time.perf_counter()
        reply += piece
    ended = time.perf_counter()
    tokens = chat.count_tokens(reply)
    rate = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else None
    return first - started, rate


def _rag_prompts(count: int) -> list[list[dict]]:
    """Real answering prompts: the answerer's system rules and five ~200-token passages of the sample corpus."""
    from langchain_core.documents import Document

    from rag.answering import build_messages

    text = " ".join(path.read_text() for path in sorted(SAMPLE_TEXT.glob("*.md"))).split()
    passages = [" ".join(text[start : start + 150]) for start in range(0, len(text) - 150, 150)]
    prompts = []
    for n in range(count):
        chosen = [
            Document(passages[(n * 5 + i) % len(passages)], metadata={"source": f"doc{i}.md"})
            for i in range(5)
        ]
        prompts.append(build_messages(RAG_QUESTIONS[n % len(RAG_QUESTIONS)], chosen))
    return prompts


def _perplexity(gguf: Path, text: str, window: int = 1024) -> float:
    """Perplexity of ``text`` under ``gguf``: the quality cost of a weight format, on the toolkit's own corpus."""
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=window, n_threads=os.cpu_count(), logits_all=True, verbose=False)
    tokens = llm.tokenize(text.encode())
    nll = []
    for start in range(0, len(tokens) - 1, window):
        chunk = tokens[start : start + window]
        llm.reset()
        llm.eval(chunk)
        logits = np.asarray(llm.scores[: len(chunk)], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        nll.extend(-log_probs[i, chunk[i + 1]] for i in range(len(chunk) - 1))
    return float(np.exp(np.mean(nll)))


def _cpu_case(
    model: str, engine: str, cpu_format: str, data_dir: Path, new_tokens: int, repeats: int
) -> dict:
    from genai_models.registry import ModelRegistry
    from rag.llm import LLMConfig, load_chat_model, requantized

    config = LLMConfig(
        model=model, engine=engine, device="cpu", max_new_tokens=new_tokens, cpu_format=cpu_format
    )
    started = time.perf_counter()
    chat = load_chat_model(config, data_dir)
    load_s = time.perf_counter() - started
    # A different opening each time, so llama.cpp cannot reuse the previous prompt's KV cache.
    runs = [_timed(chat, [{"role": "user", "content": f"Request {n + 1}. {PROMPT}"}]) for n in range(repeats)]
    # Answering prompts share the system rules, which llama.cpp keeps in its KV cache after the first request.
    rag_runs = [_timed(chat, messages) for messages in _rag_prompts(repeats + 1)]
    row = {
        "model": model,
        "engine": engine,
        "weights": cpu_format if engine == "llama-cpp" else "dequantised fp32",
        "device": "cpu",
        "load_s": round(load_s, 2),
        "prompt_tokens": chat.count_tokens(PROMPT),
        "first_token_s_median": round(statistics.median(run[0] for run in runs), 3),
        "decode_tok_s_median": round(statistics.median([run[1] for run in runs if run[1]] or [0.0]), 1),
        "rag_prompt_tokens": sum(chat.count_tokens(m["content"]) for m in _rag_prompts(1)[0]),
        "rag_first_token_s_cold": round(rag_runs[0][0], 3),
        "rag_first_token_s_warm_median": round(statistics.median(run[0] for run in rag_runs[1:]), 3),
        "repeats": repeats,
    }
    if engine == "llama-cpp":
        registry = ModelRegistry(data_dir)
        gguf = requantized(registry.resolve(model, kind="llm-gguf"), cpu_format, registry.models_dir)
        text = " ".join(path.read_text() for path in sorted(SAMPLE_TEXT.parent.glob("*/*.md")))[:12000]
        row["perplexity_sample_corpus"] = round(_perplexity(gguf, text), 3)
    return row


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


def main(
    out_dir: Path, quick: bool = False, data_dir: Path | None = None, only_engine: str | None = None
) -> None:
    """CPU benchmark of every packaged LLM with both engines; writes ``out_dir/llm.json``."""
    from apps.settings import apply_offline_environment, load_settings

    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    apply_offline_environment(settings)
    new_tokens, repeats = (48, 1) if quick else (128, 3)
    cases = [
        (model, "llama-cpp", fmt)
        for model in ("smollm2-135m", "qwen2.5-0.5b")
        for fmt in ("iq4_nl", "original")
    ]
    cases.append(("smollm2-135m", "transformers", "original"))
    if not quick:
        cases.append(("qwen2.5-0.5b", "transformers", "original"))
    if only_engine:
        cases = [case for case in cases if case[1] == only_engine]
    results = []
    for model, engine, fmt in cases:
        results.append(_cpu_case(model, engine, fmt, settings.data_dir, new_tokens, repeats))
        print(json.dumps(results[-1]), flush=True)
    document = {
        "benchmark": "llm",
        "host": platform.node(),
        "cpu_threads": os.cpu_count(),
        "new_tokens": new_tokens,
        "quick": quick,
        "results": results,
        "default": {"model": settings.llm.model, "cpu_format": settings.llm.cpu_format},
        "targets": {"default_answerer_first_token_s": 1.5, "default_answerer_decode_tok_s": 20},
    }
    _write(out_dir / "llm.json", document)


def _write(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))


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
                        rows.append(
                            {"model": name, "compiled": compiled, "batch": batch, "error": repr(error)}
                        )
                    print(json.dumps(rows[-1]), flush=True)
        _write(args.out / "llm_gpu.json", {"benchmark": "llm-gpu", "results": rows})
