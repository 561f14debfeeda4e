"""The ``genai`` command line.

Conventions every subcommand follows: ``--help``; ``--json`` prints one JSON document on stdout and nothing
else there; exit code 0 on success, 2 on bad input with a one-line reason on stderr. Heavy libraries are
imported inside commands, so ``genai --help`` is instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from data_connectors.errors import BadInputError

app = typer.Typer(
    name="genai",
    help="Offline-first generative AI for regulated industries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML settings file (else GENAI_CONFIG)", exists=True)
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


# ---------------------------------------------------------------- helpers (shared by command modules)


def make_services(config: Path | None = None, **overrides: Any):
    from apps.services import Services
    from apps.settings import load_settings

    return Services(load_settings(config, **overrides))


def print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def fail(message: str) -> None:
    """Bad input: one line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


# ---------------------------------------------------------------- commands


@app.command()
def doctor(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Report versions, device, packaged models (verified/missing/corrupt), data directory and settings."""
    from apps.doctor import doctor_report

    report = doctor_report(make_services(config))
    if as_json:
        print_json(report)
        return
    device = report["cuda_device"] or f"CPU ({report['cpu_threads']} threads)"
    typer.echo(f"python {report['python']}  torch {report['torch']}  device {device}")
    typer.echo(f"llama.cpp: {'available' if report['llama_cpp'] else 'not installed'}")
    data = report["data_dir"]
    typer.echo(f"data dir: {data['path']} ({'writable' if data['writable'] else data['detail']})")
    for asset in report["assets"]:
        typer.echo(f"  {asset['state']:<9} {asset['name']:<20} {asset['detail']}")
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
sys.modules.setdefault("apps.cli", sys.modules[__name__])  # under `python -m apps.cli` they import this copy
from apps import cli_documents  # noqa: E402 - ingest/search/ask are top-level commands

cli_documents.register(app)
from apps import cli_contracts  # noqa: E402 - registered after the shared helpers exist

app.add_typer(cli_contracts.app, name="contracts")
from apps import cli_dental  # noqa: E402

app.add_typer(cli_dental.app, name="dental")
from apps import cli_finance  # noqa: E402

app.add_typer(cli_finance.app, name="finance")
from apps import cli_healthcare  # noqa: E402

app.add_typer(cli_healthcare.app, name="healthcare")
from apps import cli_insurance  # noqa: E402

app.add_typer(cli_insurance.app, name="insurance")
from apps import cli_radiology  # noqa: E402

app.add_typer(cli_radiology.app, name="radiology")
from apps import cli_retail  # noqa: E402

app.add_typer(cli_retail.app, name="retail")
from apps import cli_users  # noqa: E402

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
