"""Users, roles, per-collection grants and API keys, in the toolkit database; and the access policy.

Passwords are stored as salted scrypt hashes (stdlib, no length limit); API keys are random 256-bit tokens
of which only the sha256 is stored (a high-entropy key needs no slow hash, and a digest allows lookup), so
a stolen database yields neither. ``AccessPolicy`` is the one place that decides whether a person may read or
write a knowledge base: the hub and the HTTP API call it on the server for every retrieval, ingest and file
read, whatever the page showed. With no user configured the toolkit runs in *local mode*: one operator on
127.0.0.1, allowed everything (``apps.server`` refuses any other bind address in that mode).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from sqlalchemy import DateTime, Engine, ForeignKey, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    import gradio as gr

    from apps.services import Services
    from rag.answering import Answerer
    from rag.indexing import IngestReport
    from rag.retrieval import HybridRetriever

Role = Literal["admin", "member"]
LOCAL_USER = "local"  # the operator in local mode (no users configured); also names their output folder

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_KEY_PREFIX = "gk-"
_MIN_PASSWORD = 8


class _Base(DeclarativeBase):
    pass


class UserRow(_Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GrantRow(_Base):
    __tablename__ = "collection_grants"
    __table_args__ = (UniqueConstraint("user_id", "collection"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    collection: Mapped[str] = mapped_column(String(63))


class ApiKeyRow(_Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # first characters, so a person can tell keys apart
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(BaseModel):
    """A person as the access policy sees them (never carries a secret)."""

    name: str
    role: Role
    collections: list[str]
    api_keys: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccessDeniedError(BadInputError):
    """The user may not use this collection (or file). Same message whether or not the collection exists."""


# ---------------------------------------------------------------- helpers


def validate_user_name(name: str) -> str:
    """``name`` unchanged if usable as a login and as a folder name.

    Raises:
        BadInputError: not 2-32 lowercase letters, digits, ``.``, ``_`` or ``-`` starting with a letter/digit.
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise BadInputError(
            f"User name {name!r} is invalid: use 2-32 lowercase letters, digits, '.', '_' or '-', starting "
            "with a letter or digit (e.g. 'alice')."
        )
    return name


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT, dklen=32)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # unknown users cost the same time as wrong passwords


# PUBLIC API


