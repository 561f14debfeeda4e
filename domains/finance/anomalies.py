"""Transaction anomaly detection: the genai_models tabular autoencoder, with Isolation Forest beside it.

Pipeline: table -> features -> sklearn ``ColumnTransformer`` (robust scaling of numbers, one-hot categories)
-> ``TabularAnomalyDetector`` trained on all rows (fraud is rare, so the autoencoder learns the normal
patterns) -> threshold at the quantile that alerts on ``alert_rate`` of the rows -> each alert explained by
the original features with the largest reconstruction error. Isolation Forest scores the same matrix with
the same alert rate; with a label column both get precision, recall and PR-AUC.

Layouts understood:
- ``transactions``: transaction_id, timestamp, customer_id, amount, merchant_category, channel, country (as
  made by samples/finance/make_transactions.py); per-customer features are derived (hour, amount against
  the customer's median, foreign country, payments in the previous hour, minutes since the previous one);
- ``creditcard``: the widely used Time, V1..V28, Amount, Class layout (PCA features, label ``Class``);
- ``generic``: any other table: numeric columns scaled, text columns one-hot, id-like columns dropped, and
  label-like columns (names with fraud, label, class, target, anomaly) left out so the answer never leaks
  into the features; the report says which specific layout's columns were missing.

Rows whose amount or timestamp cannot be read are skipped with a warning naming a few of them; the file is
refused only when fewer than 50 rows, or fewer than half of them, remain.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, parse_timestamps, read_table

TRANSACTION_COLUMNS = ("timestamp", "customer_id", "amount", "merchant_category", "channel", "country")
CREDITCARD_COLUMNS = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
LAYOUT_COLUMNS = {"transactions": TRANSACTION_COLUMNS, "creditcard": CREDITCARD_COLUMNS}
LABEL_COLUMNS = ("is_fraud", "Class", "label")  # the evaluation label: the first of these in the table
# Never features (they leak the answer): a name with fraud or anomal in it, and a 0/1 column named with label,
# class or target ("target_flag"); "asset_class" (text) and "target_margin" (a measure) are ordinary features.
LABEL_NAME = re.compile(r"fraud|anomal", re.IGNORECASE)
BINARY_LABEL_NAME = re.compile(r"label|class|target|^y$", re.IGNORECASE)
ID_COLUMNS = ("transaction_id", "customer_id")  # read as text: "00000670" keeps its zeros
MAX_CATEGORIES = 50
MIN_ROWS = 50
SHOWN_ROWS = 5


@dataclass
class Alert:
    row: int
    record_id: str
    score: float
    isolation_forest_flag: bool
    top_features: list[tuple[str, float]]  # (feature, share of the row's reconstruction error)


@dataclass
class MethodMetrics:
    precision: float
    recall: float
    pr_auc: float
    alerts: int


@dataclass
class AnomalyReport:
    layout: str
    rows: int
    alert_rate: float
    threshold: float
    features: list[str]
    alerts: list[Alert]
    autoencoder_scores: list[float] = field(repr=False)
    isolation_forest_scores: list[float] = field(repr=False)
    labels: list[int] | None = field(default=None, repr=False)
    metrics: dict[str, MethodMetrics] | None = None
    warnings: list[str] = field(default_factory=list)  # skipped rows, why the generic layout was used

    def to_dict(self, *, include_scores: bool = False) -> dict:
        document = asdict(self)
        if not include_scores:
            for key in ("autoencoder_scores", "isolation_forest_scores", "labels"):
                document.pop(key)
        return document


# ---------------------------------------------------------------- features


def detect_layout(table: pd.DataFrame) -> str:
    if all(column in table.columns for column in CREDITCARD_COLUMNS):
        return "creditcard"
    if all(column in table.columns for column in TRANSACTION_COLUMNS):
        return "transactions"
    return "generic"


def _transaction_features(table: pd.DataFrame) -> pd.DataFrame:
    """Per-row behaviour features relative to the same customer's other payments in the file."""
    frame = pd.DataFrame(
        {"customer": table["customer_id"].astype(str), "when": table["timestamp"], "amount": table["amount"]}
    )
    frame = frame.sort_values(["customer", "when"], kind="stable")
    by_customer = frame.groupby("customer")
    median = by_customer["amount"].transform("median").clip(lower=0.01)
    gap = by_customer["when"].diff().dt.total_seconds().div(60).fillna(60 * 24 * 7)
    seconds = (frame["when"] - frame["when"].min()).dt.total_seconds()  # whatever unit pandas stores
    counts = np.zeros(len(frame))
    for _, index in by_customer.indices.items():
        times = seconds.to_numpy()[index]
        counts[index] = np.arange(len(times)) - np.searchsorted(times, times - 3600, side="left")
    home = table.groupby(table["customer_id"].astype(str))["country"].agg(
        lambda s: s.mode().iloc[0] if s.notna().any() else ""  # a customer with no country on any row
    )
    features = pd.DataFrame(index=frame.index)
    features["log_amount"] = np.log1p(frame["amount"].clip(lower=0))
    features["amount_vs_customer_median"] = np.log((frame["amount"].clip(lower=0.01)) / median)
    features["hour"] = frame["when"].dt.hour + frame["when"].dt.minute / 60
    features["payments_previous_hour"] = counts
    features["log_minutes_since_previous"] = np.log1p(gap)
    features = features.sort_index()
    features["foreign_country"] = (
        table["country"].astype(str) != table["customer_id"].astype(str).map(home)
    ).astype(str)
    for column in ("merchant_category", "channel"):
        features[column] = table[column].astype(str)
    return features


