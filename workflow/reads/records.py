"""Read queries for the parts of a dossier edited outside transitions.

Scenario, sessions, bilan, documents and demande come back as plain frozen records shaped
like the inputs that wrote them (``workflow.dossiers.inputs``), so that an edge can show them, or
send them back edited, without knowing the tables. Every function runs on the caller's
connection and checks nothing: the caller has already asked ``workflow.access.readable``.
Statements are built once, at import, like the hot paths of the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, bindparam, select

from workflow.store.tables import (
    bilan_hours_table,
    bilan_table,
    document_table,
    ouverture_table,
    scenario_table,
    sequence_table,
    session_table,
    step_table,
)

# Records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepRecord:
    position: int
    period: str
    scheduled_at: datetime | None
    duration_minutes: int | None
    content: str
    modality: str | None
    led_by: str
    tutor_id: int | None
    material: str
    connection_link: str | None
    co_animation: bool


@dataclass(frozen=True, slots=True)
class SequenceRecord:
    position: int
    title: str
    a_faire_en_amont: str
    steps: tuple[StepRecord, ...]


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    """The scenario grid; all blank (and ``updated_at`` None) before the first save."""

    objectives: str = ""
    competences: str = ""
    prerequisites: str = ""
    public: str = ""
    hours_presentiel: Decimal | None = None
    hours_distance: Decimal | None = None
    accompaniment_plan: str = ""
    validation_criteria: str = ""
    penser_a: str = ""
    sequences: tuple[SequenceRecord, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    starts_at: datetime
    duration_minutes: int
    modality: str
    connection_link: str | None
    planned_headcount: int | None
    held: bool
    actual_headcount: int | None
    formateur_id: int | None
    trainer_count: int
    created_at: datetime
    revision: int = 0
    """How many times the session changed (the iCalendar SEQUENCE of its event)."""
    public_type: str = ""
    """« Type du public concerné » (seed 001)."""


@dataclass(frozen=True, slots=True)
class HoursRecord:
    person_id: int
    hours: Decimal
    trainees_followed: int | None


@dataclass(frozen=True, slots=True)
class BilanRecord:
    """The bilan d'activités; all blank (and ``updated_at`` None) before the first save."""

    participants_enrolled: int | None = None
    participants_effective: int | None = None
    view_chef_etablissement: str = ""
    view_formateurs: str = ""
    eval_fiabilite: str = ""
    eval_faisabilite: str = ""
    eval_accompagnement: str = ""
    eval_effets: str = ""
    hours: tuple[HoursRecord, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: int
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_key: str
    uploaded_by_id: int | None
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class DemandeRecord:
    """The request to open a parcours M@gistère; blank before the first save."""

    nom_parcours: str = ""
    objectifs: str = ""
    description: str = ""
    pilote_nom: str = ""
    pilote_courriel: str = ""
    concepteurs: str = ""
    associe_presentiel: bool | None = None
    duree_presentiel_h: Decimal | None = None
    duree_distance_h: Decimal | None = None
    accompagnement_distance: str = ""
    publics: tuple[str, ...] = ()
    public_autre: str = ""
    format_parcours: str = ""


# Statements -----------------------------------------------------------------------------

_SCENARIO_FIELDS = [name for name in ScenarioRecord.__dataclass_fields__ if name != "sequences"]
_SCENARIO = select(
    scenario_table.c.id, *(scenario_table.c[name] for name in _SCENARIO_FIELDS)
).where(scenario_table.c.dossier_id == bindparam("dossier_id"))
_SEQUENCES = (
    select(
        sequence_table.c.id,
        sequence_table.c.position,
        sequence_table.c.title,
        sequence_table.c.a_faire_en_amont,
    )
    .where(sequence_table.c.scenario_id == bindparam("scenario_id"))
    .order_by(sequence_table.c.position, sequence_table.c.id)
)
_STEP_FIELDS = list(StepRecord.__dataclass_fields__)
_STEPS = (
    select(step_table.c.sequence_id, *(step_table.c[name] for name in _STEP_FIELDS))
    .join(sequence_table, sequence_table.c.id == step_table.c.sequence_id)
    .where(sequence_table.c.scenario_id == bindparam("scenario_id"))
    .order_by(step_table.c.sequence_id, step_table.c.position, step_table.c.id)
)

_SESSIONS = select(*(session_table.c[name] for name in SessionRecord.__dataclass_fields__)).where(
    session_table.c.dossier_id == bindparam("dossier_id")
)
_SESSION_LIST = _SESSIONS.order_by(session_table.c.starts_at, session_table.c.id)
_ONE_SESSION = _SESSIONS.where(session_table.c.id == bindparam("session_id"))

_BILAN_FIELDS = [name for name in BilanRecord.__dataclass_fields__ if name != "hours"]
_BILAN = select(*(bilan_table.c[name] for name in _BILAN_FIELDS)).where(
    bilan_table.c.dossier_id == bindparam("dossier_id")
)
_HOURS = (
    select(*(bilan_hours_table.c[name] for name in HoursRecord.__dataclass_fields__))
    .where(bilan_hours_table.c.dossier_id == bindparam("dossier_id"))
    .order_by(bilan_hours_table.c.person_id)
)

_DOCUMENTS = select(
    *(document_table.c[name] for name in DocumentRecord.__dataclass_fields__)
).where(document_table.c.dossier_id == bindparam("dossier_id"))
_DOCUMENT_LIST = _DOCUMENTS.order_by(document_table.c.uploaded_at, document_table.c.id)
_ONE_DOCUMENT = _DOCUMENTS.where(document_table.c.id == bindparam("document_id"))

_DEMANDE = select(*(ouverture_table.c[name] for name in DemandeRecord.__dataclass_fields__)).where(
    ouverture_table.c.dossier_id == bindparam("dossier_id")
)


# Queries --------------------------------------------------------------------------------


def scenario_of(conn: Connection, dossier_id: int) -> ScenarioRecord:
    row = conn.execute(_SCENARIO, {"dossier_id": dossier_id}).first()
    if row is None:
        return ScenarioRecord()
    steps: dict[int, list[StepRecord]] = {}
    for step in conn.execute(_STEPS, {"scenario_id": row.id}):
        values = step._asdict()
        steps.setdefault(values.pop("sequence_id"), []).append(StepRecord(**values))
    sequences = tuple(
        SequenceRecord(
            position=s.position,
            title=s.title,
            a_faire_en_amont=s.a_faire_en_amont,
            steps=tuple(steps.get(s.id, ())),
        )
        for s in conn.execute(_SEQUENCES, {"scenario_id": row.id})
    )
    fields = {name: getattr(row, name) for name in _SCENARIO_FIELDS}
    return ScenarioRecord(**fields, sequences=sequences)


def sessions_of(conn: Connection, dossier_id: int) -> list[SessionRecord]:
    """Every session of the dossier, planned or held, in chronological order."""
    return [
        SessionRecord(**row._asdict())
        for row in conn.execute(_SESSION_LIST, {"dossier_id": dossier_id})
    ]


def session_of(conn: Connection, dossier_id: int, session_id: int) -> SessionRecord | None:
    """The session if it belongs to this dossier; None otherwise, whatever else exists."""
    row = conn.execute(_ONE_SESSION, {"dossier_id": dossier_id, "session_id": session_id}).first()
    return None if row is None else SessionRecord(**row._asdict())


def bilan_of(conn: Connection, dossier_id: int) -> BilanRecord:
    row = conn.execute(_BILAN, {"dossier_id": dossier_id}).first()
    hours = tuple(
        HoursRecord(**line._asdict()) for line in conn.execute(_HOURS, {"dossier_id": dossier_id})
    )
    if row is None:
        return BilanRecord(hours=hours)
    return BilanRecord(**row._asdict(), hours=hours)


def documents_of(conn: Connection, dossier_id: int) -> list[DocumentRecord]:
    """Metadata of the dossier's files, oldest first."""
    return [
        DocumentRecord(**row._asdict())
        for row in conn.execute(_DOCUMENT_LIST, {"dossier_id": dossier_id})
    ]


def document_of(conn: Connection, dossier_id: int, document_id: int) -> DocumentRecord | None:
    """The document if it belongs to this dossier; None otherwise."""
    row = conn.execute(
        _ONE_DOCUMENT, {"dossier_id": dossier_id, "document_id": document_id}
    ).first()
    return None if row is None else DocumentRecord(**row._asdict())


def demande_of(conn: Connection, dossier_id: int) -> DemandeRecord:
    row = conn.execute(_DEMANDE, {"dossier_id": dossier_id}).first()
    if row is None:
        return DemandeRecord()
    values = row._asdict()
    return DemandeRecord(**{**values, "publics": tuple(values["publics"] or ())})


def document_path(data_dir: Path, storage_key: str) -> Path | None:
    """Where ``DossierEditor.add_document`` put the bytes of a document; None when the key
    would lead outside the documents directory (a damaged row must not serve any file)."""
    root = (data_dir / "documents").resolve()
    path = (root / storage_key).resolve()
    return path if path.is_relative_to(root) else None
