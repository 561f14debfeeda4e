"""The one settings object: defaults < YAML file (``GENAI_CONFIG`` or ``--config``) < ``GENAI_*`` env < CLI.

Each layer owns the type of its own configuration (``LLMConfig``, ``EmbeddingConfig``, ...); this module only
composes them and hands each service its part. Nothing else in the toolkit reads environment variables.
Nested values use a double underscore: ``GENAI_LLM__MODEL=smollm2-135m``.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from data_connectors.database import DatabaseConfig
from data_connectors.errors import BadInputError
from domains.dental.config import DentalConfig
from domains.radiology.config import SkullStripConfig
from genai_models.config import ModelsConfig
from rag.chunking import ChunkingConfig
from rag.embeddings import EmbeddingConfig
from rag.llm import LLMConfig
from rag.retrieval import RetrievalConfig
from rag.vectorstore import ChromaConfig

_yaml_file: ContextVar[Path | None] = ContextVar("genai_yaml_file", default=None)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "genai-toolkit"


class UploadConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_mb: float = Field(50.0, gt=0, description="largest accepted upload, in MB")
    max_files: int = Field(500, ge=1)


class ServerConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    gpu_concurrency: int = Field(1, ge=1, description="hub jobs on the GPU at once (MRI, dental, training)")


class Settings(BaseSettings):
    """Everything a deployment may change. See README "Configuration" for the table of variables."""

    model_config = SettingsConfigDict(
        env_prefix="GENAI_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(default_factory=_default_data_dir, description="everything the toolkit writes")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    allow_network: bool = Field(False, description="allow model-hub downloads (off: offline sites)")
    llm: LLMConfig = LLMConfig()
    embeddings: EmbeddingConfig = EmbeddingConfig()
    chroma: ChromaConfig = ChromaConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    uploads: UploadConfig = UploadConfig()
    server: ServerConfig = ServerConfig()
    dental: DentalConfig = DentalConfig()
    radiology: SkullStripConfig = SkullStripConfig()
    database: DatabaseConfig = DatabaseConfig()
    models: ModelsConfig = ModelsConfig()

    @model_validator(mode="after")
    def _apply_global_device(self) -> Settings:
        """A global ``device`` fills in every part that was left on "auto"."""
        if self.device != "auto":
            for name in ("llm", "embeddings"):
                part = getattr(self, name)
                if part.device == "auto":
                    object.__setattr__(self, name, part.model_copy(update={"device": self.device}))
        object.__setattr__(self, "data_dir", self.data_dir.expanduser().resolve())
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_file = _yaml_file.get()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    def public_dict(self) -> dict[str, Any]:
        """The settings in force, JSON-safe, for ``genai doctor`` (no secrets are held here, only env names)."""
        return self.model_dump(mode="json")


# PUBLIC API


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings once, at an entry point.

    Raises:
        BadInputError: the YAML file does not exist or is not a YAML mapping, a ``GENAI_*`` variable holding a
            nested setting is not JSON, or a value is invalid (the message names the setting and the fix).
    """
    import yaml
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    path = config_file or os.environ.get("GENAI_CONFIG")
    if path is not None and not Path(path).is_file():
        raise BadInputError(f"Settings file {path} does not exist (from --config or GENAI_CONFIG).")
    token = _yaml_file.set(Path(path) if path else None)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise BadInputError(
            f"Invalid setting {field!r}: {first['msg']} (got {first.get('input')!r})."
        ) from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise BadInputError(
            f"Settings file {path} is not valid YAML{at}; fix it or point --config/GENAI_CONFIG at another."
        ) from None
    except SettingsError as error:  # a nested setting from the environment that is not JSON
        raise BadInputError(
            f'Invalid environment setting: {error}; a whole section takes JSON (GENAI_LLM=\'{{"model": '
            '"smollm2-135m"}\') or set one field with a double underscore (GENAI_LLM__MODEL=smollm2-135m).'
        ) from None
    except (ValueError, TypeError):  # the YAML parsed, but to a list or plain text instead of a mapping
        if path is None:
            raise
        raise BadInputError(
            f"Settings file {path} must be a YAML mapping of setting names to values (e.g. 'server: "
            "{port: 7860}'); fix it or point --config/GENAI_CONFIG at another."
        ) from None
    finally:
        _yaml_file.reset(token)


def apply_offline_environment(settings: Settings) -> None:
    """Make the libraries we use behave offline and quiet, whatever the shell had set.

    Called by every entry point before heavy imports: hubs are never contacted unless the user switched
    network access on, and no library sends telemetry.
    """
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not settings.allow_network:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
