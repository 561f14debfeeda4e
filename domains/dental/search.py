"""Similar-case search: radiographs -> packaged EfficientNet-Lite0 features -> a Chroma image collection.

The book's chapter 11 ranked cases by classifier scores; here each radiograph is embedded with the
ImageNet EfficientNet-Lite0 (1280-d pooled features of the percentile-normalised grey image), stored with its
label, and a new X-ray retrieves its nearest neighbours by cosine similarity. ``evaluate_search`` measures
precision@k of the same UFBA-UESC category (``cateN``) on a held-out split against the random baseline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError
from data_connectors.images import read_image, to_grey
from domains.dental import DRAFT_NOTICE
from domains.dental.preprocess import normalise_radiograph, resize_image
from domains.dental.quality import check_radiograph

EMBED_SIZE_HW = (256, 512)  # panoramic aspect; the extractor resizes to 224x224 RGB itself
DEFAULT_COLLECTION = "dental-cases"
UFBA_CATEGORY = re.compile(r"(cate\d+)-")


@dataclass(frozen=True)
class SimilarCase:
    """One indexed radiograph: ``id`` is its content hash (never its file name, which may name the patient)."""

    id: str
    similarity: float
    label: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "similarity": round(self.similarity, 4), "label": self.label}


@dataclass
class SimilarResult:
    """The query's content hash, its nearest cases and the quality warnings about the query image."""

    query_id: str
    cases: list[SimilarCase]
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": True,
            "notice": DRAFT_NOTICE,
            "query": {"sha256_12": self.query_id},
            "cases": [case.to_json() for case in self.cases],
            "warnings": self.warnings,
        }


def category_of(name: str) -> str | None:
    """UFBA-UESC image category from a file name such as ``cate8-00123.jpg``; None for any other name (a free
    file name can be a patient's name, so it never becomes a label)."""
    match = UFBA_CATEGORY.match(Path(name).name)
    return match.group(1) if match else None


def _checked(path: Path) -> tuple[np.ndarray, str, list[str]]:
    """(prepared image, content hash, quality warnings); BadInputError for what ``check_radiograph`` refuses."""
    array, meta = read_image(path)
    report = check_radiograph(array, meta)
    prepared = resize_image(normalise_radiograph(to_grey(array)), EMBED_SIZE_HW)
    return prepared, meta["sha256_12"], report.warnings


def _features(images: list[np.ndarray], extractor: Callable) -> np.ndarray:
    import torch

    features = np.asarray(extractor(torch.from_numpy(np.stack(images))[:, None])).astype(np.float32)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def embed_radiographs(paths: Sequence[Path], extractor: Callable, batch: int = 32) -> np.ndarray:
    """``(N, D)`` L2-normalised features; ``extractor`` maps ``(B, 1, H, W)`` [0, 1] tensors to ``(B, D)``.

    Raises:
        BadInputError: a file is not a readable image or not a radiograph (``check_radiograph``).
    """
    return np.concatenate(
        [_features([_checked(Path(p))[0] for p in paths[start : start + batch]], extractor)
         for start in range(0, len(paths), batch)]
    )  # fmt: skip


def index_cases(
    collection: Any, paths: Sequence[Path], extractor: Callable, labels: Sequence[str | None], batch: int = 32
) -> tuple[int, list[str]]:
    """Embed and upsert radiographs with their label, a batch at a time. The id is the content hash, so a
    renamed copy is the same case and two files sharing a name in different folders are two cases;
    re-running updates in place. A copy without a label never erases the label its case has (from another
    copy, or an earlier run). Returns (number written, one sentence per file skipped: unreadable, or
    refused by ``check_radiograph``): one bad file never sinks the index. A skipped file is named by its
    position in ``paths`` ("file #3"), never by its name, which clinics often make the patient's."""
    written, skipped = 0, []
    pairs = list(zip(paths, labels, strict=True))
    for start in range(0, len(pairs), batch):
        images, ids, metadatas = [], [], []
        for number, (path, label) in enumerate(pairs[start : start + batch], start=start + 1):
            try:
                prepared, case_id, _ = _checked(Path(path))
            except BadInputError as error:
                reason = str(error).replace(str(path), "the file").replace(Path(path).name, "the file")
                skipped.append(f"file #{number}: {reason}")
                continue
            if case_id in ids:  # the same bytes twice in one batch: one case, with a label if either has one
                if label and not metadatas[ids.index(case_id)]["label"]:
                    metadatas[ids.index(case_id)] = {"label": label}
                continue
            images.append(prepared)
            ids.append(case_id)
            metadatas.append({"label": label or ""})
        if ids:
            stored = collection.metadatas([i for i, m in zip(ids, metadatas, strict=True) if not m["label"]])
            metadatas = [{"label": m["label"] or stored.get(i, {}).get("label", "")} for i, m in zip(ids, metadatas, strict=True)]
            written += collection.upsert(ids, _features(images, extractor), metadatas)
    return written, skipped


def similar_cases(collection: Any, image: Path, extractor: Callable, *, k: int = 5) -> SimilarResult:
    """The ``k`` most similar indexed radiographs to ``image``; the image itself (same content, whatever its
    name) is left out when it is indexed.

    Raises:
        BadInputError: ``image`` is unreadable or not a radiograph (colour photo, thumbnail, blank).
    """
    prepared, query_id, warnings = _checked(Path(image))
    hits = collection.query(_features([prepared], extractor)[0], k=k + 1)
    cases = [
        SimilarCase(hit.id, hit.similarity, hit.metadata.get("label") or None)
        for hit in hits
        if hit.id != query_id
    ]
    return SimilarResult(query_id, cases[:k], warnings)


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
