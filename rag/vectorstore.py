"""Chroma behind one adapter: embedded persistent mode by default, ``chroma run`` server mode by setting."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChromaConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: Literal["embedded", "server"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    ssl: bool = False
