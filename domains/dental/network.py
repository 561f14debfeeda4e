"""Which MONAI network a weights file belongs to: one JSON-able spec builds it, for training and inference."""

from __future__ import annotations

from typing import Any


def build_network(spec: dict[str, Any]):
    """A ``monai.networks.nets.UNet`` (2D, batch norm) from ``spec`` keys ``channels``, ``strides``,
    ``res_units``, ``in_channels``, ``n_classes``. Input height and width must be multiples of
    ``prod(strides)``."""
    from monai.networks.nets import UNet

    return UNet(
        spatial_dims=2,
        in_channels=int(spec.get("in_channels", 1)),
        out_channels=int(spec["n_classes"]),
        channels=tuple(int(c) for c in spec["channels"]),
        strides=tuple(int(s) for s in spec["strides"]),
        num_res_units=int(spec.get("res_units", 2)),
        norm="batch",
        dropout=float(spec.get("dropout", 0.0)),
    )


def size_multiple(spec: dict[str, Any]) -> int:
    multiple = 1
    for stride in spec["strides"]:
        multiple *= int(stride)
    return multiple
