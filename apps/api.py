"""OpenAI-compatible HTTP API for internal tools, on the same server as the hub.

Any OpenAI client works: point ``base_url`` at ``http://HOST:PORT/v1`` and use a key from
``genai users api-key NAME``. ``model`` picks an assistant; ``GET /v1/models`` lists those the key may use:

- ``documents:<collection>``: cited answers from one knowledge base (the same ``Answerer`` as the hub).
- ``healthcare-patient``: the patient assistant (safety triage first, then answers from the ``patient-info``
  collection when it exists); needs a grant on ``patient-info``. Each request is one turn: no booking state
  is kept between requests, so a proposed slot says to book it in the hub or with reception (it never asks
  for a "yes" the API could not act on), and the question is audited once, as ``patient-chat`` under the
  caller's name.

Extra response fields (the documented extension): a non-streaming completion carries ``citations`` (a list
of ``{n, source, page, section, text, score}``, ``source`` being the file name only, never a server path) and
``refused`` on ``choices[0].message`` and at the top level. A stream sends text deltas as the model writes
them; its final chunk (``finish_reason="stop"``) carries ``citations``, ``refused`` and ``answer``, the
checked final text (citation numbers that match no passage removed, or the refusal sentence), which a client
should show instead of the concatenated deltas.

The last ``user`` message is the question; earlier user/assistant turns are the conversation history;
``system`` messages are ignored (each assistant has its own rules). A request holds at most ``MAX_MESSAGES``
messages of at most ``MAX_MESSAGE_CHARS`` characters each. Errors use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``: 401 missing/invalid key, 403 no grant for the
collection, 404 unknown model or collection, 400 invalid request. Every question is recorded in the audit log
with identifiers redacted. A server started with accounts asks for a key on every request until it stops.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from apps.users import AccessDeniedError, User
from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    from apps.services import Services

log = logging.getLogger(__name__)

DOCUMENTS_PREFIX = "documents:"
HEALTHCARE_MODEL = "healthcare-patient"
HEALTHCARE_COLLECTION = "patient-info"
# a long chat fits; an oversize request is refused before it reaches retrieval or the audit log
MAX_MESSAGES = 32
MAX_MESSAGE_CHARS = 8_000
# A body above this is refused from its Content-Length, before it is read (4 bytes per character at most).
MAX_BODY_BYTES = MAX_MESSAGES * MAX_MESSAGE_CHARS * 4 + 64 * 1024


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Message:
        if len(self.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message may have at most {MAX_MESSAGE_CHARS} characters; shorten it")
        return self

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The subset of OpenAI's chat-completion request the assistants use; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)


class APIError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, *, kind: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


# ---------------------------------------------------------------- helpers


class _BoundedBody:
    """ASGI middleware: a ``/v1/`` request body over ``MAX_BODY_BYTES`` is answered 413 before the app sees
    it, whether it declares its length or streams in chunks (then at most the limit is read, and replayed)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from apps.private_files import read_body, replay

        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        too_large = declared.isdigit() and int(declared) > MAX_BODY_BYTES
        body = None if too_large else await read_body(receive, limit=MAX_BODY_BYTES)
        if body is None:
            error = APIError(
                413,
                f"The request body is above the {MAX_BODY_BYTES:,}-byte limit; send at most {MAX_MESSAGES} "
                f"messages of {MAX_MESSAGE_CHARS:,} characters.",
                kind="invalid_request_error",
                code="request_too_large",
            )
            await JSONResponse(error.body(), status_code=error.status)(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


def _caller(services: Services, request: Request, *, keyless: bool) -> User:
    """The user behind the bearer key (``keyless``: the local operator, no key needed on loopback)."""
    if keyless:
        return services.access.user(None)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise APIError(
            401,
            "Missing API key: send `Authorization: Bearer <key>`; an admin creates one with "
            "`genai users api-key NAME`.",
            kind="invalid_request_error",
            code="missing_api_key",
        )
    user = services.users.user_for_key(key.strip())
    if user is None:
        raise APIError(
            401,
            "Invalid API key; ask an admin for a new one (`genai users api-key NAME`).",
            kind="invalid_request_error",
            code="invalid_api_key",
        )
    return user


def _models(services: Services, user: User) -> list[str]:
    collections = services.access.allowed_collections(user)
    models = [DOCUMENTS_PREFIX + name for name in collections]
    if services.access.may_use(user, HEALTHCARE_COLLECTION):  # safety triage works before it exists
        models.append(HEALTHCARE_MODEL)
    return models


def _collection_of(services: Services, user: User, model: str) -> str:
    """The knowledge base behind ``model``, after the grant check (403 before 404: no existence leak)."""
    if model == HEALTHCARE_MODEL:
        collection = HEALTHCARE_COLLECTION
    elif model.startswith(DOCUMENTS_PREFIX):
        collection = model.removeprefix(DOCUMENTS_PREFIX)
    else:
        raise APIError(
            404,
            f"The model {model!r} does not exist; GET /v1/models lists the assistants your key may use.",
            kind="invalid_request_error",
            code="model_not_found",
            param="model",
        )
    try:
        services.access.check(user, collection)
    except AccessDeniedError as error:
        raise APIError(403, str(error), kind="permission_error", code="collection_not_granted") from None
    if model != HEALTHCARE_MODEL and collection not in services.document_store.collections():
        raise APIError(
            404,
            f"The knowledge base {collection!r} does not exist yet; ingest documents into it first.",
            kind="invalid_request_error",
            code="model_not_found",
            param="model",
        )
    return collection


def _conversation(request: ChatRequest) -> tuple[str, list[dict[str, str]]]:
    turns = [m for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user" or not turns[-1].text.strip():
        raise APIError(
            400,
            "The last message must be a non-empty `user` message (the question).",
            kind="invalid_request_error",
            code="invalid_messages",
            param="messages",
        )
    history = [{"role": m.role, "content": m.text} for m in turns[:-1]]
    return turns[-1].text, history


def _document_events(
    services: Services, collection: str, question: str, history: list[dict[str, str]], max_tokens: int | None
) -> Iterator:
    """Text deltas, then one ``(answer, refused, citations)`` tuple (the grant was checked by the caller)."""
    from rag.answering import Answer, Answerer

    answerer = Answerer(
        retriever=services.retriever(collection), chat_model=services.chat_model(), max_new_tokens=max_tokens
    )
    for event in answerer.stream(question, history=history):
        if isinstance(event, Answer):
            yield event.answer, event.refused, [_public(citation.to_dict()) for citation in event.citations]
        else:
            yield event


def _public(citation: dict[str, Any]) -> dict[str, Any]:
    """``citation`` with its source reduced to the file name: a server path names the folder layout and the
    uploader's login."""
    return {**citation, "source": Path(citation["source"]).name}


def _healthcare_events(services: Services, question: str, actor: str) -> Iterator:
    """One turn of the patient assistant; it audits the question itself, under ``actor``. Nothing is booked:
    the API keeps no conversation to confirm a slot in."""
    from apps.flows import build_patient_assistant
    from domains.healthcare.assistant import PatientSession

    assistant = build_patient_assistant(services, HEALTHCARE_COLLECTION)
    turn = assistant.respond(question, PatientSession(), actor=actor, may_book=False)
    yield turn.text
    yield turn.text, False, [_public({**ref.model_dump(), "score": None}) for ref in turn.citations]


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


# PUBLIC API


def install_api(app: FastAPI, services: Services, *, require_keys: bool = False) -> None:
    """Add ``/v1/models`` and ``/v1/chat/completions`` (and OpenAI-shaped errors) to ``app``.

    The auth mode is decided here, once: a server started with accounts asks for a key on every request for
    as long as it runs, so removing the last user never opens it to anonymous callers; one started without
    accounts serves the local operator keyless only until the first account is added.

    Args:
        require_keys: always ask for a key, even without accounts (a server bound beyond loopback).
    """
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
    keyless = not require_keys and not services.users.has_users()

    def caller(request: Request) -> User:
        return _caller(services, request, keyless=keyless and services.access.local_mode)

    @router.get("/models")
    def list_models(user: User = Depends(caller)) -> dict[str, Any]:  # noqa: B008 - FastAPI's idiom
        return {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": 0, "owned_by": "genai-toolkit"}
                for model in _models(services, user)
            ],
        }

    @router.post("/chat/completions", response_model=None)
    def chat_completions(
        body: ChatRequest,
        user: User = Depends(caller),  # noqa: B008 - FastAPI's idiom
    ) -> dict[str, Any] | StreamingResponse:
        from data_connectors.audit import AuditLog

        collection = _collection_of(services, user, body.model)
        question, history = _conversation(body)
        max_tokens = body.max_completion_tokens or body.max_tokens
        if body.model == HEALTHCARE_MODEL:  # audited by the assistant, once, under the caller
            events = _healthcare_events(services, question, user.name)
        else:
            AuditLog(services.database).record(
                actor=user.name, action="api.chat", collection=collection, question=question
            )
            events = _document_events(services, collection, question, history, max_tokens)
        completion_id, created = _completion_id(), int(time.time())
        if body.stream:
            return StreamingResponse(
                _sse(events, completion_id, created, body.model), media_type="text/event-stream"
            )
        try:
            answer, refused, citations = next(event for event in events if isinstance(event, tuple))
        except BadInputError as error:
            raise APIError(400, str(error), kind="invalid_request_error", code="bad_input") from None
        message = {"role": "assistant", "content": answer, "citations": citations, "refused": refused}
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "citations": citations,
            "refused": refused,
        }

    async def api_error(_request: Request, error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        if not request.url.path.startswith("/v1/"):
            return await request_validation_exception_handler(request, error)
        first = error.errors()[0]
        param = ".".join(str(part) for part in first["loc"] if part != "body")
        return JSONResponse(
            APIError(
                400,
                f"Invalid request: {param}: {first['msg']}.",
                kind="invalid_request_error",
                code="invalid_request",
                param=param,
            ).body(),
            status_code=400,
        )

    app.add_middleware(_BoundedBody)
    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.include_router(router)


def _chunk(completion_id: str, created: int, model: str, delta: dict, finish: str | None, **extra) -> str:
    chunk = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def _sse(events: Iterator, completion_id: str, created: int, model: str) -> Iterator[str]:
    """Server-sent events: role, text deltas, the final chunk with citations, ``[DONE]``; errors in-stream."""
    yield _chunk(completion_id, created, model, {"role": "assistant", "content": ""}, None)
    try:
        for event in events:
            if isinstance(event, tuple):
                answer, refused, citations = event
                yield _chunk(
                    completion_id,
                    created,
                    model,
                    {},
                    "stop",
                    citations=citations,
                    refused=refused,
                    answer=answer,
                )
            else:
                yield _chunk(completion_id, created, model, {"content": event}, None)
    except BadInputError as error:
        body = APIError(400, str(error), kind="invalid_request_error", code="bad_input").body()
        yield f"data: {json.dumps(body)}\n\n"
    except Exception:
        log.exception("chat completion %s failed", completion_id)
        body = APIError(
            500, "The assistant failed; see the server log.", kind="server_error", code="internal"
        ).body()
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"
