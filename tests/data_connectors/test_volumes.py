"""Readers and writers of 3D volumes. Fixtures: a seeded synthetic head phantom on an oblique LPS-like grid,
synthetic DICOM series written with pydicom by domains/radiology/phantom.py, and pydicom's own test files
MR_small.dcm / CT_small.dcm (real single 2D images shipped inside pydicom)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from pydicom.data import get_testdata_file

from data_connectors.errors import BadInputError, UnsupportedFileError
from data_connectors.volumes import (
    read_dicom_series,
    read_nifti,
    read_volume,
    write_dicom_seg,
    write_dicom_series,
    write_nifti,
)
from domains.radiology.phantom import FAKE_PATIENT, FAKE_STUDY, head_phantom
from domains.radiology.phantom import write_synthetic_series as write_series

SHAPE, SPACING = (20, 24, 12), (2.0, 2.0, 5.0)


@pytest.fixture
def phantom() -> tuple[np.ndarray, np.ndarray]:
    image, _, affine = head_phantom(SHAPE, SPACING, degrees=15.0)
    return np.round(image), affine


@pytest.fixture
def series_dir(tmp_path: Path, phantom) -> Path:
    image, affine = phantom
    write_series(image, affine, tmp_path / "series")
    return tmp_path / "series"


def _assert_same_geometry(volume, image: np.ndarray, affine: np.ndarray) -> None:
    """Same voxels at the same world positions; DICOM may stack slices in the opposite index direction."""
    voxel_map = np.linalg.inv(affine) @ volume.affine.numpy()
    signs = np.sign(np.diag(voxel_map)[:3])
    np.testing.assert_allclose(voxel_map[:3, :3], np.diag(signs), atol=1e-4)
    np.testing.assert_allclose(
        voxel_map[:3, 3], [(n - 1) * (s < 0) for n, s in zip(image.shape, signs, strict=True)], atol=1e-3
    )
    flipped = image[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in signs)]
    np.testing.assert_array_equal(volume.numpy()[0], flipped)


def _zip(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"export/{file.name}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


# ---------------------------------------------------------------- NIfTI


def test_nifti_round_trip_keeps_affine_and_voxels(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    nib.save(nib.Nifti1Image(image, affine), tmp_path / "in.nii.gz")
    volume = read_nifti(tmp_path / "in.nii.gz")
    assert tuple(volume.shape) == (1, *SHAPE)
    np.testing.assert_allclose(volume.affine.numpy(), affine, atol=1e-5)
    write_nifti(volume, tmp_path / "out.nii")
    again = read_volume(tmp_path / "out.nii")
    np.testing.assert_allclose(again.affine.numpy(), affine, atol=1e-5)
    np.testing.assert_array_equal(again.numpy(), volume.numpy())


@pytest.mark.parametrize(("sform_code", "qform_code", "written"), [(4, 0, (4, 4)), (2, 1, (2, 1)), (0, 0, (0, 0))])
def test_nifti_header_codes_travel_to_the_outputs(
    tmp_path: Path, phantom, sform_code: int, qform_code: int, written: tuple[int, int]
) -> None:
    """MNI stays MNI (ch2's sform code 4), and a header with no orientation stays without one, and says so."""
    image, affine = phantom
    source = nib.Nifti1Image(image, affine)
    source.set_sform(affine, code=sform_code)
    source.set_qform(affine, code=qform_code)
    nib.save(source, tmp_path / "in.nii.gz")
    volume = read_nifti(tmp_path / "in.nii.gz")
    write_nifti(volume, tmp_path / "out.nii.gz", codes=volume.meta["source"]["nifti_codes"])
    out = nib.load(tmp_path / "out.nii.gz")
    assert (int(out.header["sform_code"]), int(out.header["qform_code"])) == written
    np.testing.assert_allclose(out.affine, nib.load(tmp_path / "in.nii.gz").affine, atol=1e-5)
    assert any("sets no orientation" in w for w in volume.meta["warnings"]) == (written == (0, 0))


def test_colour_complex_and_misnamed_nifti_each_get_their_own_message(tmp_path: Path) -> None:
    colour = np.zeros((8, 8, 8), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    nib.save(nib.Nifti1Image(colour, np.eye(4)), tmp_path / "rgb.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8), np.complex64), np.eye(4)), tmp_path / "complex.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((8, 8, 8), np.float32), np.eye(4)), tmp_path / "plain.nii")
    (tmp_path / "misnamed.nii.gz").write_bytes((tmp_path / "plain.nii").read_bytes())
    for name, message in (
        ("rgb.nii.gz", "colour \\(RGB\\) voxels"),
        ("complex.nii.gz", "complex voxels"),
        ("misnamed.nii.gz", "not gzip-compressed; .* rename it to .nii"),
    ):
        with pytest.raises(BadInputError, match=message):
            read_nifti(tmp_path / name)


def test_nifti_4d_uses_first_volume_and_says_so(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    nib.save(nib.Nifti1Image(np.stack([image, image * 0], -1), affine), tmp_path / "dwi.nii.gz")
    volume = read_nifti(tmp_path / "dwi.nii.gz")
    assert tuple(volume.shape) == (1, *SHAPE)
    assert float(volume.max()) > 0
    assert "4D input with 2 volumes" in volume.meta["warnings"][0]


def test_nifti_in_metres_is_read_in_millimetres(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    metres = nib.Nifti1Image(image, np.diag([0.001, 0.001, 0.001, 1.0]) @ affine)
    metres.header.set_xyzt_units("meter", "sec")
    nib.save(metres, tmp_path / "m.nii.gz")
    volume = read_nifti(tmp_path / "m.nii.gz")
    np.testing.assert_allclose(volume.affine.numpy(), affine, atol=1e-5)
    assert "converted to millimetres" in volume.meta["warnings"][0]
    write_nifti(volume, tmp_path / "out.nii.gz")
    written = nib.load(tmp_path / "out.nii.gz")
    assert written.header.get_xyzt_units()[0] == "mm" and int(written.header["qform_code"]) == 1
    np.testing.assert_allclose(written.header.get_qform(), affine, atol=1e-4)


def test_nifti_with_more_than_four_dimensions_says_so(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.ones((10, 10, 10, 1, 3), np.float32), np.eye(4)), tmp_path / "v.nii.gz")
    with pytest.raises(BadInputError, match="5-D data, which is not supported"):
        read_nifti(tmp_path / "v.nii.gz")


def test_nifti_2d_slice_is_rejected(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.ones((16, 16, 1), np.float32), np.eye(4)), tmp_path / "slice.nii.gz")
    with pytest.raises(BadInputError, match="2D image"):
        read_nifti(tmp_path / "slice.nii.gz")


def test_corrupt_nifti_is_one_clear_error(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    nib.save(nib.Nifti1Image(image, affine), tmp_path / "good.nii.gz")
    (tmp_path / "bad.nii.gz").write_bytes((tmp_path / "good.nii.gz").read_bytes()[:300])
    (tmp_path / "junk.nii.gz").write_bytes(gzip.compress(b"not a nifti header at all"))
    for name in ("bad.nii.gz", "junk.nii.gz"):
        with pytest.raises(BadInputError, match="cannot be read as NIfTI"):
            read_volume(tmp_path / name)


def test_non_image_file_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UnsupportedFileError, match="neither NIfTI"):
        read_volume(tmp_path / "notes.txt")
    with pytest.raises(BadInputError, match="does not exist"):
        read_volume(tmp_path / "nope.nii.gz")


# ---------------------------------------------------------------- DICOM


def test_dicom_folder_sorted_by_position_with_ras_affine(series_dir: Path, phantom) -> None:
    image, affine = phantom
    volume = read_volume(series_dir)
    _assert_same_geometry(volume, image, affine)
    source = volume.meta["source"]
    assert source["format"] == "dicom" and source["modality"] == "MR" and source["slices"] == SHAPE[2]
    shown = repr(source) + repr(volume.meta["warnings"])
    assert not any(value in shown for value in FAKE_PATIENT.values())


def test_dicom_zip_is_read_in_memory_and_matches_folder(tmp_path: Path, series_dir: Path) -> None:
    archive = _zip(series_dir, tmp_path / "upload.zip", {"README.txt": b"exported by PACS"})
    before = sorted(p.name for p in tmp_path.iterdir())
    from_zip, from_folder = read_volume(archive), read_volume(series_dir)
    assert torch.equal(from_zip.as_tensor(), from_folder.as_tensor())
    assert "1 file(s) that are not DICOM images were skipped" in from_zip.meta["warnings"][0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted


@pytest.mark.parametrize("evil", ["../evil.dcm", "/etc/evil.dcm", "a/../../evil.dcm", "C:\\evil.dcm"])
def test_zip_with_path_traversal_is_rejected_before_extraction(
    tmp_path: Path, series_dir: Path, evil: str
) -> None:
    archive = _zip(series_dir, tmp_path / "upload.zip", {evil: b"x"})
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    with pytest.raises(BadInputError, match="unsafe name") as raised:
        read_volume(archive)
    assert "evil" not in str(raised.value)  # by number: a member's name may be the patient's
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before


def test_damaged_or_oversized_zip_is_one_sentence(
    tmp_path: Path, series_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member whose bytes no longer match its CRC (stored uncompressed, one byte flipped), then a zip over
    the unpacked-size limit (lowered here): each a BadInputError that names no member (they can be patient
    names)."""
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as handle:
        handle.writestr("Doe_Jane_001.dcm", b"\x00" * 200 + b"SLICE-PAYLOAD")
    data = bytearray(archive.read_bytes())
    data[data.index(b"SLICE-PAYLOAD")] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match=r"File 1 of 1 in the zip cannot be extracted") as error:
        read_volume(archive)
    assert "Doe" not in str(error.value)
    monkeypatch.setattr("data_connectors.volumes.MAX_ZIP_UNPACKED_BYTES", 1_000)
    with pytest.raises(BadInputError, match="limit for one series"):
        read_volume(_zip(series_dir, tmp_path / "big.zip"))


def _two_series(tmp_path: Path, phantom, first: str, second: str) -> Path:
    """One folder holding a 12-slice series described ``first`` and a 6-slice one described ``second``."""
    image, affine = phantom
    write_series(image, affine, tmp_path / "mixed", description=first, series_uid="1.2.3.4.100001")
    write_series(image[:, :, :6], affine, tmp_path / "other", description=second, series_uid="1.2.3.4.200002")
    for path in (tmp_path / "other").iterdir():
        path.rename(tmp_path / "mixed" / f"F_{path.name}")
    return tmp_path / "mixed"


def _listing_error(folder: Path) -> str:
    with pytest.raises(BadInputError) as error:
        read_volume(folder)
    return str(error.value)


def test_several_series_are_listed_and_one_can_be_chosen(tmp_path: Path, phantom) -> None:
    message = _listing_error(_two_series(tmp_path, phantom, "T1 MPRAGE", "FLAIR ax"))
    assert (
        "2 DICOM series" in message
        and "'T1 MPRAGE' (series number 3, 12 slices)" in message
        and "'FLAIR ax' (series number 3, 6 slices)" in message
    )
    assert "--series" in message and "Doe" not in message
    chosen = read_volume(tmp_path / "mixed", series="200002")
    assert chosen.shape[-1] == 6


def test_series_listing_removes_the_patient_name_and_id_from_descriptions(tmp_path: Path, phantom) -> None:
    message = _listing_error(_two_series(tmp_path, phantom, "T1 DOE JANE", "FLAIR PID-778899"))
    assert "'T1 [removed] [removed]' (series number" in message and "'FLAIR [removed]' (series number" in message
    assert not any(word in message.lower() for word in ("doe", "jane", "778899"))


def test_joined_names_birth_dates_and_accession_numbers_leave_descriptions(tmp_path: Path, phantom) -> None:
    message = _listing_error(
        _two_series(tmp_path, phantom, "T1 JDOE 19700102", "T2 DOEJANE 1970-01-02 ACC556677 PID-778899")
    )
    assert "'T1 [removed] [removed]'" in message and "'T2 [removed] [removed] [removed] [removed]'" in message
    assert not any(word in message.lower() for word in ("doe", "jane", "1970", "556677", "778899"))


def test_apostrophe_and_hyphen_names_and_spelt_out_birth_dates_leave_descriptions(
    tmp_path: Path, phantom, monkeypatch
) -> None:
    """Review: "T1 D'ANGELO" and "T2 SMITH JOHNSON" were listed as they were (name parts split only at ^)."""
    import domains.radiology.phantom as phantom_module

    monkeypatch.setitem(phantom_module.FAKE_PATIENT, "PatientName", "D'Angelo^Smith-Johnson")
    message = _listing_error(
        _two_series(tmp_path, phantom, "T1 D'ANGELO SMITHJOHNSON 1970_01_02", "T2 SMITH JOHNSON 02 Jan 1970")
    )
    assert "'T1 [removed] [removed] [removed]'" in message and "'T2 [removed] [removed] 02 Jan [removed]'" in message
    assert not any(word in message.lower() for word in ("angelo", "smith", "johnson", "1970"))


@pytest.mark.parametrize(
    ("name", "birth", "description", "expected"),
    [
        ("GARCÍA^JOSÉ", "19610203", "T1 GARCIA JOSE", "T1 [removed] [removed]"),
        ("MÜLLER^JÖRG", "19610203", "T1 MUELLER", "T1 [removed]"),
        ("MULLER^JORG", "19610203", "T1 MÜLLER", "T1 [removed]"),
        ("WU^YI", "19610203", "T2 WUYI DOB 3/2/61", "T2 [removed] DOB [removed]"),
        ("LI^NA", "19610203", "T1_LINA", "[removed]"),
        ("MCDONALD^RON", "19610203", "T1 MC DONALD", "T1 [removed] [removed]"),
        ("DOE^JANE", "19610203", "03FEB61 T1", "[removed] T1"),
        # technical words stay, even where they hold the birth year's digits
        ("DOE^JANE", "19610203", "Ax 3D FLAIR 1.2x1.2x1.2", "Ax 3D FLAIR 1.2x1.2x1.2"),
        ("DOE^JANE", "20000101", "DTI_b2000_64dir", "DTI_b2000_64dir"),
        ("DOE^JANE", "20000101", "ASL PLD2000", "ASL PLD2000"),
    ],
)
def test_description_identifiers_in_other_spellings(name: str, birth: str, description: str, expected: str) -> None:
    """Second review: accents, names run together across ^ or split in two, two-digit-year birth dates."""
    from pydicom.dataset import Dataset

    from data_connectors.volumes import _safe_description

    dataset = Dataset()
    dataset.PatientName, dataset.PatientBirthDate, dataset.SeriesDescription = name, birth, description
    assert _safe_description(dataset) == expected


def test_ordinary_descriptions_keep_their_technical_words(tmp_path: Path, phantom, monkeypatch) -> None:
    import domains.radiology.phantom as phantom_module

    monkeypatch.setitem(phantom_module.FAKE_PATIENT, "PatientName", "Ron^Ang")
    message = _listing_error(_two_series(tmp_path, phantom, "T1 CORONAL ANGIO", "DWI_b50_b400_b800"))
    assert "'T1 CORONAL ANGIO'" in message and "'DWI_b50_b400_b800'" in message


def test_series_is_chosen_by_full_or_listed_uid_or_last_part_never_by_any_tail(tmp_path: Path, phantom) -> None:
    folder = _two_series(tmp_path, phantom, "T1 MPRAGE", "FLAIR ax")
    assert read_volume(folder, series="1.2.3.4.100001").shape[-1] == 12
    assert read_volume(folder, series="2.3.4.200002").shape[-1] == 6  # as listed
    for tail in ("2", "02", "0002"):  # ends one UID, names none
        with pytest.raises(BadInputError, match="matches 0 of the series"):
            read_volume(folder, series=tail)
    with pytest.raises(BadInputError, match="matches 2 of the series"):  # both carry SeriesNumber 3
        read_volume(folder, series="3")


def test_a_truncated_slice_is_named_and_not_blamed_on_a_codec(tmp_path: Path, series_dir: Path) -> None:
    victim = sorted(series_dir.iterdir())[3]
    victim.write_bytes(victim.read_bytes()[:-200])  # an interrupted copy: header intact, pixels cut short
    with pytest.raises(BadInputError, match=r"pixel data of file #\d+ in the DICOM folder is truncated or corrupt") as error:
        read_volume(series_dir)
    assert "handler" not in str(error.value) and victim.name not in str(error.value)


def test_missing_slice_and_inconsistent_spacing(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    write_series(image, affine, tmp_path / "gap", skip_slices=(5,))
    with pytest.raises(BadInputError, match=r"missing 1 slice\(s\)"):
        read_volume(tmp_path / "gap")
    write_series(image, affine, tmp_path / "uneven")
    moved = pydicom.dcmread(next(iter(sorted((tmp_path / "uneven").iterdir()))))
    moved.ImagePositionPatient = [f"{float(v) + 1.3:.4f}" for v in moved.ImagePositionPatient]
    moved.save_as(next(iter(sorted((tmp_path / "uneven").iterdir()))))
    with pytest.raises(
        BadInputError, match=r"inconsistent slice spacing|several images at the same position"
    ):
        read_volume(tmp_path / "uneven")


def test_dicom_4d_series_uses_its_first_volume_and_says_so(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    series_uid = "1.2.826.0.1.3680043.8.498.1"
    for time_point, scale in ((1, 1.0), (2, 0.5)):
        for path in write_series(image * scale, affine, tmp_path / f"t{time_point}", series_uid=series_uid):
            dataset = pydicom.dcmread(path)
            dataset.TemporalPositionIdentifier = time_point
            dataset.save_as(tmp_path / f"t{time_point}" / path.name)
    both = tmp_path / "both"
    both.mkdir()
    for folder in ("t2", "t1"):
        for path in (tmp_path / folder).iterdir():
            (both / f"{folder}_{path.name}").write_bytes(path.read_bytes())
    volume = read_volume(both)
    _assert_same_geometry(volume, image, affine)
    assert (
        "holds 2 volumes (by TemporalPositionIdentifier): only the first was used"
        in volume.meta["warnings"][0]
    )
    for path in (tmp_path / "t2").iterdir():  # same positions, nothing to tell the volumes apart
        dataset = pydicom.dcmread(path)
        del dataset.TemporalPositionIdentifier
        dataset.save_as(both / f"t2_{path.name}")
    with pytest.raises(BadInputError, match="no TemporalPositionIdentifier/EchoNumbers"):
        read_volume(both)


def test_monochrome1_is_inverted_on_read(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    for path in write_series(image, affine, tmp_path / "m1"):
        dataset = pydicom.dcmread(path)
        dataset.PhotometricInterpretation = "MONOCHROME1"
        dataset.WindowCenter, dataset.WindowWidth = 134, 100
        dataset.save_as(path)
    volume = read_volume(tmp_path / "m1")
    _assert_same_geometry(volume, image.max() + image.min() - image, affine)
    assert "MONOCHROME1" in volume.meta["warnings"][0]
    written = pydicom.dcmread(
        write_dicom_series(volume, volume.meta["dicom_headers"], tmp_path / "out", description="x")[0]
    )
    assert (
        written.PhotometricInterpretation == "MONOCHROME2" and "WindowCenter" not in written
    )  # viewer windows


def test_dicom_messages_never_name_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "Doe_Jane_1970.dcm").write_bytes(Path(get_testdata_file("MR_small.dcm")).read_bytes())
    with pytest.raises(BadInputError, match=r"single 2D image \(file #1\)") as error:
        read_volume(folder)
    assert "Doe" not in str(error.value)


def test_lone_2d_images_and_empty_folder(tmp_path: Path) -> None:
    for name in ("MR_small.dcm", "CT_small.dcm"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_bytes(Path(get_testdata_file(name)).read_bytes())
        with pytest.raises(BadInputError, match="single 2D image"):
            read_volume(folder)
        with pytest.raises(BadInputError, match="single DICOM file"):
            read_volume(folder / name)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="is empty"):
        read_volume(tmp_path / "empty")


def test_ct_modality_is_carried(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    write_series(image * 10 - 1000, affine, tmp_path / "ct", modality="CT")
    volume = read_dicom_series(tmp_path / "ct")
    assert volume.meta["source"]["modality"] == "CT"
    np.testing.assert_allclose(
        volume.numpy()[0].min(), (image * 10 - 1000).min()
    )  # rescale intercept applied


def test_dicom_writer_new_uids_no_identifiers_geometry_kept(tmp_path: Path, series_dir: Path) -> None:
    volume = read_volume(series_dir)
    halved = volume.clone()
    halved.meta["dicom_headers"] = volume.meta["dicom_headers"]
    paths = write_dicom_series(
        halved * 0 + 7, volume.meta["dicom_headers"], tmp_path / "out", description="DRAFT x"
    )
    assert len(paths) == SHAPE[2]
    again = read_volume(tmp_path / "out")
    np.testing.assert_allclose(again.affine.numpy(), volume.affine.numpy(), atol=1e-4)
    assert float(again.min()) == float(again.max()) == 7.0
    written = pydicom.dcmread(paths[0])
    source = volume.meta["dicom_headers"][0]
    assert written.SeriesInstanceUID != source.SeriesInstanceUID
    assert written.StudyInstanceUID != source.StudyInstanceUID
    assert written.SOPInstanceUID not in {h.SOPInstanceUID for h in volume.meta["dicom_headers"]}
    frames = {pydicom.dcmread(p).FrameOfReferenceUID for p in paths}
    assert (
        frames == {written.FrameOfReferenceUID} != {source.FrameOfReferenceUID}
    )  # PS3.15: new, one per series
    assert "ProcedureCodeSequence" not in written and not any(element.tag.is_private for element in written)
    assert str(written.PatientName) == "ANONYMOUS" and written.PatientBirthDate == written.StudyDate == ""
    assert written.SeriesDescription == written.ImageComments == "DRAFT x"
    raw = b"".join(p.read_bytes() for p in paths)
    identifying = [
        *FAKE_PATIENT.values(),
        *FAKE_STUDY.values(),
        "Example Hospital",
        source.StudyInstanceUID,
        source.FrameOfReferenceUID,
    ]
    assert not [value for value in identifying if value.encode() in raw]
    shorter = write_dicom_series(
        volume[..., :3], volume.meta["dicom_headers"][:3], tmp_path / "out", description=""
    )
    assert sorted((tmp_path / "out").glob("*.dcm")) == shorter  # no stale slices of the longer series


def test_dicom_seg_overlays_the_written_series_frame_for_frame(tmp_path: Path, series_dir: Path) -> None:
    import highdicom as hd
    from monai.data import MetaTensor

    volume = read_volume(series_dir)
    paths = write_dicom_series(volume, volume.meta["dicom_headers"], tmp_path / "series_out", description="x")
    mask = MetaTensor((volume > volume.float().mean()).to(torch.uint8), affine=volume.affine)
    seg_path = write_dicom_seg(
        mask, paths, tmp_path / "seg.dcm", label="Brain", algorithm="test engine", version="1.0"
    )
    seg = hd.seg.segread(seg_path)
    series = [pydicom.dcmread(path) for path in paths]
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == series[0].SeriesInstanceUID
    assert seg.FrameOfReferenceUID == series[0].FrameOfReferenceUID
    assert seg.SegmentSequence[0].SegmentLabel == "Brain"
    assert seg.SegmentSequence[0].SegmentAlgorithmName == "test engine"
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[s.SOPInstanceUID for s in series], segment_numbers=[1]
    )[..., 0]
    expected = np.stack([mask.numpy()[0][:, :, z].T for z in range(len(series))])
    np.testing.assert_array_equal(pixels, expected)
    assert not any(value.encode() in seg_path.read_bytes() for value in FAKE_PATIENT.values())
    with pytest.raises(BadInputError, match="2 DICOM files for 12 slices"):
        write_dicom_seg(mask, paths[:2], tmp_path / "bad.dcm", label="Brain", algorithm="x", version="1")


def test_a_series_without_slice_thickness_gets_the_slice_step(tmp_path: Path, series_dir: Path) -> None:
    """SliceThickness is optional in MR; highdicom's SEG needs it and crashed the strip command without it."""
    from monai.data import MetaTensor

    for path in series_dir.glob("*.dcm"):
        dataset = pydicom.dcmread(path)
        del dataset.SliceThickness
        dataset.save_as(path)
    volume = read_volume(series_dir)
    paths = write_dicom_series(volume, volume.meta["dicom_headers"], tmp_path / "out", description="x")
    assert float(pydicom.dcmread(paths[0]).SliceThickness) == pytest.approx(SPACING[2])
    mask = MetaTensor((volume > volume.float().mean()).to(torch.uint8), affine=volume.affine)
    write_dicom_seg(mask, paths, tmp_path / "seg.dcm", label="Brain", algorithm="x", version="1")


def test_files_repeating_one_instance_are_ignored_and_counted(tmp_path: Path, series_dir: Path, phantom) -> None:
    """An export merged twice (same SOP Instance UIDs) once stopped as "several images at the same position"."""
    import shutil

    for path in sorted(series_dir.glob("*.dcm"))[:3]:
        shutil.copy(path, series_dir / f"copy_{path.name}")
    volume = read_volume(series_dir)
    assert volume.shape[-1] == SHAPE[2]
    assert "3 file(s) repeating an image already read" in volume.meta["warnings"][0]


def test_a_zip_holding_a_nifti_file_says_to_upload_the_file_itself(tmp_path: Path, phantom) -> None:
    image, affine = phantom
    nib.save(nib.Nifti1Image(image.astype(np.float32), affine), tmp_path / "head.nii.gz")
    with zipfile.ZipFile(tmp_path / "upload.zip", "w") as archive:
        archive.write(tmp_path / "head.nii.gz", "head.nii.gz")
    with pytest.raises(BadInputError, match=r"holds a NIfTI file, not a DICOM series; pass the \.nii"):
        read_volume(tmp_path / "upload.zip")



# ---------------------------------------------------------------- series as scanners and PACS write them (review)


def test_a_gantry_tilted_series_keeps_its_shear_warns_and_leaves_the_qform_unset(tmp_path: Path, phantom) -> None:
    """The slices step 1 mm sideways per slice: the qform (a rotation) was written as if it held the shear,
    29 mm off at the far corner, with no warning."""
    image, affine = phantom
    tilted = affine.copy()
    tilted[:3, 2] += tilted[:3, 1] / np.linalg.norm(tilted[:3, 1])  # 1 mm along the columns per slice
    write_series(image, tilted, tmp_path / "tilt")
    volume = read_volume(tmp_path / "tilt")
    assert any("gantry tilt" in warning for warning in volume.meta["warnings"])
    np.testing.assert_allclose(np.abs(np.linalg.det(volume.affine.numpy()[:3, :3])), np.prod(SPACING), rtol=1e-4)
    written = nib.load(write_nifti(volume, tmp_path / "mask.nii.gz"))
    assert written.header["qform_code"] == 0 and written.header["sform_code"] > 0
    np.testing.assert_allclose(written.get_sform(), volume.affine.numpy(), atol=1e-4)
    write_series(*phantom, tmp_path / "straight")
    assert not any("gantry tilt" in warning for warning in read_volume(tmp_path / "straight").meta["warnings"])


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("SamplesPerPixel", 3, "holds colour \\(RGB\\) pixels"),
        ("NumberOfFrames", 4, "holds multi-frame \\(enhanced\\) DICOM files"),
    ],
)
def test_colour_and_multi_frame_series_get_their_own_message(
    series_dir: Path, tag: str, value: int, message: str
) -> None:
    """Both were once "differ in size or are not 2D", which sends the user looking for the wrong fault."""
    for path in sorted(series_dir.iterdir())[:2]:
        dataset = pydicom.dcmread(path)
        setattr(dataset, tag, value)
        dataset.save_as(path)
    with pytest.raises(BadInputError, match=message):
        read_volume(series_dir)


def test_dicom_files_without_the_part_10_header_are_read(tmp_path: Path, series_dir: Path, phantom) -> None:
    """Old PACS and CD exports write no preamble, no "DICM" and no file meta: they were "no readable DICOM"."""
    bare = tmp_path / "bare"
    bare.mkdir()
    for path in sorted(series_dir.iterdir()):
        dataset = pydicom.dcmread(path)
        del dataset.file_meta
        dataset.preamble = None
        pydicom.dcmwrite(bare / path.name, dataset, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert (bare / path.name).read_bytes()[128:132] != b"DICM"
    (bare / "README.txt").write_text("not DICOM")
    volume = read_volume(bare)
    _assert_same_geometry(volume, *phantom)


def test_positions_rounded_to_a_tenth_of_a_millimetre_are_no_tilt(tmp_path: Path, phantom) -> None:
    """An oblique series exported with 1-decimal positions lost its qform without a warning (review): rounding
    is no shear; the qform stays, as for any straight series."""
    image, affine = phantom
    write_series(image, affine, tmp_path / "rounded")
    for path in (tmp_path / "rounded").iterdir():
        dataset = pydicom.dcmread(path)
        dataset.ImagePositionPatient = [round(float(v), 1) for v in dataset.ImagePositionPatient]
        dataset.save_as(path)
    volume = read_volume(tmp_path / "rounded")
    assert not any("gantry tilt" in warning for warning in volume.meta["warnings"])
    assert nib.load(write_nifti(volume, tmp_path / "out.nii.gz")).header["qform_code"] == 1
