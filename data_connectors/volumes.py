"""3D medical volumes in and out: NIfTI files and DICOM series (folder or zip) <-> MONAI ``MetaTensor``.

Readers return a channel-first ``MetaTensor`` of shape ``(1, X, Y, Z)`` whose ``.affine`` maps voxel indices to
RAS millimetres (the convention MONAI and NIfTI share), so every later step can resample and write back onto
exactly the input grid. ``meta["source"]`` describes where the pixels came from without any patient identifier
(no name, ID or birth date is read into it, so nothing downstream can log one); ``meta["warnings"]`` lists what
the user should know (skipped files, 4D input reduced to its first volume).

DICOM slices are ordered by ``ImagePositionPatient`` projected on the slice normal, never by file name. Zip
uploads are read member by member in memory: nothing is extracted to disk, and a member name that would escape
a folder (``../``, absolute path, drive letter) rejects the whole upload.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from data_connectors.errors import BadInputError, UnsupportedFileError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
# Zips are read in memory; a series of 2,000 512x512 16-bit slices is 1 GiB.
MAX_ZIP_UNPACKED_BYTES = 8 * 2**30
# What reading one zip member raises when it is damaged, encrypted or compressed with an unsupported method.
ZIP_MEMBER_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError, OSError)
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
# NIfTI spatial units (header xyzt_units) in millimetres; "unknown" is read as mm, as every viewer does.
NIFTI_UNIT_TO_MM = {"meter": 1000.0, "mm": 1.0, "micron": 0.001}
# The only source tags copied into a DICOM we write (an allow-list, so nothing identifying can slip through in a
# nested sequence, a private tag or a tag nobody listed): image pixel description, plane geometry, equipment
# make and model, and MR/CT acquisition parameters. Following the PS3.15 basic de-identification profile
# everything else is dropped, the type 2 patient/study tags are written empty, and every UID is new.
KEPT_SOURCE_TAGS = (
    "SpecificCharacterSet",
    "SOPClassUID",
    "Modality",
    "Manufacturer",
    "ManufacturerModelName",
    "BodyPartExamined",
    "PatientPosition",
    "SeriesNumber",
    "AcquisitionNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "SliceLocation",
    "PositionReferenceIndicator",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
    "WindowCenter",
    "WindowWidth",
    "ScanningSequence",
    "SequenceVariant",
    "ScanOptions",
    "MRAcquisitionType",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "EchoTrainLength",
    "FlipAngle",
    "NumberOfAverages",
    "ImagingFrequency",
    "ImagedNucleus",
    "MagneticFieldStrength",
    "AcquisitionMatrix",
    "InPlanePhaseEncodingDirection",
    "PercentSampling",
    "PercentPhaseFieldOfView",
    "PixelBandwidth",
    "KVP",
    "ConvolutionKernel",
)
# Type 2 tags (DICOM requires them present): written empty, the profile's "Z" action.
EMPTIED_TAGS = (
    "PatientBirthDate",
    "PatientSex",
    "ReferringPhysicianName",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "StudyTime",
)
# When one position holds several images (a 4D, multi-echo or repeated series), the first tag of these that
# differs between them tells the volumes apart; the first volume is read.
# Slices stacked further than this from their plane's normal: a sheared volume (warned about, qform unset).
# Below it, positions rounded in the export (0.1 mm) are no shear: the qform's nearest rotation is < 0.7 mm off
# across 200 mm.
TILT_WARNING_DEGREES = 0.2
VOLUME_KEYS = ("TemporalPositionIdentifier", "EchoNumbers", "AcquisitionNumber", "TriggerTime")


# ---------------------------------------------------------------- helpers


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def _input_label(path: Path) -> str:
    """How messages name an upload: its kind, never its file name (PACS exports are often named after the
    patient, e.g. "Doe_Janet_PID987654.zip")."""
    if path.is_dir():
        return "the DICOM folder"
    if _is_nifti(path):
        return "the NIfTI file"
    return "the zip" if zipfile.is_zipfile(path) else "the input file"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short_uid(uid: str) -> str:
    """The last 12 characters: enough to tell series apart in a list and to pass back with ``--series``."""
    return uid[-12:]


def _check_zip_names(names: list[str]) -> None:
    """Refuse absolute and '..' member names, by number: a member's name may be the patient's."""
    for number, name in enumerate(names, start=1):
        posix, windows = PurePosixPath(name), PureWindowsPath(name)
        if (
            posix.is_absolute()
            or windows.drive
            or windows.root
            or ".." in posix.parts
            or ".." in windows.parts
        ):
            raise BadInputError(
                f"The zip's member #{number} has an unsafe name (an absolute path or '..'); "
                "nothing was extracted: re-create the archive with relative paths only."
            )


def _dicom_payloads(path: Path) -> Iterator[tuple[str, Any]]:
    """(display name, file path or in-memory bytes) of every candidate file in a folder or a zip."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield str(file.relative_to(path)), file
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BadInputError(
            "The zip is damaged (its list of files cannot be read); re-create it from the DICOM series."
        ) from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        _check_zip_names([info.filename for info in members])
        unpacked = sum(info.file_size for info in members)
        if unpacked > MAX_ZIP_UNPACKED_BYTES:
            raise BadInputError(
                f"The zip unpacks to {unpacked / 2**30:.1f} GiB, above the "
                f"{MAX_ZIP_UNPACKED_BYTES / 2**30:.0f} GiB limit for one series; upload the series alone."
            )
        for number, info in enumerate(members, start=1):
            try:
                data = archive.read(info)
            except ZIP_MEMBER_ERRORS as error:
                # The member's name is left out: PACS exports often name files after the patient.
                raise BadInputError(
                    f"File {number} of {len(members)} in the zip cannot be extracted "
                    f"({type(error).__name__}: damaged, encrypted or an unsupported compression method); "
                    "re-create the zip."
                ) from None
            yield info.filename, io.BytesIO(data)


