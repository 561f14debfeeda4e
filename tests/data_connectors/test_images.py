"""2D image reader: every format keeps its dynamic range; DICOM spacing; bad files get one clear error.

Fixtures are written by the tests themselves (numpy ramps saved with Pillow / pydicom).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_connectors.errors import BadInputError, UnsupportedFileError
from data_connectors.images import content_id, read_image, to_grey, to_unit_range


def _ramp(dtype: type, high: int) -> np.ndarray:
    return np.linspace(0, high, 64 * 96, dtype=np.float64).reshape(64, 96).astype(dtype)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".jpg"])
def test_8bit_formats(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ramp{suffix}"
    Image.fromarray(_ramp(np.uint8, 255)).save(path)
    array, meta = read_image(path)
    assert array.dtype == np.float32 and array.shape == (64, 96)
    assert meta["bit_depth"] == 8 and meta["channels"] == 1 and meta["source"] == path.name
    assert array.max() >= 250 and to_unit_range(array, meta).max() <= 1.0


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_keeps_full_range(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ramp16{suffix}"
    ramp = _ramp(np.uint16, 60000)
    Image.fromarray(ramp).save(path)
    array, meta = read_image(path)
    assert meta["bit_depth"] == 16
    assert array.max() == pytest.approx(60000)  # not squeezed to 255
    assert len(np.unique(array)) > 256
    np.testing.assert_array_equal(array, ramp.astype(np.float32))


def test_colour_image_and_grey(tmp_path: Path) -> None:
    path = tmp_path / "colour.png"
    rgb = np.zeros((32, 48, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(path)
    array, meta = read_image(path)
    assert array.shape == (32, 48, 3) and meta["channels"] == 3
    assert to_grey(array).shape == (32, 48)


def _dicom(path: Path, pixels: np.ndarray, **tags: object) -> Path:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    dataset = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.Modality = "PX"
    dataset.Rows, dataset.Columns = pixels.shape
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = tags.pop("PhotometricInterpretation", "MONOCHROME2")
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.PixelRepresentation = 0
    for key, value in tags.items():
        setattr(dataset, key, value)
    dataset.PixelData = pixels.astype(np.uint16).tobytes()
    dataset.save_as(path, enforce_file_format=True)
    return path


def test_dicom_pixel_spacing(tmp_path: Path) -> None:
    pixels = _ramp(np.uint16, 4095)
    array, meta = read_image(_dicom(tmp_path / "pano.dcm", pixels, PixelSpacing=[0.1, 0.12]))
    assert meta["format"] == "DICOM" and meta["bit_depth"] == 12
    assert meta["spacing_mm"] == (0.1, 0.12) and meta["spacing_source"] == "DICOM PixelSpacing"
    assert array.max() == pytest.approx(4095)


@pytest.mark.parametrize("pixel_spacing", [[0, 0], [0.1], [-0.1, 0.1]])
def test_unusable_pixel_spacing_falls_through_to_the_next_tag(tmp_path: Path, pixel_spacing: list) -> None:
    """Some devices write "0\\0" when they do not know the spacing: areas of 0 mm2 would follow."""
    pixels = _ramp(np.uint16, 4095)
    _, meta = read_image(_dicom(tmp_path / "a.dcm", pixels, PixelSpacing=pixel_spacing))
    assert meta["spacing_mm"] is None and meta["spacing_source"] is None
    _, meta = read_image(
        _dicom(tmp_path / "b.dcm", pixels, PixelSpacing=pixel_spacing, ImagerPixelSpacing=[0.2, 0.2])
    )
    assert meta["spacing_mm"] == (0.2, 0.2) and "ImagerPixelSpacing" in meta["spacing_source"]


def test_dicom_imager_spacing_and_monochrome1(tmp_path: Path) -> None:
    pixels = _ramp(np.uint16, 4095)
    path = _dicom(
        tmp_path / "noext", pixels, ImagerPixelSpacing=[0.2, 0.2], PhotometricInterpretation="MONOCHROME1"
    )
    array, meta = read_image(path)  # recognised by content (DICM preamble), not by name
    assert meta["spacing_mm"] == (0.2, 0.2) and "magnification not corrected" in meta["spacing_source"]
    assert array[0, 0] > array[-1, -1]  # inverted so bright means dense


def test_undecodable_dicom_compression_is_named(tmp_path: Path) -> None:
    """pydicom's MR_small_jpeg_ls_lossless.dcm relabelled JPEG Lossless (Process 14), common for dental X-rays
    and decodable only with an extra handler: one sentence naming the encoding, not a traceback."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import JPEGLosslessSV1

    dataset = pydicom.dcmread(get_testdata_file("MR_small_jpeg_ls_lossless.dcm"))
    dataset.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    dataset.save_as(tmp_path / "pano.dcm")
    with pytest.raises(BadInputError, match=r"The image.s pixel data \(JPEG Lossless.*cannot be decoded"):
        read_image(tmp_path / "pano.dcm")


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(UnsupportedFileError, match="not a readable image"):
        read_image(path)


