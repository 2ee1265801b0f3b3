"""The paperwork of one dossier as the exports lay it out: header, fiche de rémunération,
printable bilan, the Sofia-FMO package's files and the calendar's sessions.

The edge has asked ``readable`` first; nothing here checks a permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, select

from states import get_spec
from states.dispositifs import DISPOSITIFS
from workflow.engine.rows import load
from workflow.language.vocabulary import KIND_LABELS, MODALITIES
from workflow.payments.simulation import COMPONENT_LABELS
from workflow.reads.queries import Decision, payment_decision
from workflow.reads.records import (
    BilanRecord,
    DocumentRecord,
    SessionRecord,
    bilan_of,
    document_path,
    documents_of,
    sessions_of,
)
from workflow.reads.reports import ZERO, pilotes_of
from workflow.store.tables import academie_table, person_table

# --- One dossier: fiche de rémunération, bilan, Sofia pack, sessions ------------------------


@dataclass(frozen=True, slots=True)
class Header:
    id: int
    reference: str
    title: str
    academie: str
    dispositif: str
    state: str
    planned_start: date | None
    planned_end: date | None
    pilotes: str


def header(conn: Connection, dossier_id: int) -> Header:
    dossier = load(conn, dossier_id)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    name = conn.execute(
        select(academie_table.c.name).where(academie_table.c.id == dossier.academie_id)
    ).scalar_one()
    return Header(
        id=dossier.id,
        reference=dossier.reference,
        title=dossier.title,
        academie=str(name),
        dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "(aucun)",
        state=spec.state(dossier.state).label,
        planned_start=dossier.planned_start,
        planned_end=dossier.planned_end,
        pilotes=pilotes_of(conn, dossier),
    )


@dataclass(frozen=True, slots=True)
class FicheLine:
    component: str
    unit: str
    units: Decimal
    rate: Decimal
    amount: Decimal
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PayeeSheet:
    full_name: str
    lines: tuple[FicheLine, ...]
    total: Decimal


@dataclass(frozen=True, slots=True)
class Fiche:
    header: Header
    decision: Decision | None
    payees: tuple[PayeeSheet, ...]


def fiche(conn: Connection, dossier_id: int) -> Fiche:
    """The fiche de rémunération: each person paid, their lines and steps, from the
    decision as stored (never recomputed: it is what was decided)."""
    decision = payment_decision(conn, dossier_id)
    payees: dict[int, list[FicheLine]] = {}
    names: dict[int, str] = {}
    for line in decision.lines if decision else []:
        names[line.person_id] = line.full_name
        payees.setdefault(line.person_id, []).append(
            FicheLine(
                COMPONENT_LABELS.get(line.component, line.component),
                line.unit,
                line.units,
                line.rate,
                line.amount,
                tuple(line.steps),
            )
        )
    sheets = tuple(
        PayeeSheet(names[pid], tuple(lines), sum((x.amount for x in lines), ZERO))
        for pid, lines in payees.items()
    )
    return Fiche(header(conn, dossier_id), decision, sheets)


@dataclass(frozen=True, slots=True)
class BilanView:
    header: Header
    bilan: BilanRecord
    hours: tuple[tuple[str, Decimal, int | None], ...]
    """(name, hours, trainees followed) per declared person."""
    sessions: tuple[tuple[SessionRecord, str, str], ...]
    """(session, modality label, formateur name) for each held session."""
    documents: tuple[tuple[DocumentRecord, str], ...]


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(person_table.c.id, person_table.c.full_name).where(person_table.c.id.in_(ids))
    )
    return {int(r.id): str(r.full_name) for r in rows}


def bilan_view(conn: Connection, dossier_id: int) -> BilanView:
    bilan = bilan_of(conn, dossier_id)
    sessions = [s for s in sessions_of(conn, dossier_id) if s.held]
    names = _names(
        conn,
        {h.person_id for h in bilan.hours} | {s.formateur_id for s in sessions if s.formateur_id},
    )
    return BilanView(
        header=header(conn, dossier_id),
        bilan=bilan,
        hours=tuple(
            (names.get(h.person_id, str(h.person_id)), h.hours, h.trainees_followed)
            for h in bilan.hours
        ),
        sessions=tuple(
            (
                s,
                MODALITIES.get(s.modality, s.modality),
                names.get(s.formateur_id, "") if s.formateur_id else "",
            )
            for s in sessions
        ),
        documents=tuple(
            (d, KIND_LABELS.get(d.kind, d.kind)) for d in documents_of(conn, dossier_id)
        ),
    )


SOFIA_KINDS = ("emargement", "fiche_remuneration")


@dataclass(frozen=True, slots=True)
class PackFile:
    document: DocumentRecord
    kind_label: str
    path: Path | None
    uploaded_by: str


def sofia_files(conn: Connection, dossier_id: int, data_dir: Path) -> list[PackFile]:
    """The émargement lists and fiches de rémunération deposited on the dossier (Sofia-FMO)."""
    documents = [d for d in documents_of(conn, dossier_id) if d.kind in SOFIA_KINDS]
    names = _names(conn, {d.uploaded_by_id for d in documents if d.uploaded_by_id})
    return [
        PackFile(
            d,
            KIND_LABELS.get(d.kind, d.kind),
            document_path(data_dir, d.storage_key),
            names.get(d.uploaded_by_id, "") if d.uploaded_by_id else "",
        )
        for d in documents
    ]


@dataclass(frozen=True, slots=True)
class CalendarSession:
    session: SessionRecord
    modality: str
    formateur: str
    ends_at: datetime


def calendar_sessions(conn: Connection, dossier_id: int) -> list[CalendarSession]:
    sessions = sessions_of(conn, dossier_id)
    names = _names(conn, {s.formateur_id for s in sessions if s.formateur_id})
    return [
        CalendarSession(
            s,
            MODALITIES.get(s.modality, s.modality),
            names.get(s.formateur_id, "") if s.formateur_id else "",
            s.starts_at + timedelta(minutes=s.duration_minutes),
        )
        for s in sessions
    ]