@dataclass
class _Slice:
    dataset: Any  # pydicom Dataset, pixel data kept until stacking
    name: str  # "file #N": messages never name the file, as PACS exports often name files after the patient


def _without_copies(slices: list[_Slice]) -> tuple[list[_Slice], int]:
    """The slices less repeated copies of one instance (same SOPInstanceUID: an export merged twice)."""
    seen: set[str] = set()
    kept = []
    for item in slices:
        uid = str(item.dataset.get("SOPInstanceUID", "")) or None
        if uid is not None and uid in seen:
            continue
        if uid is not None:
            seen.add(uid)
        kept.append(item)
    return kept, len(slices) - len(kept)


def _read_dicom_slices(path: Path) -> tuple[list[_Slice], list[str]]:
    """Every image slice that pydicom can read; unreadable files are skipped and reported."""
    from pydicom.errors import InvalidDicomError

    slices, skipped = [], []
    for number, (name, payload) in enumerate(_dicom_payloads(path), start=1):
        if PurePosixPath(name).name.upper() == "DICOMDIR":
            continue
        try:
            dataset = _dcmread(payload)
        except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
            skipped.append(name)
            continue
        if "PixelData" not in dataset:
            skipped.append(name)
            continue
        slices.append(_Slice(dataset, f"file #{number}"))
    return slices, skipped


def _dcmread(payload: Any) -> Any:
    """A DICOM file, also one written without the Part-10 header (no preamble, no "DICM", no file meta: old PACS
    and CD exports): read raw, it gets the transfer syntax pydicom detected, so its pixels decode."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    try:
        return pydicom.dcmread(payload)
    except InvalidDicomError:
        if hasattr(payload, "seek"):
            payload.seek(0)
        with warnings.catch_warnings():  # a non-DICOM file read raw warns about its "VR"; it is skipped anyway
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(payload, force=True)
    if "PixelData" in dataset and "TransferSyntaxUID" not in getattr(dataset, "file_meta", {}):
        dataset.file_meta = getattr(dataset, "file_meta", None) or FileMetaDataset()
        if dataset.is_implicit_VR:
            dataset.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        else:
            dataset.file_meta.TransferSyntaxUID = (
                ExplicitVRLittleEndian if dataset.is_little_endian else ExplicitVRBigEndian
            )
    return dataset


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_DIMENSIONS = re.compile(r"^\d+(?:\.\d+)?(?:x\d+(?:\.\d+)?)+(?:mm)?$")  # "1.2x1.2x1.2": a voxel size


def _plain(text: str) -> str:
    """Lower case without accents ("García" -> "garcia", "Müller" -> "muller")."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _identifier_parts(dataset: Any) -> set[str]:
    """Pieces of the name, ID and accession number (2+ characters), accent-free and also spelt ü -> ue, each
    component's pieces joined ("D'ANGELO": "angelo", "dangelo") and the name's components joined in both
    orders ("WU^YI": "wuyi", "yiwu")."""
    parts: set[str] = set()
    for tag in ("PatientName", "PatientID", "AccessionNumber"):
        text = str(dataset.get(tag, ""))
        for spelling in {_plain(text), _plain(text.lower().translate(_UMLAUTS))}:
            components = [c for c in re.split(r"[\^\s,=]+", spelling) if c]
            joined = ["".join(re.split(r"[\W_]+", c)) for c in components]
            parts |= {p for c in components for p in re.split(r"[\W_]+", c)} | set(joined)
            if tag == "PatientName" and len(joined) >= 2:
                parts |= {joined[0] + joined[1], joined[1] + joined[0]}
    return {part for part in parts if len(part) >= 2}


