"""Users, grants, API keys, the access policy, per-user files and `genai users` (no model is loaded)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apps.users import AccessDeniedError, AccessPolicy, UserFiles, UserStore, upload_name, verify_password
from data_connectors.database import create_database_engine
from data_connectors.errors import BadInputError


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(create_database_engine(f"sqlite:///{tmp_path / 'toolkit.sqlite'}"))


def test_passwords_are_hashed_and_checked(store: UserStore) -> None:
    store.add("alice", "correct horse", admin=False)
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert "correct horse" not in stored and stored.startswith("scrypt$")
    assert verify_password("correct horse", stored)
    assert store.authenticate("alice", "correct horse")
    assert not store.authenticate("alice", "wrong password")
    assert not store.authenticate("nobody", "correct horse")
    assert not store.authenticate("alice' OR '1'='1", "x' OR '1'='1")  # SQL-ish input is just a name


@pytest.mark.parametrize(
    ("name", "password", "fragment"),
    [
        ("Alice", "long enough", "User name"),
        ("../etc", "long enough", "User name"),
        ("a; DROP TABLE users", "long enough", "User name"),
        ("bob", "short", "at least 8"),
    ],
)
def test_bad_user_input_is_refused_clearly(store: UserStore, name: str, password: str, fragment: str) -> None:
    with pytest.raises(BadInputError, match=fragment):
        store.add(name, password)


def test_grants_revokes_and_policy(store: UserStore) -> None:
    store.add("root", "admin password", admin=True)
    store.add("alice", "alice password")
    store.grant("alice", "policies")
    store.grant("alice", "policies")  # idempotent
    policy = AccessPolicy(store, lambda: ["policies", "secret-kb"])
    assert not policy.local_mode
    assert policy.allowed_collections("alice") == ["policies"]
    assert policy.allowed_collections("root") == ["policies", "secret-kb"]
    policy.check("alice", "policies")
    with pytest.raises(AccessDeniedError, match="genai users grant alice secret-kb"):
        policy.check("alice", "secret-kb")
    with pytest.raises(AccessDeniedError, match="Log in"):
        policy.user(None)  # accounts exist: anonymous is refused
    store.revoke("alice", "policies")
    assert policy.allowed_collections("alice") == []
    with pytest.raises(BadInputError, match="invalid"):
        store.grant("alice", "../secret")


def test_local_mode_allows_the_operator(store: UserStore) -> None:
    policy = AccessPolicy(store, lambda: ["a-kb"])
    assert policy.local_mode
    assert policy.allowed_collections(None) == ["a-kb"]


def test_api_keys_store_only_a_hash(store: UserStore) -> None:
    store.add("alice", "alice password")
    key = store.new_api_key("alice")
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT key_hash, hint FROM api_keys").all()
    assert key not in str(rows)
    assert store.user_for_key(key).name == "alice"
    assert store.user_for_key(key + "x") is None
    assert store.user_for_key("' OR 1=1 --") is None


def test_user_files_refuse_traversal_and_other_users(tmp_path: Path) -> None:
    files = UserFiles(tmp_path, max_mb=0.001, suffixes=frozenset({".txt"}))
    (files.folder("alice", "outputs") / "report.txt").write_text("mine")
    (files.folder("bob", "outputs") / "secret.txt").write_text("bob's")
    (tmp_path / "toolkit.sqlite").write_text("db")
    assert files.resolve("alice", "report.txt").read_text() == "mine"
    for attempt in [
        "../bob/secret.txt",
        "../../toolkit.sqlite",
        str(tmp_path / "toolkit.sqlite"),
        "/etc/passwd",
    ]:
        with pytest.raises(AccessDeniedError, match="not among your outputs"):
            files.resolve("alice", attempt)
    with pytest.raises(BadInputError):
        files.folder("../bob", "outputs")
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    with pytest.raises(BadInputError, match="upload limit"):
        files.check_upload(big)
    script = tmp_path / "evil.sh"
    script.write_text("rm -rf /")
    with pytest.raises(BadInputError, match="not accepted"):
        files.check_upload(script)
    small = tmp_path / "..hidden name;rm.txt"
    small.write_text("ok")
    stored = files.store_upload("alice", small)
    assert stored.parent == tmp_path / "uploads" / "alice"
    assert stored.name.startswith("hidden_name_rm-") and stored.suffix == ".txt"


@pytest.mark.parametrize(
    ("first", "second"), [("Claim 1.pdf", "Claim_1.pdf"), ("理赔 A.pdf", "理赔_A.pdf"), ("a?.txt", "a*.txt")]
)
def test_uploads_whose_names_clean_up_alike_never_overwrite_each_other(first: str, second: str) -> None:
    assert upload_name(first) != upload_name(second)
    assert upload_name(first) == upload_name(first)  # a new version of the same upload replaces the old
    assert upload_name("条款.pdf") == "条款.pdf" and "/" not in upload_name("../../etc/passwd")


def test_users_cli_add_grant_list_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from apps.cli import app

    runner = CliRunner()
    env = {"GENAI_DATA_DIR": str(tmp_path)}
    caplog.set_level(logging.DEBUG)
    added = runner.invoke(
        app, ["users", "add", "alice", "--password-stdin", "--json"], input="s3cret-pass\n", env=env
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["role"] == "member"
    assert (
        runner.invoke(
            app, ["users", "add", "root", "--admin", "--password-stdin"], input="admin-pass-1\n", env=env
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["users", "grant", "alice", "policies"], env=env).exit_code == 0
    key = runner.invoke(app, ["users", "api-key", "alice"], env=env).stdout.strip().splitlines()[0]
    assert key.startswith("gk-")
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"], env=env).stdout)["users"]
    assert {(u["name"], u["role"], tuple(u["collections"]), u["api_keys"]) for u in listed} == {
        ("alice", "member", ("policies",), 1),
        ("root", "admin", (), 0),
    }
    assert "s3cret-pass" not in str(listed) and key not in str(listed)
    assert runner.invoke(app, ["users", "revoke", "alice", "policies"], env=env).exit_code == 0
    duplicate = runner.invoke(
        app, ["users", "add", "alice", "--password-stdin"], input="another-pass\n", env=env
    )
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    unknown = runner.invoke(app, ["users", "grant", "nobody", "policies"], env=env)
    assert unknown.exit_code == 2 and "No user named" in unknown.output
    assert "s3cret-pass" not in caplog.text and key not in caplog.text


def test_users_cli_revoke_keys_password_remove(tmp_path: Path) -> None:
    """A leaked key stops working, a new password replaces the old, a removed user is gone with grants and
    keys."""
    from apps.cli import app
    from apps.services import Services
    from apps.settings import load_settings

    runner = CliRunner()
    env = {"GENAI_DATA_DIR": str(tmp_path)}
    runner.invoke(app, ["users", "add", "alice", "--password-stdin"], input="first-pass-1\n", env=env)
    runner.invoke(app, ["users", "grant", "alice", "policies"], env=env)
    keys = [runner.invoke(app, ["users", "api-key", "alice"], env=env).stdout.split()[0] for _ in range(2)]
    store = Services(load_settings(data_dir=tmp_path)).users
    assert all(store.user_for_key(key).name == "alice" for key in keys)
    revoked = runner.invoke(app, ["users", "revoke-keys", "alice", "--json"], env=env)
    assert json.loads(revoked.stdout) == {"user": "alice", "revoked": 2}
    assert all(store.user_for_key(key) is None for key in keys)
    changed = runner.invoke(
        app, ["users", "password", "alice", "--password-stdin"], input="second-pass-2\n", env=env
    )
    assert changed.exit_code == 0, changed.output
    assert store.authenticate("alice", "second-pass-2") and not store.authenticate("alice", "first-pass-1")
    short = runner.invoke(app, ["users", "password", "alice", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    new_key = runner.invoke(app, ["users", "api-key", "alice"], env=env).stdout.split()[0]
    assert runner.invoke(app, ["users", "remove", "alice"], env=env).exit_code == 0
    assert store.get("alice") is None and store.user_for_key(new_key) is None
    gone = runner.invoke(app, ["users", "remove", "alice"], env=env)
    assert gone.exit_code == 2 and "No user named" in gone.output


def test_the_last_admin_and_the_local_name_are_refused(store: UserStore) -> None:
    store.add("root", "admin password", admin=True)
    store.add("alice", "alice password")
    with pytest.raises(BadInputError, match="'root' is the last admin"):
        store.remove("root")  # would leave a server with accounts that nobody may manage
    store.add("second", "admin password", admin=True)
    store.remove("root")
    with pytest.raises(BadInputError, match="reserved for local mode"):
        store.add("local", "local password", admin=True)  # always the local-mode operator: could never log in
    assert [user.name for user in store.users()] == ["alice", "second"]


def test_password_prompt_keeps_json_on_stdout(tmp_path: Path) -> None:
    from apps.cli import app

    added = CliRunner().invoke(
        app,
        ["users", "add", "carol", "--json"],
        input="long-password-1\nlong-password-1\n",
        env={"GENAI_DATA_DIR": str(tmp_path)},
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["name"] == "carol" and "Password" in added.stderr


def test_serve_refuses_public_bind_without_users(tmp_path: Path) -> None:
    from apps.server import check_bind_address
    from apps.services import Services
    from apps.settings import load_settings

    services = Services(load_settings(data_dir=tmp_path))
    with pytest.raises(BadInputError, match=r"local mode and binds to 127\.0\.0\.1 only"):
        check_bind_address(services, "0.0.0.0")
    check_bind_address(services, "127.0.0.1")
    services.users.add("root", "admin password", admin=True)
    check_bind_address(services, "0.0.0.0")  # accounts exist: login protects the hub


def test_genai_serve_public_host_without_users_exits_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "from apps.cli import main; main()", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GENAI_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "binds to 127.0.0.1 only" in result.stderr and "genai users add" in result.stderr


def test_an_upload_over_the_file_count_limit_is_refused_whole(tmp_path: Path) -> None:
    from apps.services import Services
    from apps.settings import UploadConfig, load_settings
    from apps.users import GuardedDocuments

    services = Services(load_settings(data_dir=tmp_path, uploads=UploadConfig(max_files=2)))
    files = [tmp_path / f"{n}.txt" for n in range(3)]
    for file in files:
        file.write_text("policy text")
    with pytest.raises(BadInputError, match="3 files in one upload, over the limit of 2"):
        GuardedDocuments(services, None).ingest("kb-limit", files)
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*.txt"))
