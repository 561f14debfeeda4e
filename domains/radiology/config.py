"""Settings of the radiology flow (composed into ``apps.settings.Settings`` as ``radiology``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SkullStripConfig(BaseModel):
    """Which skull-stripping engine runs where; ``GENAI_RADIOLOGY__ENGINE=unet`` once trained weights ship."""

    model_config = ConfigDict(frozen=True)

    engine: Literal["deepbet", "unet"] = Field("deepbet", description="deepbet (reference) or unet (ours)")
    device: Literal["auto", "cpu", "cuda"] = "auto"
