"""``genai contracts``: key terms with cited clauses, deadlines, and discrepancies (versions, purchase orders).

Used by retailers for vendor agreements and by lenders for loan agreements (covenants, maturity, rates).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json

if TYPE_CHECKING:
    from domains.finance.contracts import ContractExtractor, Discrepancy

app = typer.Typer(
    help="Contracts: extract terms (CUAD categories), deadlines, version and purchase-order checks."
)

RetrievalOption = Annotated[
    bool,
    typer.Option(help="re-rank clause candidates with the embedding model (slower, see docs/finance.md)"),
]
LlmOption = Annotated[bool, typer.Option(help="let the LLM choose values the rules cannot normalise")]
CONTRACT_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
ContractArgument = Annotated[Path, typer.Argument(help="contract: TXT, PDF, DOCX, HTML or MD")]


def _extractor(config: Path | None, retrieval: bool, llm: bool) -> ContractExtractor:
    from domains.finance.contracts import ContractExtractor

    services = make_services(config)
    return ContractExtractor(
        embeddings=services.embeddings() if retrieval else None,
        chat_model=services.chat_model() if llm else None,
    )


def parse_within(text: str) -> int:
    """ "90d", "12w", "6m", "1y" or a bare number of days -> days."""
    from data_connectors.errors import BadInputError

    match = re.fullmatch(r"\s*(\d+)\s*([dwmy]?)\s*", text.lower())
    if not match:
        raise BadInputError(f"--within {text!r} is not a period; use e.g. 90d, 12w, 6m or 1y.")
    return int(match.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}[match.group(2)]


def _print_discrepancies(found: list[Discrepancy]) -> None:
    if not found:
        typer.echo("no discrepancies found")
    for item in found:
        typer.echo(f"- {item.detail}: expected {item.expected!r}, found {item.found!r}")


@app.command()
def extract(
    contract: ContractArgument,
    retrieval: RetrievalOption = False,
    llm: LlmOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Parties, dates, renewal, notice, governing law, payment terms, loan terms... with the cited clause."""
    from domains.finance.contracts import read_contract_text

    analysis = _extractor(config, retrieval, llm).extract(read_contract_text(contract), source=str(contract))
    if as_json:
        print_json(analysis.to_dict())
        return
    for name, found in analysis.fields.items():
        value = "; ".join(found.value) if isinstance(found.value, list) else found.value
        typer.echo(f"{name}: {value}  [chars {found.char_start}-{found.char_end}]")
    for deadline in analysis.deadlines:
        typer.echo(f"deadline {deadline.date} ({deadline.kind}): {deadline.description}")


@app.command()
@guarded
def deadlines(
    contracts: Annotated[list[Path], typer.Argument(help="contract files or folders")],
    within: Annotated[str, typer.Option(help="look-ahead window: 90d, 12w, 6m, 1y")] = "90d",
    today: Annotated[str | None, typer.Option(help="reference date YYYY-MM-DD (default: today)")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upcoming expiries, non-renewal notice dates, milestones and maturities across contracts (exit 2 when
    none could be read)."""
    from data_connectors.documents import iter_files
    from data_connectors.errors import BadInputError
    from domains.finance.contracts import read_contract_text, upcoming_deadlines

    days = parse_within(within)
    try:
        reference = date.fromisoformat(today) if today else date.today()
    except ValueError:
        raise BadInputError(f"--today {today!r} is not a date; use YYYY-MM-DD.") from None
    extractor = _extractor(config, retrieval=False, llm=False)
    analyses, failed = [], []
    for path in iter_files(contracts):
        if not path.exists():
            failed.append({"path": str(path), "reason": "not found"})
            continue
        if path.suffix.lower() not in CONTRACT_SUFFIXES:
            failed.append(
                {"path": str(path), "reason": f"not a contract file type ({', '.join(CONTRACT_SUFFIXES)})"}
            )
            continue
        try:
            analyses.append(extractor.extract(read_contract_text(path), source=str(path)))
        except (BadInputError, FileNotFoundError, UnicodeDecodeError) as error:
            failed.append({"path": str(path), "reason": str(error)})
    if not analyses:
        problems = "; ".join(f"{problem['path']}: {problem['reason']}" for problem in failed[:3])
        raise BadInputError(
            f"No contract could be read ({problems or 'no files found'}); pass contract files "
            f"({', '.join(CONTRACT_SUFFIXES)}) or folders holding them."
        )
    found = upcoming_deadlines(analyses, today=reference, within_days=days)
    if as_json:
        print_json(
            {
                "today": reference.isoformat(),
                "within_days": days,
                "contracts": len(analyses),
                "deadlines": [vars(d) for d in found],
                "failed": failed,
            }
        )
        return
    for problem in failed:
        typer.echo(f"skipped {problem['path']}: {problem['reason']}", err=True)
    typer.echo(f"{len(found)} deadline(s) from {reference} to +{days} days in {len(analyses)} contract(s)")
    for deadline in found:
        typer.echo(
            f"{deadline.date}  {deadline.kind:<15} {Path(deadline.source).name}: {deadline.description}"
        )


@app.command()
def compare(
    old: Annotated[Path, typer.Argument(help="earlier version")],
    new: Annotated[Path, typer.Argument(help="later version")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Changed terms (values) and added/removed/reworded clauses between two versions of a contract."""
    from domains.finance.contracts import compare_versions, read_contract_text

    extractor = _extractor(config, retrieval=False, llm=False)
    old_text, new_text = read_contract_text(old), read_contract_text(new)
    found = compare_versions(
        extractor.extract(old_text, source=str(old)),
        extractor.extract(new_text, source=str(new)),
        old_text,
        new_text,
    )
    if as_json:
        print_json({"old": str(old), "new": str(new), "discrepancies": [vars(d) for d in found]})
        return
    _print_discrepancies(found)


@app.command("check-po")
def check_po(
    contract: ContractArgument,
    orders: Annotated[
        Path, typer.Argument(help="purchase orders CSV/XLSX/JSON (po_number,vendor,order_date,...)")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Purchase orders against the contract: vendor, dates within the term, payment terms, governing law."""
    from domains.finance.contracts import check_purchase_orders, load_purchase_orders, read_contract_text

    analysis = _extractor(config, retrieval=False, llm=False).extract(
        read_contract_text(contract), source=str(contract)
    )
    found = check_purchase_orders(analysis, load_purchase_orders(orders))
    if as_json:
        print_json(
            {"contract": str(contract), "orders": str(orders), "discrepancies": [vars(d) for d in found]}
        )
        return
    _print_discrepancies(found)
