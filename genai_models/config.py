"""Settings of the generative-models flow: where training runs live (the hub lists only runs under it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ModelsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    runs_dir: Path | None = Field(None, description="training run folders; None = <data_dir>/models/runs")

    def runs_path(self, data_dir: Path) -> Path:
        return (self.runs_dir or Path(data_dir) / "models" / "runs").expanduser().resolve()