def test_corrupt_png(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(_ramp(np.uint8, 255)).save(path)
    path.write_bytes(path.read_bytes()[:120])
    with pytest.raises(BadInputError, match="corrupt or truncated"):
        read_image(path)


@pytest.mark.parametrize("at", [0.1, 0.5, 0.8])
def test_png_damaged_inside_its_pixel_data_is_refused_not_half_read(tmp_path: Path, at: float) -> None:
    """Zeroed bytes inside IDAT once decoded as black rows (a jaw missing, no warning): the half-read image
    came from PNG's EXIF lookup, which decodes the pixels and swallowed the error."""
    path = tmp_path / "damaged.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 512), dtype=np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    data[start : start + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="corrupt or truncated PNG"):
        read_image(path)


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_damaged_inside_its_data_is_refused(tmp_path: Path, progressive: bool) -> None:
    """Zeroed bytes inside a JPEG's scan: Pillow decodes the rest of the image as grey or shifted blocks
    without a word; libjpeg's warning is now the refusal. An intact JPEG of the same image still reads."""
    path = tmp_path / "damaged.jpg"
    ramp = np.linspace(0, 200, 512)[None] + np.random.default_rng(0).integers(0, 50, (256, 512))
    Image.fromarray(ramp.astype(np.uint8)).save(path, quality=90, progressive=progressive)
    assert read_image(path)[0].shape == (256, 512)
    data = bytearray(path.read_bytes())
    start = len(data) // 2
    data[start : start + 200] = bytes(200)
    path.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match=r"corrupt JPEG file \(Corrupt JPEG data"):
        read_image(path)


def test_jpeg_padding_before_a_marker_is_no_damage(tmp_path: Path) -> None:
    """Exporters pad with zero bytes before the end marker or between header segments: libjpeg warns about
    "extraneous bytes", yet the pixels are intact (review: such files were refused)."""
    path = tmp_path / "padded.jpg"
    ramp = np.linspace(0, 200, 512)[None] + np.random.default_rng(0).integers(0, 50, (256, 512))
    Image.fromarray(ramp.astype(np.uint8)).save(path, quality=90)
    intact = path.read_bytes()
    tables = intact.find(b"\xff\xdb")
    for padded in (intact[:-2] + bytes(16) + intact[-2:], intact[:tables] + bytes(2) + intact[tables:]):
        path.write_bytes(padded)
        np.testing.assert_array_equal(read_image(path)[0], np.asarray(Image.open(io.BytesIO(intact)), np.float32))


def test_tiff_cut_before_its_directory_is_called_truncated(tmp_path: Path) -> None:
    """An LZW TIFF keeps its directory after the pixels: cut short, Pillow cannot identify it at all."""
    path = tmp_path / "cut.tif"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (128, 256), dtype=np.uint8)).save(
        path, compression="tiff_lzw"
    )
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(BadInputError, match="corrupt or truncated TIFF"):
        read_image(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(BadInputError, match="empty"):
        read_image(tmp_path / "empty.png")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")


def test_pixel_limit_is_ours_not_pillows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow refuses images over 2x its MAX_IMAGE_PIXELS (~179 M pixels by default, less than a 20000x10000
    scan); a limit lowered to 1,000 stands in for that here: our own limit decides, and Pillow's comes back."""
    from PIL import Image as PILImage

    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1_000)
    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((10, 2000), dtype=np.uint8)).save(path)
    array, _ = read_image(path)
    assert array.shape == (10, 2000) and PILImage.MAX_IMAGE_PIXELS == 1_000
    for max_pixels in (10_000, 5_000):  # over our limit; more than twice over it, where Pillow stops first
        with pytest.raises(BadInputError, match="pixel limit"):
            read_image(path, max_pixels=max_pixels)