class UserStore:
    """Users, grants and API keys in the toolkit database (tables created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _Base.metadata.create_all(engine)

    def _row(self, session: Session, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise BadInputError(f"No user named {name!r}; add one with `genai users add {name}`.")
        return row

    def _user(self, session: Session, row: UserRow) -> User:
        grants = session.scalars(select(GrantRow.collection).where(GrantRow.user_id == row.id)).all()
        keys = session.scalars(select(ApiKeyRow.id).where(ApiKeyRow.user_id == row.id)).all()
        return User(name=row.name, role=row.role, collections=sorted(grants), api_keys=len(keys))

    def has_users(self) -> bool:
        with Session(self.engine) as session:
            return session.scalar(select(UserRow.id).limit(1)) is not None

    def add(self, name: str, password: str, *, admin: bool = False) -> User:
        """Create a user.

        Raises:
            BadInputError: invalid or reserved (``local``) name, the name is taken, or the password is shorter
                than 8 characters.
        """
        if validate_user_name(name) == LOCAL_USER:  # always the local-mode operator: it could never log in
            raise BadInputError(f"User name {LOCAL_USER!r} is reserved for local mode; pick another name.")
        if not isinstance(password, str) or len(password) < _MIN_PASSWORD:
            raise BadInputError(f"The password of {name!r} must have at least {_MIN_PASSWORD} characters.")
        with Session(self.engine) as session, session.begin():
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise BadInputError(f"User {name!r} already exists; pick another name.")
            row = UserRow(
                name=name,
                password_hash=hash_password(password),
                role="admin" if admin else "member",
                created=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            return self._user(session, row)

    def get(self, name: str) -> User | None:
        with Session(self.engine) as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return self._user(session, row) if row is not None else None

    def users(self) -> list[User]:
        with Session(self.engine) as session:
            return [
                self._user(session, row) for row in session.scalars(select(UserRow).order_by(UserRow.name))
            ]

    def authenticate(self, name: str, password: str) -> bool:
        """The Gradio login callback: True when the name exists and the password matches."""
        with Session(self.engine) as session:
            stored = session.scalar(select(UserRow.password_hash).where(UserRow.name == str(name)))
        matches = verify_password(str(password), stored or _DUMMY_HASH)
        return stored is not None and matches

    def grant(self, name: str, collection: str) -> User:
        """Let ``name`` read and add to ``collection`` (which need not exist yet)."""
        from rag.vectorstore import validate_collection_name

        validate_collection_name(collection)
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            exists = session.scalar(
                select(GrantRow.id).where(GrantRow.user_id == row.id, GrantRow.collection == collection)
            )
            if exists is None:
                session.add(GrantRow(user_id=row.id, collection=collection))
                session.flush()
            return self._user(session, row)

    def revoke(self, name: str, collection: str) -> User:
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            session.execute(
                delete(GrantRow).where(GrantRow.user_id == row.id, GrantRow.collection == collection)
            )
            return self._user(session, row)

    def new_api_key(self, name: str) -> str:
        """A new key for ``name``; returned once, only its hash is stored."""
        key = _KEY_PREFIX + secrets.token_urlsafe(32)
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            session.add(
                ApiKeyRow(user_id=row.id, key_hash=_key_hash(key), hint=key[:7], created=datetime.now(UTC))
            )
        return key

    def revoke_api_keys(self, name: str) -> int:
        """Invalidate every API key of ``name`` (a leaked key: revoke, then issue a new one); returns how many."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            return session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == row.id)).rowcount

    def set_password(self, name: str, password: str) -> User:
        """Replace the password of ``name``.

        Raises:
            BadInputError: no such user, or the password is shorter than 8 characters.
        """
        if not isinstance(password, str) or len(password) < _MIN_PASSWORD:
            raise BadInputError(f"The password of {name!r} must have at least {_MIN_PASSWORD} characters.")
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            row.password_hash = hash_password(password)
            return self._user(session, row)

    def remove(self, name: str) -> None:
        """Delete ``name`` with their grants and API keys: their next request or page load is refused.

        Raises:
            BadInputError: no such user, or ``name`` is the last admin (nobody could manage the server after).
        """
        with Session(self.engine) as session, session.begin():
            row = self._row(session, name)
            admins = session.scalar(select(func.count()).select_from(UserRow).where(UserRow.role == "admin"))
            if row.role == "admin" and admins == 1:
                raise BadInputError(
                    f"{name!r} is the last admin and cannot be removed; add another admin first with "
                    "`genai users add NAME --admin`."
                )
            session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == row.id))
            session.execute(delete(GrantRow).where(GrantRow.user_id == row.id))
            session.delete(row)

    def user_for_key(self, key: str) -> User | None:
        """The owner of an API key, or None for an unknown key."""
        if not isinstance(key, str) or not key.startswith(_KEY_PREFIX):
            return None
        with Session(self.engine) as session:
            row = session.scalar(select(UserRow).join(ApiKeyRow).where(ApiKeyRow.key_hash == _key_hash(key)))
            return self._user(session, row) if row is not None else None


