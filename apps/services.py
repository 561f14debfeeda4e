"""Creates the toolkit's services from the settings, lazily and once per process.

Entry points (CLI, hub, API) build one ``Services`` and pass it to whatever needs a model or a store, so
``genai --help`` imports nothing heavy and two tabs share one loaded LLM.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from apps.settings import Settings, apply_offline_environment

if TYPE_CHECKING:
    from genai_models.registry import ModelRegistry
    from rag.embeddings import SentenceTransformerEmbeddings
    from rag.llm import ChatModel


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        apply_offline_environment(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    @cached_property
    def registry(self) -> ModelRegistry:
        from genai_models.registry import ModelRegistry

        return ModelRegistry(self.settings.data_dir, allow_network=self.settings.allow_network)

    def chat_model(self) -> ChatModel:
        from rag.llm import load_chat_model

        return load_chat_model(self.settings.llm, self.settings.data_dir, self.settings.allow_network)

    def embeddings(self) -> SentenceTransformerEmbeddings:
        from rag.embeddings import load_embeddings

        return load_embeddings(self.settings.embeddings, self.settings.data_dir, self.settings.allow_network)
