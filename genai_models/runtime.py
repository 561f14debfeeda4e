"""Device choice shared by every model loader: one rule, so "auto" means the same thing everywhere."""

from __future__ import annotations

from typing import Literal

from data_connectors.errors import BadInputError

DeviceName = Literal["auto", "cpu", "cuda"]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; ``"cuda"`` without one is an error.

    Raises:
        BadInputError: ``device`` is not auto/cpu/cuda[:N], or CUDA was asked for on a machine without it.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadInputError(
                f"Device {device!r} was requested but no CUDA GPU is visible to torch "
                f"{torch.__version__}; use --device cpu, or install a CUDA build of torch (see README)."
            )
        return device
    raise BadInputError(f"Unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'.")
