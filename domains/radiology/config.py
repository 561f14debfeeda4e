"""Settings of the radiology flow (composed into ``apps.settings.Settings`` as ``radiology``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EngineName = Literal["deepbet", "unet"]
DEFAULT_ENGINE: EngineName = "unet"  # beat deepbet on Dice and speed (bench/results/radiology.json)
DEFAULT_MASK_THRESHOLD = 0.5


class SkullStripConfig(BaseModel):
    """Which skull-stripping engine runs where. ``unet`` (the shipped weights) is the default since it beat
    ``deepbet`` on Dice and speed in ``bench/results/radiology.json``; ``deepbet`` stays as the reference."""

    model_config = ConfigDict(frozen=True)

    engine: EngineName = Field(DEFAULT_ENGINE, description="unet (ours, default) or deepbet (reference)")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mask_threshold: float = Field(
        DEFAULT_MASK_THRESHOLD,
        gt=0.0,
        lt=1.0,
        description="brain probability cut-off, like BET's -f: lower gives a larger outline (more CSF kept)",
    )