def _holds_birth_date(word: str, birth: str) -> bool:
    """The word writes the birth date (YYYYMMDD) as digits with any separators, with a 4- or 2-digit year and
    day and month either way round or a month name ("1961_02_03", "3/2/61", "03FEB61"), or is its year."""
    if len(birth) != 8 or not birth.isdigit():
        return False
    year, month, day = birth[:4], int(birth[4:6]), int(birth[6:8])
    numbers = re.findall(r"\d+", word)
    if birth in "".join(numbers) or year in re.split(r"[\W_]+", word):  # the year alone, not "PLD2000"
        return True
    month_names = [_MONTHS.index(m[:3]) + 1 for m in re.findall(r"[a-z]{3,}", word) if m[:3] in _MONTHS]
    values = [int(n) for n in numbers]
    years = {int(year), int(year[2:])}
    if len(values) == 3:
        first, second, last = values
        return (last in years and {first, second} == {day, month}) or (first in years and [second, last] == [month, day])
    return len(values) == 2 and month_names == [month] and values[0] == day and values[1] in years


def _safe_description(dataset: Any) -> str:
    """The SeriesDescription without the patient's identifiers: PACS exports sometimes name a series after the
    patient ("T1 DOE JANE", "T2 DOEJANET 1961-02-03 ACC556677"), and this text reaches messages. Removed, as
    ``[removed]``: any word holding a part of the name, the ID or the accession number (accents ignored; short
    parts only as nearly the whole piece between punctuation, so "Ron" spares "CORONAL"), two words that
    together spell one ("MC DONALD"), any word with six or more digits between underscores (dates such as
    "1970-01-02", numbers; "DWI_b50_b400_b800" and a voxel size "1.2x1.2x1.2" stay), and any word writing the
    birth date ("3/2/61", "03FEB61") or its year."""
    description = str(dataset.get("SeriesDescription", "")).strip()
    parts = _identifier_parts(dataset)
    birth = re.sub(r"\D", "", str(dataset.get("PatientBirthDate", "")))

    def names_part(piece: str) -> bool:
        # 4+ characters anywhere ("DOEJANET"); 3 with at most one letter beside ("JDOE", not "CORONAL" or
        # "ANGIO" for a patient called Ron Ang); 2 only alone
        return any(
            part == piece
            or (len(part) >= 4 and part in piece)
            or (len(part) == 3 and part in piece and len(piece) <= 4)
            for part in parts
        )

    words = re.split(r"(\s+)", description)
    plain = [_plain(word) for word in words]
    pieces = [[piece for piece in re.split(r"[\W_]+", word) if piece] for word in plain]
    removed = set()
    for index, word in enumerate(plain):
        if not word.strip():
            continue
        digit_runs = [
            re.sub(r"\D", "", chunk) for chunk in re.split(r"[_\s]+", word) if not _DIMENSIONS.match(chunk)
        ]  # "1970-01-02" is one
        if (
            any(names_part(piece) for piece in pieces[index])
            or any(len(d) >= 6 for d in digit_runs)
            or _holds_birth_date(word, birth)
        ):
            removed.add(index)
        following = index + 2  # the next word (index + 1 is the space between)
        if following < len(plain) and "".join(pieces[index][-1:] + pieces[following][:1]) in parts:
            removed |= {index, following}
    return "".join("[removed]" if i in removed else w for i, w in enumerate(words)).strip() or "(no description)"


def _series_listing(groups: dict[str, list[_Slice]]) -> str:
    def number(members: list[_Slice]) -> str:
        value = str(members[0].dataset.get("SeriesNumber", "")).strip()
        return f"series number {value}, " if value else ""

    return "; ".join(
        f"{_short_uid(uid)} '{_safe_description(members[0].dataset)}' ({number(members)}{len(members)} slices)"
        for uid, members in groups.items()
    )


