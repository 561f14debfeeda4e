"""Each person's uploads and results stay theirs, although Gradio keeps every file in one shared cache.

Gradio 6 stores uploads (``POST /gradio_api/upload``) and every file it sends back (images, downloads) in
one cache folder under content-hashed names; ``/gradio_api/file=<path>`` then serves any file there to any
signed-in person, and an event may name any cached file as its input. Such a path leaks easily (a shared
link, browser history, a proxy log), so ``PrivateFilesMiddleware`` sits in front of the Gradio app and
remembers which user the server handed each cached file to (the upload's reply, event results, the page
config). It refuses, with Gradio's own "File not allowed" answer (the one a missing file gets):

- a ``file=`` request for a cached file this user was never given;
- a request whose body names such a file anywhere, in any content type (so a reply that echoes the request
  cannot hand the file over), or that joins another user's queue session;
- an event input that is a file (Gradio ``FileData``) other than a cached file given to this user: under
  ``gr.mount_gradio_app`` Gradio never marks the app launched and so skips its own input path checks, which
  would let an event read any file the server can (the data dir, ``/etc``) or fetch a URL.

Only successful replies are read for paths to record. Files outside the cache are served by ``file=`` under
Gradio's own rules (``apps.server`` blocks the data dir there). The ledger lives in memory: after a restart,
people upload again rather than reuse old cache paths.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/gradio_api"
_FILE_ROUTES = (f"{API_PREFIX}/file=", f"{API_PREFIX}/file/")
_UPLOAD_ROUTE = f"{API_PREFIX}/upload"  # multipart file bodies: their replies, not their bodies, name paths
_PASSTHROUGH = ("/assets/", "/static/", "/svelte/", "/favicon.ico", "/theme.css", "/robots.txt")
_SCANNED_TYPES = (b"json", b"event-stream", b"html")
_MAX_PATH = 4096  # longer strings cannot be opened as files, so they name none


# ---------------------------------------------------------------- helpers


def _nodes(value: Any) -> Iterator[Any]:
    """Every value inside a decoded JSON document, containers included."""
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in children:
        yield from _nodes(item)


def _header(scope_or_message: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope_or_message.get("headers", []) if key.lower() == name), b"")


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, *, limit: int | None = None) -> bytes | None:
    """A request's whole body, declared length or chunked alike; None once it passes ``limit`` bytes (the rest
    is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if limit is not None and size > limit:
            return None
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app once, then passes on the original's messages
    (a streaming reply listens there for the client's disconnect)."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying


# PUBLIC API


class FileLedger:
    """Which user was handed which file of Gradio's cache folders, and who owns which queue session.

    Used from the server's event loop only, so plain dicts suffice.

    Args:
        roots: the folders Gradio serves its own files from (upload dir, examples cache).
    """

    def __init__(self, roots: Sequence[str | Path]) -> None:
        self.roots = tuple(os.path.realpath(root) for root in roots)
        self.prefixes = tuple(dict.fromkeys([*self.roots, *map(str, roots)]))  # as Gradio may write them
        self._given: dict[str, set[str | None]] = {}
        self._sessions: dict[str, str | None] = {}

    def cached(self, path: str) -> str | None:
        """The real path of ``path`` (absolute, or relative to the working directory as Gradio reads it) if
        it lies in a cache folder, else None."""
        if not path or len(path) > _MAX_PATH or "\x00" in path:
            return None
        real = os.path.realpath(path)
        return real if any(real == root or real.startswith(root + os.sep) for root in self.roots) else None

    def give(self, user: str | None, path: str) -> None:
        real = self.cached(path)
        if real is not None:
            self._given.setdefault(real, set()).add(user)

    def may_read(self, user: str | None, path: str) -> bool:
        """False only for a cached file that the server never handed to ``user``."""
        real = self.cached(path)
        return real is None or user in self._given.get(real, ())

    def claim_session(self, user: str | None, session_hash: str) -> bool:
        """The first user to use a queue session owns it; False for anyone else."""
        return self._sessions.setdefault(session_hash, user) == user


class PrivateFilesMiddleware:
    """ASGI middleware around the Gradio app; see the module docstring.

    Args:
        app: the Gradio app.
        ledger: who was given which cached file.
        user_of: the logged-in user of a request scope (None when not logged in, or in local mode).
    """

    def __init__(self, app: ASGIApp, *, ledger: FileLedger, user_of: Callable[[Scope], str | None]) -> None:
        self.app = app
        self.ledger = ledger
        self.user_of = user_of
        prefixes = {form for root in ledger.prefixes for form in (root, json.dumps(root)[1:-1])}
        self._paths = re.compile(
            b"((?:" + b"|".join(re.escape(p.encode()) for p in sorted(prefixes)) + rb')(?:[^"\\]|\\.)*)"'
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_PASSTHROUGH):
            await self.app(scope, receive, send)
            return
        user = self.user_of(scope)
        target = next((path[len(route) :] for route in _FILE_ROUTES if path.startswith(route)), None)
        if target is not None:
            if not self.ledger.may_read(user, target):
                await _refuse(send, f"File not allowed: {target}.")
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and path != _UPLOAD_ROUTE:
            body = await read_body(receive) or b""
            problem = self._check_inputs(user, body)
            if problem:
                await _refuse(send, problem)
                return
            receive = replay(body, receive)
        session = parse_qs(scope.get("query_string", b"").decode()).get("session_hash", [None])[0]
        if session and not self.ledger.claim_session(user, session):
            await _refuse(send, "This queue session belongs to another user.")
            return
        # uncompressed replies, so the paths in them can be read
        headers = [(key, value) for key, value in scope["headers"] if key.lower() != b"accept-encoding"]
        await self.app({**scope, "headers": headers}, receive, self._recording(user, send))

    def _named_paths(self, body: bytes) -> Iterator[str]:
        """Every cache path written anywhere in a request body, JSON-escaped or not."""
        for match in self._paths.finditer(body):
            try:
                yield json.loads(b'"' + match.group(1) + b'"')
            except ValueError:
                yield match.group(1).decode(errors="replace")

    def _check_inputs(self, user: str | None, body: bytes) -> str | None:
        """Why a request body is refused (it names a cached file not given to ``user``, has a file input that
        is not such a file, or joins another user's session), or None."""
        for named in self._named_paths(body):
            if not self.ledger.may_read(user, named):
                return f"File not allowed: {named}."
        try:
            document = json.loads(body)
        except ValueError:
            return None  # not JSON: a form (login) or a body Gradio rejects on its own
        from gradio_client.utils import is_file_obj_with_meta

        for file_input in (node["path"] for node in _nodes(document) if is_file_obj_with_meta(node)):
            if self.ledger.cached(file_input) is None or not self.ledger.may_read(user, file_input):
                return f"File not allowed: {file_input}."
        session = document.get("session_hash") if isinstance(document, dict) else None
        if isinstance(session, str) and not self.ledger.claim_session(user, session):
            return "This queue session belongs to another user."
        for text in (node for node in _nodes(document) if isinstance(node, str)):
            if "/" not in text:
                continue
            for candidate in (text, text.partition("file=")[2]):
                if candidate and not self.ledger.may_read(user, candidate):
                    return f"File not allowed: {candidate}."
        return None

    def _recording(self, user: str | None, send: Send) -> Send:
        """``send`` that records every cached path in a successful JSON, event-stream or HTML reply as given to
        ``user`` (error replies may echo the request, so they grant nothing)."""
        scan = False
        tail = b""

        async def recording_send(message: Message) -> None:
            nonlocal scan, tail
            if message["type"] == "http.response.start":
                content_type = _header(message, b"content-type").lower()
                scan = 200 <= message["status"] < 300 and any(kind in content_type for kind in _SCANNED_TYPES)
            elif message["type"] == "http.response.body" and scan:
                chunk = tail + message.get("body", b"")
                for found in self._named_paths(chunk):
                    self.ledger.give(user, found)
                tail = chunk[chunk.rfind(b'"') + 1 :][-_MAX_PATH * 2 :]  # a path cut at the chunk's end
            await send(message)

        return recording_send


def protect_cached_files(app: Any) -> FileLedger:
    """Install ``PrivateFilesMiddleware`` on the Gradio app mounted in the FastAPI ``app``.

    Call it right after ``gr.mount_gradio_app``, before the server starts. Returns the ledger (for tests).
    """
    from gradio.routes import App
    from gradio.utils import get_cache_folder
    from starlette.requests import HTTPConnection
    from starlette.routing import Mount

    gradio_app = next(
        route.app for route in app.routes if isinstance(route, Mount) and isinstance(route.app, App)
    )
    ledger = FileLedger([gradio_app.uploaded_file_dir, get_cache_folder()])

    def user_of(scope: Scope) -> str | None:
        cookies = HTTPConnection(scope).cookies
        token = cookies.get(f"access-token-{gradio_app.cookie_id}") or cookies.get(
            f"access-token-unsecure-{gradio_app.cookie_id}"
        )
        return gradio_app.tokens.get(token)

    gradio_app.add_middleware(PrivateFilesMiddleware, ledger=ledger, user_of=user_of)
    return ledger
