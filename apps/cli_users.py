"""``genai users``: add and remove people, set passwords, grant and revoke knowledge bases, list them, issue
and revoke API keys.

Passwords are read from a hidden prompt or, for scripts, from stdin (``--password-stdin``), never from the
command line where ``ps`` and shell history would keep them. An API key is printed once; only its hash is
stored, so a lost key is replaced with a new one and a leaked one is revoked (``revoke-keys``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json

if TYPE_CHECKING:
    from apps.users import UserStore

app = typer.Typer(help="Users, roles, collection grants and API keys of `genai serve`.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="login name, e.g. alice")]
CollectionArgument = Annotated[str, typer.Argument(help="knowledge base name, e.g. hipaa")]


def _store(config: Path | None) -> UserStore:
    return make_services(config).users


def _collections(user) -> str:
    return "all collections" if user.is_admin else ", ".join(user.collections) or "no collections"


def _print_user(user, as_json: bool, text: str) -> None:
    if as_json:
        print_json(user.model_dump())
    else:
        typer.echo(text)


PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from stdin (for scripts)")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)  # keeps --json clean


@app.command()
@guarded
def add(
    name: NameArgument,
    admin: Annotated[bool, typer.Option("--admin", help="may use every collection")] = False,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user (member unless --admin); the password is prompted for, hidden."""
    user = _store(config).add(name, _password(password_stdin), admin=admin)
    _print_user(user, as_json, f"added {user.role} {user.name}")


@app.command()
@guarded
def grant(
    name: NameArgument,
    collection: CollectionArgument,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Let NAME search, ask and add documents in COLLECTION (it need not exist yet)."""
    user = _store(config).grant(name, collection)
    _print_user(user, as_json, f"{user.name}: {_collections(user)}")


@app.command()
@guarded
def revoke(
    name: NameArgument,
    collection: CollectionArgument,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take COLLECTION away from NAME (takes effect on their next request)."""
    user = _store(config).revoke(name, collection)
    _print_user(user, as_json, f"{user.name}: {_collections(user)}")


@app.command("list")
def list_users(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Users, roles, granted collections and how many API keys each has."""
    users = _store(config).users()
    if as_json:
        print_json({"users": [user.model_dump() for user in users]})
        return
    if not users:
        typer.echo("no users: `genai serve` runs in local mode on 127.0.0.1; add one with `genai users add`")
    for user in users:
        typer.echo(f"{user.name:<20} {user.role:<7} {user.api_keys} key(s)  {_collections(user)}")


@app.command("api-key")
@guarded
def api_key(name: NameArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Issue a new API key for NAME (shown once; use it as `Authorization: Bearer <key>`)."""
    key = _store(config).new_api_key(name)
    if as_json:
        print_json({"user": name, "api_key": key})
        return
    typer.echo(key)
    typer.echo("Store this key now: it is shown only once.", err=True)


@app.command("revoke-keys")
@guarded
def revoke_keys(name: NameArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Invalidate every API key of NAME at once (a leaked key); issue a new one with `api-key`."""
    revoked = _store(config).revoke_api_keys(name)
    if as_json:
        print_json({"user": name, "revoked": revoked})
    else:
        typer.echo(f"revoked {revoked} API key(s) of {name}")


@app.command()
@guarded
def password(
    name: NameArgument,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a new password for NAME (prompted for, hidden)."""
    user = _store(config).set_password(name, _password(password_stdin))
    _print_user(user, as_json, f"new password set for {user.name}")


@app.command()
@guarded
def remove(name: NameArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Delete NAME with their grants and API keys; their next request is refused."""
    _store(config).remove(name)
    if as_json:
        print_json({"removed": name})
    else:
        typer.echo(f"removed {name}")