class AccessPolicy:
    """Who may use which knowledge base. Admins may use every collection; members their granted ones.

    Args:
        users: the user store.
        list_collections: the collections that exist (e.g. ``DocumentStore.collections``).
    """

    def __init__(self, users: UserStore, list_collections: Callable[[], list[str]]) -> None:
        self.users = users
        self._list_collections = list_collections

    @property
    def local_mode(self) -> bool:
        """No user configured: one operator on loopback, allowed everything."""
        return not self.users.has_users()

    def user(self, name: str | gr.Request | None) -> User:
        """The user behind a login name or a ``gr.Request`` (``None`` in local mode is the local operator).

        Raises:
            AccessDeniedError: no login while users are configured, or an unknown name.
        """
        name = getattr(name, "username", name)  # a Gradio request carries the login name
        if not name or name == LOCAL_USER:
            if self.local_mode:
                return User(name=LOCAL_USER, role="admin", collections=[])
            raise AccessDeniedError("Log in first: this server has user accounts.")
        user = self.users.get(str(name))
        if user is None:
            raise AccessDeniedError(f"Unknown user {name!r}; log in again.")
        return user

    def allowed_collections(self, user: User | str | gr.Request | None) -> list[str]:
        """The existing collections ``user`` may use, sorted."""
        user = user if isinstance(user, User) else self.user(user)
        existing = self._list_collections()
        return existing if user.is_admin else [name for name in existing if name in user.collections]

    def may_use(self, user: User | str | gr.Request | None, collection: str) -> bool:
        user = user if isinstance(user, User) else self.user(user)
        return user.is_admin or collection in user.collections

    def check(self, user: User | str | gr.Request | None, collection: str) -> User:
        """The user, if they may use ``collection``.

        Raises:
            AccessDeniedError: they may not (the message does not tell whether the collection exists).
        """
        user = user if isinstance(user, User) else self.user(user)
        if not self.may_use(user, collection):
            raise AccessDeniedError(
                f"User {user.name!r} has no access to collection {collection!r}; an admin can grant it with "
                f"`genai users grant {user.name} {collection}`."
            )
        return user


class UserFiles:
    """Each person's own folders under the data dir: ``uploads/<user>`` and ``outputs/<user>``.

    Files are read back only through ``resolve``, which refuses anything outside the user's folder
    (``../``, absolute paths, symlinks pointing out), so one person never reads another's uploads or results.
    """

    def __init__(self, data_dir: Path, *, max_mb: float, suffixes: frozenset[str]) -> None:
        self.root = Path(data_dir).resolve()
        self.max_mb = max_mb
        self.suffixes = suffixes

    def folder(self, user: str, kind: Literal["uploads", "outputs"]) -> Path:
        folder = self.root / kind / validate_user_name(user)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def resolve(self, user: str, relative: str, kind: Literal["uploads", "outputs"] = "outputs") -> Path:
        """The existing file ``relative`` inside the user's folder.

        Raises:
            AccessDeniedError: the path leaves the folder or does not exist (one message for both).
        """
        folder = self.folder(user, kind)
        candidate = Path(str(relative))
        target = (folder / candidate).resolve()
        if candidate.is_absolute() or not target.is_relative_to(folder) or not target.is_file():
            raise AccessDeniedError(
                f"File {relative!r} is not among your {kind}; pick one of your own files."
            )
        return target

    def server_path(self, user: str, path: str | Path, *, shared: Sequence[Path] = ()) -> Path:
        """A file or folder typed by a user, if it lies in their own uploads/outputs or a ``shared`` read-only
        root (e.g. the shipped samples); anything else on the server is refused.

        Raises:
            AccessDeniedError: the path is elsewhere (``../``, absolute paths, another user's folder).
        """
        target = Path(str(path)).expanduser().resolve()
        roots = [
            self.folder(user, "uploads"),
            self.folder(user, "outputs"),
            *(Path(r).resolve() for r in shared),
        ]
        if not any(target.is_relative_to(root) for root in roots):
            raise AccessDeniedError(
                f"{str(path)!r} is outside your own files and the shared samples; upload the files instead."
            )
        return target

    @staticmethod
    def publish(paths: Sequence[str | Path]) -> list[str]:
        """Copies of result files in a fresh private temp folder, for Gradio to serve: the data dir itself
        is blocked to the web server, so nothing else in it can ever be fetched. The folder lies in the
        server's private temp folder (``apps.server.private_temp_dir``), removed when the server stops."""
        import os
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="genai-result-", dir=os.environ.get("GRADIO_TEMP_DIR") or None))
        return [str(shutil.copy2(path, folder / Path(path).name)) for path in paths]

    def check_upload(self, path: str | Path) -> Path:
        """An uploaded file, if its type is accepted and it is under the size cap.

        Raises:
            BadInputError: unsupported type or too large (the message names the limit).
        """
        path = Path(path)
        if path.suffix.lower() not in self.suffixes:
            raise BadInputError(
                f"File type {path.suffix or '(none)'!r} of {path.name!r} is not accepted; upload one of "
                f"{', '.join(sorted(self.suffixes))}."
            )
        size_mb = path.stat().st_size / 1024 / 1024
        if size_mb > self.max_mb:
            raise BadInputError(
                f"{path.name!r} is {size_mb:.1f} MB, over the {self.max_mb:g} MB upload limit "
                "(settings uploads.max_mb)."
            )
        return path

    def store_upload(self, user: str, path: str | Path, *, folder: Path | None = None) -> Path:
        """Copy a checked upload into the user's own uploads folder (a name cannot climb out of it)."""
        import shutil

        source = self.check_upload(path)
        safe_name = upload_name(source.name)
        own = self.folder(user, "uploads")
        folder = (folder or own).resolve()
        if not folder.is_relative_to(own):
            raise AccessDeniedError(f"Uploads of {user!r} must stay in their own folder, not {folder}.")
        target = folder / safe_name
        shutil.copyfile(source, target)
        return target


