"""Conventions shared by every ``genai`` command module: options, service creation, JSON output, failures.

Kept apart from ``apps.cli`` so command modules never import the module that registers them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    from apps.services import Services

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML settings file (else GENAI_CONFIG)", exists=True)
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


def make_services(config: Path | None = None, **overrides: Any) -> Services:
    from apps.services import Services
    from apps.settings import load_settings

    return Services(load_settings(config, **overrides))


def print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def fail(message: str) -> None:
    """Bad input: one line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def guarded(command: Callable[..., None]) -> Callable[..., None]:
    """Bad input inside a command: one line on stderr, exit code 2 (also under ``CliRunner``)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except BadInputError as error:
            fail(str(error))

    return run
