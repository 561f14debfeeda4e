"""One person's uploads and results are never served to another, although Gradio keeps them in one cache.

The ledger is checked alone; then, on the live ``secured_hub`` (tests/apps/conftest.py), alice uploads a
small text file written here and builds the finance board report from the shipped sample statements, and
bob, logged in too, is refused both files, cannot feed alice's upload to an event, and cannot listen to
alice's queue session.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import httpx
import pytest


def test_ledger_serves_a_cached_file_only_to_whom_it_was_given(tmp_path: Path) -> None:
    from apps.private_files import FileLedger

    cache = tmp_path / "cache"
    (cache / "abc").mkdir(parents=True)
    (cache / "abc" / "scan.nii").write_bytes(b"alice")
    ledger = FileLedger([cache])
    given = str(cache / "abc" / "scan.nii")
    ledger.give("alice", given)
    assert ledger.may_read("alice", given)
    for path in [given, str(cache / "abc" / ".." / "abc" / "scan.nii"), str(cache / "abc" / "other.nii")]:
        assert not ledger.may_read("bob", path)
        assert not ledger.may_read(None, path)
    assert ledger.may_read("bob", str(tmp_path / "elsewhere.txt"))  # outside the cache: Gradio's own rules
    ledger.give("bob", given)  # the same content uploaded by bob gets the same hashed path
    assert ledger.may_read("bob", given)
    assert ledger.claim_session("alice", "s1") and ledger.claim_session("alice", "s1")
    assert not ledger.claim_session("bob", "s1")


def _login(hub, user: str) -> httpx.Client:
    session = httpx.Client(base_url=hub.url, follow_redirects=True, timeout=120)
    assert session.post("login", data={"username": user, "password": hub.passwords[user]}).status_code == 200
    return session


def _fn_index(session: httpx.Client, api_name: str) -> int:
    return next(d["id"] for d in session.get("config").json()["dependencies"] if d["api_name"] == api_name)


@pytest.mark.slow
def test_uploads_and_results_stay_with_their_owner(secured_hub) -> None:
    from gradio_client import Client

    with closing(_login(secured_hub, "alice")) as alice, closing(_login(secured_hub, "bob")) as bob:
        reply = alice.post(
            "gradio_api/upload", files={"files": ("alice-notes.txt", b"alice's private notes")}
        )
        upload = reply.json()[0]
        assert alice.get(f"gradio_api/file={upload}").text == "alice's private notes"
        cached = Path(upload)
        for path in [upload, f"{cached.parent}/../{cached.parent.name}/{cached.name}"]:
            refused = bob.get(f"gradio_api/file={path}")
            assert refused.status_code == 403 and "private" not in refused.text
        assert httpx.get(f"{secured_hub.url}gradio_api/file={upload}").status_code in (401, 403)

        report = _fn_index(bob, "report")  # finance board report: its input is a file
        join = {"data": [{"path": upload, "meta": {"_type": "gradio.FileData"}}, False], "fn_index": report}
        assert bob.post("gradio_api/queue/join", json={**join, "session_hash": "bob-1"}).status_code == 403
        assert (
            alice.post("gradio_api/queue/join", json={**join, "session_hash": "alice-1"}).status_code == 200
        )
        # The same join in any spelling of JSON, or as text Gradio would echo back in an error, is refused too.
        for content_type in ("application/JSON", "text/plain", ""):
            sneaky = bob.post(
                "gradio_api/queue/join",
                content=json.dumps({**join, "session_hash": "bob-2"}),
                headers={"content-type": content_type},
            )
            assert sneaky.status_code == 403, content_type
        assert bob.get(f"gradio_api/file={upload}").status_code == 403
        # A file input must be a file this user was handed: not the data dir, not any server file, not a URL.
        secret = secured_hub.services.settings.data_dir / "uploads" / "alice-secret.txt"
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text("alice's account 99-1234")
        try:
            for path in (str(secret), "/etc/hostname", "http://127.0.0.1:9/x.csv"):
                named = {
                    "data": [{"path": path, "meta": {"_type": "gradio.FileData"}}, False],
                    "fn_index": report,
                }
                for session in (alice, bob):
                    refused = session.post("gradio_api/run/report", json={"data": named["data"]})
                    assert refused.status_code == 403 and "99-1234" not in refused.text, path
        finally:
            secret.unlink()

        client = Client(
            secured_hub.url,
            auth=("alice", secured_hub.passwords["alice"]),
            verbose=False,
            download_files=False,
        )
        _, _, charts, downloads = client.predict(None, False, api_name="/report")
        results = [downloads[0]["path"], charts[0]["image"]["path"]]
        for path in results:
            assert alice.get(f"gradio_api/file={path}").status_code == 200
            assert bob.get(f"gradio_api/file={path}").status_code == 403
        listen = bob.get("gradio_api/queue/data", params={"session_hash": client.session_hash})
        assert listen.status_code == 403
