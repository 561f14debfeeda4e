"""The API's guards without a model: the auth mode fixed at start, request size limits, citations without
server paths, and the audit log's bounded question. Fixtures are synthetic: a one-paragraph Markdown file in
``tmp_path`` returned by a fake retriever, and a chat model that replies with a fixed sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from apps.api import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, MAX_MESSAGES, install_api
from apps.users import AccessPolicy, UserStore
from data_connectors.audit import MAX_QUESTION_CHARS, AuditLog
from data_connectors.database import create_database_engine
from rag.llm import ChatModel

QUESTION = {"role": "user", "content": "Within how many days must claims be filed?"}


class FixedChat(ChatModel):
    name = "fixed"

    def stream(self, messages, *, max_new_tokens=None, temperature=None, stop=None) -> Iterator[str]:
        yield "Within 30 days [1]."


class OnePassage(BaseRetriever):
    passage: Document

    def _get_relevant_documents(self, query, *, run_manager=None, **kwargs) -> list[Document]:
        return [self.passage]


@pytest.fixture
def api(tmp_path: Path):
    """``(users, make_client)``: an API over a fake knowledge base ``policies`` whose one passage lives in
    ``uploads/root/policies/claims.md`` (the layout that names the uploader)."""
    source = tmp_path / "uploads" / "root" / "policies" / "claims.md"
    source.parent.mkdir(parents=True)
    source.write_text("# Claims policy\n\nClaims must be filed within 30 days of the date of loss.\n")
    passage = Document(
        page_content=source.read_text(),
        metadata={"source": str(source), "section": "Claims policy", "score": 0.9},
    )
    engine = create_database_engine(f"sqlite:///{tmp_path / 'toolkit.sqlite'}")
    users = UserStore(engine)
    store = SimpleNamespace(collections=lambda: ["policies"])
    services = SimpleNamespace(
        users=users,
        access=AccessPolicy(users, store.collections),
        document_store=store,
        database=engine,
        retriever=lambda collection, filters=None: OnePassage(passage=passage),
        chat_model=FixedChat,
    )

    def make_client(**options) -> TestClient:
        app = FastAPI()
        install_api(app, services, **options)
        return TestClient(app)

    return users, make_client


def test_removing_the_last_user_never_opens_a_server_started_with_accounts(api) -> None:
    users, make_client = api
    users.add("alice", "alice-password-1")
    client = make_client()
    assert client.get("/v1/models").status_code == 401
    users.remove("alice")  # a member: no admin guards the last account
    refused = client.get("/v1/models")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "missing_api_key"


def test_local_mode_is_keyless_only_on_loopback_and_until_accounts_exist(api) -> None:
    users, make_client = api
    local = make_client()
    assert local.get("/v1/models").json()["data"][0]["id"] == "documents:policies"
    assert make_client(require_keys=True).get("/v1/models").status_code == 401  # bound beyond loopback
    users.add("root", "root-password-1", admin=True)
    assert local.get("/v1/models").status_code == 401


def test_citations_name_the_file_not_the_server_path(api) -> None:
    users, make_client = api
    users.add("alice", "alice-password-1")
    users.grant("alice", "policies")
    client = make_client()
    headers = {"Authorization": f"Bearer {users.new_api_key('alice')}"}
    body = {"model": "documents:policies", "messages": [QUESTION]}
    reply = client.post("/v1/chat/completions", headers=headers, json=body).json()
    assert [c["source"] for c in reply["citations"]] == ["claims.md"]
    assert reply["choices"][0]["message"]["citations"] == reply["citations"]
    streamed = client.post("/v1/chat/completions", headers=headers, json={**body, "stream": True}).text
    final = [json.loads(line[6:]) for line in streamed.splitlines() if line.startswith("data: {")][-1]
    assert [c["source"] for c in final["citations"]] == ["claims.md"]
    assert "uploads/" not in json.dumps(reply) and "uploads/" not in streamed


@pytest.mark.parametrize(
    "messages",
    [
        [QUESTION] * (MAX_MESSAGES + 1),
        [{"role": "user", "content": "x" * (MAX_MESSAGE_CHARS + 1)}],
        [{"role": "user", "content": [{"type": "text", "text": "x" * (MAX_MESSAGE_CHARS + 1)}]}],
    ],
    ids=["too-many-messages", "long-text", "long-content-part"],
)
def test_oversize_requests_are_refused_before_retrieval(api, messages: list) -> None:
    _, make_client = api
    refused = make_client().post(
        "/v1/chat/completions", json={"model": "documents:policies", "messages": messages}
    )
    error = refused.json()["error"]
    assert (
        refused.status_code == 400
        and error["code"] == "invalid_request"
        and error["param"].startswith("messages")
    )
    assert len(refused.text) < 1000  # the oversize input is not echoed back


def test_a_huge_body_is_refused_from_its_length_before_it_is_read(api) -> None:
    _, make_client = api
    body = json.dumps({"model": "documents:policies", "messages": [QUESTION], "pad": "x" * MAX_BODY_BYTES})
    refused = make_client().post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "request_too_large"

    def chunked():  # no Content-Length: the limit must hold while the body streams in
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024].encode()

    streamed = make_client().post(
        "/v1/chat/completions", content=chunked(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "request_too_large"


def test_audit_log_keeps_a_bounded_redacted_question(tmp_path: Path) -> None:
    audit = AuditLog(create_database_engine(f"sqlite:///{tmp_path / 'toolkit.sqlite'}"))
    entry = audit.record(
        actor="alice",
        action="api.chat",
        collection="policies",
        question="claim CLM-1003 " + "how long " * 10_000,
    )
    assert len(entry.question) == MAX_QUESTION_CHARS and entry.question.startswith("claim [CLAIM] how long")
    assert audit.entries()[0].question == entry.question