def _creditcard_features(table: pd.DataFrame) -> pd.DataFrame:
    features = table[[f"V{i}" for i in range(1, 29)]].astype(float).copy()
    features["log_amount"] = np.log1p(table["Amount"].astype(float).clip(lower=0))
    features["hour"] = (table["Time"].astype(float) / 3600) % 24
    return features


def _label_like(table: pd.DataFrame, column: str) -> bool:
    if LABEL_NAME.search(column):
        return True
    values = {str(v).strip().lower() for v in table[column].dropna().unique()[:3]}
    return bool(BINARY_LABEL_NAME.search(column)) and values <= {"0", "1", "0.0", "1.0", "true", "false"}


def _generic_features(table: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in table.columns if not _label_like(table, c) and not re.search(r"(^|_)id$", c.lower())]
    features = table[keep].copy()
    for column in features.columns:
        if not pd.api.types.is_numeric_dtype(features[column]):
            if features[column].nunique() > MAX_CATEGORIES:
                features = features.drop(columns=column)  # free text or ids: no signal for the autoencoder
            else:
                features[column] = features[column].astype(str)
    if features.empty:
        raise BadInputError("The table has no usable feature columns; give numeric or categorical columns.")
    return features


def _parse_amounts(column: pd.Series) -> pd.Series:
    """Amounts through ``parse_money``. "34.615" alone is ambiguous (34615 or 34.615), so the column decides:
    with other dot decimals ("12.5", "7.25") and no comma decimals the dot is a decimal point (three-decimal
    currencies such as KWD); otherwise such a value is unreadable like "n/a"."""
    text = column.astype("string").str.strip()
    dot_decimals = text.str.fullmatch(r"-?\d*\.\d{1,2}|-?\d*\.\d{4,}").any()
    comma_decimals = text.str.fullmatch(r"-?[\d.]*,\d{1,2}").any()
    three_decimals_are_dots = bool(dot_decimals) and not bool(comma_decimals)

    def parse(value: object) -> float:
        try:
            amount = parse_money(value)
        except BadInputError:
            if three_decimals_are_dots:
                return float(str(value).strip())
            return np.nan
        return np.nan if amount is None else amount

    return column.map(parse).astype(float)


