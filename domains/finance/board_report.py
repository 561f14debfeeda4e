"""Board report from financial statements: ratios and growth, charts, a checked narrative, HTML and PDF.

Input: one table (CSV/XLSX) with columns ``statement, line_item, <period>...`` (income, balance and cash-flow
lines over several periods; see samples/finance/financial_statements.csv for the line items used). Every
figure in the report is computed here; the LLM only writes prose around the computed table, and every
number in its prose must appear in that table (as displayed) or be a period's year, and it must quote at
least one of the table's figures, as prose (no markdown table) that does not repeat itself. A narrative that
fails the check is regenerated once with its faults named, then replaced by a deterministic summary.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_connectors.errors import BadInputError
from data_connectors.tables import parse_money, read_table
from rag.llm import ChatModel

REQUIRED_ITEMS = (
    "revenue",
    "cost_of_revenue",
    "operating_expenses",
    "net_income",
    "current_assets",
    "current_liabilities",
    "total_assets",
    "total_liabilities",
    "equity",
    "operating_cash_flow",
    "capital_expenditure",
)
# metric -> (label, kind): kind decides the display format (money, percent, ratio)
METRICS = {
    "revenue": ("Revenue", "money"),
    "gross_profit": ("Gross profit", "money"),
    "operating_income": ("Operating income", "money"),
    "net_income": ("Net income", "money"),
    "free_cash_flow": ("Free cash flow", "money"),
    "revenue_growth": ("Revenue growth", "percent"),
    "net_income_growth": ("Net income growth", "percent"),
    "gross_margin": ("Gross margin", "percent"),
    "operating_margin": ("Operating margin", "percent"),
    "net_margin": ("Net margin", "percent"),
    "return_on_equity": ("Return on equity", "percent"),
    "return_on_assets": ("Return on assets", "percent"),
    "current_ratio": ("Current ratio", "ratio"),
    "quick_ratio": ("Quick ratio", "ratio"),
    "debt_to_equity": ("Debt to equity", "ratio"),
    "interest_coverage": ("Interest coverage", "ratio"),
}
SYSTEM_PROMPT = (
    "You write the narrative summary of a board report for company directors. Use only the figures in the "
    "table, written exactly as shown there; do not compute new numbers, round, or add figures. Three to five "
    "sentences: growth, profitability, liquidity and leverage, cash flow."
)
# Every rendering of the report (HTML, PDF, text, JSON, CLI, hub tab) carries this: a human signs it off.
DRAFT_NOTICE = "Draft for the CFO's review; figures computed from the statements."
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
MIN_DISTINCT_TRIGRAMS = 0.6  # share of distinct word trigrams below which a narrative is a loop, not prose


@dataclass
class BoardReport:
    periods: list[str]
    table: pd.DataFrame  # metrics x periods, numeric (percent metrics in %)
    display: pd.DataFrame  # the same, formatted as printed
    narrative: str
    narrative_source: str  # "llm", "llm-retry" or "template"
    issues: list[str] = field(default_factory=list)  # what the rejected LLM drafts got wrong
    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # columns of the statements that were left out

    def to_dict(self) -> dict:
        return {
            "draft": True,
            "notice": DRAFT_NOTICE,
            "periods": self.periods,
            "metrics": {METRICS[m][0]: self.display.loc[m].to_dict() for m in self.display.index},
            "narrative": self.narrative,
            "narrative_source": self.narrative_source,
            "issues": self.issues,
            "warnings": self.warnings,
            "files": self.files,
        }

    def text(self) -> str:
        """The report as plain text (for indexing into a knowledge base for directors' questions)."""
        lines = ["Board report", DRAFT_NOTICE, "", self.narrative, "", "Key figures by period:"]
        for metric in self.display.index:
            values = ", ".join(f"{period}: {self.display.loc[metric, period]}" for period in self.periods)
            lines.append(f"{METRICS[metric][0]}: {values}")
        return "\n".join(lines)


# ---------------------------------------------------------------- helpers


def _format(value: float, kind: str) -> str:
    if pd.isna(value):
        return "n/a"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def _canonical(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _numbers(text: str) -> set[str]:
    return {match.replace(",", "").lstrip("-") for match in _NUMBER.findall(text)}


def _repeats_itself(text: str) -> bool:
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    return len(trigrams) >= 12 and len(set(trigrams)) < MIN_DISTINCT_TRIGRAMS * len(trigrams)


def narrative_issues(narrative: str, display: pd.DataFrame, periods: list[str]) -> list[str]:
    """What makes ``narrative`` unfit for the report: numbers that are neither a displayed table value nor
    part of a period name, no table figure at all, a markdown table instead of prose, or a repeating loop
    (small models produce the last three while every number they write is still in the table)."""
    figures = set().union(*(_numbers(str(value)) for value in display.to_numpy().ravel()))
    allowed = figures | set().union(*(_numbers(period) for period in periods))
    found = _numbers(narrative)
    issues = [f"number {number} is not in the table" for number in sorted(found - allowed)]
    if not issues and not found & figures:  # invented numbers are named above; this is a reply with none
        issues.append("it quotes none of the table's figures")
    if "|" in narrative:
        issues.append("it is a table (| characters), not sentences")
    if _repeats_itself(narrative):
        issues.append("it repeats the same words over and over")
    return issues


def template_narrative(display: pd.DataFrame, periods: list[str]) -> str:
    """A deterministic summary built from the displayed table (the fallback, always correct)."""
    first, last = periods[0], periods[-1]
    d = display
    return (
        f"Revenue moved from {d.loc['revenue', first]} in {first} to {d.loc['revenue', last]} in {last}, "
        f"with growth of {d.loc['revenue_growth', last]} in the latest period. "
        f"Net margin was {d.loc['net_margin', last]} in {last} (gross margin {d.loc['gross_margin', last]}, "
        f"operating margin {d.loc['operating_margin', last]}), and return on equity {d.loc['return_on_equity', last]}. "
        f"The current ratio stands at {d.loc['current_ratio', last]} and debt to equity at "
        f"{d.loc['debt_to_equity', last]}. Free cash flow was {d.loc['free_cash_flow', last]} in {last}."
    )


def _table_prompt(display: pd.DataFrame) -> str:
    rows = ["| metric | " + " | ".join(display.columns) + " |"]
    for metric in display.index:
        rows.append(f"| {METRICS[metric][0]} | " + " | ".join(display.loc[metric]) + " |")
    return "\n".join(rows)


# PUBLIC API


def _holds_figures(values: pd.Series) -> bool:
    """Whether every filled cell of a column is a number (an ambiguous "1.234" counts: it is refused later,
    with its own message)."""

    def is_number(value: object) -> bool:
        try:
            return parse_money(value) is not None
        except BadInputError:
            return True

    filled = [value for value in values if not pd.isna(value) and str(value).strip()]
    return bool(filled) and all(is_number(value) for value in filled)


def load_statements(path: Path | str) -> tuple[pd.DataFrame, list[str]]:
    """Line items x periods (numbers) from a ``statement, line_item, <period>...`` table, and warnings.

    A column whose name carries no year and whose cells are not all numbers (``notes``, ``source``) is no
    period: it is left out with a warning rather than read as a period full of non-numbers.

    Raises:
        BadInputError: columns or required line items are missing, fewer than two periods, non-numbers or
            an ambiguous figure ("1.234"; 1,234.56, 1.234,56 and "(1,200)" negatives are read), or periods
            whose order cannot be told.
    """
    raw = read_table(path, required=("line_item",), what="financial statements", text_columns="all")
    columns = [c for c in raw.columns if c not in {"statement", "line_item"}]
    text = [c for c in columns if _year(str(c)) is None and not _holds_figures(raw[c])]
    periods = [c for c in columns if c not in text]
    warnings = (
        [f"Left out column(s) {', '.join(map(str, text))}: they hold text, not figures, and name no period."]
        if text
        else []
    )
    if len(periods) < 2:
        raise BadInputError(
            f"The statements need at least two period columns to compute growth, found {periods}."
        )
    values = raw.assign(line_item=raw["line_item"].map(_canonical)).set_index("line_item")[periods]
    values = pd.DataFrame(
        {
            period: [
                parse_money(value, what=f"{item} figure for {period}")
                for item, value in values[period].items()
            ]
            for period in periods
        },
        index=values.index,
        dtype=float,
    )
    if values.isna().any().any():
        bad = values[values.isna().any(axis=1)].index.tolist()[:5]
        raise BadInputError(f"Line items {bad} have values that are not numbers; fix or remove them.")
    missing = [item for item in REQUIRED_ITEMS if item not in values.index]
    if missing:
        raise BadInputError(f"The statements lack line items {missing}; name rows as in the sample file.")
    repeated = values[values.index.duplicated(keep=False)]
    conflicting = sorted(
        {item for item, rows in repeated.groupby(level=0) if len(rows.drop_duplicates()) > 1}
    )
    if conflicting:  # the same figure in two statements (net income in P&L and cash flow) is kept once
        raise BadInputError(
            f"Line items {conflicting[:5]} appear more than once with different values; keep one row each."
        )
    return values[~values.index.duplicated()][_chronological(periods)], warnings


def _year(period: str) -> int | None:
    """The year a period name carries: FY2023, 2024-Q1, H2 2024, FY23 and '23 (two digits: 20xx)."""
    if year := re.search(r"(?<!\d)(?:19|20)\d{2}(?!\d)", period):
        return int(year.group())
    if short := re.search(r"(?:\b(?:FY|CY)\s?'?|')(\d{2})(?!\d)", period, re.IGNORECASE):
        return 2000 + int(short.group(1))
    return None


def _chronological(periods: list[str]) -> list[str]:
    """Periods oldest first: growth is computed against the previous column, so a newest-first file would
    invert it.

    Raises:
        BadInputError: a period name carries no year, or two periods have the same year and part, so
            the order cannot be told (the file's order is not assumed).
    """
    keys = []
    for period in periods:
        year = _year(str(period))
        part = re.search(r"(?<![A-Za-z])[QH]([1-4])(?!\d)", str(period))  # 2024-Q1, H2 2024
        keys.append((year, int(part.group(1)) if part else 0))
    if any(year is None for year, _ in keys) or len(set(keys)) < len(keys):
        raise BadInputError(
            f"Cannot tell the order of the periods {periods}; name each period column with its year "
            "(FY2023, FY23, 2024-Q1, H2 2024)."
        )
    return [period for _, period in sorted(zip(keys, periods, strict=True))]


def _growth(values: pd.Series) -> pd.Series:
    """Percent change against the previous period, over the previous value's size: from -100 to 50 is +150 %."""
    previous = values.shift(1)
    return (values - previous) / previous.abs().replace(0, np.nan) * 100


def compute_metrics(items: pd.DataFrame) -> pd.DataFrame:
    """The ``METRICS`` for every period (growth is against the previous period, NaN for the first)."""
    get = items.loc.__getitem__
    zero = pd.Series(0.0, index=items.columns)
    interest = items.loc["interest_expense"] if "interest_expense" in items.index else zero
    inventory = items.loc["inventory"] if "inventory" in items.index else zero
    debt = items.loc["total_debt"] if "total_debt" in items.index else get("total_liabilities")
    gross = get("revenue") - get("cost_of_revenue")
    operating = gross - get("operating_expenses")
    metrics = pd.DataFrame(
        {
            "revenue": get("revenue"),
            "gross_profit": gross,
            "operating_income": operating,
            "net_income": get("net_income"),
            "free_cash_flow": get("operating_cash_flow") - get("capital_expenditure").abs(),
            "revenue_growth": _growth(get("revenue")),
            "net_income_growth": _growth(get("net_income")),
            "gross_margin": gross / get("revenue") * 100,
            "operating_margin": operating / get("revenue") * 100,
            "net_margin": get("net_income") / get("revenue") * 100,
            "return_on_equity": get("net_income") / get("equity") * 100,
            "return_on_assets": get("net_income") / get("total_assets") * 100,
            "current_ratio": get("current_assets") / get("current_liabilities"),
            "quick_ratio": (get("current_assets") - inventory) / get("current_liabilities"),
            "debt_to_equity": debt / get("equity"),
            "interest_coverage": operating / interest.replace(0, np.nan),
        }
    ).T
    return metrics.replace([np.inf, -np.inf], np.nan)


def display_table(metrics: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            period: [_format(metrics.loc[m, period], METRICS[m][1]) for m in metrics.index]
            for period in metrics.columns
        },
        index=metrics.index,
    )


def write_narrative(chat_model: ChatModel | None, display: pd.DataFrame) -> tuple[str, str, list[str]]:
    """(narrative, source, issues of rejected drafts): LLM, checked, retried once, else the template."""
    periods = list(display.columns)
    if chat_model is None:
        return template_narrative(display, periods), "template", []
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Table:\n{_table_prompt(display)}\n\nWrite the summary."},
    ]
    draft = chat_model.generate(messages, max_new_tokens=220).strip()
    issues = narrative_issues(draft, display, periods)
    if draft and not issues:
        return draft, "llm", []
    correction = (
        f"Your summary was rejected: {'; '.join(issues) or 'empty reply'}. Rewrite it as three to five "
        "sentences of prose using only figures copied from the table."
    )
    retry = [
        *messages,
        {"role": "assistant", "content": draft},
        {"role": "user", "content": correction},
    ]
    second = chat_model.generate(retry, max_new_tokens=220).strip()
    second_issues = narrative_issues(second, display, periods)
    if second and not second_issues:
        return second, "llm-retry", issues
    return template_narrative(display, periods), "template", issues + second_issues


