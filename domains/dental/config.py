"""Dental settings: which weights to use and where user-trained models live."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DentalConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    teeth_weights: Path | None = Field(
        None, description="teeth *_unet.pt; None = the packaged UFBA-425 model"
    )
    caries_weights: Path | None = Field(
        None, description="caries *_unet.pt; None = <data_dir>/dental/caries/caries_unet.pt when trained"
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mirror_average: bool = Field(
        True, description="also segment the mirror image and average (better Dice, twice the inference time)"
    )

    def teeth_path(self) -> Path:
        from domains.dental.segment import PACKAGED_WEIGHTS

        return self.teeth_weights or PACKAGED_WEIGHTS

    def caries_path(self, data_dir: Path) -> Path | None:
        """The caries weights if they exist (nothing trained on DC1000 ships with the toolkit)."""
        path = self.caries_weights or Path(data_dir) / "dental" / "caries" / "caries_unet.pt"
        return path if path.is_file() else None
