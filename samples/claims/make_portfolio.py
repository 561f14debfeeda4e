"""Generate the synthetic claims portfolio (``portfolio.csv``) used for underwriting profiles, the claims
dashboard and training the claims anomaly model. Seeded: every run writes the same file.

    .venv/bin/python samples/claims/make_portfolio.py [--rows 1500] [--out samples/claims/portfolio.csv]

No real person or policy is described. Segments differ on purpose (motor claims are frequent and fast,
home claims larger, commercial slow with higher fraud), so the profiles have something to show; about 3% of
claims are planted outliers (very late, near the limit, many prior claims) and carry ``fraud_flag=1`` more often.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEGMENTS = {
    # segment: (share, mean amount, limit, processing days mean, approval base, fraud base)
    "home": (0.40, 9000.0, 350000.0, 24.0, 0.78, 0.03),
    "motor": (0.35, 4200.0, 60000.0, 12.0, 0.85, 0.04),
    "travel": (0.15, 1300.0, 10000.0, 9.0, 0.80, 0.05),
    "commercial": (0.10, 26000.0, 1000000.0, 41.0, 0.70, 0.06),
}
REGIONS = ("north", "south", "east", "west")


def generate(rows: int = 1500, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s][0] for s in names])
    segment = rng.choice(names, size=rows, p=shares / shares.sum())
    region = rng.choice(REGIONS, size=rows)
    start_day = date(2024, 1, 1)
    records = []
    for index in range(rows):
        _, mean_amount, limit, processing, approval, fraud = SEGMENTS[segment[index]]
        outlier = rng.random() < 0.03
        policy_age = int(rng.integers(5, 60) if outlier else rng.integers(30, 2000))
        loss = start_day + timedelta(days=int(rng.integers(0, 700)))
        delay = int(rng.integers(40, 120) if outlier else rng.gamma(2.0, 3.0))
        amount = float(limit * rng.uniform(0.7, 0.98) if outlier else rng.lognormal(np.log(mean_amount), 0.6))
        amount = round(min(amount, limit), 2)
        prior = int(rng.integers(3, 7) if outlier else rng.poisson(0.4))
        flagged = int(rng.random() < (0.55 if outlier else fraud))
        days_open = max(1, int(rng.gamma(3.0, processing / 3.0) * (1.8 if flagged else 1.0)))
        approved = rng.random() < (0.25 if flagged else approval)
        reported = loss + timedelta(days=delay)
        records.append(
            {
                "claim_id": f"PF-{100000 + index}",
                "policy_number": f"{segment[index][:3].upper()}-{int(rng.integers(100000, 999999))}",
                "segment": segment[index],
                "region": region[index],
                "policy_start": (loss - timedelta(days=policy_age)).isoformat(),
                "loss_date": loss.isoformat(),
                "reported_date": reported.isoformat(),
                "closed_date": (reported + timedelta(days=days_open)).isoformat(),
                "amount": amount,
                "policy_limit": limit,
                "prior_claims": prior,
                "decision": "approved" if approved else "denied",
                "fraud_flag": flagged,
            }
        )
    return pd.DataFrame.from_records(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("portfolio.csv"))
    args = parser.parse_args()
    generate(args.rows).to_csv(args.out, index=False)
    print(f"wrote {args.rows} claims to {args.out}")


if __name__ == "__main__":
    main()
