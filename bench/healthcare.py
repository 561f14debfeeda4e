"""Compliance review on the hand-labelled clause set (samples/eval/compliance_clauses.jsonl) against the
sample HIPAA knowledge base (samples/knowledge_bases/health-privacy): precision and recall of "possible gap",
accuracy over the three labels, per clause outcomes. Rules only, and (unless --quick) rules + the default LLM
for the clauses the rules leave open.

    genai bench healthcare [--quick]        # from the repository root; writes bench/results/healthcare.json
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAUSES = ROOT / "samples" / "eval" / "compliance_clauses.jsonl"
KNOWLEDGE_BASE = ROOT / "samples" / "knowledge_bases" / "health-privacy"


def _retriever(services):
    from rag.retrieval import HybridRetriever, RetrievalConfig

    services.ingest([KNOWLEDGE_BASE], "health-privacy")
    return HybridRetriever(store=services.document_store, collection="health-privacy", config=RetrievalConfig(k=5))


def _scores(rows: list[dict]) -> dict:
    tp = sum(r["label"] == "possible gap" and r["predicted"] == "possible gap" for r in rows)
    fp = sum(r["label"] != "possible gap" and r["predicted"] == "possible gap" for r in rows)
    fn = sum(r["label"] == "possible gap" and r["predicted"] != "possible gap" for r in rows)
    return {
        "gap_precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "gap_recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "accuracy": round(sum(r["label"] == r["predicted"] for r in rows) / len(rows), 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def main(out_dir: Path, quick: bool) -> None:
    from apps.services import Services
    from apps.settings import load_settings
    from domains.healthcare.compliance import Clause, review_clause

    labelled = [json.loads(line) for line in CLAUSES.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        services = Services(load_settings(data_dir=Path(scratch), device="cpu"))
        retriever = _retriever(services)
        passages = {item["id"]: retriever.invoke(item["clause"]) for item in labelled}
        modes = {"rules": None}
        if not quick:
            modes[f"rules + {services.settings.llm.model}"] = services.chat_model()
        results = {}
        for mode, chat_model in modes.items():
            started = time.perf_counter()
            rows = []
            for item in labelled:
                finding = review_clause(
                    Clause(id=item["id"], text=item["clause"]), passages[item["id"]], chat_model=chat_model
                )
                rows.append(
                    {
                        "id": item["id"],
                        "label": item["label"],
                        "predicted": finding.status,
                        "method": finding.method,
                        "cited": finding.citation.text[:120] if finding.citation else None,
                    }
                )
            results[mode] = {
                **_scores(rows),
                "seconds": round(time.perf_counter() - started, 1),
                "clauses": rows,
            }
    document = {
        "benchmark": "healthcare",
        "clauses": len(labelled),
        "quick": quick,
        "knowledge_base": str(KNOWLEDGE_BASE.relative_to(ROOT)),
        "results": results,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "healthcare.json").write_text(json.dumps(document, indent=2))
    for mode, result in results.items():
        summary = {k: v for k, v in result.items() if k != "clauses"}
        print(mode, json.dumps(summary))
        for row in result["clauses"]:
            if row["label"] != row["predicted"]:
                print(f"  miss {row['id']}: {row['label']} -> {row['predicted']} ({row['method']})")
