"""Hit-rate@10 of the recommender on the shipped sample, against popularity baselines.

Each customer's last purchase is held out (with the browsing session before it); every method ranks the
products the customer has not bought yet, from the remaining history. Run from the repository root:
``genai bench retail`` -> bench/results/retail.json. ``quick`` evaluates the first 100 customers only.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "retail"
K = 10


def main(out_dir: Path, quick: bool) -> None:
    from apps.services import Services
    from apps.settings import load_settings
    from domains.retail.recommend import Recommender, holdout_last_purchase, load_catalogue, load_history

    catalogue = load_catalogue(SAMPLE / "catalogue.csv")
    history = load_history(SAMPLE / "history.csv")
    train, targets = holdout_last_purchase(history)
    if quick:
        targets = targets.head(100)
    embeddings = Services(load_settings(device="cpu")).embeddings()
    started = time.perf_counter()
    methods = {
        "content only": Recommender(
            catalogue, train, embeddings=embeddings, copurchase_weight=0, popularity_weight=0
        ),
        "co-purchase only": Recommender(catalogue, train, embeddings=None, popularity_weight=0),
        "blend (default)": Recommender(catalogue, train, embeddings=embeddings),
    }
    build_s = time.perf_counter() - started
    hits = {name: 0 for name in ["popularity (global)", "popularity (segment)", *methods]}
    baseline = methods["blend (default)"]
    for target in targets.itertuples():
        bought = set(
            train.loc[
                (train["customer_id"] == target.customer_id) & (train["event"] == "purchase"), "product_id"
            ]
        )
        hits["popularity (global)"] += target.product_id in baseline.popular(K, exclude=bought)
        hits["popularity (segment)"] += target.product_id in baseline.popular(
            K, segment=target.segment, exclude=bought
        )
        for name, recommender in methods.items():
            ids = [item.product_id for item in recommender.recommend(target.customer_id, K).items]
            hits[name] += target.product_id in ids
    result = {
        "dataset": "samples/retail (seeded simulator, see samples/retail/make_retail_sample.py)",
        "products": len(catalogue),
        "events": len(history),
        "customers_evaluated": len(targets),
        "k": K,
        "hit_rate_at_k": {name: round(count / len(targets), 3) for name, count in hits.items()},
        "build_seconds": round(build_s, 2),
        "quick": quick,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "retail.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