def _pick_series(slices: list[_Slice], series: str | None, source: str) -> list[_Slice]:
    groups: dict[str, list[_Slice]] = defaultdict(list)
    for item in slices:
        groups[str(item.dataset.get("SeriesInstanceUID", "unknown"))].append(item)
    if series is not None:
        # the full UID, the listed short form, its last dotted part, or a SeriesNumber as PACS shows it (any
        # other tail is no identifier: "--series 4" must not pick whichever UID happens to end in 4)
        chosen = [
            uid
            for uid, members in groups.items()
            if series in (uid, _short_uid(uid))
            or uid.endswith(f".{series}")
            or series == str(members[0].dataset.get("SeriesNumber", "")).strip()
        ]
        if len(chosen) != 1:
            raise BadInputError(
                f"--series {series!r} matches {len(chosen)} of the series in {source}: {_series_listing(groups)}; "
                "pass one of the listed identifiers."
            )
        return groups[chosen[0]]
    if len(groups) > 1:
        raise BadInputError(
            f"{_capital(source)} holds {len(groups)} DICOM series: {_series_listing(groups)}; "
            "choose one by its identifier (--series on the command line, the DICOM series box in the app)."
        )
    return next(iter(groups.values()))


def _slice_geometry(dataset: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row direction, column direction, position (LPS mm) and (row, column) pixel spacing of one slice."""
    try:
        orientation = np.asarray([float(v) for v in dataset.ImageOrientationPatient], dtype=float)
        position = np.asarray([float(v) for v in dataset.ImagePositionPatient], dtype=float)
        spacing = np.asarray([float(v) for v in dataset.PixelSpacing], dtype=float)
    except (AttributeError, TypeError, ValueError):
        raise BadInputError(
            f"DICOM {name} lacks ImageOrientationPatient/ImagePositionPatient/PixelSpacing, so its "
            "geometry is unknown; export the series from PACS as standard MR/CT images."
        ) from None
    return orientation[:3], orientation[3:], position, spacing


def _first_volume(members: list[_Slice], distances: np.ndarray, source: str) -> tuple[list[int], str]:
    """Indices (sorted by position) of the first volume of a series holding several images per position."""
    for key in VOLUME_KEYS:
        values = [item.dataset.get(key) for item in members]
        if any(value is None for value in values) or len({str(v) for v in values}) < 2:
            continue
        first = min(values, key=float)
        chosen = [i for i, value in enumerate(values) if float(value) == float(first)]
        if len(chosen) > 1 and np.all(np.diff(distances[chosen]) >= 1e-3):
            volumes = len({str(v) for v in values})
            return chosen, f"the series holds {volumes} volumes (by {key}): only the first was used."
    raise BadInputError(
        f"The series in {source} has several images at the same position and no {'/'.join(VOLUME_KEYS)} tag "
        "that tells its volumes apart (duplicates?); export a single 3D volume."
    )


def _decode_pixels(item: _Slice, source: str) -> np.ndarray:
    """One slice's pixels; a truncated file and a missing codec get different advice."""
    try:
        return np.asarray(item.dataset.pixel_array, dtype=np.float32)
    except Exception as error:  # pydicom raises many types for undecodable pixel data
        syntax = getattr(getattr(item.dataset, "file_meta", None), "TransferSyntaxUID", None)
        if syntax is not None and syntax.is_compressed:
            raise BadInputError(
                f"The compressed pixel data of {item.name} in {source} cannot be decoded ({syntax.name}, "
                f"{type(error).__name__}); export the series uncompressed or install the matching pydicom "
                "pixel-data handler."
            ) from None
        raise BadInputError(
            f"The pixel data of {item.name} in {source} is truncated or corrupt ({type(error).__name__}); "
            "re-export the series."
        ) from None


def _stack_series(members: list[_Slice], source: str) -> tuple[np.ndarray, np.ndarray, list[Any], list[str]]:
    """Sorted pixel volume (X=column, Y=row, Z=slice), its RAS affine, the sorted headers and warnings."""
    if any(int(item.dataset.get("NumberOfFrames", 1) or 1) > 1 for item in members):
        which = "one multi-frame (enhanced) DICOM file" if len(members) == 1 else "multi-frame (enhanced) DICOM files"
        raise BadInputError(
            f"{_capital(source)} holds {which}, which is not supported; export classic single-frame images from "
            "PACS or convert the series to NIfTI (dcm2niix)."
        )
    if any(int(item.dataset.get("SamplesPerPixel", 1) or 1) > 1 for item in members):
        raise BadInputError(
            f"The series in {source} holds colour (RGB) pixels (a screenshot or secondary capture?); skull "
            "stripping needs a grey-scale MR series, so export the original images."
        )
    if len(members) == 1:
        raise BadInputError(
            f"{_capital(source)} holds a single 2D image ({members[0].name}); skull stripping needs a 3D series of slices."
        )
    row_dir, col_dir, _, spacing = _slice_geometry(members[0].dataset, members[0].name)
    normal = np.cross(row_dir, col_dir)
    positions = []
    for item in members:
        row_i, col_i, position, spacing_i = _slice_geometry(item.dataset, item.name)
        if not (np.allclose(row_i, row_dir, atol=1e-4) and np.allclose(col_i, col_dir, atol=1e-4)):
            raise BadInputError(
                f"Slices of the series in {source} have different orientations; it is not one volume."
            )
        if not np.allclose(spacing_i, spacing, atol=1e-4):
            raise BadInputError(
                f"Slices of the series in {source} have different pixel spacings; it is not one volume."
            )
        positions.append(position)
    distances = np.asarray([float(p @ normal) for p in positions])
    order = np.argsort(distances, kind="stable")
    members, distances = [members[i] for i in order], distances[order]
    positions = [positions[i] for i in order]
    warnings = []
    if np.any(np.diff(distances) < 1e-3):
        chosen, warning = _first_volume(members, distances, source)
        members, distances = [members[i] for i in chosen], distances[chosen]
        positions = [positions[i] for i in chosen]
        warnings.append(warning)
    steps = np.diff(distances)
    typical = float(np.median(steps))
    if np.any(np.abs(steps - typical) > 0.1 * typical):
        gaps = np.round(steps / typical).astype(int)
        if np.all(np.abs(steps - gaps * typical) <= 0.1 * typical) and gaps.max() > 1:
            missing = int((gaps - 1).sum())
            raise BadInputError(
                f"The series in {source} is missing {missing} slice(s) (gap of {steps.max():.2f} mm where slices "
                f"are {typical:.2f} mm apart); re-export the complete series."
            )
        raise BadInputError(
            f"The series in {source} has inconsistent slice spacing ({steps.min():.2f} to {steps.max():.2f} mm); "
            "re-export it as one evenly spaced volume."
        )
    planes = [_decode_pixels(item, source) for item in members]
    if len({plane.shape for plane in planes}) != 1 or planes[0].ndim != 2:
        raise BadInputError(
            f"Slices of the series in {source} differ in size or are not 2D; it is not one volume."
        )
    for item, plane in zip(members, planes, strict=True):
        slope = float(item.dataset.get("RescaleSlope", 1) or 1)
        intercept = float(item.dataset.get("RescaleIntercept", 0) or 0)
        plane *= slope
        plane += intercept
    volume = np.stack([plane.T for plane in planes], axis=-1)  # (columns, rows, slices)
    if str(members[0].dataset.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        # MONOCHROME1 shows high values dark; invert so tissue contrast reads as in every other MRI.
        volume = float(volume.max()) + float(volume.min()) - volume
        warnings.append("MONOCHROME1 pixel data (high values shown dark) was inverted to MONOCHROME2.")
    step = (positions[-1] - positions[0]) / (len(positions) - 1)
    tilt = float(np.degrees(np.arccos(min(1.0, abs(float(step @ normal)) / float(np.linalg.norm(step))))))
    if tilt > TILT_WARNING_DEGREES:
        warnings.append(
            f"The slices are stacked at {tilt:.1f} degrees to their own plane (gantry tilt): the outputs keep "
            "this sheared geometry in the NIfTI sform and leave the qform unset (it cannot hold a shear), so "
            "a viewer that reads only the qform misplaces them; resample the series first (dcm2niix) if yours "
            "does."
        )
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = row_dir * spacing[1]  # along a row = increasing column index
    affine_lps[:3, 1] = col_dir * spacing[0]
    affine_lps[:3, 2] = step
    affine_lps[:3, 3] = positions[0]
    headers = []
    for item in members:
        header = item.dataset
        del header.PixelData
        headers.append(header)
    return volume, LPS_TO_RAS @ affine_lps, headers, warnings


def _meta_tensor(volume: np.ndarray, affine: np.ndarray, source: dict[str, Any], warnings: list[str]):
    from monai.data import MetaTensor

    return MetaTensor(
        np.ascontiguousarray(volume[None], dtype=np.float32),
        affine=np.asarray(affine, dtype=np.float64),
        meta={"source": source, "warnings": warnings, "space": "RAS"},
    )


# PUBLIC API


def read_nifti(path: str | Path):
    """A NIfTI file as a ``(1, X, Y, Z)`` MetaTensor with the file's affine; 4D input keeps its first volume.

    Raises:
        BadInputError: the file cannot be parsed, is 2D, or is not a NIfTI file.
    """
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path} does not exist; pass a .nii/.nii.gz file or a DICOM folder/zip.")
    with path.open("rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if path.name.lower().endswith(".gz") and not gzipped:
        raise BadInputError(
            "The input is named .gz but is not gzip-compressed; if it is a plain NIfTI file, rename it to .nii."
        )
    try:
        image = nib.load(str(path))
        stored = image.get_data_dtype()
        if stored.fields or stored.kind == "c":
            kind = "colour (RGB)" if stored.fields else "complex"
            raise BadInputError(
                f"The NIfTI file holds {kind} voxels; skull stripping needs a grey-scale (magnitude) volume, "
                "so export the magnitude image."
            )
        data = np.asarray(image.dataobj, dtype=np.float32)
    except BadInputError:
        raise
    except Exception as error:  # nibabel raises ImageFileError, EOFError, zlib/gzip errors, ValueError...
        raise BadInputError(
            f"The input file cannot be read as NIfTI ({type(error).__name__}); it is corrupt or truncated, "
            "re-export it."
        ) from None
    warnings: list[str] = []
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 4:
        warnings.append(f"4D input with {data.shape[3]} volumes: only the first volume was used.")
        data = data[..., 0]
    if data.ndim > 4:
        raise BadInputError(
            f"The NIfTI file has shape {tuple(image.shape)}, {data.ndim}-D data, which is not supported; pass a "
            "3D volume (or a 4D series, whose first volume is used)."
        )
    if data.ndim != 3 or min(data.shape) < 2:
        raise BadInputError(
            f"The NIfTI file has shape {tuple(image.shape)}, a 2D image; skull stripping needs a 3D volume."
        )
    affine = np.asarray(image.affine, dtype=np.float64)
    unit = image.header.get_xyzt_units()[0] if hasattr(image.header, "get_xyzt_units") else "unknown"
    if unit in NIFTI_UNIT_TO_MM and unit != "mm":
        affine = np.diag([NIFTI_UNIT_TO_MM[unit]] * 3 + [1.0]) @ affine
        warnings.append(f"the header gives positions in {unit}s; they were converted to millimetres.")
    if not np.isfinite(data).all():
        warnings.append("non-finite voxel values were set to 0.")
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    header = image.header
    codes = (int(header["sform_code"]), int(header["qform_code"])) if "sform_code" in header else None
    if codes == (0, 0):
        warnings.append(
            "the NIfTI header sets no orientation (sform and qform codes are 0): left and right are not known "
            "from the file, so check the sides before relying on them."
        )
    source = {
        "format": "nifti",
        "name": path.name,
        "modality": None,
        "series_description": None,
        "nifti_codes": codes,
    }
    return _meta_tensor(data, affine, source, warnings)


def read_dicom_series(path: str | Path, *, series: str | None = None):
    """One DICOM series from a folder or zip as a ``(1, X, Y, Z)`` MetaTensor in RAS, slices sorted by position.

    ``meta["dicom_headers"]`` holds the sorted slice headers (pixel data removed) for ``write_dicom_series``.

    Raises:
        BadInputError: no DICOM image, several series and no ``series`` chosen, a lone 2D image, missing
            slices, inconsistent spacing, several images per position, or unsafe zip member names.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path} does not exist; pass a DICOM folder or zip.")
    slices, skipped = _read_dicom_slices(path)
    label = _input_label(path)
    if not slices:
        if any(_is_nifti(Path(name)) for name in skipped):
            raise BadInputError(
                f"{_capital(label)} holds a NIfTI file, not a DICOM series; pass the .nii/.nii.gz file itself."
            )
        what = "is empty" if not skipped else f"has no readable DICOM image ({len(skipped)} other file(s))"
        raise BadInputError(f"{_capital(label)} {what}; pass a folder or zip holding one DICOM series.")
    slices, copies = _without_copies(slices)
    members = _pick_series(slices, series, label)
    volume, affine, headers, warnings = _stack_series(members, label)
    first = headers[0]
    if copies:
        warnings.insert(0, f"{copies} file(s) repeating an image already read (same SOP Instance UID) were ignored.")
    if skipped:
        warnings.insert(0, f"{len(skipped)} file(s) that are not DICOM images were skipped.")
    source = {
        "format": "dicom",
        "name": path.name,
        "modality": str(first.get("Modality", "")) or None,
        "series_description": str(first.get("SeriesDescription", "")) or None,
        "series": _short_uid(str(first.get("SeriesInstanceUID", ""))),
        "slices": len(headers),
    }
    image = _meta_tensor(volume, affine, source, warnings)
    image.meta["dicom_headers"] = headers
    return image


def read_volume(path: str | Path, *, series: str | None = None):
    """Dispatch on the input: ``.nii``/``.nii.gz`` file, or a DICOM folder/zip.

    Raises:
        BadInputError: the path is missing, of an unsupported type, or unreadable (see the readers).
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path} does not exist; pass a .nii/.nii.gz file or a DICOM folder/zip.")
    if path.is_file() and _is_nifti(path):
        return read_nifti(path)
    if path.is_dir() or zipfile.is_zipfile(path):
        return read_dicom_series(path, series=series)
    if path.is_file():
        import pydicom
        from pydicom.errors import InvalidDicomError

        try:
            pydicom.dcmread(path, stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError, EOFError):
            raise UnsupportedFileError(
                "The input file is neither NIfTI (.nii, .nii.gz) nor DICOM; pass a NIfTI file or a DICOM "
                "folder/zip."
            ) from None
        raise BadInputError(
            "The input is a single DICOM file; pass the folder or a zip holding the whole series."
        )
    raise UnsupportedFileError(f"{path} is not a file or folder.")


def is_sheared(affine: np.ndarray) -> bool:
    """The affine's voxel axes are off right angles by more than ``TILT_WARNING_DEGREES`` (a gantry-tilted series):
    the same bound as the tilt warning, so the qform is never unset without one."""
    axes = np.asarray(affine, dtype=float)[:3, :3]
    axes = axes / np.linalg.norm(axes, axis=0)
    return bool(np.abs(axes.T @ axes - np.eye(3)).max() > np.sin(np.radians(TILT_WARNING_DEGREES)))


def write_nifti(
    image,
    path: str | Path,
    *,
    dtype: Any = np.float32,
    description: str = "",
    codes: tuple[int, int] | None = None,
) -> Path:
    """Write a ``(1, X, Y, Z)`` MetaTensor as NIfTI in millimetres with exactly its affine as the sform (and as
    the qform, for tools that read only that, unless the affine is sheared: a qform cannot hold a shear, so it
    is left unset rather than wrong); ``description`` (at most 80
    characters) goes in the header's ``descrip``, which viewers show.

    ``codes`` are the input NIfTI's (sform_code, qform_code), so an output overlays its input in every viewer
    and keeps its space: MNI stays MNI (4), and a header with no orientation (0, 0) stays without one. A
    qform code of 0 beside a set sform takes the sform's. Without ``codes`` (DICOM input): aligned sform and
    scanner qform."""
    import nibabel as nib

    array = np.asarray(image.detach().cpu().numpy()[0], dtype=dtype)
    affine = np.asarray(image.affine, dtype=np.float64)
    nifti = nib.Nifti1Image(array, affine)
    if codes is None:
        nifti.set_qform(affine, code="scanner")
    else:
        sform_code, qform_code = codes
        nifti.set_sform(affine, code=sform_code)
        nifti.set_qform(affine, code=qform_code or sform_code)
    if is_sheared(affine):  # a qform would be a rotation near the affine, not it: unset rather than wrong
        nifti.set_qform(None, code=0)
    nifti.header.set_xyzt_units("mm", "sec")
    nifti.header["descrip"] = description[:80].encode()
    path = Path(path)
    nib.save(nifti, str(path))
    return path


def _deidentified_header(source: Any) -> Any:
    """A new dataset holding only ``KEPT_SOURCE_TAGS`` of ``source`` plus the empty type 2 patient/study tags."""
    from pydicom.dataset import Dataset

    dataset = Dataset()
    inverted = str(source.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1"
    for keyword in KEPT_SOURCE_TAGS:
        if inverted and keyword in ("WindowCenter", "WindowWidth"):
            continue  # the reader inverted these pixels: the source's window would point at the wrong values
        if keyword in source:
            setattr(dataset, keyword, copy.deepcopy(source.data_element(keyword).value))
    for keyword in EMPTIED_TAGS:
        setattr(dataset, keyword, "")
    dataset.PatientName = "ANONYMOUS"
    dataset.PatientID = "ANONYMOUS"
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = "PS3.15 basic profile: allow-listed image tags only, all UIDs new"
    return dataset


def write_dicom_series(image, headers: list[Any], out_dir: str | Path, *, description: str) -> list[Path]:
    """Write ``image`` as a new, de-identified DICOM series: same geometry, new UIDs, no identifiers.

    ``headers`` are the sorted source headers from ``read_dicom_series`` (one per slice along Z). Only the tags
    in ``KEPT_SOURCE_TAGS`` are copied (geometry, pixel description, equipment, acquisition parameters), so no
    identifier survives in a nested sequence or private tag; the patient is pseudonymised as ``ANONYMOUS``, the
    required patient/study tags are written empty, and Study, Series, SOP Instance and Frame of Reference UIDs
    are new (one frame of reference for the whole series, so it still overlays as one volume).
    ``description`` (at most 64 characters) becomes the SeriesDescription and ImageComments. Stale
    ``slice_*.dcm`` files in ``out_dir`` (an earlier, longer series) are removed first, so the folder holds
    exactly this series.

    Raises:
        BadInputError: the number of headers does not match the image's slices.
    """
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    array = image.detach().cpu().numpy()[0]
    if len(headers) != array.shape[2]:
        raise BadInputError(
            f"write_dicom_series got {len(headers)} headers for {array.shape[2]} slices; pass the headers read "
            "with this image."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("slice_*.dcm"):
        stale.unlink()
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    slice_step = float(np.linalg.norm(np.asarray(image.affine)[:3, 2]))
    written = []
    for index, source in enumerate(headers):
        dataset = _deidentified_header(source)
        if not dataset.get("SliceThickness"):  # optional in MR, but DICOM SEG (and many viewers) need it
            dataset.SliceThickness = f"{slice_step:.6g}"
        slope = float(dataset.get("RescaleSlope", 1) or 1)
        intercept = float(dataset.get("RescaleIntercept", 0) or 0)
        signed = int(dataset.get("PixelRepresentation", 0)) == 1
        dtype = np.int16 if signed else np.uint16
        info = np.iinfo(dtype)
        stored = np.clip(np.round((array[:, :, index].T - intercept) / slope), info.min, info.max).astype(
            dtype
        )
        dataset.PixelRepresentation = int(signed)
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
        dataset.SamplesPerPixel = 1
        dataset.PhotometricInterpretation = "MONOCHROME2"
        dataset.Rows, dataset.Columns = stored.shape
        dataset.add_new(0x7FE00010, "OW", stored.tobytes())  # PixelData, 16-bit words
        dataset.SOPClassUID = dataset.get("SOPClassUID", MRImageStorage)
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study_uid, series_uid
        dataset.FrameOfReferenceUID = frame_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.SeriesNumber = int(dataset.get("SeriesNumber", 0) or 0) + 1000
        dataset.SeriesDescription = dataset.ImageComments = description[:64]
        dataset.ImageType = ["DERIVED", "SECONDARY"]
        dataset.InstanceNumber = index + 1
        dataset.file_meta = FileMetaDataset()
        dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = out_dir / f"slice_{index + 1:04d}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        written.append(path)
    return written


def write_dicom_seg(
    mask, series_paths: list[Path], out_path: str | Path, *, label: str, algorithm: str, version: str
) -> Path:
    """Write a binary ``(1, X, Y, Z)`` mask as a DICOM Segmentation (highdicom) over a series we wrote.

    ``series_paths`` are the files from ``write_dicom_series`` for the same image, one per slice along Z, so the
    SEG references only de-identified instances, shares their frame of reference and overlays them in any
    viewer that reads DICOM SEG. The segment is coded as SNOMED CT "Brain" and marked as made by an automatic
    algorithm named ``algorithm``.

    Raises:
        BadInputError: the number of files does not match the mask's slices.
    """
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    array = np.asarray(mask.detach().cpu().numpy()[0] > 0, dtype=np.uint8)
    if len(series_paths) != array.shape[2]:
        raise BadInputError(
            f"write_dicom_seg got {len(series_paths)} DICOM files for {array.shape[2]} slices; pass the files "
            "written by write_dicom_series for this image."
        )
    sources = [pydicom.dcmread(path) for path in series_paths]
    frames = np.stack([array[:, :, index].T for index in range(array.shape[2])])
    segment = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.SCT.Organ,
        segmented_property_type=codes.SCT.Brain,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name=algorithm, version=version, family=codes.cid7162.ArtificialIntelligence
        ),
    )
    first = sources[0]
    with warnings.catch_warnings():
        # Our pseudonym "ANONYMOUS" is a one-component person name on purpose.
        warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person name")
        segmentation = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=frames,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=[segment],
            series_instance_uid=generate_uid(),
            series_number=int(first.get("SeriesNumber", 0) or 0) + 1,
            sop_instance_uid=generate_uid(),
            instance_number=1,
            manufacturer="genai-toolkit",
            manufacturer_model_name=algorithm,
            software_versions=version,
            device_serial_number="none",
            series_description=f"{label} (segmentation)"[:64],
        )
    out_path = Path(out_path)
    segmentation.save_as(out_path)
    return out_path
