"""Generate a labelled card-transaction sample with injected fraud patterns (seeded, reproducible).

    python samples/finance/make_transactions.py     # writes transactions.csv beside this script

Normal behaviour: each of ``N_CUSTOMERS`` customers has a home country, a typical spend (log-normal), three
favourite merchant categories, a daytime activity window and a preferred channel; they make 1-3 purchases
on most days over ``DAYS`` days.
Fraud (``is_fraud`` = 1, ``fraud_pattern`` names it), about 1.5 % of rows, in four patterns seen in practice:
- ``card_testing``: a burst of 3-6 tiny online payments to digital-goods merchants within minutes, at night;
- ``account_takeover``: one online payment of 6-20x the customer's typical spend, from abroad, at night;
- ``skimming``: 2-4 ATM withdrawals abroad within two hours;
- ``unusual_merchant``: a large in-store payment at jewellery/electronics, a category the customer never uses.
Columns: transaction_id, timestamp, customer_id, amount, merchant_category, channel, country, is_fraud,
fraud_pattern. ``domains.finance.anomalies`` derives hour, spend ratio, velocity and foreign-country features.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
N_CUSTOMERS = 250
DAYS = 45
CATEGORIES = [
    "grocery",
    "restaurant",
    "fuel",
    "pharmacy",
    "clothing",
    "travel",
    "utilities",
    "entertainment",
    "home",
    "digital_goods",
    "jewellery",
    "electronics",
]
EVERYDAY = CATEGORIES[:9]
COUNTRIES = ["DE", "FR", "NL", "ES", "IT"]
ABROAD = ["US", "BR", "NG", "RU", "TH", "MX"]
CHANNELS = ["pos", "online", "atm"]


def _normal(rng: np.random.Generator) -> list[dict]:
    rows = []
    start = datetime(2025, 3, 1)
    for number in range(N_CUSTOMERS):
        customer = f"K{number + 1:04d}"
        home = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        typical = float(np.exp(rng.normal(3.3, 0.5)))
        favourites = list(rng.choice(EVERYDAY, size=3, replace=False))
        wake = int(rng.integers(7, 11))
        online_share = float(rng.uniform(0.1, 0.5))
        for day in range(DAYS):
            for _ in range(int(rng.poisson(1.3))):
                when = start + timedelta(days=day, hours=float(rng.uniform(wake, wake + 13)))
                channel = (
                    "online" if rng.random() < online_share else ("atm" if rng.random() < 0.05 else "pos")
                )
                category = (
                    "cash"
                    if channel == "atm"
                    else str(favourites[int(rng.integers(3))] if rng.random() < 0.8 else rng.choice(EVERYDAY))
                )
                amount = typical * float(np.exp(rng.normal(0, 0.6))) * (2.5 if channel == "atm" else 1.0)
                country = home if rng.random() < 0.97 else COUNTRIES[int(rng.integers(len(COUNTRIES)))]
                rows.append(
                    dict(
                        timestamp=when,
                        customer_id=customer,
                        amount=round(amount, 2),
                        merchant_category=category,
                        channel=channel,
                        country=country,
                        is_fraud=0,
                        fraud_pattern="",
                        _typical=typical,
                        _home=home,
                        _favourites=favourites,
                    )
                )
    return rows


def _fraud(rng: np.random.Generator, normal: list[dict], share: float = 0.015) -> list[dict]:
    customers = {row["customer_id"]: row for row in normal}
    victims = list(customers)
    rows: list[dict] = []
    target = int(share * len(normal))
    start = datetime(2025, 3, 1)
    while len(rows) < target:
        profile = customers[victims[int(rng.integers(len(victims)))]]
        when = start + timedelta(days=float(rng.uniform(0, DAYS)))
        night = when.replace(hour=int(rng.integers(0, 5)), minute=int(rng.integers(60)))
        pattern = ["card_testing", "account_takeover", "skimming", "unusual_merchant"][int(rng.integers(4))]
        base = dict(customer_id=profile["customer_id"], is_fraud=1, fraud_pattern=pattern)
        if pattern == "card_testing":
            for i in range(int(rng.integers(3, 7))):
                rows.append(
                    base
                    | dict(
                        timestamp=night + timedelta(minutes=2 * i),
                        amount=round(rng.uniform(1, 5), 2),
                        merchant_category="digital_goods",
                        channel="online",
                        country=profile["_home"],
                    )
                )
        elif pattern == "account_takeover":
            rows.append(
                base
                | dict(
                    timestamp=night,
                    amount=round(profile["_typical"] * rng.uniform(6, 20), 2),
                    merchant_category=str(rng.choice(["travel", "electronics", "digital_goods"])),
                    channel="online",
                    country=str(rng.choice(ABROAD)),
                )
            )
        elif pattern == "skimming":
            country = str(rng.choice(ABROAD))
            for i in range(int(rng.integers(2, 5))):
                rows.append(
                    base
                    | dict(
                        timestamp=when + timedelta(minutes=30 * i),
                        amount=round(rng.uniform(150, 400), 2),
                        merchant_category="cash",
                        channel="atm",
                        country=country,
                    )
                )
        else:
            rows.append(
                base
                | dict(
                    timestamp=when.replace(hour=int(rng.integers(11, 19))),
                    amount=round(profile["_typical"] * rng.uniform(8, 25), 2),
                    merchant_category=str(rng.choice(["jewellery", "electronics"])),
                    channel="pos",
                    country=profile["_home"],
                )
            )
    return rows


def make_transactions(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    normal = _normal(rng)
    table = pd.DataFrame(normal + _fraud(rng, normal)).drop(columns=["_typical", "_home", "_favourites"])
    table = table.sort_values("timestamp", kind="stable").reset_index(drop=True)
    table.insert(0, "transaction_id", [f"T{i + 1:06d}" for i in range(len(table))])
    table["timestamp"] = pd.to_datetime(table["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "transactions.csv")
    args = parser.parse_args()
    table = make_transactions()
    table.to_csv(args.out, index=False)
    print(f"{len(table)} transactions, {int(table['is_fraud'].sum())} fraudulent -> {args.out}")


if __name__ == "__main__":
    main()
