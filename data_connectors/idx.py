"""IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed -> NumPy arrays.

Layout of an IDX file: two zero bytes, a type code (0x08 = uint8 ... 0x0E = float64), the number of
dimensions, one big-endian uint32 per dimension, then the values in C order.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from data_connectors.errors import BadInputError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (``.gz`` or raw) -> array with the file's shape and dtype (native byte order).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        BadInputError: the content is not IDX, or it is truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such IDX file", str(path))
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise BadInputError(f"{path.name} is a corrupt gzip file ({error}); download it again.") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _TYPES:
        raise BadInputError(
            f"{path.name} is not an IDX file (bad magic number); expected MNIST-style files such as "
            "train-images-idx3-ubyte.gz."
        )
    dims = raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    dtype = np.dtype(_TYPES[raw[2]])
    offset = 4 + 4 * dims
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset < expected:
        raise BadInputError(f"{path.name} is truncated: {len(raw) - offset} of {expected} data bytes present.")
    return np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape)), offset=offset).reshape(shape).astype(
        dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as a (gzip when the name ends in .gz) IDX file — used to make subsets and fixtures."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload)
