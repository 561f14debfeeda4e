"""Document assistant benchmark: retrieval quality, refusal calibration, answer quality and speed.

Reads the labelled sets in ../shared/data/rag-eval (never copied into the repository), subsampled so the
whole run stays around ten minutes on two CPU cores (sizes are written into the results):
- medquad: answers are the corpus, each question's own answer is its gold passage;
- financebench: the filings of the smaller documents (8-K, 10-Q, earnings), gold = chunks on the evidence
  page (labels are zero-based, our pages one-based);
- cuad: contracts, one question per labelled clause category, scoped to its contract with a ``source``
  filter, gold = chunks containing the clause text.
Writes ``rag_retrieval.json``, ``rag_answers.json`` and ``rag_speed.json`` under ``out_dir``.
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apps.settings import apply_offline_environment, load_settings  # noqa: E402
from rag.chunking import ChunkingConfig  # noqa: E402
from rag.embeddings import EmbeddingConfig, load_embeddings  # noqa: E402
from rag.indexing import ingest  # noqa: E402
from rag.retrieval import HybridRetriever, RetrievalConfig  # noqa: E402
from rag.vectorstore import ChromaConfig, DocumentStore  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "rag-eval"
MODES = ("dense", "bm25", "hybrid")
CUAD_QUESTIONS = {
    "Governing Law": "Which state's or country's law governs this agreement?",
    "Expiration Date": "When does this agreement expire?",
    "Agreement Date": "On what date was this agreement made?",
    "Anti-Assignment": "May a party assign this agreement to a third party without consent?",
    "Cap On Liability": "Is there a cap or limit on liability under this agreement?",
    "Audit Rights": "Does a party have the right to audit the other party's books and records?",
    "Termination For Convenience": "Can a party terminate this agreement for convenience?",
    "Renewal Term": "How does this agreement renew after its initial term?",
}
FINANCE_DOCS = (
    "JOHNSON_JOHNSON_2023_8K_dated-2023-08-30",
    "MGMRESORTS_2022Q4_EARNINGS",
    "Pfizer_2023Q2_10Q",
    "FOOTLOCKER_2022_8K_dated_2022-08-19",
    "FOOTLOCKER_2022_8K_dated-2022-05-20",
)
# Hand-written near-misses: on topic for a corpus, but the corpus does not hold the answer.
NEAR_MISSES = [
    ("medquad", "What is the ICD-10 billing code for childhood soft tissue sarcoma?"),
    ("medquad", "How much does a course of glaucoma eye drops cost at a US pharmacy?"),
    ("medquad", "Which hospital in Boston has the best survival rate for leukemia?"),
    ("medquad", "What milligram dose of ibuprofen should a 3-year-old with a fever take?"),
    ("financebench", "What was Pfizer's revenue in the second quarter of 2031?"),
    ("financebench", "How many employees did MGM Resorts have in Macau in 1995?"),
    ("financebench", "What is the home address of Johnson & Johnson's chief executive?"),
    ("cuad", "What is the late payment interest rate in Bitcoin under this agreement?"),
    ("cuad", "What is the name of the notary who witnessed this agreement?"),
    ("cuad", "How many parking spaces does the licensee receive under this agreement?"),
]


# ---------------------------------------------------------------- data


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _medquad(
    folder: Path, n_docs: int, n_questions: int, rng: random.Random
) -> tuple[list[Path], list[dict]]:
    rows = [json.loads(line) for line in (DATA / "medquad" / "qa.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if len(r["answer"]) > 80]
    picked = rng.sample(rows, n_docs)
    folder.mkdir(parents=True, exist_ok=True)
    for row in picked:
        (folder / f"{row['qid']}.txt").write_text(row["answer"], encoding="utf-8")
    questions = [
        {"question": r["question"], "gold_source": str((folder / f"{r['qid']}.txt").resolve())}
        for r in picked[:n_questions]
    ]
    return [folder], questions


def _financebench() -> tuple[list[Path], list[dict]]:
    rows = [json.loads(line) for line in (DATA / "financebench" / "questions.jsonl").open(encoding="utf-8")]
    paths = [(DATA / "financebench" / "pdfs" / f"{name}.pdf").resolve() for name in FINANCE_DOCS]
    questions = [
        {
            "question": r["question"],
            "gold_source": str((DATA / "financebench" / "pdfs" / f"{r['doc_name']}.pdf").resolve()),
            "gold_pages": sorted({e["evidence_page_num"] + 1 for e in r["evidence"]}),
        }
        for r in rows
        if r["doc_name"] in FINANCE_DOCS
    ]
    return paths, questions


def _cuad(n_contracts: int, rng: random.Random) -> tuple[list[Path], list[dict]]:
    rows = [json.loads(line) for line in (DATA / "cuad" / "clause_spans.jsonl").open(encoding="utf-8")]
    by_contract: dict[str, list[dict]] = {}
    for row in rows:
        if row["category"] in CUAD_QUESTIONS and row["spans"]:
            by_contract.setdefault(row["contract_txt"], []).append(row)
    contracts = rng.sample(sorted(c for c, r in by_contract.items() if len(r) >= 4), n_contracts)
    paths = [(DATA / "cuad" / "contracts" / name).resolve() for name in contracts]
    questions = [
        {
            "question": CUAD_QUESTIONS[row["category"]],
            "gold_source": str(path),
            "gold_spans": [_normalise(span["text"]) for span in row["spans"]],
            "filters": {"source": str(path)},
        }
        for name, path in zip(contracts, paths, strict=True)
        for row in by_contract[name]
    ]
    return paths, questions


def _is_gold(question: dict, metadata: dict, text: str) -> bool:
    if metadata.get("source") != question["gold_source"]:
        return False
    if "gold_pages" in question:
        return metadata.get("page") in question["gold_pages"]
    if "gold_spans" in question:
        chunk = _normalise(text)
        return any(span[:80] in chunk or chunk[:80] in span for span in question["gold_spans"] if span)
    return True


# ---------------------------------------------------------------- metrics


def _ranking_metrics(flags: list[bool], gold_total: int) -> dict[str, float]:
    recall5 = float(any(flags[:5]))
    mrr = next((1.0 / (i + 1) for i, hit in enumerate(flags[:10]) if hit), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(flags[:10]) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(max(gold_total, 1), 10)))
    return {"recall@5": recall5, "mrr@10": mrr, "ndcg@10": dcg / ideal}


def _gold_total(store: DocumentStore, collection: str, question: dict) -> int:
    chunks = store.chunks(collection)
    return sum(_is_gold(question, m, t) for m, t in zip(chunks.metadatas, chunks.texts, strict=True))


def _evaluate(store, collection, questions) -> tuple[dict, list[float]]:
    results, top_dense = {}, []
    for mode in MODES:
        retriever = HybridRetriever(
            store=store, collection=collection, config=RetrievalConfig(mode=mode, k=10, fetch_k=50)
        )
        scores = []
        for question in questions:
            passages = retriever.invoke(question["question"], filters=question.get("filters"))
            flags = [_is_gold(question, p.metadata, p.page_content) for p in passages]
            scores.append(_ranking_metrics(flags, question["gold_total"]))
            if mode == "dense":
                top_dense.append(passages[0].metadata["dense_score"] if passages else -1.0)
        results[mode] = {name: round(statistics.mean(s[name] for s in scores), 4) for name in scores[0]}
    return results, top_dense


def _top_dense(store, collection, questions) -> list[float]:
    retriever = HybridRetriever(store=store, collection=collection, config=RetrievalConfig(mode="dense", k=1))
    return [(retriever.invoke(q["question"]) or [None])[0].metadata["dense_score"] for q in questions]


def _calibrate(answerable: list[float], unanswerable: list[float]) -> dict:
    """The threshold with the best balanced accuracy (answer when top-1 cosine >= threshold)."""
    best = (0.0, 0.0)
    for threshold in np.arange(0.0, 0.9, 0.01):
        kept = np.mean(np.asarray(answerable) >= threshold)
        refused = np.mean(np.asarray(unanswerable) < threshold)
        balanced = (kept + refused) / 2
        if balanced > best[0] + 1e-9:
            best = (balanced, float(threshold))
    threshold = round(best[1], 2)
    return {
        "threshold": threshold,
        "balanced_accuracy": round(best[0], 4),
        "answerable_kept": round(float(np.mean(np.asarray(answerable) >= threshold)), 4),
        "unanswerable_refused": round(float(np.mean(np.asarray(unanswerable) < threshold)), 4),
        "answerable_top1_cosine_p10_p50": [round(float(np.percentile(answerable, p)), 3) for p in (10, 50)],
        "unanswerable_top1_cosine_p50_p90": [
            round(float(np.percentile(unanswerable, p)), 3) for p in (50, 90)
        ],
    }


# ---------------------------------------------------------------- speed


def _synthetic_store(store: DocumentStore, name: str, size: int, rng: np.random.Generator) -> None:
    vocabulary = [f"w{i}" for i in range(20000)]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    collection = store.collection(name, create=True)
    for start in range(0, size, 2000):
        count = min(2000, size - start)
        vectors = rng.standard_normal((count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        words = rng.choice(len(vocabulary), size=(count, 120), p=weights)
        collection.add(
            ids=[f"s{start + i}" for i in range(count)],
            embeddings=vectors,
            documents=[" ".join(vocabulary[w] for w in row) for row in words],
            metadatas=[{"source": f"doc{(start + i) // 20}.txt", "doc_type": "txt"} for i in range(count)],
        )


def _latency(store, name, queries, mode) -> dict:
    retriever = HybridRetriever(store=store, collection=name, config=RetrievalConfig(mode=mode))
    started = time.perf_counter()
    retriever.invoke(queries[0])  # builds the BM25 side index
    first = time.perf_counter() - started
    timings = []
    for query in queries:
        started = time.perf_counter()
        retriever.invoke(query)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(timings, 50)), 1),
        "p95_ms": round(float(np.percentile(timings, 95)), 1),
        "first_query_s": round(first, 2),
    }


def _embedding_throughput(embeddings, texts: list[str]) -> dict:
    """The embedding model alone on the same chunks: the ceiling for ingest speed, and tokens per chunk."""
    started = time.perf_counter()
    embeddings.embed_documents(texts)
    seconds = time.perf_counter() - started
    tokens = sum(embeddings.count_tokens(text) for text in texts)
    return {
        "tokens_per_chunk": round(tokens / max(len(texts), 1), 1),
        "embedding_only_chunks_per_s": round(len(texts) / seconds, 1),
        "embedding_only_tokens_per_s": round(tokens / seconds),
        "embedding_dtype": getattr(embeddings, "dtype", "float32"),
    }


def _embedding_latency(embeddings, queries) -> dict:
    """The query-embedding share of dense latency (MiniLM forward pass), measured alone."""
    timings = []
    for query in queries:
        started = time.perf_counter()
        embeddings.embed_query(query)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(timings, 50)), 1),
        "p95_ms": round(float(np.percentile(timings, 95)), 1),
    }


# ---------------------------------------------------------------- answers


def _answers(store, collections, questions_by_set, threshold, limits, data_dir) -> dict:
    from rag.answering import Answerer
    from rag.llm import LLMConfig, load_chat_model

    llm_config = LLMConfig(device="cpu")
    chat = load_chat_model(llm_config, data_dir)
    config = RetrievalConfig(min_relevance=threshold)
    records = []

    def run(kind, set_name, collection, question):
        retriever = HybridRetriever(store=store, collection=collection, config=config)
        started = time.perf_counter()
        answer = Answerer(retriever=retriever, chat_model=chat, max_new_tokens=160).ask(
            question["question"], filters=question.get("filters")
        )
        cited_gold = (
            any(_is_gold(question, {"source": c.source, "page": c.page}, c.text) for c in answer.citations)
            if kind == "answerable" and not answer.refused
            else False
        )
        records.append(
            {
                "kind": kind,
                "set": set_name,
                "question": question["question"],
                "refused": answer.refused,
                "cites_gold": cited_gold,
                "answer": answer.answer[:300],
                "seconds": round(time.perf_counter() - started, 1),
            }
        )

    for set_name, questions in questions_by_set.items():
        for question in questions[: limits["answerable"]]:
            run("answerable", set_name, collections[set_name], question)
    cross = [
        ("medquad", "cuad"),
        ("cuad", "medquad"),
        ("financebench", "medquad"),
        ("medquad", "financebench"),
    ]
    for asked, corpus in cross[: limits["cross"]]:
        for question in questions_by_set[asked][:1]:
            run("cross-corpus", f"{asked}->{corpus}", collections[corpus], {"question": question["question"]})
    for set_name, text in NEAR_MISSES[: limits["near_miss"]]:
        run("near-miss", set_name, collections[set_name], {"question": text})
    answerable = [r for r in records if r["kind"] == "answerable"]
    unanswerable = [r for r in records if r["kind"] != "answerable"]
    return {
        "llm": llm_config.model,
        "threshold": threshold,
        "answerable": len(answerable),
        "answered_citing_gold": round(sum(r["cites_gold"] for r in answerable) / max(len(answerable), 1), 3),
        "answerable_refused": round(sum(r["refused"] for r in answerable) / max(len(answerable), 1), 3),
        "unanswerable": len(unanswerable),
        "correct_refusals": round(sum(r["refused"] for r in unanswerable) / max(len(unanswerable), 1), 3),
        "records": records,
    }


# PUBLIC API


def main(out_dir: Path, quick: bool, *, speed_part: bool = True) -> None:
    """``speed_part=False`` skips retrieval latency and embedding throughput (they need an idle machine) and
    keeps the existing rag_speed.json; retrieval quality and answers do not depend on the machine's load."""
    import torch

    torch.set_num_threads(2)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not DATA.is_dir():
        print(f"rag-eval data not found at {DATA}; skipping the rag benchmark", file=sys.stderr)
        return
    settings = load_settings(device="cpu")
    apply_offline_environment(settings)
    rng = random.Random(0)
    work = Path(tempfile.mkdtemp(prefix="genai-bench-rag-"))
    embeddings = load_embeddings(EmbeddingConfig(device="cpu"), settings.data_dir)
    store = DocumentStore(config=ChromaConfig(), data_dir=work, embeddings=embeddings)
    chunking = ChunkingConfig()
    sizes = {
        "medquad_docs": 120 if quick else 400,
        "medquad_questions": 30 if quick else 100,
        "cuad_contracts": 3 if quick else 12,
        "financebench_docs": len(FINANCE_DOCS),
    }

    sets = {
        "medquad": _medquad(work / "medquad", sizes["medquad_docs"], sizes["medquad_questions"], rng),
        "financebench": _financebench(),
        "cuad": _cuad(sizes["cuad_contracts"], rng),
    }
    retrieval, speed, top_dense, collections = {}, {"ingest": {}}, {}, {}
    for name, (paths, questions) in sets.items():
        collection = f"bench-{name}"
        collections[name] = collection
        report = ingest(
            paths, store=store, collection=collection, chunking=chunking, count_tokens=embeddings.count_tokens
        )
        speed["ingest"][name] = {
            "chunks": report.chunks,
            "seconds": round(report.seconds, 1),
            "chunks_per_s": round(report.chunks / max(report.seconds, 1e-9), 1),
            **_embedding_throughput(embeddings, store.chunks(collection).texts[:512]),
        }
        for question in questions:
            question["gold_total"] = _gold_total(store, collection, question)
        questions[:] = [q for q in questions if q["gold_total"] > 0]
        retrieval[name], top_dense[name] = _evaluate(store, collection, questions)
        retrieval[name]["questions"] = len(questions)
        retrieval[name]["chunks"] = report.chunks
        print(name, json.dumps(retrieval[name]), file=sys.stderr)

    unanswerable = (
        _top_dense(store, collections["cuad"], sets["medquad"][1])
        + _top_dense(store, collections["medquad"], sets["cuad"][1])
        + _top_dense(store, collections["medquad"], sets["financebench"][1])
        + _top_dense(store, collections["financebench"], sets["medquad"][1])
    )
    answerable = [s for scores in top_dense.values() for s in scores]
    calibration = _calibrate(answerable, unanswerable)
    (out_dir / "rag_retrieval.json").write_text(
        json.dumps({"sizes": sizes, "retrieval": retrieval, "refusal_calibration": calibration}, indent=2)
    )
    print("calibration", json.dumps(calibration), file=sys.stderr)

    if speed_part:
        latency = {}
        vector_rng = np.random.default_rng(0)
        queries = [q["question"] for q in sets["medquad"][1][:40]]
        for size in (1000, 10000) if quick else (1000, 10000, 100000):
            name = f"synthetic-{size}"
            started = time.perf_counter()
            _synthetic_store(store, name, size, vector_rng)
            build = time.perf_counter() - started
            latency[str(size)] = {mode: _latency(store, name, queries, mode) for mode in MODES}
            latency[str(size)]["store_build_s"] = round(build, 1)
            print(size, json.dumps(latency[str(size)]), file=sys.stderr)
            store.delete(name)
        speed["retrieval_latency"] = latency
        speed["query_embedding_ms"] = _embedding_latency(embeddings, queries)
        # The reference figure (~630 sentences/s) is for sentence-length inputs: measure those too.
        speed["short_sentences"] = _embedding_throughput(
            embeddings, [q["question"] for q in sets["medquad"][1]] * 4
        )
        # The default dtype ("auto": bfloat16 on CPUs that compute it natively) against float32, same chunks.
        sample = store.chunks(collections["medquad"]).texts[:256]
        speed["embedding_dtypes"] = {
            dtype: _embedding_throughput(
                load_embeddings(EmbeddingConfig(device="cpu", dtype=dtype), settings.data_dir), sample
            )
            for dtype in ("float32", "bfloat16")
        }
        speed["threads"] = torch.get_num_threads()
        (out_dir / "rag_speed.json").write_text(json.dumps(speed, indent=2))

    limits = (
        {"answerable": 1, "cross": 2, "near_miss": 3}
        if quick
        else {"answerable": 3, "cross": 4, "near_miss": 10}
    )
    answers = _answers(
        store,
        collections,
        {k: v[1] for k, v in sets.items()},
        calibration["threshold"],
        limits,
        settings.data_dir,
    )
    (out_dir / "rag_answers.json").write_text(json.dumps(answers, indent=2))
    print("answers", json.dumps({k: v for k, v in answers.items() if k != "records"}), file=sys.stderr)
