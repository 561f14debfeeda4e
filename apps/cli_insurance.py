"""``genai insurance``: claim triage against a policy collection, and the portfolio's underwriting profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json
from apps.flows import run_triage

app = typer.Typer(help="Claim triage and underwriting profiles.", no_args_is_help=True)


RegisterOption = Annotated[
    Path | None,
    typer.Option(
        "--register", help="policy register CSV (policy_number, policy_start, coverage_limit, prior_claims)"
    ),
]
PortfolioOption = Annotated[
    Path | None, typer.Option("--portfolio", help="claims table CSV for the anomaly model and profiles")
]


@app.command()
@guarded
def triage(
    claim_dir: Annotated[Path, typer.Argument(help="folder holding one claim's documents")],
    policy: Annotated[str, typer.Option("--policy", help="knowledge base holding the policy wording")],
    register: RegisterOption = None,
    portfolio: PortfolioOption = None,
    use_llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="let the LLM fill fields and coverage the rules leave open")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Extract the claim's fields, check coverage, score fraud risk and recommend approve / review / deny."""
    services = make_services(config)
    result = run_triage(services, claim_dir, policy, register=register, portfolio=portfolio, use_llm=use_llm)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    typer.echo(f"{result.claim_id}: recommend {result.recommendation.upper()}  ({result.notice})")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")
    typer.echo(f"coverage: {result.coverage.status}")
    for citation in result.coverage.citations:
        typer.echo(f"  [{citation.section}] {citation.text[:160]}")
    typer.echo(f"fraud-risk score {result.fraud.score:.2f} ({result.fraud.level})")
    for indicator in result.fraud.indicators:
        typer.echo(f"  {'x' if indicator.fired else ' '} {indicator.name}: {indicator.detail}")
    typer.echo("fields:")
    for name in ("claimant", "policy_number", "date_of_loss", "date_reported", "amount_claimed", "loss_type"):
        field = getattr(result.record, name)
        where = f"{field.source}:{field.line}" if field.line else (field.source or "-")
        typer.echo(f"  {name:<15} {field.value!s:<28} conf {field.confidence:.2f} ({field.method}, {where})")
    for issue in result.unreadable:
        typer.echo(f"  skipped {issue.path}: {issue.reason}", err=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command()
@guarded
def profile(
    portfolio: Annotated[
        Path | None, typer.Argument(help="claims/portfolio CSV (default: shipped sample)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Risk profile per segment: volume, severity, approval, flagged fraud, processing time, risk band."""
    from domains.insurance.underwriting import PORTFOLIO_FILE, load_portfolio, risk_profile

    frame, issues = load_portfolio(portfolio or PORTFOLIO_FILE)
    result = risk_profile(frame, issues=issues)
    for warning in result.warnings:  # on stderr, so --json stays one document on stdout
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    typer.echo(f"{result.rows} claims ({result.skipped_rows} rows skipped). {result.notice}")
    typer.echo(f"{'segment':<12}{'claims':>7}{'mean amt':>11}{'approval':>10}{'fraud':>8}{'days':>7}  risk")
    for s in result.segments:
        fraud = f"{s.fraud_flag_rate:.1%}" if s.fraud_flag_rate is not None else "n/a"
        typer.echo(
            f"{s.segment:<12}{s.claims:>7}{s.mean_amount:>11,.0f}{s.approval_rate:>10.0%}{fraud:>8}"
            f"{s.mean_processing_days:>7.1f}  {s.risk_band} ({s.risk_score:.2f})"
        )
