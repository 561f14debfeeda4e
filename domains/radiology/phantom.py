"""A tiny synthetic head (ellipsoid brain inside a CSF gap, a skull shell and scalp) on an oblique grid, and a
synthetic DICOM series writer for it.

Unit tests, the demo in the hub and geometry checks use it: it is generated, seeded and a few hundred kB, and its
brain is defined in world millimetres, so the true mask is known on any grid. The DICOM writer names files in
shuffled order (readers must sort by position) and fills the patient fields with an obviously fake name, ID and
birth date so tests can check that none of them leaks into any output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BRAIN_RADII_MM = (62.0, 78.0, 58.0)  # an adult brain's half-extents, right-left, anterior-posterior, up-down


def _rotation_z(degrees: float) -> np.ndarray:
    angle = np.deg2rad(degrees)
    rotation = np.eye(4)
    rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    return rotation


def phantom_affine(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    *,
    degrees: float = 12.0,
    flip_lr: bool = True,
) -> np.ndarray:
    """A voxel -> RAS affine centred on the origin, rotated about z and (LPS-like) flipped left-right."""
    scale = np.diag([(-1.0 if flip_lr else 1.0) * spacing[0], spacing[1], spacing[2], 1.0])
    centre = np.eye(4)
    centre[:3, 3] = -(np.asarray(shape) - 1) / 2
    return _rotation_z(degrees) @ scale @ centre


def brain_mask_in_world(points_mm: np.ndarray) -> np.ndarray:
    """True where RAS points (…, 3) fall inside the phantom's brain ellipsoid."""
    return (((points_mm / np.asarray(BRAIN_RADII_MM)) ** 2).sum(-1)) <= 1.0


def voxel_centres(shape: tuple[int, ...], affine: np.ndarray) -> np.ndarray:
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in shape[:3]], indexing="ij"), -1).astype(np.float64)
    return grid @ affine[:3, :3].T + affine[:3, 3]


def head_phantom(
    shape: tuple[int, int, int] = (48, 56, 44),
    spacing: tuple[float, float, float] = (4.0, 4.0, 4.5),
    *,
    degrees: float = 12.0,
    flip_lr: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T1-like image, true brain mask, affine): brain ~100, CSF 20, skull 10, scalp 140, noise sd 3."""
    affine = phantom_affine(shape, spacing, degrees=degrees, flip_lr=flip_lr)
    points = voxel_centres(shape, affine)
    radius = np.sqrt(((points / np.asarray(BRAIN_RADII_MM)) ** 2).sum(-1))  # 1.0 at the brain surface
    brain = radius <= 1.0
    image = np.zeros(shape, np.float32)
    image[radius <= 1.35] = 140.0  # scalp
    image[radius <= 1.22] = 10.0  # skull
    image[radius <= 1.1] = 20.0  # CSF
    image[brain] = 100.0
    image[radius <= 0.6] = 130.0  # white matter core
    image += np.random.default_rng(seed).normal(0, 3.0, shape).astype(np.float32)
    return np.clip(image, 0, None), brain.astype(np.uint8), affine


def transformed_copies(
    image: np.ndarray, mask: np.ndarray, affine: np.ndarray
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Clinical-looking variants of a head and its mask, transformed alongside: (name, image, mask, affine).

    LPS storage order (same world geometry); 3 mm slices (1x1x3 mm, slab-averaged, partial volume); an oblique
    acquisition (15 degrees about left-right in the header: the voxels are unchanged); a head tilted 15 degrees
    in the scanner (the voxels rotated, same header: the network sees a rotated head); the top fifth of the
    field of view cut off; a bias field + noise.
    """
    from scipy import ndimage

    lps = image[::-1, ::-1].copy(), mask[::-1, ::-1].copy()
    lps_affine = affine @ np.array(
        [[-1, 0, 0, image.shape[0] - 1], [0, -1, 0, image.shape[1] - 1], [0, 0, 1, 0], [0, 0, 0, 1]], float
    )
    slabs = image.shape[2] // 3
    thick = (
        image[:, :, : 3 * slabs].reshape(*image.shape[:2], slabs, 3).mean(-1),
        mask[:, :, 1 : 3 * slabs : 3],
    )
    thick_affine = affine @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 3, 1], [0, 0, 0, 1]], float)
    tilt = np.deg2rad(15)
    oblique = np.eye(4)
    oblique[1:3, 1:3] = [[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]]
    top = int(image.shape[2] * 0.8)
    ramp = np.linspace(0.7, 1.3, image.shape[0])[:, None, None]
    noisy = image * ramp + np.random.default_rng(0).normal(0, 0.03 * float(image.max()), image.shape)
    return [
        ("lps", *lps, lps_affine),
        ("1x1x3mm", thick[0].astype(np.float32), thick[1].copy(), thick_affine),
        ("oblique15", image, mask, oblique @ affine),
        (
            "tilted15",
            ndimage.rotate(image, 15, axes=(1, 2), reshape=False, order=1).astype(np.float32),
            ndimage.rotate(mask.astype(np.float32), 15, axes=(1, 2), reshape=False, order=1) > 0.5,
            affine,
        ),
        ("cropped", image[:, :, :top].copy(), mask[:, :, :top].copy(), affine),
        ("bias+noise", noisy.astype(np.float32), mask, affine),
    ]