def _png_rgb16(path: Path, value: int) -> None:
    """A 16-bit RGB PNG written chunk by chunk (Pillow cannot write one)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + np.full((4, 3), value, ">u2").tobytes() for _ in range(3))
    header = struct.pack(">IIBBBBB", 4, 3, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))  # fmt: skip


def test_16bit_colour_is_refused_not_truncated(tmp_path: Path) -> None:
    """Pillow would hand back 40000 as 156 in "RGB" mode; the reader says so instead."""
    _png_rgb16(tmp_path / "colour16.png", 40000)
    with pytest.raises(BadInputError, match="16-bit colour PNG"):
        read_image(tmp_path / "colour16.png")
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "colour16.tif", np.full((3, 4, 3), 40000, np.uint16), photometric="rgb")
    with pytest.raises(BadInputError, match="16-bit colour TIFF"):
        read_image(tmp_path / "colour16.tif")


@pytest.mark.parametrize(("dpi", "spacing"), [(72, None), (96, None), (300, 25.4 / 300)])
def test_png_dpi_is_spacing_only_when_not_a_screen_default(tmp_path: Path, dpi: int, spacing) -> None:
    path = tmp_path / "scan.png"
    Image.fromarray(_ramp(np.uint8, 255)).save(path, dpi=(dpi, dpi))
    _, meta = read_image(path)
    if spacing is None:
        assert meta["spacing_mm"] is None
    else:
        assert meta["spacing_mm"] == pytest.approx((spacing, spacing), rel=1e-3)
        assert meta["spacing_source"].startswith("file DPI")


def test_a_multi_page_tiff_says_only_the_first_page_was_read(tmp_path: Path) -> None:
    path = tmp_path / "two.tif"
    first, second = Image.fromarray(_ramp(np.uint8, 255)), Image.fromarray(_ramp(np.uint8, 255)[::-1])
    first.save(path, save_all=True, append_images=[second])
    array, meta = read_image(path)
    assert any("2 pages; only the first" in w for w in meta["warnings"])
    np.testing.assert_array_equal(array, _ramp(np.uint8, 255).astype(np.float32))


def test_exif_mirrored_jpeg_is_read_as_viewers_show_it(tmp_path: Path) -> None:
    """A JPEG stored mirrored with EXIF Orientation 2: read unmirrored, or the patient's sides would swap."""
    shown = np.zeros((64, 96), dtype=np.uint8)
    shown[:, :24] = 250  # bright band on the displayed left
    exif = Image.Exif()
    exif[0x0112] = 2
    path = tmp_path / "mirrored.jpg"
    Image.fromarray(shown[:, ::-1].copy()).save(path, exif=exif, quality=95)
    array, meta = read_image(path)
    assert array[:, :24].mean() > 200 and array[:, -24:].mean() < 50
    assert meta["exif_orientation"] == 2 and "EXIF orientation" in meta["warnings"][0]


def test_exif_rotated_jpeg_swaps_spacing(tmp_path: Path) -> None:
    ramp = _ramp(np.uint8, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    path = tmp_path / "rotated.jpg"
    Image.fromarray(ramp).save(path, exif=exif, quality=100, dpi=(254, 127))
    array, meta = read_image(path)
    assert array.shape == (96, 64) and np.abs(array - np.rot90(ramp, -1)).mean() < 2
    assert meta["spacing_mm"] == pytest.approx((0.1, 0.2))  # (row, col) of the rotated image


def test_exif_mirrored_16bit_tiff_keeps_16_bits(tmp_path: Path) -> None:
    """Pillow's TIFF reader applies the orientation itself: it must not be applied twice."""
    ramp = _ramp(np.uint16, 60000)
    path = tmp_path / "mirrored.tif"
    Image.fromarray(ramp[:, ::-1].copy()).save(path, tiffinfo={274: 2})
    array, meta = read_image(path)
    np.testing.assert_array_equal(array, ramp.astype(np.float32))
    assert meta["bit_depth"] == 16 and meta["exif_orientation"] == 2 and meta["warnings"]


def test_no_exif_no_warning_and_content_id(tmp_path: Path) -> None:
    path = tmp_path / "Doe_Jane.png"
    Image.fromarray(_ramp(np.uint8, 255)).save(path)
    _, meta = read_image(path)
    assert meta["exif_orientation"] == 1 and meta["warnings"] == []
    renamed = tmp_path / "copy.png"
    renamed.write_bytes(path.read_bytes())
    assert read_image(renamed)[1]["sha256_12"] == meta["sha256_12"] == content_id(path)
    assert len(meta["sha256_12"]) == 12 and "Doe" not in meta["sha256_12"]


def test_png_named_dcm_is_read_by_content(tmp_path: Path) -> None:
    path = tmp_path / "pano.dcm"
    Image.fromarray(_ramp(np.uint8, 255)).save(path, format="PNG")
    array, meta = read_image(path)
    assert meta["format"] == "PNG" and array.shape == (64, 96)
    (tmp_path / "notes.dcm").write_text("patient notes")
    with pytest.raises(BadInputError, match="holds no DICOM image"):
        read_image(tmp_path / "notes.dcm")


def test_a_folder_given_as_the_image_says_so(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="is a folder; pass one image file"):
        read_image(tmp_path)
