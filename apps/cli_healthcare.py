"""``genai healthcare``: appointments, clinic search, the patient assistant (one turn) and compliance review."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, fail, guarded, make_services, print_json
from apps.flows import appointment_book, build_patient_assistant

if TYPE_CHECKING:
    from domains.healthcare.appointments import Appointment, Slot

app = typer.Typer(help="Patient assistant, appointment book and compliance review.", no_args_is_help=True)


Part = Annotated[str | None, typer.Option("--part", help="morning | afternoon | evening")]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"date {text!r} must be YYYY-MM-DD, e.g. 2026-12-01.")
        raise  # unreachable: fail exits


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        fail(f"time {text!r} must be YYYY-MM-DDTHH:MM, e.g. 2026-12-01T09:30.")
        raise


def _part(text: str | None) -> str | None:
    if text is not None and text not in ("morning", "afternoon", "evening"):
        fail(f"--part must be morning, afternoon or evening, got {text!r}.")
    return text


def _print_slots(slots: list[Slot]) -> None:
    for slot in slots:
        typer.echo(
            f"  {slot.start:%a %Y-%m-%d %H:%M}  clinician {slot.clinician_id}: {slot.clinician} ({slot.clinic})"
        )


def _print_appointment(appointment: Appointment) -> None:
    typer.echo(
        f"#{appointment.id} {appointment.status}: {appointment.start:%a %Y-%m-%d %H:%M} with {appointment.clinician} "
        f"({appointment.clinic})"
    )


@app.command()
@guarded
def clinicians(
    specialty: Annotated[str | None, typer.Option(help="e.g. dentist, GP")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List clinicians, their specialty and opening hours."""
    found = appointment_book(make_services(config)).clinicians(specialty)
    if as_json:
        print_json([c.model_dump() for c in found])
        return
    for c in found:
        hours = "; ".join(f"{day} {', '.join(p)}" for day, p in c.hours.items())
        typer.echo(f"{c.id:>3}  {c.name:<22} {c.specialty:<18} {c.clinic}  [{hours}]")