def _readable_rows(table: pd.DataFrame, layout: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows whose amount and timestamp (transactions) or numbers (creditcard) can be read, parsed, and a
    warning naming a few of the skipped rows: one bad row must not cost the others.

    Raises:
        BadInputError: fewer than ``MIN_ROWS`` or fewer than half of the rows are readable (then the
            column's format is wrong, not a few rows).
    """
    table, checked = table.copy(), []
    if "amount" in table:  # read as text by load_transactions, in every layout; blanks are fine in "generic"
        table["amount"] = _parse_amounts(table["amount"])
    if layout == "transactions":
        table["timestamp"] = parse_timestamps(table["timestamp"])
        checked += ["amount", "timestamp"]
    elif layout == "creditcard":
        for column in CREDITCARD_COLUMNS:
            table[column] = pd.to_numeric(table[column], errors="coerce")
        checked = list(CREDITCARD_COLUMNS)
    bad = table[checked].isna().any(axis=1)
    if not bad.any():
        return table, []
    names = " or ".join(checked) if len(checked) <= 2 else "Time, V1..V28 or Amount"
    shown = ", ".join(  # file rows: the header is row 1
        f"{position + 2}"
        + (f" ({table['transaction_id'].iloc[position]})" if "transaction_id" in table else "")
        for position in np.flatnonzero(bad.to_numpy())[:SHOWN_ROWS]
    )
    more = f" and {int(bad.sum()) - SHOWN_ROWS} more" if bad.sum() > SHOWN_ROWS else ""
    which = f"file rows {shown}{more}"
    kept = int((~bad).sum())
    if kept < MIN_ROWS or kept < len(table) / 2:
        raise BadInputError(
            f"Only {kept} of {len(table)} rows have a readable {names} ({which} do not); write amounts as "
            "numbers such as 1234.56 or 1.234,56 (a lone 1.234 is ambiguous) and timestamps as ISO 8601 such as "
            "2025-03-01T14:05:00."
        )
    warning = f"Skipped {int(bad.sum())} of {len(table)} rows with an unreadable {names}: {which}."
    return table[~bad], [warning]


def _layout_warnings(table: pd.DataFrame, layout: str, features: pd.DataFrame) -> list[str]:
    """Why the generic layout was used (the closest specific layout's missing columns), and the label-like
    columns left out of the features."""
    if layout != "generic":
        return []
    warnings = []
    name, columns = max(
        LAYOUT_COLUMNS.items(), key=lambda item: sum(c in table.columns for c in item[1]) / len(item[1])
    )
    missing = [c for c in columns if c not in table.columns]
    if len(missing) < len(columns) / 2:
        warnings.append(
            f"Used the generic layout (features: {', '.join(features.columns)}), not the {name} layout, "
            f"because the file lacks column(s) {', '.join(missing)}."
        )
    if labels := [c for c in table.columns if _label_like(table, c)]:
        warnings.append(f"Left out of the features as labels: {', '.join(labels)}.")
    return warnings


def build_features(table: pd.DataFrame) -> tuple[str, pd.DataFrame, np.ndarray | None, list[str]]:
    """(layout, feature table, labels or None, warnings) for any of the layouts in the module docstring.

    The feature table keeps the index of the rows it was built from; rows that could not be read are not
    in it (the warnings say which).
    """
    layout = detect_layout(table)
    table, warnings = _readable_rows(table, layout)
    features = {
        "creditcard": _creditcard_features,
        "transactions": _transaction_features,
        "generic": _generic_features,
    }[layout](table)
    label_column = next((c for c in LABEL_COLUMNS if c in table.columns), None)
    labels = None
    if label_column is not None:
        labels = (
            pd.to_numeric(table[label_column], errors="coerce").fillna(0).astype(int).clip(0, 1).to_numpy()
        )
    return layout, features, labels, warnings + _layout_warnings(table, layout, features)


def make_encoder(features: pd.DataFrame):
    """Robust scaling for numbers (fraud amounts must not set the scale), one-hot for categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, RobustScaler

    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    categorical = [c for c in features.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("numeric", RobustScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ],
        verbose_feature_names_out=False,
    )


def _source_feature(encoded_name: str, features: list[str]) -> str:
    """The original feature an encoded column came from (one-hot columns are named feature_value)."""
    if encoded_name in features:
        return encoded_name
    return max((f for f in features if encoded_name.startswith(f"{f}_")), key=len, default=encoded_name)


def _metrics(labels: np.ndarray, scores: np.ndarray, flags: np.ndarray) -> MethodMetrics:
    from sklearn.metrics import average_precision_score

    true_positives = int((flags & (labels == 1)).sum())
    return MethodMetrics(
        precision=round(true_positives / max(int(flags.sum()), 1), 4),
        recall=round(true_positives / max(int(labels.sum()), 1), 4),
        pr_auc=round(float(average_precision_score(labels, scores)), 4) if labels.any() else 0.0,
        alerts=int(flags.sum()),
    )


# PUBLIC API


def load_transactions(path: Path | str) -> pd.DataFrame:
    """Read a transactions table (CSV, also ;-separated, XLSX, JSON) in any supported layout; ids and amounts
    as text (ids keep leading zeros; ``parse_money`` reads "€33,37" and "1.234,56", which pandas would not).
    """
    return read_table(path, what="transactions file", text_columns=(*ID_COLUMNS, "amount"))


def detect_anomalies(
    table: pd.DataFrame,
    *,
    alert_rate: float = 0.01,
    epochs: int = 20,
    top_features: int = 3,
    seed: int = 0,
    device: str = "cpu",
) -> AnomalyReport:
    """Score every row with the autoencoder and Isolation Forest; alert on the top ``alert_rate``.

    Raises:
        BadInputError: ``alert_rate`` is not in (0, 0.5], the table has fewer than 50 (readable) rows, or no
            usable columns.
    """
    from sklearn.ensemble import IsolationForest

    from genai_models.anomaly import TabularAnomalyDetector

    if not 0 < alert_rate <= 0.5:
        raise BadInputError(f"alert_rate must be in (0, 0.5], got {alert_rate}; e.g. 0.01 for 1 % of rows.")
    if len(table) < MIN_ROWS:
        raise BadInputError(
            f"Anomaly detection needs at least {MIN_ROWS} rows to learn normal behaviour, got {len(table)}."
        )
    layout, features, labels, warnings = build_features(table)
    kept = table.index.get_indexer(features.index)  # positions in ``table`` of the rows scored
    encoder = make_encoder(features)
    matrix = pd.DataFrame(encoder.fit_transform(features), columns=encoder.get_feature_names_out())
    detector = TabularAnomalyDetector(
        epochs=epochs,
        batch_size=512,
        lr=2e-3,
        seed=seed,
        device=device,
        latent_dim=max(2, min(8, matrix.shape[1] // 3)),
    ).fit(matrix)
    detector.calibrate_threshold(matrix)
    threshold = detector.threshold_for_alert_rate(alert_rate)
    scores = detector.score(matrix)
    flags = scores > threshold
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(matrix.to_numpy())
    forest_scores = -forest.score_samples(matrix.to_numpy())
    forest_flags = forest_scores > np.quantile(forest_scores, 1 - alert_rate)
    names = list(features.columns)
    ids = table["transaction_id"].iloc[kept].astype(str).to_numpy() if "transaction_id" in table else None
    alerts = []
    for row in np.flatnonzero(flags)[np.argsort(-scores[flags], kind="stable")]:
        grouped: dict[str, float] = {}
        for column, error in detector.explain(matrix.iloc[[row]]).items():
            source = _source_feature(column, names)
            grouped[source] = grouped.get(source, 0.0) + error
        total = sum(grouped.values()) or 1.0
        ranked = sorted(grouped.items(), key=lambda item: -item[1])[:top_features]
        alerts.append(
            Alert(
                int(kept[row]),
                ids[row] if ids is not None else str(kept[row]),
                round(float(scores[row]), 4),
                bool(forest_flags[row]),
                [(name, round(error / total, 3)) for name, error in ranked],
            )
        )
    metrics = None
    if labels is not None:
        metrics = {
            "autoencoder": _metrics(labels, scores, flags),
            "isolation_forest": _metrics(labels, forest_scores, forest_flags),
        }
    return AnomalyReport(
        layout=layout,
        rows=len(features),
        alert_rate=alert_rate,
        threshold=round(threshold, 6),
        features=names,
        alerts=alerts,
        autoencoder_scores=scores.round(6).tolist(),
        isolation_forest_scores=forest_scores.round(6).tolist(),
        labels=labels.tolist() if labels is not None else None,
        metrics=metrics,
        warnings=warnings,
    )


def plot_report(report: AnomalyReport):
    """Score distributions with the threshold and, when labelled, precision-recall curves of both methods."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labelled = report.labels is not None
    figure, axes = plt.subplots(1, 2 if labelled else 1, figsize=(11 if labelled else 6, 4), squeeze=False)
    scores = np.asarray(report.autoencoder_scores)
    axes[0][0].hist(np.log10(scores + 1e-9), bins=60, color="#4c72b0")
    axes[0][0].axvline(
        np.log10(report.threshold + 1e-9), color="#c44e52", label=f"threshold ({report.alert_rate:.1%})"
    )
    axes[0][0].set(title="Autoencoder reconstruction error", xlabel="log10 score", ylabel="rows")
    axes[0][0].legend()
    if labelled:
        from sklearn.metrics import precision_recall_curve

        for name, values in (("autoencoder", scores), ("isolation forest", report.isolation_forest_scores)):
            precision, recall, _ = precision_recall_curve(report.labels, values)
            axes[0][1].plot(recall, precision, label=name)
        axes[0][1].set(title="Precision-recall", xlabel="recall", ylabel="precision")
        axes[0][1].legend()
    figure.tight_layout()
    return figure
