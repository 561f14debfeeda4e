"""Creates the toolkit's services from the settings, lazily and once per process.

Entry points (CLI, hub, API) build one ``Services`` and pass it to whatever needs a model or a store, so
``genai --help`` imports nothing heavy and two tabs share one loaded LLM.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.settings import Settings, apply_offline_environment
from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from apps.users import AccessPolicy, UserFiles, UserStore
    from genai_models.registry import ModelRegistry
    from rag.answering import Answerer
    from rag.embeddings import SentenceTransformerEmbeddings
    from rag.indexing import IngestReport
    from rag.llm import ChatModel
    from rag.retrieval import HybridRetriever
    from rag.vectorstore import DocumentStore


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        apply_offline_environment(settings)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BadInputError(
                f"The data dir {settings.data_dir} cannot be created "
                f"({'it is a file' if settings.data_dir.is_file() else error.strerror}); set data_dir "
                "(GENAI_DATA_DIR) to a writable folder."
            ) from None

    @cached_property
    def registry(self) -> ModelRegistry:
        from genai_models.registry import ModelRegistry

        return ModelRegistry(self.settings.data_dir, allow_network=self.settings.allow_network)

    @cached_property
    def database(self) -> Engine:
        """The SQLAlchemy engine for operational tables (appointments, audit log), checked by one connect so
        an unreachable database is reported once, as bad settings, not as a traceback from the first query.

        Raises:
            BadInputError: the URL is unusable or the database cannot be opened (e.g. its folder is missing).
        """
        from sqlalchemy.exc import DBAPIError

        from data_connectors.database import create_database_engine, database_url

        engine = create_database_engine(database_url(self.settings.database, self.settings.data_dir))
        try:
            with engine.connect():
                pass
        except DBAPIError as error:
            raise BadInputError(
                f"The database {engine.url.render_as_string(hide_password=True)} cannot be opened "
                f"({error.orig}); set database.url (GENAI_DATABASE__URL) to a reachable database, or leave it "
                "empty for SQLite in the data dir."
            ) from None
        return engine

    @cached_property
    def users(self) -> UserStore:
        """Users, grants and API keys (tables in the toolkit database)."""
        from apps.users import UserStore

        return UserStore(self.database)

    @cached_property
    def access(self) -> AccessPolicy:
        """Who may use which knowledge base; every hub and API handler asks it on the server."""
        from apps.users import AccessPolicy

        return AccessPolicy(self.users, lambda: self.document_store.collections())

    @cached_property
    def user_files(self) -> UserFiles:
        """Each user's own uploads and outputs folders, with the upload size cap and accepted types."""
        from apps.users import UserFiles
        from data_connectors.documents import SUPPORTED_SUFFIXES

        return UserFiles(
            self.settings.data_dir, max_mb=self.settings.uploads.max_mb, suffixes=SUPPORTED_SUFFIXES
        )

    def chat_model(self) -> ChatModel:
        from rag.llm import load_chat_model

        return load_chat_model(self.settings.llm, self.settings.data_dir, self.settings.allow_network)

    def embeddings(self) -> SentenceTransformerEmbeddings:
        from rag.embeddings import load_embeddings

        return load_embeddings(self.settings.embeddings, self.settings.data_dir, self.settings.allow_network)

    @cached_property
    def document_store(self) -> DocumentStore:
        """Knowledge bases in Chroma (embedded or server, from settings) with the configured embeddings."""
        from rag.vectorstore import DocumentStore

        return DocumentStore(
            config=self.settings.chroma, data_dir=self.settings.data_dir, embeddings=self.embeddings()
        )

    def retriever(self, collection: str, filters: dict[str, str] | None = None) -> HybridRetriever:
        """Hybrid retrieval over one knowledge base, optionally scoped by metadata (e.g. ``claim_id``)."""
        from rag.retrieval import HybridRetriever

        return HybridRetriever(
            store=self.document_store,
            collection=collection,
            config=self.settings.retrieval,
            filters=filters or {},
        )

    def answerer(self, collection: str, filters: dict[str, str] | None = None) -> Answerer:
        """Cited answers (or refusals) over one knowledge base with the configured LLM."""
        from rag.answering import Answerer

        self.document_store.collection(collection)  # a missing knowledge base fails before the LLM loads
        return Answerer(retriever=self.retriever(collection, filters), chat_model=self.chat_model())

    def ingest(self, paths: Iterable[str | Path], collection: str, **options: Any) -> IngestReport:
        """``rag.indexing.ingest`` into this deployment's store, with its chunking, embeddings and upload limit.

        ``options`` go to ``ingest`` as they are (``sync``, ``extra_metadata``, ``progress``, ...).
        """
        from rag.indexing import ingest

        options.setdefault("max_file_mb", self.settings.uploads.max_mb)
        return ingest(
            paths,
            store=self.document_store,
            collection=collection,
            chunking=self.settings.chunking,
            count_tokens=self.embeddings().count_tokens,
            **options,
        )