FAKE_PATIENT = {"PatientName": "Doe^Jane", "PatientID": "PID-778899", "PatientBirthDate": "19700102"}
# Not names, but identifying all the same (when, age, weight, free text): de-identified output drops them too.
FAKE_STUDY = {
    "StudyDate": "20240315",
    "PatientAge": "054Y",
    "PatientWeight": "71.5",
    "StudyDescription": "Head MRI for J Doe",
    "ImageComments": "seen by Dr Smith",
    "PatientBirthName": "Roe^Jane",
    "RequestedProcedureID": "RP-1234",
    "MedicalAlerts": "penicillin",
}


def write_synthetic_series(
    volume: np.ndarray,
    affine: np.ndarray,
    out_dir: Path,
    *,
    modality: str = "MR",
    description: str = "T1 MPRAGE",
    series_uid: str | None = None,
    skip_slices: tuple[int, ...] = (),
    seed: int = 0,
) -> list[Path]:
    """One file per slice along the volume's third axis; ``skip_slices`` leaves gaps on purpose."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

    out_dir.mkdir(parents=True, exist_ok=True)
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    row_step, col_step, slice_step = lps[:3, 0], lps[:3, 1], lps[:3, 2]
    row_dir, col_dir = row_step / np.linalg.norm(row_step), col_step / np.linalg.norm(col_step)
    series_uid = series_uid or generate_uid()
    study_uid, frame_uid = generate_uid(), generate_uid()
    intercept = -1024.0 if modality == "CT" else 0.0
    order = np.random.default_rng(seed).permutation(volume.shape[2])
    paths = []
    for file_index, k in enumerate(order):
        if k in skip_slices:
            continue
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = CTImageStorage if modality == "CT" else MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        for key, value in {**FAKE_PATIENT, **FAKE_STUDY}.items():
            setattr(ds, key, value)
        ds.InstitutionName = "Example Hospital"
        # Identifiers nested in a sequence and in a private block, where a deny-list would miss them.
        procedure = Dataset()
        procedure.CodeMeaning = f"MRI head {FAKE_PATIENT['PatientName']} {FAKE_PATIENT['PatientID']}"
        ds.ProcedureCodeSequence = [procedure]
        ds.private_block(0x0011, "EXAMPLE PACS", create=True).add_new(0x01, "LO", FAKE_PATIENT["PatientID"])
        ds.Modality = modality
        ds.SeriesDescription = description
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.SeriesNumber, ds.InstanceNumber = 3, int(k) + 1
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in (*row_dir, *col_dir)]
        ds.ImagePositionPatient = [f"{v:.6f}" for v in lps[:3, 3] + k * slice_step]
        ds.PixelSpacing = [f"{np.linalg.norm(col_step):.6f}", f"{np.linalg.norm(row_step):.6f}"]
        ds.SliceThickness = f"{np.linalg.norm(slice_step):.6f}"
        ds.RescaleSlope, ds.RescaleIntercept = 1, intercept
        plane = np.round(volume[:, :, k].T - intercept).astype(np.uint16)
        ds.Rows, ds.Columns = plane.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = plane.tobytes()
        path = out_dir / f"IM{file_index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
