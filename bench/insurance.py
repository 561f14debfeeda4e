"""Claim triage decision accuracy on the sample claims (samples/claims/CLM-10xx, self-written, and the two
claims shipped inside the insurance knowledge base; ground truth in samples/claims/ground_truth.csv) against the sample policy wording indexed with the default embeddings and
retrieved by the hybrid retriever (the knowledge base's own sample claims are in the same collection, as in
production, and must never be used for another claim). Rules only, with the autoencoder anomaly score.

    genai bench insurance [--quick]        # from the repository root; writes bench/results/insurance.json
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "samples" / "claims"
KNOWLEDGE_BASE = ROOT / "samples" / "knowledge_bases" / "insurance"


def _retriever(services):
    from rag.retrieval import HybridRetriever, RetrievalConfig

    services.ingest([KNOWLEDGE_BASE], "insurance")
    return HybridRetriever(store=services.document_store, collection="insurance", config=RetrievalConfig(k=5))


def main(out_dir: Path, quick: bool) -> None:
    from apps.services import Services
    from apps.settings import load_settings
    from domains.insurance.anomaly import train_claims_anomaly
    from domains.insurance.triage import PolicyRegister, triage_claim

    truth = {
        row["claim_id"]: (row["folder"], row["decision"])
        for row in csv.DictReader((CLAIMS / "ground_truth.csv").open())
    }
    register = PolicyRegister.from_csv(CLAIMS / "policies.csv")
    started = time.perf_counter()
    anomaly = train_claims_anomaly(CLAIMS / "portfolio.csv", epochs=10 if quick else 40)
    train_s = time.perf_counter() - started
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        services = Services(load_settings(data_dir=Path(scratch), device="cpu"))
        retriever = _retriever(services)
        started = time.perf_counter()
        for claim_id, (folder, expected) in truth.items():
            result = triage_claim(
                ROOT / folder, retrieve_policy=retriever.invoke, register=register, anomaly=anomaly
            )
            cited = [c.section for c in result.coverage.citations]
            rows.append(
                {
                    "claim_id": claim_id,
                    "expected": expected,
                    "predicted": result.recommendation,
                    "coverage": result.coverage.status,
                    "cited": cited,
                    "fraud_score": result.fraud.score,
                    "anomaly_flagged": result.fraud.anomaly.flagged if result.fraud.anomaly else None,
                    "fields_found": sum(
                        getattr(result.record, f).method != "missing"
                        for f in (
                            "claimant",
                            "policy_number",
                            "date_of_loss",
                            "date_reported",
                            "amount_claimed",
                            "loss_type",
                            "description",
                        )
                    ),
                }
            )
        triage_s = time.perf_counter() - started
    correct = sum(r["expected"] == r["predicted"] for r in rows)
    document = {
        "benchmark": "insurance",
        "claims": len(rows),
        "quick": quick,
        "decision_accuracy": round(correct / len(rows), 3),
        "correct": correct,
        "confusion": dict(Counter(f"{r['expected']}->{r['predicted']}" for r in rows)),
        "field_completeness": round(sum(r["fields_found"] for r in rows) / (7 * len(rows)), 3),
        "anomaly_train_s": round(train_s, 1),
        "triage_s_per_claim": round(triage_s / len(rows), 2),
        "results": rows,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "insurance.json").write_text(json.dumps(document, indent=2))
    print(json.dumps({k: v for k, v in document.items() if k != "results"}))
    for row in rows:
        if row["expected"] != row["predicted"]:
            print(f"  miss {row['claim_id']}: {row['expected']} -> {row['predicted']} ({row['coverage']})")
