"""The clinic directory: a CSV of clinics (name, address, lat, lon, opening_hours, rating, specialties),
searched by great-circle distance from the user and, with the appointment book, by free slots."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from data_connectors.errors import BadInputError
from domains.healthcare.appointments import AppointmentBook, PartOfDay, Slot, normalise_specialty

DIRECTORY_FILE = Path(__file__).with_name("data") / "clinics.csv"
REQUIRED_COLUMNS = ("name", "address", "lat", "lon", "opening_hours", "rating")
EARTH_RADIUS_KM = 6371.0088


class Clinic(BaseModel):
    name: str
    address: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opening_hours: str
    rating: float = Field(ge=0, le=5)
    specialties: list[str] = []


class ClinicMatch(BaseModel):
    clinic: Clinic
    distance_km: float
    free_slots: list[Slot] = []


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS84 points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


# PUBLIC API


class ClinicDirectory:
    """Clinics loaded from a CSV; rows that fail validation are skipped and listed in ``skipped``."""

    def __init__(self, clinics: list[Clinic], skipped: list[str] | None = None) -> None:
        self.clinics = clinics
        self.skipped = skipped or []

    @classmethod
    def from_csv(cls, path: Path = DIRECTORY_FILE) -> ClinicDirectory:
        """Raises BadInputError when the file is missing or lacks a required column."""
        path = Path(path)
        if not path.is_file():
            raise BadInputError(
                f"Clinic directory {path} does not exist; pass a CSV with {', '.join(REQUIRED_COLUMNS)}."
            )
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInputError(
                    f"Clinic directory {path} lacks column(s) {', '.join(missing)}; add them."
                )
            clinics, skipped = [], []
            for line, row in enumerate(reader, start=2):
                specialties = [
                    normalise_specialty(s) for s in (row.get("specialties") or "").split(";") if s.strip()
                ]
                try:
                    clinics.append(Clinic.model_validate({**row, "specialties": specialties}))
                except ValidationError as error:
                    skipped.append(f"line {line}: {error.errors()[0]['loc'][0]} {error.errors()[0]['msg']}")
        return cls(clinics, skipped)

    def nearest(
        self,
        lat: float,
        lon: float,
        *,
        specialty: str | None = None,
        max_km: float | None = None,
        limit: int = 5,
    ) -> list[ClinicMatch]:
        """Clinics offering ``specialty`` sorted by distance (ties: higher rating first)."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise BadInputError(f"Location ({lat}, {lon}) is not a valid latitude/longitude pair.")
        wanted = normalise_specialty(specialty) if specialty else None
        matches = [
            ClinicMatch(clinic=clinic, distance_km=round(haversine_km(lat, lon, clinic.lat, clinic.lon), 2))
            for clinic in self.clinics
            if wanted is None or wanted in clinic.specialties
        ]
        matches = [m for m in matches if max_km is None or m.distance_km <= max_km]
        return sorted(matches, key=lambda m: (m.distance_km, -m.clinic.rating))[:limit]

    def nearest_with_slots(
        self,
        book: AppointmentBook,
        lat: float,
        lon: float,
        *,
        specialty: str,
        day: date,
        part_of_day: PartOfDay | None = None,
        limit: int = 5,
    ) -> list[ClinicMatch]:
        """Nearest clinics that have a free ``specialty`` slot on ``day``, each with its free slots."""
        slots = book.available_slots(day=day, specialty=specialty, part_of_day=part_of_day, limit=500)
        found = []
        for match in self.nearest(lat, lon, specialty=specialty, limit=len(self.clinics)):
            free = [s for s in slots if s.clinic == match.clinic.name]
            if free:
                found.append(match.model_copy(update={"free_slots": free[:5]}))
        return found[:limit]