def draw_charts(metrics: pd.DataFrame) -> dict[str, object]:
    """Four matplotlib figures: revenue and profit, margins, liquidity and leverage, cash flow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = list(metrics.columns)
    x = np.arange(len(periods))
    charts = {}
    figure, axis = plt.subplots(figsize=(6, 3.4))
    axis.bar(x - 0.2, metrics.loc["revenue"], 0.4, label="Revenue", color="#4c72b0")
    axis.bar(x + 0.2, metrics.loc["net_income"], 0.4, label="Net income", color="#55a868")
    axis.set(xticks=x, xticklabels=periods, title="Revenue and net income")
    axis.legend()
    charts["revenue_profit"] = figure
    figure, axis = plt.subplots(figsize=(6, 3.4))
    for metric in ("gross_margin", "operating_margin", "net_margin"):
        axis.plot(periods, metrics.loc[metric], marker="o", label=METRICS[metric][0])
    axis.set(title="Margins (%)")
    axis.legend()
    charts["margins"] = figure
    figure, axis = plt.subplots(figsize=(6, 3.4))
    for metric in ("current_ratio", "quick_ratio", "debt_to_equity"):
        axis.plot(periods, metrics.loc[metric], marker="o", label=METRICS[metric][0])
    axis.set(title="Liquidity and leverage (x)")
    axis.legend()
    charts["liquidity_leverage"] = figure
    figure, axis = plt.subplots(figsize=(6, 3.4))
    axis.bar(periods, metrics.loc["free_cash_flow"], color="#8172b2")
    axis.set(title="Free cash flow")
    charts["cash_flow"] = figure
    for chart in charts.values():
        chart.tight_layout()
    return charts


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write_html(report: BoardReport, charts: dict[str, object], path: Path) -> Path:
    images = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,{base64.b64encode(_png(fig)).decode()}"></figure>'
        for name, fig in charts.items()
    )
    table = report.display.rename(index=lambda m: METRICS[m][0]).to_html(classes="figures", border=0)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Board report</title><style>"
        "body{font-family:sans-serif;max-width:960px;margin:2em auto}table.figures td{text-align:right;"
        "padding:2px 10px}figure{display:inline-block;margin:0}img{width:460px}</style></head><body>"
        f"<h1>Board report</h1><p><em>{html.escape(DRAFT_NOTICE)}</em></p>"
        f"<h2>Summary</h2><p>{html.escape(report.narrative)}</p><h2>Key figures</h2>{table}"
        f"<h2>Charts</h2>{images}</body></html>",
        encoding="utf-8",
    )
    return path


def write_pdf(report: BoardReport, charts: dict[str, object], path: Path) -> Path:
    """A text-and-table page followed by one page per chart (matplotlib PdfPages, no extra dependency)."""
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        page = plt.figure(figsize=(8.27, 11.69))
        page.text(0.08, 0.95, "Board report", fontsize=18, weight="bold")
        page.text(0.08, 0.925, DRAFT_NOTICE, fontsize=8)
        page.text(0.08, 0.9, "\n".join(textwrap.wrap(report.narrative, 95)), fontsize=9, va="top")
        axis = page.add_axes([0.08, 0.05, 0.84, 0.55])
        axis.axis("off")
        cells = report.display.to_numpy().tolist()
        labels = [METRICS[m][0] for m in report.display.index]
        table = axis.table(
            cellText=cells, rowLabels=labels, colLabels=list(report.display.columns), loc="upper center"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        pdf.savefig(page)
        plt.close(page)
        for figure in charts.values():
            pdf.savefig(figure)
    return path


def output_folder(out_dir: Path | str) -> Path:
    """``out_dir``, created if missing: checked before any work, so a bad folder fails at once, not after the
    narrative and charts are made.

    Raises:
        BadInputError: ``out_dir`` is an existing file, or it cannot be created.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInputError(f"The output folder {out} is an existing file; give a folder path instead.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInputError(
            f"Cannot create the output folder {out} ({error.strerror or error}); give a writable folder path."
        ) from None
    return out


def build_board_report(
    statements: Path | str, out_dir: Path | str, *, chat_model: ChatModel | None = None
) -> BoardReport:
    """Compute, narrate, chart and export (report.html, report.pdf, metrics.csv, report.txt, PNG charts)."""
    import matplotlib.pyplot as plt

    out = output_folder(out_dir)
    items, warnings = load_statements(statements)
    metrics = compute_metrics(items)
    display = display_table(metrics)
    narrative, source, issues = write_narrative(chat_model, display)
    report = BoardReport(
        list(metrics.columns), metrics, display, narrative, source, issues, warnings=warnings
    )
    charts = draw_charts(metrics)
    for name, figure in charts.items():
        figure.savefig(out / f"{name}.png", dpi=110)
        report.files[name] = str(out / f"{name}.png")
    report.files["html"] = str(write_html(report, charts, out / "report.html"))
    report.files["pdf"] = str(write_pdf(report, charts, out / "report.pdf"))
    metrics.round(4).to_csv(out / "metrics.csv")
    report.files["metrics"] = str(out / "metrics.csv")
    (out / "report.txt").write_text(report.text(), encoding="utf-8")
    report.files["text"] = str(out / "report.txt")
    for figure in charts.values():
        plt.close(figure)
    return report
