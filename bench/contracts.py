"""Clause extraction on CUAD v1 (../shared/data/rag-eval/cuad): per-category precision and recall.

For each contract and category the extractor cites at most one clause. It counts as a true positive when it
overlaps a labelled span of that category, a false positive otherwise; a contract with labelled spans and
no overlapping citation is a miss. Precision = TP / cited, recall = TP / contracts with a label.
Two runs: patterns only on all 240 contracts, and patterns + MiniLM retrieval on a subsample (every 8th
contract, 30) because embedding every clause of every contract takes minutes on two CPU cores.
``quick``: 40 contracts for patterns, 8 for retrieval. Writes bench/results/contracts.json.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

CUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "rag-eval" / "cuad"


def load_labels(cuad: Path) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """contract file -> category -> labelled (start, end) spans."""
    labels: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(dict)
    for line in (cuad / "clause_spans.jsonl").read_text().splitlines():
        row = json.loads(line)
        spans = [(s["char_start"], s["char_start"] + len(s["text"])) for s in row["spans"]]
        labels[row["contract_txt"]][row["category"]] = spans
    return labels


def evaluate(extractor, contracts: list[str], labels, cuad: Path) -> tuple[dict, float]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "labelled": 0})
    started = time.perf_counter()
    for name in contracts:
        text = (cuad / "contracts" / name).read_text(encoding="utf-8", errors="replace")
        analysis = extractor.extract(text, source=name)
        for category, spans in labels[name].items():
            if category not in {spec.name for spec in extractor.specs}:
                continue
            tally = counts[category]
            tally["labelled"] += bool(spans)
            found = analysis.fields.get(category)
            if found is None:
                continue
            hit = any(found.char_start < end and start < found.char_end for start, end in spans)
            tally["tp" if hit else "fp"] += 1
    per_contract = (time.perf_counter() - started) / max(len(contracts), 1)
    table = {}
    for category, tally in sorted(counts.items()):
        cited = tally["tp"] + tally["fp"]
        table[category] = {
            "precision": round(tally["tp"] / cited, 3) if cited else None,
            "recall": round(tally["tp"] / tally["labelled"], 3) if tally["labelled"] else None,
            "labelled": tally["labelled"],
            "cited": cited,
        }
    return table, per_contract


def main(out_dir: Path, quick: bool) -> None:
    from apps.services import Services
    from apps.settings import load_settings
    from domains.finance.contracts import ContractExtractor

    if not (CUAD / "clause_spans.jsonl").is_file():
        print(f"skipped: CUAD labels not found at {CUAD}")
        return
    labels = load_labels(CUAD)
    contracts = sorted(labels)
    patterns_set = contracts[:40] if quick else contracts
    retrieval_set = contracts[::8][: 8 if quick else 30]
    patterns, patterns_s = evaluate(ContractExtractor(), patterns_set, labels, CUAD)
    embeddings = Services(load_settings(device="cpu")).embeddings()
    hybrid, hybrid_s = evaluate(ContractExtractor(embeddings=embeddings), retrieval_set, labels, CUAD)
    same_subset, _ = evaluate(ContractExtractor(), retrieval_set, labels, CUAD)
    result = {
        "dataset": "CUAD v1 (240 contracts)",
        "quick": quick,
        "patterns_only": {
            "contracts": len(patterns_set),
            "seconds_per_contract": round(patterns_s, 3),
            "per_category": patterns,
        },
        "patterns_on_retrieval_subset": {"contracts": len(retrieval_set), "per_category": same_subset},
        "patterns_plus_minilm": {
            "contracts": len(retrieval_set),
            "seconds_per_contract": round(hybrid_s, 3),
            "per_category": hybrid,
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "contracts.json").write_text(json.dumps(result, indent=2))
    print(
        json.dumps({k: v for k, v in result.items() if k != "patterns_on_retrieval_subset"}, indent=1)[:6000]
    )
