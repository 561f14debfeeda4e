"""Generate the sample retail catalogue and purchase/browse history (seeded, so the CSVs are reproducible).

    python samples/retail/make_retail_sample.py            # writes catalogue.csv and history.csv beside it

The simulator has the structure a recommender should find, so comparing methods on it means something:
- 10 categories x 5 product types x 4-5 brands = 220 products; brands differ in price tier and popularity
  (Zipf), product text names the type, category and type-specific features.
- 5 customer segments with their own category preferences (an "outdoor" customer mostly buys running and
  camping gear).
- Complementary types (espresso machine -> grinder, coffee beans, milk frother; tent -> sleeping bag, ...):
  after a purchase, the next purchase is a complement of an earlier one with probability ``P_COMPLEMENT``,
  otherwise a new type drawn from the segment's preferences.
- Each purchase is preceded by 1-4 views of alternatives of the same type (the bought item itself with
  probability 0.6), within the hour before it.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20250101
N_CUSTOMERS = 400
P_COMPLEMENT = 0.55

# category -> {type: (base price, [complement types], [feature templates])}
CATALOGUE_SPEC: dict[str, dict[str, tuple[float, list[str], list[str]]]] = {
    "Coffee": {
        "espresso machine": (
            249,
            ["coffee grinder", "coffee beans", "milk frother"],
            ["{p} bar pump pressure", "{l} L water tank"],
        ),
        "coffee grinder": (89, ["coffee beans"], ["{s} grind settings", "conical burr"]),
        "coffee beans": (14, ["travel mug"], ["{g} g bag", "single origin"]),
        "milk frother": (39, ["coffee beans"], ["{w} W heating", "hot and cold foam"]),
        "travel mug": (19, [], ["{m} ml capacity", "leak-proof lid"]),
    },
    "Running": {
        "running shoes": (119, ["running socks", "sports watch"], ["{d} mm heel drop", "{w2} g weight"]),
        "running socks": (12, [], ["pack of {n}", "merino blend"]),
        "sports watch": (199, ["heart-rate strap"], ["{h} h battery", "built-in GPS"]),
        "heart-rate strap": (49, [], ["{h} h battery", "Bluetooth and ANT+"]),
        "hydration vest": (79, ["travel mug"], ["{l} L capacity", "reflective trims"]),
    },
    "Camping": {
        "tent": (229, ["sleeping bag", "camping stove"], ["{n} person", "{w2} g packed weight"]),
        "sleeping bag": (119, ["sleeping mat"], ["comfort rating {t} C", "{w2} g weight"]),
        "camping stove": (59, ["cookware set"], ["{w} W output", "piezo ignition"]),
        "sleeping mat": (69, [], ["R-value {r}", "{d} mm thick"]),
        "headlamp": (29, [], ["{lm} lumens", "{h} h battery"]),
    },
    "Kitchen": {
        "chef knife": (79, ["cutting board", "knife sharpener"], ["{c} cm blade", "stainless steel"]),
        "cutting board": (29, [], ["{c} cm long", "end-grain wood"]),
        "cookware set": (149, ["spatula set"], ["{n} pieces", "induction ready"]),
        "knife sharpener": (25, [], ["{s} stages", "non-slip base"]),
        "spatula set": (18, [], ["{n} pieces", "silicone heads"]),
    },
    "Home Office": {
        "office chair": (279, ["desk lamp"], ["{y} year warranty", "adjustable lumbar support"]),
        "standing desk": (399, ["office chair", "monitor arm"], ["{c} cm wide", "dual motor"]),
        "desk lamp": (45, [], ["{lm} lumens", "{s} brightness levels"]),
        "monitor arm": (65, [], ["fits up to {i} inch", "gas spring"]),
        "keyboard": (89, ["mouse"], ["{n} keys", "{h} h battery"]),
    },
    "Electronics": {
        "headphones": (159, ["phone charger"], ["{h} h battery", "active noise cancelling"]),
        "bluetooth speaker": (69, ["power bank"], ["{h} h battery", "IPX{x} water resistance"]),
        "phone charger": (25, [], ["{w} W output", "USB-C"]),
        "power bank": (39, [], ["{ma} mAh capacity", "{w} W output"]),
        "mouse": (35, [], ["{dpi} DPI sensor", "{h} h battery"]),
    },
    "Baby": {
        "stroller": (329, ["baby carrier"], ["{w2} g frame", "one-hand fold"]),
        "baby carrier": (99, [], ["up to {kg} kg", "{n} carrying positions"]),
        "baby bottle": (15, ["bottle sterilizer"], ["{m} ml capacity", "anti-colic valve"]),
        "bottle sterilizer": (59, [], ["holds {n} bottles", "{w} W steam"]),
        "baby monitor": (119, [], ["{i} inch screen", "{h} h battery"]),
    },
    "Pets": {
        "dog bed": (59, ["dog treats"], ["{c} cm long", "washable cover"]),
        "dog leash": (19, ["dog treats"], ["{c} cm long", "reflective stitching"]),
        "dog treats": (9, [], ["{g} g bag", "grain free"]),
        "cat tree": (89, ["cat litter"], ["{c} cm tall", "{n} platforms"]),
        "cat litter": (16, [], ["{kg} kg bag", "clumping"]),
    },
    "Beauty": {
        "face serum": (35, ["moisturizer"], ["{m} ml bottle", "{pc}% vitamin C"]),
        "moisturizer": (29, ["sunscreen"], ["{m} ml jar", "fragrance free"]),
        "sunscreen": (19, [], ["SPF {spf}", "{m} ml tube"]),
        "shampoo": (12, ["conditioner"], ["{m} ml bottle", "sulfate free"]),
        "conditioner": (12, [], ["{m} ml bottle", "argan oil"]),
    },
    "Garden": {
        "garden hose": (45, ["hose nozzle"], ["{c} m long", "kink resistant"]),
        "hose nozzle": (15, [], ["{n} spray patterns", "metal body"]),
        "pruning shears": (32, ["garden gloves"], ["{c} mm cutting capacity", "bypass blades"]),
        "garden gloves": (11, [], ["size {sz}", "nitrile coated"]),
        "seed starter kit": (25, [], ["{n} cells", "humidity dome"]),
    },
}

SEGMENTS: dict[str, dict[str, float]] = {
    "outdoor": {"Running": 0.4, "Camping": 0.4, "Electronics": 0.1, "Garden": 0.1},
    "home-cook": {"Coffee": 0.45, "Kitchen": 0.45, "Garden": 0.1},
    "professional": {"Home Office": 0.45, "Electronics": 0.35, "Coffee": 0.2},
    "young-family": {"Baby": 0.6, "Kitchen": 0.2, "Beauty": 0.2},
    "pet-owner": {"Pets": 0.6, "Garden": 0.25, "Beauty": 0.15},
}

BRANDS = [("Nordvik", 1.35), ("Alba", 1.0), ("Kestrel", 0.85), ("Lumo", 1.15), ("Tessa", 0.95)]
ADJECTIVES = ["Classic", "Pro", "Lite", "Max", "Eco"]
FEATURE_VALUES = {
    "p": [9, 15, 19],
    "l": [0.5, 1.2, 1.8, 2.0],
    "s": [3, 5, 16, 40],
    "g": [250, 500, 1000],
    "w": [20, 30, 65, 600, 1200],
    "m": [250, 350, 400, 500],
    "d": [4, 8, 10, 38],
    "w2": [240, 980, 1850],
    "n": [2, 3, 4, 5, 6, 8, 10, 12],
    "h": [12, 20, 30, 60],
    "t": [-5, 0, 5],
    "r": [2.5, 3.2, 4.1],
    "lm": [250, 400, 800],
    "c": [20, 30, 45, 120, 140, 160],
    "y": [2, 5, 10],
    "i": [5, 27, 32, 34],
    "x": [5, 7],
    "ma": [10000, 20000],
    "dpi": [1600, 4000],
    "kg": [5, 10, 15, 20],
    "pc": [10, 15, 20],
    "spf": [30, 50],
    "sz": ["S", "M", "L"],
}


def _type_index() -> dict[str, tuple[str, float, list[str], list[str]]]:
    index = {}
    for category, types in CATALOGUE_SPEC.items():
        for type_name, (price, complements, features) in types.items():
            index[type_name] = (category, price, complements, features)
    return index


def make_catalogue(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for category, types in CATALOGUE_SPEC.items():
        for type_index, (type_name, (base_price, _, templates)) in enumerate(types.items()):
            n_brands = 5 if type_index < 2 else 4
            for brand, tier in BRANDS[:n_brands]:
                adjective = ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]
                values = {
                    key: options[int(rng.integers(len(options)))] for key, options in FEATURE_VALUES.items()
                }
                features = [template.format(**values) for template in templates]
                price = round(base_price * tier * float(rng.uniform(0.9, 1.1)), 0) - 0.01
                name = f"{brand} {adjective} {type_name.title()}"
                article = "an" if type_name[0] in "aeiou" else "a"
                description = (
                    f"The {name} is {article} {type_name} from our {category.lower()} range with "
                    f"{features[0]} and {features[1]}. {brand} designs it for everyday use."
                )
                rows.append(
                    {
                        "product_id": f"P{len(rows) + 1:04d}",
                        "name": name,
                        "category": category,
                        "type": type_name,
                        "brand": brand,
                        "price": round(price, 2),
                        "features": "; ".join(features),
                        "description": description,
                    }
                )
    return pd.DataFrame(rows)


def make_history(catalogue: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    types = _type_index()
    by_type = {t: group.reset_index(drop=True) for t, group in catalogue.groupby("type")}
    brand_weight = {brand: 1.0 / (rank + 1) for rank, (brand, _) in enumerate(BRANDS)}  # Zipf popularity
    segment_names = list(SEGMENTS)
    events = []
    start = datetime(2025, 1, 1)

    def pick_product(type_name: str) -> pd.Series:
        options = by_type[type_name]
        weights = np.array([brand_weight[b] for b in options["brand"]])
        return options.iloc[int(rng.choice(len(options), p=weights / weights.sum()))]

    def pick_type(segment: str) -> str:
        categories = list(SEGMENTS[segment])
        probs = np.array(list(SEGMENTS[segment].values()))
        category = categories[int(rng.choice(len(categories), p=probs / probs.sum()))]
        return list(CATALOGUE_SPEC[category])[int(rng.integers(5))]

    for number in range(N_CUSTOMERS):
        customer = f"C{number + 1:04d}"
        segment = segment_names[number % len(segment_names)]
        clock = start + timedelta(days=float(rng.uniform(0, 120)))
        bought: list[str] = []
        for _ in range(int(rng.integers(2, 8))):
            complements = [c for t in bought[-3:] for c in types[t][2]]
            if complements and rng.random() < P_COMPLEMENT:
                type_name = complements[int(rng.integers(len(complements)))]
            else:
                type_name = pick_type(segment)
            product = pick_product(type_name)
            clock += timedelta(days=float(rng.exponential(12)) + 1)
            viewed = [pick_product(type_name) for _ in range(int(rng.integers(1, 4)))]
            if rng.random() < 0.6:
                viewed.append(product)
            for offset, item in enumerate(viewed):
                when = clock - timedelta(minutes=10 * (len(viewed) - offset))
                events.append((customer, segment, item["product_id"], "view", when))
            events.append((customer, segment, product["product_id"], "purchase", clock))
            bought.append(type_name)
    history = pd.DataFrame(events, columns=["customer_id", "segment", "product_id", "event", "timestamp"])
    history["timestamp"] = history["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return history.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    catalogue = make_catalogue(rng)
    history = make_history(catalogue, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    catalogue.to_csv(args.out / "catalogue.csv", index=False)
    history.to_csv(args.out / "history.csv", index=False)
    print(f"{len(catalogue)} products, {len(history)} events -> {args.out}")


if __name__ == "__main__":
    main()
