"""Which MONAI network a weights file belongs to: one JSON-able spec builds it and says how to run it, for
training and inference alike."""

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


def infer_logits(network, x, spec: dict[str, Any]):
    """Logits for a ``(B, 1, H, W)`` batch at the spec's ``size_hw``.

    A network trained on crops (spec ``patch_hw``, small lesions) slides that window over the image with
    MONAI's ``sliding_window_inference`` (25 % overlap, Gaussian-weighted seams), so it sees at inference the
    scale it was trained at; a whole-image network runs once.
    """
    patch = spec.get("patch_hw")
    if not patch:
        return network(x)
    from monai.inferers import sliding_window_inference

    return sliding_window_inference(
        x, roi_size=tuple(int(side) for side in patch), sw_batch_size=8, predictor=network, overlap=0.25,
        mode="gaussian",
    )  # fmt: skip
