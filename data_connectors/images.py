"""2D images in: PNG/JPG/BMP/TIFF (8- or 16-bit) and single-frame DICOM -> ``(float32 array, metadata)``.

Pixel values keep their full stored range (a 16-bit radiograph stays 0..65535, never squeezed to 8 bits);
``metadata["bit_depth"]`` says what the range was, so callers normalise explicitly with
:func:`to_unit_range`. DICOM values get the modality rescale (slope/intercept) and MONOCHROME1 is inverted so
bright always means dense; ``metadata["spacing_mm"]`` is ``(row, column)`` millimetres from ``PixelSpacing``
or, failing that, ``ImagerPixelSpacing`` (None when the file has neither), or a scanner DPI, and
``metadata["spacing_source"]`` says which. No patient identifier is read
into the metadata. The file type is recognised by its content, not its name. A JPEG/PNG/TIFF with an EXIF
Orientation is turned the way viewers show it (a mirrored file would otherwise swap the patient's sides).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError, UnsupportedFileError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom")
DEFAULT_MAX_PIXELS = 200_000_000  # a 20k x 10k panoramic scan still opens; a decompression bomb does not
EXIF_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the Pillow transpose that shows the image as a viewer does (Pillow's exif_transpose table).
_ORIENTATION_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
                          6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*")


# ---------------------------------------------------------------- helpers


def _is_dicom(head: bytes, path: Path) -> bool:
    """DICOM by content: the ``DICM`` preamble, or a ``.dcm`` name on a file no image format claims (old
    preamble-less DICOM). A PNG renamed ``.dcm`` is still read as the PNG it is."""
    if head[128:132] == b"DICM":
        return True
    return path.suffix.lower() in (".dcm", ".dicom") and not _is_pil_image(head)


def _is_pil_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_SIGNATURES)


def _bit_depth(array: np.ndarray, mode: str) -> int:
    if array.dtype == np.uint8 or mode in ("1", "L", "P", "RGB", "RGBA", "LA"):
        return 8
    if array.dtype == np.uint16 or mode.startswith("I;16"):
        return 16
    if mode == "F" or array.dtype.kind == "f":
        return 32
    return 16 if array.max(initial=0) <= 65535 and array.min(initial=0) >= 0 else 32


@contextlib.contextmanager
def _pillow_pixel_limit(max_pixels: int) -> Iterator[None]:
    """Make ``max_pixels`` the only size limit: Pillow's own (~179 M pixels, a warning from ~89 M) would refuse
    a 20000x10000 scan that ours allows, with an error of its own."""
    from PIL import Image

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max(max_pixels, previous or 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


def _read_pil(data: bytes, path: Path, max_pixels: int) -> tuple[np.ndarray, dict[str, Any]]:
    from PIL import Image, UnidentifiedImageError

    try:
        with _pillow_pixel_limit(max_pixels):
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:  # over twice our limit: Pillow stops before we can
        raise BadInputError(
            f"The image is above the {max_pixels:,}-pixel limit ({error}); downscale it before uploading."
        ) from None
    except UnidentifiedImageError:
        kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)
        if kind:  # the start says what it is, but Pillow cannot find the rest (e.g. a TIFF cut before its IFD)
            raise BadInputError(f"The image is a corrupt or truncated {kind} file; re-export it.") from None
        raise UnsupportedFileError(
            "The file is not a readable image (expected PNG, JPG, BMP, TIFF or DICOM content)."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadInputError(f"The image is a corrupt image file ({error}); re-export it.") from None
    # TIFF: read EXIF before load(), which drops it; others after, since PNG's getexif() decodes the pixels and
    # a failure there would leave a half-decoded image that load() then accepts
    orientation = _exif_orientation(image) if image.format == "TIFF" else None
    width, height = image.size
    if width * height > max_pixels:
        raise BadInputError(
            f"The image is {width}x{height} pixels, above the {max_pixels:,}-pixel limit; "
            "downscale it before uploading."
        )
    try:
        with _pillow_pixel_limit(max_pixels):
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise BadInputError(
            f"The image is a corrupt or truncated {image.format} file ({error}); re-export it."
        ) from None
    if image.format == "JPEG":
        _check_jpeg_data(data)
    if orientation is None:
        orientation = _exif_orientation(image)
    mode, file_format = image.mode, image.format
    pages = int(getattr(image, "n_frames", 1) or 1)
    if _sixteen_bit_colour(data, image):
        raise BadInputError(
            f"The image is a 16-bit colour {file_format}, which can only be read here as 8 bits per channel; "
            "save the radiograph as 16-bit greyscale (or as 8-bit if that precision is enough)."
        )
    spacing = _pil_spacing(image)
    notes: list[str] = []
    if pages > 1 and file_format == "TIFF":  # several radiographs, or one with a preview page (not MPO JPEGs)
        notes.append(
            f"The file holds {pages} pages; only the first was analysed. Upload one radiograph per file if the "
            "other pages are other images."
        )
    if orientation in _ORIENTATION_TRANSPOSE:  # stored mirrored/rotated: read it as every viewer shows it
        if (
            _exif_orientation(image) == orientation
        ):  # Pillow's TIFF reader has already applied (and dropped) it
            image = image.transpose(getattr(Image.Transpose, _ORIENTATION_TRANSPOSE[orientation]))
        spacing = spacing[::-1] if spacing and orientation >= 5 else spacing  # 5-8 swap rows and columns
        notes.append(
            f"The file's EXIF orientation tag ({orientation}: stored mirrored or rotated) was applied, as image "
            "viewers do; outputs are aligned with the displayed image, not with the stored pixels."
        )
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("1", "LA"):
        image = image.convert("L")
    elif mode in ("CMYK", "YCbCr"):
        image = image.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]  # alpha carries no radiographic information
    meta = {
        "format": file_format,
        "mode": mode,
        "bit_depth": _bit_depth(array, mode),
        "spacing_mm": spacing,
        "spacing_source": "file DPI (set by the exporter, often arbitrary)" if spacing else None,
        "exif_orientation": orientation,
        "warnings": notes,
    }
    return array.astype(np.float32), meta


# libjpeg's warnings that mean damaged pixels (its "bad ICC marker" warning does not)
_JPEG_DAMAGE = ("Corrupt JPEG data", "Premature end of JPEG file", "Inconsistent progression sequence")


def _check_jpeg_data(data: bytes) -> None:
    """Refuse a JPEG whose compressed data is damaged: Pillow decodes it without a word, filling the rest of
    the image after the damage with grey or shifted blocks, which the model would then analyse. libjpeg-turbo
    (simplejpeg, strict) reports it; decoding at 1/8 scale still reads every block, in ~20 ms for a panoramic.
    """
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_height=1, min_width=1, min_factor=8, strict=True)
    except ValueError as error:
        message = str(error)
        if message.startswith(_JPEG_DAMAGE) and "ICC" not in message and not _only_padding(data, message):
            raise BadInputError(f"The image is a corrupt JPEG file ({message}); re-export it.") from None


def _only_padding(data: bytes, message: str) -> bool:
    """libjpeg's "N extraneous bytes before marker 0xXX" where those N bytes are 0x00/0xFF padding (exporters
    pad before the end marker or between header segments): the pixels decode intact. After damaged scan data
    the extraneous bytes are the rest of that data, not padding."""
    found = re.search(r"(\d+) extraneous bytes before marker 0x([0-9a-f]{2})", message)
    if not found:
        return False
    count, marker = int(found[1]), bytes([0xFF, int(found[2], 16)])
    start = data.find(marker, 2)
    while start != -1:
        if start >= count and set(data[start - count : start]) <= {0x00, 0xFF}:
            return True
        start = data.find(marker, start + 1)
    return False


def _exif_orientation(image: Any) -> int:
    """EXIF Orientation 1-8 (1 = stored as shown; also when absent or unreadable)."""
    try:
        value = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1))
    except (OSError, SyntaxError, ValueError, TypeError):
        return 1
    return value if 1 <= value <= 8 else 1


def _sixteen_bit_colour(data: bytes, image: Any) -> bool:
    """Pillow decodes 16-bit RGB(A) PNG and TIFF as 8-bit "RGB", dropping the low byte without a word."""
    if image.format == "PNG" and data[12:16] == b"IHDR":
        return data[24] == 16 and data[25] in (2, 6)  # IHDR bit depth; colour type RGB or RGBA
    if image.format == "TIFF" and image.mode.startswith("RGB"):
        bits = image.tag_v2.get(258, 8)  # BitsPerSample: one value, or one per channel
        return max(bits) > 8 if isinstance(bits, tuple) else bits > 8
    return False


def _pil_spacing(image: Any) -> tuple[float, float] | None:
    """Spacing from the file's DPI when it was written by a scanner (TIFF/PNG); None when absent or a screen
    default (72/96: PNG stores pixels per metre, so 72 dpi comes back as 72.009)."""
    dpi = image.info.get("dpi")
    if not dpi or any(round(float(d)) in (0, 1, 72, 96) for d in dpi[:2]):
        return None
    return (25.4 / float(dpi[1]), 25.4 / float(dpi[0]))


_DICOM_SPACING_SOURCES = (
    ("PixelSpacing", "DICOM PixelSpacing"),
    ("ImagerPixelSpacing", "DICOM ImagerPixelSpacing (at the detector: panoramic magnification not corrected)"),
)


def _positive_pair(value: Any) -> tuple[float, float] | None:
    """A (row, column) spacing from a DICOM value: two finite positive numbers, else None."""
    try:
        pair = (float(value[0]), float(value[1])) if len(value) == 2 else None
    except (TypeError, ValueError):
        return None
    return pair if pair and all(np.isfinite(pair)) and min(pair) > 0 else None


def _read_dicom(data: bytes, path: Path, max_pixels: int) -> tuple[np.ndarray, dict[str, Any]]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(io.BytesIO(data), force=path.suffix.lower() in (".dcm", ".dicom"))
    except (InvalidDicomError, AttributeError, KeyError, ValueError, OSError, EOFError, TypeError) as error:
        raise BadInputError(
            f"The file is not a readable DICOM image ({type(error).__name__}: {error}); "
            "export the radiograph again as DICOM or PNG."
        ) from None
    if "PixelData" not in dataset:  # a forced read of a non-DICOM file named .dcm ends here too
        raise BadInputError(
            "The file holds no DICOM image (no pixel data); export the radiograph again as DICOM or PNG."
        )
    try:
        pixels = dataset.pixel_array
    except Exception as error:  # pydicom raises many types for missing or undecodable pixel data
        syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
        encoding = f" ({syntax.name})" if syntax is not None else ""
        raise BadInputError(
            f"The image's pixel data{encoding} cannot be decoded ({type(error).__name__}); export it "
            "uncompressed or as PNG, or install the matching pydicom pixel-data handler."
        ) from None
    if pixels.ndim == 3 and int(getattr(dataset, "NumberOfFrames", 1) or 1) > 1:
        raise BadInputError(
            f"The image has {pixels.shape[0]} frames; a single 2D radiograph is expected "
            "(use the volume reader for series)."
        )
    if pixels.shape[0] * pixels.shape[1] > max_pixels:
        raise BadInputError(f"The image is {pixels.shape[1]}x{pixels.shape[0]} pixels, above the limit.")
    array = pixels.astype(np.float32)
    if array.ndim == 2:
        array = array * float(getattr(dataset, "RescaleSlope", 1) or 1) + float(
            getattr(dataset, "RescaleIntercept", 0) or 0
        )
        if str(getattr(dataset, "PhotometricInterpretation", "")) == "MONOCHROME1":
            array = array.max() + array.min() - array
    spacing, spacing_source = None, None
    for tag, source in _DICOM_SPACING_SOURCES:
        spacing = _positive_pair(getattr(dataset, tag, None))
        if spacing:  # absent, one value or "0\\0" (written by devices that do not know it): try the next tag
            spacing_source = source
            break
    meta = {
        "format": "DICOM",
        "mode": str(getattr(dataset, "PhotometricInterpretation", "")),
        "bit_depth": int(getattr(dataset, "BitsStored", 0) or pixels.dtype.itemsize * 8),
        "spacing_mm": spacing,
        "spacing_source": spacing_source,
        "modality": str(getattr(dataset, "Modality", "")),
    }
    return array, meta


# PUBLIC API


def read_image(
    path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, dict[str, Any]]:
    """One 2D image: ``(H, W)`` grey or ``(H, W, 3)`` colour float32 array in its stored range, + metadata.

    Metadata keys: ``source`` (file name: never put in messages, logs or outputs, as file names often carry
    patient names; the errors below say "the image"), ``sha256_12`` (:func:`content_id`, the pseudonymous id for
    outputs), ``format``, ``mode``, ``bit_depth``, ``spacing_mm`` (row, col) or None, ``height``, ``width``,
    ``channels``, ``exif_orientation`` (1 = none applied) and ``warnings`` (sentences for the reader, e.g. an
    EXIF rotation that was applied).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsupportedFileError: the content is not an image we can read (a text file, a PDF, ...).
        BadInputError: ``path`` is a folder, or the file is corrupt/truncated, multi-frame, or larger than
            ``max_pixels``.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError("The input is a folder; pass one image file (PNG, JPG, BMP, TIFF or DICOM).")
    if not path.is_file():
        raise FileNotFoundError(2, "No such image file", str(path))
    data = path.read_bytes()
    if not data:
        raise BadInputError("The image file is empty; upload the radiograph again.")
    reader = _read_dicom if _is_dicom(data[:132], path) else _read_pil
    array, meta = reader(data, path, max_pixels)
    meta.setdefault("exif_orientation", 1)
    meta.setdefault("warnings", [])
    meta.update(
        source=path.name,
        sha256_12=content_id(data),
        height=int(array.shape[0]),
        width=int(array.shape[1]),
        channels=1 if array.ndim == 2 else int(array.shape[2]),
    )
    return array, meta


def content_id(data: bytes | str | Path) -> str:
    """First 12 hex digits of the SHA-256 of the file's bytes: a pseudonymous id that names the same content
    the same way wherever the file lives or whatever it is called (``data`` = the bytes or a file path)."""
    if not isinstance(data, bytes):
        data = Path(data).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def to_grey(array: np.ndarray) -> np.ndarray:
    """``(H, W[, C])`` -> ``(H, W)`` luminance (ITU-R 601 weights), keeping the value range."""
    if array.ndim == 2:
        return array
    return (array[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)


def to_unit_range(array: np.ndarray, meta: dict[str, Any] | None = None) -> np.ndarray:
    """Scale to [0, 1]: by the integer bit depth for 8/16-bit files, by min/max for DICOM or float data."""
    bit_depth = (meta or {}).get("bit_depth")
    if (meta or {}).get("format") != "DICOM" and bit_depth in (8, 16):
        return np.clip(array / float(2**bit_depth - 1), 0.0, 1.0).astype(np.float32)
    low, high = float(array.min()), float(array.max())
    return ((array - low) / (high - low if high > low else 1.0)).astype(np.float32)
