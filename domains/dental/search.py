"""Similar-case search: radiographs -> packaged EfficientNet-Lite0 features -> a Chroma image collection.

The book's chapter 11 ranked cases by classifier scores; here each radiograph is embedded with the
ImageNet EfficientNet-Lite0 (1280-d pooled features of the percentile-normalised grey image), stored with its
label, and a new X-ray retrieves its nearest neighbours by cosine similarity. ``evaluate_search`` measures
precision@k of the same UFBA-UESC category (``cateN``) on a held-out split against the random baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError
from data_connectors.images import read_image, to_grey
from domains.dental.preprocess import normalise_radiograph, resize_image

EMBED_SIZE_HW = (256, 512)  # panoramic aspect; the extractor resizes to 224x224 RGB itself
DEFAULT_COLLECTION = "dental-cases"


@dataclass(frozen=True)
class SimilarCase:
    id: str
    similarity: float
    label: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "similarity": round(self.similarity, 4),
            "label": self.label,
            "source": self.source,
        }


def category_of(name: str) -> str:
    """UFBA-UESC image category from a file name such as ``cate8-00123.jpg`` (else the stem)."""
    stem = Path(name).stem
    return stem.split("-")[0] if "-" in stem else stem


def _prepared(path: Path) -> np.ndarray:
    return resize_image(normalise_radiograph(to_grey(read_image(path)[0])), EMBED_SIZE_HW)


def _features(images: list[np.ndarray], extractor: Callable) -> np.ndarray:
    import torch

    features = np.asarray(extractor(torch.from_numpy(np.stack(images))[:, None])).astype(np.float32)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def embed_radiographs(paths: Sequence[Path], extractor: Callable, batch: int = 32) -> np.ndarray:
    """``(N, D)`` L2-normalised features; ``extractor`` maps ``(B, 1, H, W)`` [0, 1] tensors to ``(B, D)``.

    Raises:
        BadInputError: a file is not a readable image.
    """
    return np.concatenate(
        [_features([_prepared(p) for p in paths[start : start + batch]], extractor)
         for start in range(0, len(paths), batch)]
    )  # fmt: skip


def index_cases(
    collection: Any, paths: Sequence[Path], extractor: Callable, labels: Sequence[str | None], batch: int = 32
) -> tuple[int, list[str]]:
    """Embed and upsert radiographs (id = file name) with their label, a batch at a time; re-running updates in
    place. Returns (number written, one sentence per unreadable file skipped): one bad file never sinks the
    index."""
    written, skipped = 0, []
    pairs = list(zip(paths, labels, strict=True))
    for start in range(0, len(pairs), batch):
        images, kept = [], []
        for path, label in pairs[start : start + batch]:
            try:
                images.append(_prepared(Path(path)))
            except BadInputError as error:
                skipped.append(str(error))
                continue
            kept.append((Path(path), label))
        if kept:
            metadatas = [{"label": label or "", "source": path.name} for path, label in kept]
            written += collection.upsert(
                [path.name for path, _ in kept], _features(images, extractor), metadatas
            )
    return written, skipped


def similar_cases(collection: Any, image: Path, extractor: Callable, *, k: int = 5) -> list[SimilarCase]:
    """The ``k`` most similar indexed radiographs to ``image`` (itself excluded when it is indexed)."""
    query = embed_radiographs([Path(image)], extractor)[0]
    hits = collection.query(query, k=k + 1)
    cases = [
        SimilarCase(
            hit.id, hit.similarity, hit.metadata.get("label") or None, hit.metadata.get("source", hit.id)
        )
        for hit in hits
        if hit.id != Path(image).name
    ]
    return cases[:k]


def evaluate_search(
    indexed: Sequence[tuple[np.ndarray, str]], queries: Sequence[tuple[np.ndarray, str]], *, k: int = 5
) -> dict[str, float]:
    """Precision@k of same label, by exact cosine ranking, and the random baseline's expected precision@k."""
    index = np.stack([f for f, _ in indexed])
    index_labels = np.array([label for _, label in indexed])
    hits, baseline = [], []
    for feature, label in queries:
        top = np.argsort(-(index @ feature))[:k]
        hits.append(float(np.mean(index_labels[top] == label)))
        baseline.append(float(np.mean(index_labels == label)))
    return {
        f"precision_at_{k}": float(np.mean(hits)),
        f"random_precision_at_{k}": float(np.mean(baseline)),
        "queries": len(queries),
        "indexed": len(indexed),
    }
