"""A real appointment book on SQLAlchemy: clinicians with a specialty and opening hours, slots derived from
those hours, and appointments that are booked, rescheduled, cancelled and listed.

Double booking is impossible by construction: an active appointment is unique on (clinician, start) in the
database itself (cancelled rows set ``active`` to NULL, which unique constraints ignore), and each booking is
one transaction, so of several concurrent requests for one slot exactly one commits; the others get
``SlotTakenError``. Times are the clinic's local wall-clock time (naive datetimes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from data_connectors.errors import BadInputError

PartOfDay = Literal["morning", "afternoon", "evening"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEED_FILE = Path(__file__).with_name("data") / "clinicians.yaml"
MAX_NAME_CHARS = 100  # a patient's name; longer input is a paste error, not a name
MAX_CONTACT_CHARS = 120
_PART_BOUNDS: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}


def part_of_day_at(moment: time) -> PartOfDay:
    """The part of the day a clock time belongs to, with the same bounds the slot search uses."""
    for part, (first, last) in _PART_BOUNDS.items():
        if first <= moment < last:
            return part  # type: ignore[return-value]
    return "evening"


class SlotTakenError(BadInputError):
    """Another request booked this slot first."""


# ---------------------------------------------------------------- tables


class _Base(DeclarativeBase):
    pass


class ClinicianRow(_Base):
    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    specialty: Mapped[str] = mapped_column(String(60), index=True)
    clinic: Mapped[str] = mapped_column(String(120))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    hours: Mapped[list[OpeningHoursRow]] = relationship(
        back_populates="clinician", cascade="all, delete-orphan", order_by="OpeningHoursRow.opens"
    )


class OpeningHoursRow(_Base):
    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    clinician: Mapped[ClinicianRow] = relationship(back_populates="hours")


class AppointmentRow(_Base):
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("clinician_id", "start", "active", name="uq_active_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime] = mapped_column(DateTime)
    patient_name: Mapped[str] = mapped_column(String(120))
    patient_contact: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=True)  # NULL once cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


# ---------------------------------------------------------------- typed results


class Clinician(BaseModel):
    id: int
    name: str
    specialty: str
    clinic: str
    slot_minutes: int
    hours: dict[str, list[str]]  # "mon" -> ["08:00-12:00", ...]


class Slot(BaseModel):
    clinician_id: int
    clinician: str
    specialty: str
    clinic: str
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{WEEKDAY_NAMES[self.start.weekday()]} {self.start:%d %B %Y at %H:%M} with {self.clinician} ({self.clinic})"


class Appointment(BaseModel):
    id: int
    clinician_id: int
    clinician: str
    specialty: str
    clinic: str
    start: datetime
    end: datetime
    patient_name: str
    reason: str
    status: Literal["booked", "cancelled"]


# ---------------------------------------------------------------- helpers


def _require_local(start: datetime) -> None:
    """Refuse a start with a UTC offset: the book holds the clinic's wall-clock time and does not know the
    clinic's time zone, so converting with the server's zone could silently book the wrong hour."""
    if start.tzinfo is not None:
        raise BadInputError(
            f"The start {start.isoformat(timespec='minutes')} carries a UTC offset; give the clinic's local time "
            f"without an offset, e.g. {start:%Y-%m-%dT%H:%M}."
        )


def _parse_period(text: str) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise BadInputError(f"Opening period {text!r} must look like '08:00-12:00'.") from None
    if opens >= closes:
        raise BadInputError(f"Opening period {text!r} closes before it opens; write it as 'HH:MM-HH:MM'.")
    return opens, closes


def _clinician(row: ClinicianRow) -> Clinician:
    hours: dict[str, list[str]] = {}
    for period in sorted(row.hours, key=lambda p: (p.weekday, p.opens)):
        hours.setdefault(WEEKDAYS[period.weekday], []).append(f"{period.opens:%H:%M}-{period.closes:%H:%M}")
    return Clinician(
        id=row.id,
        name=row.name,
        specialty=row.specialty,
        clinic=row.clinic,
        slot_minutes=row.slot_minutes,
        hours=hours,
    )


def _appointment(row: AppointmentRow, clinician: ClinicianRow) -> Appointment:
    return Appointment(
        id=row.id,
        clinician_id=clinician.id,
        clinician=clinician.name,
        specialty=clinician.specialty,
        clinic=clinician.clinic,
        start=row.start,
        end=row.end,
        patient_name=row.patient_name,
        reason=row.reason,
        status="booked" if row.active else "cancelled",
    )


def _day_slots(clinician: ClinicianRow, day: date) -> list[tuple[datetime, datetime]]:
    step = timedelta(minutes=clinician.slot_minutes)
    slots = []
    for period in clinician.hours:
        if period.weekday != day.weekday():
            continue
        start, closes = datetime.combine(day, period.opens), datetime.combine(day, period.closes)
        while start + step <= closes:
            slots.append((start, start + step))
            start += step
    return sorted(slots)


def normalise_specialty(text: str) -> str:
    """Everyday words for a specialty ("dentist", "GP", "physio") -> the stored specialty name."""
    words = text.strip().lower()
    aliases = {
        "dentist": "dentistry",
        "dental": "dentistry",
        "dentistry": "dentistry",
        "gp": "general practice",
        "doctor": "general practice",
        "family doctor": "general practice",
        "general practitioner": "general practice",
        "general practice": "general practice",
        "physio": "physiotherapy",
        "physiotherapist": "physiotherapy",
        "physiotherapy": "physiotherapy",
        "dermatologist": "dermatology",
        "skin doctor": "dermatology",
        "dermatology": "dermatology",
    }
    return aliases.get(words, words)


# PUBLIC API


class AppointmentBook:
    """Clinicians, their opening hours and appointments in one SQLAlchemy database.

    Args:
        engine: any SQLAlchemy engine (SQLite file by default, PostgreSQL in production).
        clock: returns "now" in clinic local time; injectable so tests and demos are reproducible.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = datetime.now) -> None:
        self.engine = engine
        self.clock = clock
        _Base.metadata.create_all(engine)

    # ---------------------------------------------------------------- clinicians

    def seed(self, path: Path = SEED_FILE) -> int:
        """Load clinicians and opening hours from a YAML file once (names already present are skipped).

        Returns the number of clinicians added.
        """
        try:
            entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["clinicians"]
        except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
            raise BadInputError(
                f"Seed file {path} must be YAML with a 'clinicians' list ({error})."
            ) from None
        added = 0
        with Session(self.engine) as session, session.begin():
            existing = set(session.scalars(select(ClinicianRow.name)))
            for entry in entries:
                if entry["name"] in existing:
                    continue
                row = ClinicianRow(
                    name=entry["name"],
                    specialty=normalise_specialty(entry["specialty"]),
                    clinic=entry.get("clinic", ""),
                    slot_minutes=int(entry.get("slot_minutes", 15)),
                )
                for weekday, periods in entry.get("hours", {}).items():
                    if weekday not in WEEKDAYS:
                        raise BadInputError(
                            f"Weekday {weekday!r} in {path} must be one of {', '.join(WEEKDAYS)}."
                        )
                    for period in periods:
                        opens, closes = _parse_period(period)
                        row.hours.append(
                            OpeningHoursRow(weekday=WEEKDAYS.index(weekday), opens=opens, closes=closes)
                        )
                session.add(row)
                added += 1
        return added

    def clinicians(self, specialty: str | None = None) -> list[Clinician]:
        query = select(ClinicianRow).order_by(ClinicianRow.id)
        if specialty:
            query = query.where(ClinicianRow.specialty == normalise_specialty(specialty))
        with Session(self.engine) as session:
            return [_clinician(row) for row in session.scalars(query)]

    def specialties(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(set(session.scalars(select(ClinicianRow.specialty))))

    def _get_clinician(self, session: Session, clinician_id: int) -> ClinicianRow:
        row = session.get(ClinicianRow, clinician_id)
        if row is None:
            known = ", ".join(f"{c.id} ({c.name})" for c in session.scalars(select(ClinicianRow)))
            raise BadInputError(
                f"There is no clinician with id {clinician_id}; known clinicians: {known or 'none'}."
            )
        return row

    # ---------------------------------------------------------------- slots

    def available_slots(
        self,
        *,
        day: date,
        specialty: str | None = None,
        clinician_id: int | None = None,
        part_of_day: PartOfDay | None = None,
        limit: int = 20,
    ) -> list[Slot]:
        """Free slots on ``day`` (after now), earliest first, for one clinician or a whole specialty."""
        if specialty and normalise_specialty(specialty) not in self.specialties():
            raise BadInputError(
                f"No clinician offers {specialty!r}; available specialties: {', '.join(self.specialties())}."
            )
        now = self.clock()
        with Session(self.engine) as session:
            if clinician_id is not None:
                clinicians: Iterable[ClinicianRow] = [self._get_clinician(session, clinician_id)]
            else:
                query = select(ClinicianRow)
                if specialty:
                    query = query.where(ClinicianRow.specialty == normalise_specialty(specialty))
                clinicians = session.scalars(query).all()
            day_start = datetime.combine(day, time())
            taken = {
                (row.clinician_id, row.start)
                for row in session.scalars(
                    select(AppointmentRow).where(
                        AppointmentRow.active.is_(True),
                        AppointmentRow.start >= day_start,
                        AppointmentRow.start < day_start + timedelta(days=1),
                    )
                )
            }
            slots = []
            for clinician in clinicians:
                for start, end in _day_slots(clinician, day):
                    if start <= now or (clinician.id, start) in taken:
                        continue
                    if part_of_day and not (
                        _PART_BOUNDS[part_of_day][0] <= start.time() < _PART_BOUNDS[part_of_day][1]
                    ):
                        continue
                    slots.append(
                        Slot(
                            clinician_id=clinician.id,
                            clinician=clinician.name,
                            specialty=clinician.specialty,
                            clinic=clinician.clinic,
                            start=start,
                            end=end,
                        )
                    )
        return sorted(slots, key=lambda s: (s.start, s.clinician_id))[:limit]

    def next_available(
        self,
        *,
        specialty: str | None = None,
        clinician_id: int | None = None,
        after: date | None = None,
        part_of_day: PartOfDay | None = None,
        days: int = 14,
        limit: int = 5,
    ) -> list[Slot]:
        """The first free slots within ``days`` days from ``after`` (default today)."""
        first = after or self.clock().date()
        for offset in range(days):
            slots = self.available_slots(
                day=first + timedelta(days=offset),
                specialty=specialty,
                clinician_id=clinician_id,
                part_of_day=part_of_day,
                limit=limit,
            )
            if slots:
                return slots
        return []

    def _check_slot(self, clinician: ClinicianRow, start: datetime) -> datetime:
        _require_local(start)
        if start.second or start.microsecond:
            raise BadInputError(
                f"The start {start.isoformat()} has seconds; appointments start on the minute, e.g. "
                f"{start:%Y-%m-%dT%H:%M}."
            )
        now = self.clock()
        if start <= now:
            raise BadInputError(
                f"The requested time {start:%Y-%m-%d %H:%M} is in the past; choose a time after {now:%Y-%m-%d %H:%M}."
            )
        for slot_start, slot_end in _day_slots(clinician, start.date()):
            if slot_start == start:
                return slot_end
        hours = _clinician(clinician).hours.get(WEEKDAYS[start.weekday()])
        opening = (
            f"opening hours that day are {', '.join(hours)}" if hours else "the practice is closed that day"
        )
        raise BadInputError(
            f"{clinician.name} has no appointment starting {WEEKDAY_NAMES[start.weekday()]} "
            f"{start:%Y-%m-%d %H:%M}: {opening}, in {clinician.slot_minutes}-minute slots."
        )

    # ---------------------------------------------------------------- appointments

    def book(
        self,
        *,
        clinician_id: int,
        start: datetime,
        patient_name: str,
        patient_contact: str = "",
        reason: str = "",
    ) -> Appointment:
        """Book ``start`` (the clinic's local time, naive) with a clinician in one transaction.

        Raises:
            BadInputError: unknown clinician, a time in the past or outside opening hours, no patient name, a
                start with a UTC offset (refused, not converted: the clinic's time zone is not stored).
            SlotTakenError: the slot is already booked (also when a concurrent request won the race).
        """
        if not patient_name.strip():
            raise BadInputError("A booking needs the patient's name; give it (`--patient` in the CLI).")
        if len(patient_name.strip()) > MAX_NAME_CHARS:
            raise BadInputError(
                f"The patient's name is {len(patient_name.strip())} characters long; give at most "
                f"{MAX_NAME_CHARS}."
            )
        if len(patient_contact.strip()) > MAX_CONTACT_CHARS:
            raise BadInputError(
                f"The patient's contact is {len(patient_contact.strip())} characters long; give one phone "
                f"number or e-mail address of at most {MAX_CONTACT_CHARS}."
            )
        with Session(self.engine) as session:
            clinician = self._get_clinician(session, clinician_id)
            end = self._check_slot(clinician, start)
            row = AppointmentRow(
                clinician_id=clinician_id,
                start=start,
                end=end,
                patient_name=patient_name.strip(),
                patient_contact=patient_contact.strip(),
                reason=reason.strip()[:500],
                active=True,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise SlotTakenError(
                    f"The slot {start:%Y-%m-%d %H:%M} with {clinician.name} is already booked; choose another free slot."
                ) from None
            return _appointment(row, clinician)

    def _get_active(self, session: Session, appointment_id: int) -> AppointmentRow:
        row = session.get(AppointmentRow, appointment_id)
        if row is None:
            raise BadInputError(
                f"There is no appointment with id {appointment_id}; list the booked ones with "
                "`genai healthcare appointments` (or the hub's Appointments tab)."
            )
        if not row.active:
            raise BadInputError(f"Appointment {appointment_id} is already cancelled; book a new one instead.")
        return row

    def reschedule(self, appointment_id: int, new_start: datetime) -> Appointment:
        """Move an appointment to another free slot with the same clinician, atomically; ``new_start`` is the
        clinic's local time, and one with a UTC offset is refused like in ``book``."""
        with Session(self.engine) as session:
            _require_local(new_start)
            row = self._get_active(session, appointment_id)
            clinician = self._get_clinician(session, row.clinician_id)
            if row.start <= self.clock():
                raise BadInputError(f"Appointment {appointment_id} has already started; it cannot be moved.")
            row.end = self._check_slot(clinician, new_start)
            row.start = new_start
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise SlotTakenError(
                    f"The slot {new_start:%Y-%m-%d %H:%M} with {clinician.name} is already booked; choose another free slot."
                ) from None
            return _appointment(row, clinician)

    def cancel(self, appointment_id: int) -> Appointment:
        with Session(self.engine) as session:
            row = self._get_active(session, appointment_id)
            row.active = None
            session.commit()
            return _appointment(row, self._get_clinician(session, row.clinician_id))

    def list(
        self,
        *,
        patient_name: str | None = None,
        clinician_id: int | None = None,
        day: date | None = None,
        include_cancelled: bool = False,
    ) -> list[Appointment]:
        query = select(AppointmentRow, ClinicianRow).join(ClinicianRow).order_by(AppointmentRow.start)
        if not include_cancelled:
            query = query.where(AppointmentRow.active.is_(True))
        if patient_name:
            query = query.where(func.lower(AppointmentRow.patient_name) == patient_name.strip().lower())
        if clinician_id is not None:
            query = query.where(AppointmentRow.clinician_id == clinician_id)
        if day is not None:
            start = datetime.combine(day, time())
            query = query.where(
                AppointmentRow.start >= start, AppointmentRow.start < start + timedelta(days=1)
            )
        with Session(self.engine) as session:
            return [_appointment(row, clinician) for row, clinician in session.execute(query)]
