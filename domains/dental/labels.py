"""Label conventions shared by training, inference and the benchmark (numpy only, GPU-machine safe).

Teeth: 33 channels, index 0 = background, 1..32 = FDI 11-18, 21-28, 31-38, 41-48 in that order. A
left-right image flip turns the patient's right side into the left, so FDI quadrants swap 1<->2 and 4<->3;
:data:`TEETH_FLIP_PERMUTATION` is that swap on channel indices. Caries: DC1000 colour codes 102/153/255 ->
classes 1/2/3 (three undocumented upstream levels; we call them ``caries-1..3``).
"""

from __future__ import annotations

import numpy as np

FDI_TEETH: tuple[int, ...] = tuple(
    quadrant * 10 + tooth for quadrant in (1, 2, 3, 4) for tooth in range(1, 9)
)
TEETH_CLASSES = 1 + len(FDI_TEETH)
INDEX_TO_FDI = np.array((0, *FDI_TEETH), dtype=np.uint8)

FDI_TO_INDEX = np.zeros(256, dtype=np.uint8)  # lookup table: label-map pixel value -> channel index
FDI_TO_INDEX[INDEX_TO_FDI] = np.arange(TEETH_CLASSES, dtype=np.uint8)

_FLIP_QUADRANT = {1: 2, 2: 1, 3: 4, 4: 3}
TEETH_FLIP_PERMUTATION = np.array(
    [0] + [FDI_TO_INDEX[_FLIP_QUADRANT[fdi // 10] * 10 + fdi % 10] for fdi in FDI_TEETH], dtype=np.int64
)

CARIES_CODES = (102, 153, 255)
CARIES_CLASSES = 1 + len(CARIES_CODES)
CARIES_NAMES = ("background", "caries-1", "caries-2", "caries-3")
CARIES_CODE_TO_INDEX = np.zeros(256, dtype=np.uint8)
CARIES_CODE_TO_INDEX[list(CARIES_CODES)] = np.arange(1, CARIES_CLASSES, dtype=np.uint8)


def flip_permutation(task: str) -> np.ndarray:
    """Channel permutation that goes with a left-right image flip: FDI quadrant swap for teeth, none for caries."""
    return TEETH_FLIP_PERMUTATION if task == "teeth" else np.arange(CARIES_CLASSES)


def fdi_to_index(label_map: np.ndarray) -> np.ndarray:
    """FDI-valued label map -> channel indices (unknown values become background)."""
    return FDI_TO_INDEX[label_map.astype(np.uint8)]


def index_to_fdi(index_map: np.ndarray) -> np.ndarray:
    """Channel indices -> FDI-valued uint8 label map (0 background)."""
    return INDEX_TO_FDI[index_map.astype(np.int64)]