@app.command()
@guarded
def slots(
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    specialty: Annotated[str | None, typer.Option(help="e.g. dentist")] = None,
    clinician: Annotated[int | None, typer.Option(help="clinician id")] = None,
    part: Part = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Free appointment slots on a day."""
    found = appointment_book(make_services(config)).available_slots(
        day=_date(day),
        specialty=specialty,
        clinician_id=clinician,
        part_of_day=_part(part),  # type: ignore[arg-type]
    )
    if as_json:
        print_json([s.model_dump(mode="json") for s in found])
        return
    _print_slots(found) if found else typer.echo("no free slots")


@app.command()
@guarded
def book(
    clinician: Annotated[int, typer.Option(help="clinician id (see `genai healthcare clinicians`)")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DDTHH:MM, a free slot")],
    patient: Annotated[str, typer.Option(help="patient's name")],
    contact: Annotated[str, typer.Option(help="phone or e-mail")] = "",
    reason: Annotated[str, typer.Option(help="reason for the visit")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Book an appointment (refused if the slot is taken, in the past or outside opening hours)."""
    if not patient.strip():
        fail('--patient must not be empty; give the patient\'s name, e.g. --patient "Ann Lee".')
    booked = appointment_book(make_services(config)).book(
        clinician_id=clinician,
        start=_datetime(start),
        patient_name=patient,
        patient_contact=contact,
        reason=reason,
    )
    print_json(booked.model_dump(mode="json")) if as_json else _print_appointment(booked)


@app.command()
@guarded
def reschedule(
    appointment_id: Annotated[int, typer.Argument(help="appointment number")],
    start: Annotated[str, typer.Option(help="new YYYY-MM-DDTHH:MM")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move an appointment to another free slot with the same clinician."""
    moved = appointment_book(make_services(config)).reschedule(appointment_id, _datetime(start))
    print_json(moved.model_dump(mode="json")) if as_json else _print_appointment(moved)


@app.command()
@guarded
def cancel(
    appointment_id: Annotated[int, typer.Argument(help="appointment number")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel an appointment; its slot becomes free again."""
    cancelled = appointment_book(make_services(config)).cancel(appointment_id)
    print_json(cancelled.model_dump(mode="json")) if as_json else _print_appointment(cancelled)


@app.command("appointments")
@guarded
def list_appointments(
    patient: Annotated[str | None, typer.Option(help="patient's name")] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    include_cancelled: Annotated[bool, typer.Option(help="show cancelled ones too")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List booked appointments."""
    found = appointment_book(make_services(config)).list(
        patient_name=patient, day=_date(day) if day else None, include_cancelled=include_cancelled
    )
    if as_json:
        print_json([a.model_dump(mode="json") for a in found])
        return
    for appointment in found:
        _print_appointment(appointment)


@app.command()
@guarded
def clinics(
    lat: Annotated[float, typer.Option(help="your latitude")],
    lon: Annotated[float, typer.Option(help="your longitude")],
    specialty: Annotated[str | None, typer.Option(help="e.g. dentist")] = None,
    day: Annotated[str | None, typer.Option("--date", help="only clinics with a free slot that day")] = None,
    part: Part = None,
    directory: Annotated[
        Path | None, typer.Option(help="clinic directory CSV (default: shipped sample)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Nearest clinics by distance, optionally only those with free slots on a day."""
    from domains.healthcare.clinics import ClinicDirectory

    found_directory = ClinicDirectory.from_csv(directory) if directory else ClinicDirectory.from_csv()
    if day:
        if not specialty:
            fail("--date needs --specialty (free slots are per specialty).")
        matches = found_directory.nearest_with_slots(
            appointment_book(make_services(config)),
            lat,
            lon,
            specialty=specialty,
            day=_date(day),
            part_of_day=_part(part),  # type: ignore[arg-type]
        )
    else:
        matches = found_directory.nearest(lat, lon, specialty=specialty)
    if as_json:
        print_json([m.model_dump(mode="json") for m in matches])
        return
    for m in matches:
        typer.echo(
            f"{m.distance_km:6.2f} km  {m.clinic.name} ({m.clinic.address}) rating {m.clinic.rating}  {m.clinic.opening_hours}"
        )
        _print_slots(m.free_slots[:3])


@app.command()
@guarded
def ask(
    message: Annotated[str, typer.Argument(help="the patient's message")],
    collection: Annotated[str, typer.Option(help="patient-information knowledge base")] = "patient-info",
    lat: Annotated[float | None, typer.Option(help="latitude, for the nearest clinic")] = None,
    lon: Annotated[float | None, typer.Option(help="longitude")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One turn of the patient assistant (safety check, symptoms, slot proposal or grounded answer).

    A proposed slot is not booked: book it with `genai healthcare book`.
    """
    from domains.healthcare.assistant import PatientSession

    services = make_services(config)
    assistant = build_patient_assistant(services, collection)
    session = PatientSession(location=(lat, lon) if lat is not None and lon is not None else None)
    turn = assistant.respond(message, session, may_book=False)  # one turn: no "yes" can follow
    if as_json:
        print_json(turn.model_dump(mode="json"))
        return
    typer.echo(turn.text)
    for citation in turn.citations:
        typer.echo(f"  [{citation.n}] {citation.source}" + (f" p.{citation.page}" if citation.page else ""))
    if turn.proposal is not None:
        slot = turn.proposal
        typer.echo(
            f"\nTo book: genai healthcare book --clinician {slot.clinician_id} --start {slot.start:%Y-%m-%dT%H:%M} --patient NAME"
        )


@app.command()
@guarded
def review(
    policy_file: Annotated[Path, typer.Argument(help="the internal policy (PDF, DOCX, MD, TXT)")],
    against: Annotated[str, typer.Option("--against", help="regulation knowledge base, e.g. health-privacy")],
    html: Annotated[Path | None, typer.Option("--html", help="also write an HTML report here")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="also write a Markdown report here")
    ] = None,
    use_llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="let the LLM judge clauses the rules leave open")
    ] = True,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Review a policy clause by clause against a regulation collection: consistent / possible gap / not covered."""
    from data_connectors.audit import AuditLog
    from domains.healthcare.compliance import load_policy_text, review_policy

    services = make_services(config)
    text = load_policy_text(policy_file)
    retriever = services.retriever(against)
    AuditLog(services.database).record(
        actor="compliance-review", action="review", collection=against, question=f"review {policy_file.name}"
    )
    report = review_policy(
        text,
        retriever.invoke,
        policy_name=policy_file.name,
        collection=against,
        chat_model=services.chat_model() if use_llm else None,
    )
    if html:
        html.write_text(report.to_html(), encoding="utf-8")
    if markdown:
        markdown.write_text(report.to_markdown(), encoding="utf-8")
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    typer.echo(report.to_markdown())


@app.command()
@guarded
def audit(
    collection: Annotated[str | None, typer.Option(help="only this collection")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log (who asked what of which collection; questions are stored redacted)."""
    from data_connectors.audit import AuditLog

    entries = AuditLog(make_services(config).database).entries(collection=collection, limit=limit)
    if as_json:
        print_json([e.model_dump(mode="json") for e in entries])
        return
    for e in entries:
        typer.echo(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<18} {e.action:<14} {e.collection:<16} {e.question}")
