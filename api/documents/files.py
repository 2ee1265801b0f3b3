"""The papers as PDF files (name, media type, bytes), shared by the API and the pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from api.documents.pdf import html_to_pdf
from api.documents.rendering import (
    bilan_pdf,
    contract_pdf,
    fiche_pdf,
    render_fiche_bilan_ent,
)
from api.exports.files import ExportFile
from api.exports.participants import (
    SessionSheet,
    StepSheet,
    render_attestation,
    render_attestations,
    sheet_html,
)
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.participants.attestations import Attestation
from workflow.reads import paperwork
from workflow.reads.contract import contract_view, etablissement_of
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import bilan_table, person_table

PDF = "application/pdf"


def contract_file(
    conn: Connection, dossier: DossierRow, now: datetime, number: int | None = None
) -> ExportFile:
    """The document to read now (or one stored version), for reading: the sealed PDF of a
    fully signed version is the dossier's document of kind « contrat_scelle »."""
    view = contract_view(conn, dossier, number)
    suffix = "" if view.number is None else f"-v{view.number}"
    return ExportFile(f"{dossier.reference}-contrat{suffix}.pdf", PDF, contract_pdf(view, now))


def fiche_file(conn: Connection, dossier_id: int, now: datetime) -> ExportFile:
    fiche = paperwork.fiche(conn, dossier_id)
    return ExportFile(
        f"fiche-remuneration-{fiche.header.reference}.pdf", PDF, fiche_pdf(fiche, now)
    )


def bilan_file(conn: Connection, dossier_id: int, now: datetime) -> ExportFile:
    view = paperwork.bilan_view(conn, dossier_id)
    return ExportFile(f"bilan-{view.header.reference}.pdf", PDF, bilan_pdf(view, now))


def fiche_bilan_ent_file(conn: Connection, dossier: DossierRow, now: datetime) -> ExportFile:
    """Seed 001's fiche « Formation ENT »: sessions, the chef's proposal, analyses, criteria."""
    view = paperwork.bilan_view(conn, dossier.id)
    etablissement = etablissement_of(conn, dossier.id)
    entered = conn.execute(
        select(bilan_table.c.hours_entered_by_id, bilan_table.c.hours_entered_for_id).where(
            bilan_table.c.dossier_id == dossier.id
        )
    ).first()
    entered_by = None
    if entered is not None and entered.hours_entered_by_id is not None:
        ids = [i for i in (entered.hours_entered_by_id, entered.hours_entered_for_id) if i]
        names = dict(
            conn.execute(
                select(person_table.c.id, person_table.c.full_name).where(
                    person_table.c.id.in_(ids)
                )
            ).all()
        )
        entered_by = str(names[entered.hours_entered_by_id])
        if entered.hours_entered_for_id is not None:
            entered_by += f" pour {names[entered.hours_entered_for_id]}"
    chefs = ", ".join(m.full_name for m in members(conn, dossier.ref, ["chef_etablissement"]))
    html = render_fiche_bilan_ent(
        view,
        now,
        etablissement=etablissement,
        chefs=chefs,
        place=academie_settings(conn, dossier.academie_id).place,
        entered_by=entered_by,
    )
    return ExportFile(f"fiche-bilan-ent-{dossier.reference}.pdf", PDF, html_to_pdf(html))


def attestation_pdf(item: Attestation) -> bytes:
    """One attestation de formation as a PDF: what a stagiaire downloads and receives."""
    return html_to_pdf(render_attestation(item))


def attestation_file(item: Attestation) -> ExportFile:
    name = f"attestation-{item.reference}-{item.enrolment_id}.pdf"
    return ExportFile(name, PDF, attestation_pdf(item))


def attestations_file(reference: str, items: list[Attestation]) -> ExportFile:
    """Every attestation of a dossier in one PDF, one per page (pilote, EAFC)."""
    return ExportFile(f"attestations-{reference}.pdf", PDF, html_to_pdf(render_attestations(items)))


def sheet_file(sheet: SessionSheet | StepSheet, now: datetime) -> ExportFile:
    """An émargement sheet (a session, or an asynchronous step) as a PDF."""
    printable = sheet_html(sheet, now)
    return ExportFile(
        printable.filename.removesuffix(".html") + ".pdf",
        PDF,
        html_to_pdf(printable.content.decode("utf-8")),
    )
