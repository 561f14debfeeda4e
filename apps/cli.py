"""The ``genai`` command line.

Conventions every subcommand follows: ``--help``; ``--json`` prints one JSON document on stdout and nothing
else there; exit code 0 on success, 2 on bad input with a one-line reason on stderr. Heavy libraries are
imported inside commands, so ``genai --help`` is instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from apps import (
    cli_contracts,
    cli_dental,
    cli_documents,
    cli_finance,
    cli_healthcare,
    cli_insurance,
    cli_models,
    cli_radiology,
    cli_retail,
    cli_users,
)
from apps.cli_common import ConfigOption, JsonOption, fail, make_services, print_json
from data_connectors.errors import BadInputError

app = typer.Typer(
    name="genai",
    help="Offline-first generative AI for regulated industries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# ---------------------------------------------------------------- commands


@app.command()
def doctor(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Report versions, device, packaged and configured models, data directory and settings; exit 1 when a
    check fails (also with --json, after the report)."""
    from apps.doctor import doctor_report

    report = doctor_report(make_services(config))
    if as_json:
        print_json(report)
        if not report["ok"]:
            raise typer.Exit(1)
        return
    device = report["cuda_device"] or f"CPU ({report['cpu_threads']} threads)"
    typer.echo(f"python {report['python']}  torch {report['torch']}  device {device}")
    typer.echo(f"llama.cpp: {'available' if report['llama_cpp'] else 'not installed'}")
    data = report["data_dir"]
    typer.echo(f"data dir: {data['path']} ({'writable' if data['writable'] else data['detail']})")
    for asset in report["assets"]:
        typer.echo(f"  {asset['state']:<9} {asset['name']:<20} {asset['detail']}")
    for check in report["configured_models"]:
        state = "ok" if check["ok"] else "unusable"
        typer.echo(f"configured {check['role']}: {state:<9} {check['model']}  {check['detail']}")
    llm = report["settings"]["llm"]
    typer.echo(f"llm: backend={llm['backend']} model={llm['model']} engine={llm['engine']}")
    if not report["ok"]:
        raise typer.Exit(1)


@app.command()
def chat(
    prompt: Annotated[str, typer.Argument(help="the user message")],
    system: Annotated[str | None, typer.Option(help="system message")] = None,
    model: Annotated[
        str | None, typer.Option(help="LLM (registry name or path); default from settings")
    ] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask the configured LLM one question and stream the reply (no documents involved)."""
    from apps.services import Services
    from apps.settings import load_settings

    settings = load_settings(config)
    if model:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": model})})
    services = Services(settings)
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    chat_model = services.chat_model()
    if as_json:
        print_json(
            {"model": chat_model.name, "reply": chat_model.generate(messages, max_new_tokens=max_new_tokens)}
        )
        return
    for piece in chat_model.stream(messages, max_new_tokens=max_new_tokens):
        typer.echo(piece, nl=False)
    typer.echo()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default from settings: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 7860)", min=1, max=65535)] = None,
    config: ConfigOption = None,
) -> None:
    """Start the Gradio hub (one tab per flow) on HOST:PORT."""
    from apps.server import run_server

    services = make_services(config)
    server = services.settings.server.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    run_server(services, host=server.host, port=server.port)


@app.command()
def bench(
    names: Annotated[
        list[str] | None, typer.Argument(help="benchmarks to run (default: all in bench/)")
    ] = None,
    out: Annotated[Path, typer.Option(help="results folder")] = Path("bench/results"),
    quick: Annotated[bool, typer.Option(help="smaller runs, for a smoke test")] = False,
) -> None:
    """Run benchmarks from the repository's bench/ folder and write bench/results/<name>.json."""
    import runpy

    bench_dir = Path.cwd() / "bench"
    available = sorted(p.stem for p in bench_dir.glob("*.py") if not p.stem.startswith("_"))
    if not available:
        fail(f"no benchmarks found in {bench_dir}; run `genai bench` from the repository root.")
    unknown = sorted(set(names or []) - set(available))
    if unknown:
        fail(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}.")
    for name in names or available:
        typer.echo(f"== bench/{name}.py", err=True)
        module = runpy.run_path(str(bench_dir / f"{name}.py"), run_name="bench")
        module["main"](out_dir=out, quick=quick)


# ---------------------------------------------------------------- subcommand groups
# One module per flow beside this file, each exposing a Typer ``app``; keep this block sorted.
cli_documents.register(app)  # ingest/search/ask are top-level commands
app.add_typer(cli_contracts.app, name="contracts")
app.add_typer(cli_dental.app, name="dental")
app.add_typer(cli_finance.app, name="finance")
app.add_typer(cli_healthcare.app, name="healthcare")
app.add_typer(cli_insurance.app, name="insurance")
app.add_typer(cli_models.app, name="models")
app.add_typer(cli_radiology.app, name="radiology")
app.add_typer(cli_retail.app, name="retail")
app.add_typer(cli_users.app, name="users")


def main() -> None:
    """Console-script entry point: bad input becomes one line on stderr and exit code 2."""
    try:
        app()
    except BadInputError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except FileNotFoundError as error:
        typer.echo(f"error: file not found: {error.filename or error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