def upload_name(name: str) -> str:
    """A file name safe to store (letters of any script, digits, ``._-``): the same upload always maps to the
    same name, so a new version replaces the old, and two names that clean up alike ("Claim 1.pdf",
    "Claim_1.pdf") get a short hash of the original each, so neither overwrites the other."""
    safe = re.sub(r"[^\w.-]", "_", name).lstrip(".") or "upload"
    if safe == name:
        return safe
    stem, dot, suffix = safe.rpartition(".") if "." in safe else (safe, "", "")
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{stem}-{digest}{dot}{suffix}"


class GuardedDocuments:
    """The document assistant as one person may use it: every call checks their grant on the server first.

    The hub's documents tab and the HTTP API both go through this, so hiding a collection in a page is never
    the only protection.

    Args:
        services: the toolkit services.
        user: the login name, or the handler's ``gr.Request`` (None in local mode).

    Raises:
        AccessDeniedError: no login while accounts exist, or an unknown user.
    """

    def __init__(self, services: Services, user: str | gr.Request | None) -> None:
        self.services = services
        self.user = services.access.user(user)

    def collections(self) -> list[str]:
        """The existing knowledge bases this user may use."""
        return self.services.access.allowed_collections(self.user)

    def retriever(self, collection: str, filters: dict[str, str] | None = None) -> HybridRetriever:
        self.services.access.check(self.user, collection)
        if collection not in self.services.document_store.collections():  # the store's own error lists all
            raise BadInputError(
                f"Knowledge base {collection!r} does not exist yet; upload documents to it first."
            )
        return self.services.retriever(collection, filters)

    def answerer(self, collection: str, *, max_new_tokens: int | None = None) -> Answerer:
        from rag.answering import Answerer

        return Answerer(
            retriever=self.retriever(collection),
            chat_model=self.services.chat_model(),
            max_new_tokens=max_new_tokens,
        )

    def ingest(
        self,
        collection: str,
        files: list[str | Path],
        *,
        progress: Callable[[float, str], None] | None = None,
    ) -> IngestReport:
        """Keep each accepted upload in the user's own uploads folder and index it; a file of the wrong type
        or over the size cap is reported in ``skipped`` and the rest are still ingested.

        Raises:
            AccessDeniedError: the user may not write to ``collection``.
            BadInputError: no file given, or none of them is acceptable.
        """
        from data_connectors.documents import FileFailure
        from rag.vectorstore import validate_collection_name

        validate_collection_name(collection)
        self.services.access.check(self.user, collection)
        if not files:
            raise BadInputError("No file uploaded; choose at least one document.")
        limit = self.services.settings.uploads.max_files
        if len(files) > limit:
            raise BadInputError(
                f"{len(files)} files in one upload, over the limit of {limit} (GENAI_UPLOADS__MAX_FILES); "
                "upload them in smaller batches."
            )
        uploads = self.services.user_files
        folder = uploads.folder(self.user.name, "uploads") / collection
        folder.mkdir(exist_ok=True)
        stored: list[Path] = []
        rejected: list[FileFailure] = []
        for path in files:
            try:
                stored.append(uploads.store_upload(self.user.name, path, folder=folder))
            except BadInputError as error:
                rejected.append(FileFailure(Path(path).name, str(error)))
        if not stored:
            raise BadInputError(" ".join(failure.reason for failure in rejected))
        report = self.services.ingest(stored, collection, progress=progress)
        report.skipped += rejected
        return report
