"""Healthcare tab: patient assistant (safety first, booking on confirmation), appointment book, compliance
review. Handlers only delegate to ``domains.healthcare``; every output shows the draft / not-advice notices."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from apps.services import Services
from apps.tabs.errors import user_error
from data_connectors.errors import BadInputError

TITLE = "Healthcare"
# The grant the appointment book needs (admins have every grant): booking and cancelling change real
# patients' appointments, so a login alone is not enough.
APPOINTMENTS_GRANT = "appointments"


def build(services: Services) -> None:
    from apps.flows import appointment_book, build_patient_assistant
    from apps.hub import llm_event
    from domains.healthcare import DRAFT_NOTICE, MEDICAL_NOTICE
    from domains.healthcare.assistant import PatientSession

    assistants: dict[str, Any] = {}

    def assistant_for(collection: str):
        if collection not in assistants:
            assistants[collection] = build_patient_assistant(services, collection)
        return assistants[collection]

    def chat(
        message: str,
        history: list[dict[str, Any]],
        session: PatientSession | None,
        name: str,
        lat: float | None,
        lon: float | None,
        collection: str,
        request: gr.Request | None = None,
    ):
        session = session or PatientSession()
        session.patient_name = name.strip() or None
        session.location = (lat, lon) if lat is not None and lon is not None else None
        try:
            user = services.access.check(request, collection)  # the grant, checked on the server
            # booking in the chat needs the appointments grant, as the appointment book does
            may_book = services.access.may_use(user, APPOINTMENTS_GRANT)
            turn = assistant_for(collection).respond(message, session, actor=user.name, may_book=may_book)
            reply = turn.text + "".join(f"\n\n[{c.n}] {Path(c.source).name}" for c in turn.citations)
        except BadInputError as error:
            reply = str(error)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": reply}]
        return history, session, ""

    def find_slots(specialty: str, day: str, part: str, request: gr.Request | None = None) -> pd.DataFrame:
        try:
            services.access.check(request, APPOINTMENTS_GRANT)
            slots = appointment_book(services).available_slots(
                day=date.fromisoformat(day), specialty=specialty or None, part_of_day=part or None
            )
        except ValueError as error:
            raise user_error(str(error)) from None
        return pd.DataFrame(
            [s.model_dump() for s in slots], columns=["clinician_id", "clinician", "clinic", "start", "end"]
        )

    def audited(actor: str, action: str, appointment_id: int) -> None:
        """Who booked or cancelled which appointment (its number, never the patient's name)."""
        from data_connectors.audit import AuditLog

        AuditLog(services.database).record(
            actor=actor, action=action, collection="appointments", question=f"appointment #{appointment_id}"
        )

    def book(clinician_id: float, start: str, patient: str, request: gr.Request | None = None) -> str:
        try:
            actor = services.access.check(request, APPOINTMENTS_GRANT).name
            booked = appointment_book(services).book(
                clinician_id=int(clinician_id), start=datetime.fromisoformat(start), patient_name=patient
            )
        except ValueError as error:
            return f"**Not booked:** {error}"
        audited(actor, "book", booked.id)
        return f"Booked #{booked.id}: {booked.start:%a %d %b %Y %H:%M} with {booked.clinician} ({booked.clinic})."

    def cancel(appointment_id: float, request: gr.Request | None = None) -> str:
        try:
            actor = services.access.check(request, APPOINTMENTS_GRANT).name
            cancelled = appointment_book(services).cancel(int(appointment_id))
        except ValueError as error:
            return f"**Not cancelled:** {error}"
        audited(actor, "cancel", cancelled.id)
        return f"Cancelled #{cancelled.id} ({cancelled.start:%a %d %b %Y %H:%M})."

    def review(policy_file: str | None, collection: str, use_llm: bool, request: gr.Request | None = None):
        from data_connectors.audit import AuditLog
        from domains.healthcare.compliance import load_policy_text, review_policy

        if not policy_file:
            raise user_error("Upload a policy file first.")
        try:
            reviewer = services.access.check(request, collection)
            report = review_policy(
                load_policy_text(Path(policy_file)),
                services.retriever(collection).invoke,
                policy_name=Path(policy_file).name,
                collection=collection,
                chat_model=services.chat_model() if use_llm else None,
            )
        except ValueError as error:
            raise user_error(str(error)) from None
        AuditLog(services.database).record(
            actor=reviewer.name,
            action="review",
            collection=collection,
            question=f"review {Path(policy_file).name}",
        )
        out = Path(tempfile.mkdtemp()) / "compliance-review.html"
        out.write_text(report.to_html(), encoding="utf-8")
        return report.to_markdown(), str(out)

    gr.Markdown(f"**{MEDICAL_NOTICE}** In an emergency call your local emergency number. {DRAFT_NOTICE}")
    with gr.Tab("Patient assistant"):
        session = gr.State(None)
        with gr.Row():
            name = gr.Textbox(label="Patient name (needed to book)", scale=2)
            lat = gr.Number(label="Latitude (optional)", value=None)
            lon = gr.Number(label="Longitude (optional)", value=None)
            collection = gr.Textbox(label="Patient-information collection", value="patient-info")
        chatbot = gr.Chatbot(height=380, label="Assistant")
        message = gr.Textbox(label="Message", placeholder="e.g. can I see a dentist next Tuesday morning?")
        message.submit(
            chat,
            [message, chatbot, session, name, lat, lon, collection],
            [chatbot, session, message],
            **llm_event(services),
        )
    with gr.Tab("Appointments"):
        with gr.Row():
            specialty = gr.Dropdown(
                label="Specialty", choices=appointment_book(services).specialties(), value="dentistry"
            )
            day = gr.Textbox(label="Date (YYYY-MM-DD)", value=date.today().isoformat())
            part = gr.Radio(["", "morning", "afternoon", "evening"], value="", label="Part of day")
        slots = gr.Dataframe(label="Free slots", interactive=False)
        gr.Button("Find free slots").click(find_slots, [specialty, day, part], slots)
        with gr.Row():
            clinician = gr.Number(label="Clinician id", precision=0)
            start = gr.Textbox(label="Start (YYYY-MM-DDTHH:MM)")
            patient = gr.Textbox(label="Patient name")
        result = gr.Markdown()
        gr.Button("Book").click(book, [clinician, start, patient], result)
        with gr.Row():
            appointment = gr.Number(label="Appointment number", precision=0)
            gr.Button("Cancel appointment").click(cancel, appointment, result)
    with gr.Tab("Compliance review"):
        with gr.Row():
            policy = gr.File(label="Internal policy (PDF, DOCX, MD, TXT)", type="filepath")
            against = gr.Textbox(label="Regulation collection", value="health-privacy")
            use_llm = gr.Checkbox(label="LLM judges clauses the rules leave open", value=False)
        report = gr.Markdown()
        download = gr.File(label="HTML report")
        gr.Button("Review").click(
            review, [policy, against, use_llm], [report, download], **llm_event(services)
        )
