"""The persistent model of dossiers, their people and their paperwork.

SQLModel classes serve the pages and forms; the hot paths (firing a transition, lists)
use the same tables through SQLAlchemy Core, via the ``*_table`` aliases at the bottom.
Every schema change goes through an Alembic migration in ``workflow/migrations``.

One module, past the usual size, on purpose: it is the schema, read side by side with the
migrations (a column added here is a migration there) and against one another (foreign
keys, the indexes the reads rely on); split by table, a reviewer would have to open a
dozen files to see what one migration changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from workflow.store.folding import fold
from workflow.store.types import Hundredths, UTCDateTime, utcnow

HOURS = Hundredths()
MONEY = Hundredths()


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Academie(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    code: str = Field(unique=True, max_length=8)
    """Short code used in dossier references, e.g. ``AMX`` in ``26-AMX-0001``."""
    reply_to: str | None = Field(default=None, max_length=320)
    created_at: datetime = _created()


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_person_oidc"),)
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    full_name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    """Argon2 hash of a local account's password; none for OIDC-only accounts."""
    oidc_issuer: str | None = Field(default=None, max_length=500)
    oidc_subject: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = _created()
    civilite: str | None = Field(default=None, max_length=16)
    """``madame``, ``monsieur`` or none (``states.roles.CIVILITES``): the labels and
    emails that name the person's role agree with it (« Formatrice », « la gestionnaire »)."""


class ReferenceCounter(SQLModel, table=True):
    """Per académie and year, the last number handed out for a dossier reference."""

    __tablename__ = "reference_counter"
    academie_id: int = Field(foreign_key="academie.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_value: int = 0


def _search_text(context: Any) -> str | None:
    """Column default of ``dossier.search_text``: the inserted title, folded."""
    return fold(context.get_current_parameters().get("title"))


class Dossier(SQLModel, table=True):
    __table_args__ = (
        Index("ix_dossier_academie_state_updated", "academie_id", "state", "updated_at"),
        Index("ix_dossier_academie_updated", "academie_id", "updated_at", "id"),
        Index("ix_dossier_workflow_state", "workflow_name", "state"),
        UniqueConstraint("academie_id", "paf_id", name="uq_dossier_paf"),
        # The dashboard's late counts (dossiers that entered a state with a delay recently)
        # and lists sorted by the date a dossier entered its state; archived ones excluded.
        Index(
            "ix_dossier_open_state_entered",
            "academie_id",
            "workflow_name",
            "workflow_version",
            "state",
            "state_entered_at",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        # An académie's open dossiers by how long they have waited in their state.
        Index(
            "ix_dossier_open_entered",
            "academie_id",
            "state_entered_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        # Per académie and state, by the other due-date anchors (migration 0016): the late
        # counts of states due from the training's end or the first session, and lists
        # sorted by due date.
        Index(
            "ix_dossier_open_state_ended",
            "academie_id",
            "workflow_name",
            "workflow_version",
            "state",
            "training_ended_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        # The open dossiers without a training end, by state and entry date (0017): a
        # list sorted by whom they wait on reads them in that order, however many they are.
        Index(
            "ix_dossier_open_unended_entered",
            "academie_id",
            "workflow_name",
            "workflow_version",
            "state",
            "state_entered_at",
            "id",
            postgresql_where=text("archived_at IS NULL AND training_ended_at IS NULL"),
            sqlite_where=text("archived_at IS NULL AND training_ended_at IS NULL"),
        ),
        Index(
            "ix_dossier_open_state_first_session",
            "academie_id",
            "workflow_name",
            "workflow_version",
            "state",
            "first_session_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=32)
    title: str = Field(max_length=300)
    academie_id: int = Field(foreign_key="academie.id")
    workflow_name: str = Field(max_length=64)
    workflow_version: int
    dispositif: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=64)
    version: int = 1
    planned_hours_presentiel: Decimal | None = Field(default=None, sa_type=HOURS)
    planned_hours_distance: Decimal | None = Field(default=None, sa_type=HOURS)
    planned_participants: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    etablissement: str = Field(default="", max_length=300)
    """The établissement named by an ENT convention (seed 001: « Nom de l'établissement »)."""
    state_entered_at: datetime = _created()
    created_at: datetime = _created()
    updated_at: datetime = _created()
    paf_id: str | None = Field(default=None, max_length=64)
    """The plan académique de formation's identifier of this dispositif or module, when the
    dossier came from (or was matched to) a PAF import: re-importing updates by it."""
    search_text: str | None = Field(
        default=None, max_length=700, sa_column_kwargs={"default": _search_text}
    )
    """The title folded for search (``workflow.store.folding``): written with every insert,
    and again by whoever changes the title."""
    history_head: str | None = Field(default=None, max_length=64)
    """The hash of the dossier's last history row (see ``workflow.engine.history``)."""
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set by ``formaflow archive`` once the dossier, closed for longer than its académie's
    retention period, has left the default lists and lost its files and personal data."""
    first_session_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The earliest session's start, kept by triggers on ``training_session`` (migration
    0016): the anchor of the due dates counted from the first session."""
    training_ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the training was last marked as ended (the latest ``terminer`` history row),
    kept by a trigger on ``history`` (migration 0016): the bilan's due date counts from it."""


class DossierCount(SQLModel, table=True):
    """How many dossiers stand in each state, per académie: the dashboard's counts.

    Kept by database triggers on ``dossier`` (migration 0014), in the transaction of the
    write itself, whatever writes (the service, an import, a hand-written fix). Each
    académie's count of a state is split over ``SHARDS`` rows (``shard = dossier id %
    SHARDS``) and summed on read: two concurrent transitions of one académie then wait on
    each other only when their dossiers fall in the same shard, instead of every
    transition of the académie queueing on one counter row.
    """

    __tablename__ = "dossier_count"
    academie_id: int = Field(foreign_key="academie.id", primary_key=True)
    workflow_name: str = Field(max_length=64, primary_key=True)
    workflow_version: int = Field(primary_key=True)
    state: str = Field(max_length=64, primary_key=True)
    archived: bool = Field(primary_key=True)
    shard: int = Field(primary_key=True)
    n: int = 0


class AcademiePilote(SQLModel, table=True):
    """How many dossiers of an académie each pilote holds: the dashboard's pilote filter
    lists these, instead of joining every assignment to every dossier. Kept by triggers
    on ``assignment`` (migration 0014), like ``dossier_count``."""

    __tablename__ = "academie_pilote"
    academie_id: int = Field(foreign_key="academie.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    dossiers: int = 0


class Assignment(SQLModel, table=True):
    """A person holding a role, on one dossier or on a whole académie."""

    __table_args__ = (
        UniqueConstraint("person_id", "role", "dossier_id", name="uq_assignment_dossier"),
        UniqueConstraint("person_id", "role", "academie_id", name="uq_assignment_academie"),
        CheckConstraint(
            "(dossier_id IS NULL) <> (academie_id IS NULL)", name="ck_assignment_scope"
        ),
        Index("ix_assignment_dossier", "dossier_id", "role"),
        Index("ix_assignment_person", "person_id"),
        # Who holds an académie role (the recipients of every transition's emails): without
        # it, each transition scanned every assignment — 200 ms at 2 M assignments.
        Index(
            "ix_assignment_academie_role",
            "academie_id",
            "role",
            postgresql_where=text("academie_id IS NOT NULL"),
            sqlite_where=text("academie_id IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=64)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id")
    academie_id: int | None = Field(default=None, foreign_key="academie.id")
    created_at: datetime = _created()


class Delegation(SQLModel, table=True):
    """A substitute acting for a delegator in one role for a period.

    With no dossier the delegation covers every dossier where the delegator holds the role.
    """

    __table_args__ = (Index("ix_delegation_substitute", "substitute_id"),)
    id: int | None = Field(default=None, primary_key=True)
    delegator_id: int = Field(foreign_key="person.id")
    substitute_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=64)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id")
    academie_id: int | None = Field(default=None, foreign_key="academie.id")
    """When set, the delegation reaches only this académie's dossiers (an académie role, or
    a suppléance made by an académie's administrateur, never leaks into another one)."""
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    revoked_by_id: int | None = Field(default=None, foreign_key="person.id")


class Signature(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint(
            "dossier_id", "person_id", "contract_version", name="uq_signature_person_version"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=64)
    signed_at: datetime = _created()
    contract_sha256: str = Field(max_length=64)
    contract_version: int = 1
    """The number of the contract version signed (1: the contract, 2…: its avenants)."""


class ContractVersion(SQLModel, table=True):
    """One version of a dossier's official document: the contract, then each avenant.

    ``text`` is exactly what the signatories read and sign; ``sha256`` is its fingerprint,
    copied into each signature. A version is frozen once someone signed it: a later change
    of the contract's terms makes a new version (an avenant) rather than editing this one.
    """

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("dossier_id", "number", name="uq_contract_version"),)
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    number: int
    text: str = Field(sa_type=Text)
    sha256: str = Field(max_length=64)
    changes: list[str] = Field(default_factory=list, sa_type=JSON)
    """What this avenant changes, in French (empty for the contract itself)."""
    concerned: list[int] = Field(default_factory=list, sa_type=JSON)
    """Person ids whose own signature this version needs, besides the one-of roles."""
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The terms an avenant is measured against: signatories, planned hours, dispositif."""
    created_at: datetime = _created()
    sealed_document_id: int | None = Field(default=None, foreign_key="document.id", unique=True)
    """The sealed PDF produced when the version's last signature was given."""


class History(SQLModel, table=True):
    """Append-only: the migration installs triggers refusing UPDATE and DELETE."""

    __table_args__ = (UniqueConstraint("dossier_id", "version", name="uq_history_version"),)
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    version: int
    """The dossier version this transition produced."""
    trigger: str = Field(max_length=64)
    from_state: str = Field(max_length=64)
    to_state: str = Field(max_length=64)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="person.id")
    role: str = Field(max_length=64)
    comment: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = _created()
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)
    """SHA-256 of ``prev_hash`` and the canonical row (``workflow.engine.history``); set
    on every row written since migration 0008 and on every older one by it."""


class Task(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("dossier_id", "person_id", "role", "code", name="uq_task"),
        Index("ix_task_person_open", "person_id", "done_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=64)
    phase: str = Field(max_length=64)
    code: str = Field(max_length=64)
    label: str = Field(sa_type=Text)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = _created()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when the task's phase ended (or the dossier did) before it was done: it stays,
    as « non faite », and can no longer be ticked."""


class TrainingSession(SQLModel, table=True):
    """A session planned in the scenario and, once held, what actually happened."""

    __tablename__ = "training_session"
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    modality: str = Field(max_length=32)
    connection_link: str | None = Field(default=None, max_length=2000)
    planned_headcount: int | None = None
    held: bool = False
    actual_headcount: int | None = None
    formateur_id: int | None = Field(default=None, foreign_key="person.id")
    public_type: str = Field(default="", max_length=300)
    """« Type du public concerné » (seed 001's plan de formation ENT)."""
    trainer_count: int = 1
    """Trainers animating together (co-animation from 15 trainees, seed 004)."""
    place: str | None = Field(default=None, max_length=300)
    """Where a session in person is held (room, school, address): the convocation says it."""
    revision: int = 0
    """Bumped each time the session changes, so calendars see the change (iCalendar
    ``SEQUENCE``): a calendar keeps the event with the highest sequence."""
    created_at: datetime = _created()


class Scenario(SQLModel, table=True):
    """The grille de scénarisation (seed 004, annexes 1–2)."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    objectives: str = Field(default="", sa_type=Text)
    competences: str = Field(default="", sa_type=Text)
    prerequisites: str = Field(default="", sa_type=Text)
    public: str = Field(default="", sa_type=Text)
    hours_presentiel: Decimal | None = Field(default=None, sa_type=HOURS)
    hours_distance: Decimal | None = Field(default=None, sa_type=HOURS)
    accompaniment_plan: str = Field(default="", sa_type=Text)
    validation_criteria: str = Field(default="", sa_type=Text)
    penser_a: str = Field(default="", sa_type=Text)
    updated_at: datetime = _created()


class ScenarioSequence(SQLModel, table=True):
    __tablename__ = "scenario_sequence"
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    position: int
    title: str = Field(max_length=300)
    a_faire_en_amont: str = Field(default="", sa_type=Text)


class ScenarioStep(SQLModel, table=True):
    __tablename__ = "scenario_step"
    id: int | None = Field(default=None, primary_key=True)
    sequence_id: int = Field(foreign_key="scenario_sequence.id", index=True)
    position: int
    period: str = Field(default="", max_length=200)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_minutes: int | None = None
    content: str = Field(default="", sa_type=Text)
    modality: str | None = Field(default=None, max_length=32)
    led_by: str = Field(default="formateur", max_length=32)
    tutor_id: int | None = Field(default=None, foreign_key="person.id")
    material: str = Field(default="", sa_type=Text)
    connection_link: str | None = Field(default=None, max_length=2000)
    co_animation: bool = False


class Bilan(SQLModel, table=True):
    """The bilan d'activités (seeds 000, 001, 004); held sessions live in training_session."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    participants_enrolled: int | None = None
    participants_effective: int | None = None
    view_chef_etablissement: str = Field(default="", sa_type=Text)
    view_formateurs: str = Field(default="", sa_type=Text)
    eval_fiabilite: str = Field(default="", sa_type=Text)
    eval_faisabilite: str = Field(default="", sa_type=Text)
    eval_accompagnement: str = Field(default="", sa_type=Text)
    eval_effets: str = Field(default="", sa_type=Text)
    hours_entered_by_id: int | None = Field(default=None, foreign_key="person.id")
    """Who last entered the hours per formateur (on an ENT convention: the chef's proposal)."""
    hours_entered_for_id: int | None = Field(default=None, foreign_key="person.id")
    """The chef d'établissement a gestionnaire entered them for, recorded as such."""
    updated_at: datetime = _created()


class BilanHours(SQLModel, table=True):
    """Hours declared per formateur (and trainees followed, for tutorat)."""

    __tablename__ = "bilan_hours"
    __table_args__ = (UniqueConstraint("dossier_id", "person_id", name="uq_bilan_hours"),)
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    hours: Decimal = Field(sa_type=HOURS)
    trainees_followed: int | None = None


class Document(SQLModel, table=True):
    """Metadata of an uploaded file; the bytes live on disk under the data directory."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255)
    uploaded_by_id: int | None = Field(default=None, foreign_key="person.id")
    uploaded_at: datetime = _created()


class OuvertureParcours(SQLModel, table=True):
    """Fields of a request to open a parcours M@gistère (seed 004, annex 3)."""

    __tablename__ = "ouverture_parcours"
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    nom_parcours: str = Field(default="", max_length=300)
    objectifs: str = Field(default="", sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    pilote_nom: str = Field(default="", max_length=200)
    pilote_courriel: str = Field(default="", max_length=320)
    concepteurs: str = Field(default="", sa_type=Text)
    associe_presentiel: bool | None = None
    duree_presentiel_h: Decimal | None = Field(default=None, sa_type=HOURS)
    duree_distance_h: Decimal | None = Field(default=None, sa_type=HOURS)
    accompagnement_distance: str = Field(default="", sa_type=Text)
    publics: list[str] = Field(default_factory=list, sa_type=JSON)
    public_autre: str = Field(default="", max_length=300)
    format_parcours: str = Field(default="", max_length=300)


class PaymentDecision(SQLModel, table=True):
    """The responsable's decision on a dossier; written once, never edited."""

    __tablename__ = "payment_decision"
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    history_version: int
    """The dossier version of the ``accorder_paiement`` transition that took it."""
    dispositif: str = Field(max_length=64)
    total: Decimal = Field(sa_type=MONEY)
    justification: str | None = Field(default=None, sa_type=Text)
    decided_by_id: int = Field(foreign_key="person.id")
    decided_at: datetime = _created()


class PaymentLineRow(SQLModel, table=True):
    """One person paid for one component, with the calculation shown to them."""

    __tablename__ = "payment_line"
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="payment_decision.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    component: str = Field(max_length=32)
    unit: str = Field(max_length=16)
    units: Decimal = Field(sa_type=HOURS)
    rate: Decimal = Field(sa_type=MONEY)
    amount: Decimal = Field(sa_type=MONEY)
    steps: list[str] = Field(default_factory=list, sa_type=JSON)
    adjusted: bool = False


class JournalEntry(SQLModel, table=True):
    """One payment decision or signature, chained to the previous entry of its académie.

    ``body`` is the canonical JSON of what was decided or signed; ``entry_hash`` is the
    SHA-256 of the previous entry's hash and of ``body``, so editing, inserting or deleting
    an entry breaks the chain (``formaflow audit verify``). Append-only: the migration
    installs triggers refusing UPDATE and DELETE. ``position`` is unique per académie, so
    two concurrent appends can never both extend the same entry (no fork).
    """

    __tablename__ = "decision_journal"
    __table_args__ = (
        UniqueConstraint("academie_id", "position", name="uq_journal_position"),
        UniqueConstraint("kind", "source_id", name="uq_journal_source"),
    )
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    position: int
    kind: str = Field(max_length=32)
    """``decision`` (payment_decision row) or ``signature`` (signature row)."""
    source_id: int
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    recorded_at: datetime = _created()
    body: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class DecisionRates(SQLModel, table=True):
    """The académie's rates as they stood when a payment decision was taken (append-only):
    a later change of rate never rewrites what an earlier decision used."""

    __tablename__ = "payment_decision_rates"
    decision_id: int = Field(foreign_key="payment_decision.id", primary_key=True)
    rates: str = Field(sa_type=Text)
    """Canonical JSON of the rate values (decimal strings) and the virtual-class table."""


class AcademieSetting(SQLModel, table=True):
    """One thing an académie decided for itself (a rate, a deadline delay, the signatories
    of a dispositif…), keyed like its seed file (``tarifs.hse``); absent means the default."""

    __tablename__ = "academie_setting"
    __table_args__ = (UniqueConstraint("academie_id", "key", name="uq_academie_setting"),)
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    key: str = Field(max_length=128)
    value: str = Field(sa_type=Text)
    """Canonical JSON of the value."""
    updated_at: datetime = _created()
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")


class AcademieChange(SQLModel, table=True):
    """Who changed what in an académie's administration, when, old → new (append-only:
    the migration installs triggers refusing UPDATE and DELETE)."""

    __tablename__ = "academie_change"
    __table_args__ = (Index("ix_academie_change_academie_at", "academie_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    key: str = Field(max_length=128)
    """A setting key (``tarifs.hse``), or ``role.<role>``, ``personne``, ``suppleance``…"""
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    """``None``: the operator (CLI) or the seed import."""
    at: datetime = _created()


class AcademieMember(SQLModel, table=True):
    """A person in an académie's directory (created or imported there), whom its pilotes and
    gestionnaires pick from even before they hold any role."""

    __tablename__ = "academie_member"
    __table_args__ = (UniqueConstraint("academie_id", "person_id", name="uq_academie_member"),)
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = _created()
    created_by_id: int | None = Field(default=None, foreign_key="person.id")


class WebSession(SQLModel, table=True):
    """A browser session; the cookie carries a random token, the table only its hash."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    """Absolute end of the session, whatever the activity."""
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for the académie's other systems; stored hashed, revocable, expiring."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16)
    """The first characters of the token, so a person can tell their tokens apart."""
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed afterwards."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("person_id", "key", name="uq_idempotency_key"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    """``None`` while the first request is in flight."""
    response: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    headers: dict[str, str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _created()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Failed sign-ins, counted per account and per client to slow down guessing."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400)
    at: datetime = _created()


class OutboxMessage(SQLModel, table=True):
    """One email to one person, rendered when the transition that caused it committed.

    Rows are written in the transaction of the state change, so an email exists exactly
    when its transition does; the relay sends them later. ``raw`` is the whole RFC 5322
    message, serialised once at enqueue time, so a retry sends the very same bytes (and
    the same ``Message-ID``) and the relay does no rendering work.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_academie_status", "academie_id", "status", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True, max_length=255)
    """Stable per (transition or deadline point, recipient): duplicates are recognisable."""
    academie_id: int = Field(foreign_key="academie.id")
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    template: str = Field(max_length=128)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    to_email: str = Field(max_length=320)
    from_email: str = Field(max_length=320)
    subject: str = Field(max_length=500)
    raw: str = Field(sa_type=Text)
    status: str = Field(default="pending", max_length=16)
    """``pending`` (to send, maybe after ``next_attempt_at``), ``sent`` or ``dead``."""
    attempts: int = 0
    next_attempt_at: datetime = _created()
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """While in the future, a relay has claimed the row; once past, anyone may take it."""
    leased_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, sa_type=Text)
    """The SMTP server's answer (or the connection error) of the last failed attempt."""
    created_at: datetime = _created()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeadlinePoint(SQLModel, table=True):
    """A deadline of a spec that has come due for a dossier and was acted upon.

    A due point is identified by its anchor (the moment the deadline is counted from:
    entry into the state, first session, end of training): a dossier that leaves a state
    and comes back gets a new anchor, hence a new reminder. The unique key makes each
    reminder, escalation or automatic transition happen once per due point, whatever the
    number of timer processes and restarts: the second insert fails and its transaction,
    with its emails, is rolled back.
    """

    __tablename__ = "deadline_point"
    __table_args__ = (
        UniqueConstraint("dossier_id", "deadline_id", "anchor_at", name="uq_deadline_point"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    deadline_id: str = Field(max_length=64)
    anchor_at: datetime = Field(sa_type=UTCDateTime)
    fired_at: datetime = _created()


class ActionLinkUse(SQLModel, table=True):
    """An email action link that was used, recorded with the transition it performed."""

    __tablename__ = "action_link_use"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id")
    dossier_id: int = Field(foreign_key="dossier.id")
    used_at: datetime = _created()


class PafImport(SQLModel, table=True):
    """One PAF file dropped for an académie: kept, so that the confirmation imports exactly
    the file whose dry run the person read, and so that who imported what stays known."""

    __tablename__ = "paf_import"
    __table_args__ = (Index("ix_paf_import_academie", "academie_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    filename: str = Field(max_length=255)
    content: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    """None: the operator's command line."""
    created_at: datetime = _created()
    status: str = Field(default="essai", max_length=16)
    """``essai`` (dry run read, not applied) or ``importe``."""
    imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created: int = 0
    updated: int = 0


class BulkBatch(SQLModel, table=True):
    """One bulk action: a trigger fired on many dossiers, one transaction each, by a worker.

    ``running_academie_id`` holds the académie while the batch is waiting or running and is
    cleared when it ends: being unique, it lets at most one batch run per académie at a time
    (NULLs never collide), on every database, without a partial index.
    """

    __tablename__ = "bulk_batch"
    __table_args__ = (Index("ix_bulk_batch_academie", "academie_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    running_academie_id: int | None = Field(default=None, foreign_key="academie.id", unique=True)
    action: str = Field(max_length=64)
    comment: str | None = Field(default=None, sa_type=Text)
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _created()
    status: str = Field(default="en_attente", max_length=16)
    """``en_attente``, ``en_cours`` or ``terminee``."""
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """While in the future, a worker is running the batch; once past, another may resume it."""
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    total: int = 0


class BulkItem(SQLModel, table=True):
    """One dossier of a batch and what became of it (« fait » or « refusé » and why)."""

    __tablename__ = "bulk_item"
    __table_args__ = (
        UniqueConstraint("batch_id", "dossier_id", name="uq_bulk_item"),
        Index("ix_bulk_item_batch", "batch_id", "position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="bulk_batch.id")
    position: int
    dossier_id: int = Field(foreign_key="dossier.id")
    expected_version: int
    """The version the person saw when choosing it: changed since, it is refused as stale."""
    status: str = Field(default="en_attente", max_length=16)
    """``en_attente``, ``fait`` or ``refuse``."""
    message: str | None = Field(default=None, sa_type=Text)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Etablissement(SQLModel, table=True):
    """A school of the académie whose staff may be trainees, with the person who releases
    them from classes: the chef d'établissement (EPLE) or the IEN (école, circonscription).

    A reference list, not accounts: the head is told by email whom to release and when
    (charter 002), and needs no role on the dossier for that.
    """

    __table_args__ = (
        UniqueConstraint("academie_id", "uai", name="uq_etablissement_uai"),
        Index("ix_etablissement_academie_name", "academie_id", "name"),
    )
    id: int | None = Field(default=None, primary_key=True)
    academie_id: int = Field(foreign_key="academie.id")
    uai: str = Field(max_length=16)
    """The national school identifier (UAI, e.g. ``0131234A``), unique in the académie."""
    name: str = Field(max_length=300)
    kind: str = Field(max_length=32)
    """``etablissement`` (EPLE: collège, lycée) or ``ecole`` (premier degré)."""
    commune: str = Field(default="", max_length=200)
    head_role: str = Field(max_length=32)
    """``chef_etablissement`` or ``ien``: who releases the staff from classes."""
    head_name: str = Field(max_length=200)
    head_email: str = Field(max_length=320)
    created_at: datetime = _created()


class Enrolment(SQLModel, table=True):
    """A person enrolled as a stagiaire on a dossier: the one source of truth of who the
    dossier's trainees are. The ``stagiaire`` assignment that gives them access is written
    and removed with it, by ``workflow.participants.enrolment`` only.

    A withdrawal keeps the row (``withdrawn_at``), so attendance and convocations already
    sent stay explained; ``enrolment_event`` keeps every enrolment and withdrawal.
    """

    __table_args__ = (
        UniqueConstraint("dossier_id", "person_id", name="uq_enrolment_person"),
        Index("ix_enrolment_person", "person_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    etablissement_id: int | None = Field(default=None, foreign_key="etablissement.id")
    discipline: str = Field(default="", max_length=200)
    """The discipline taught or the public (« Mathématiques », « Professeur des écoles »)."""
    enrolled_at: datetime = _created()
    enrolled_by_id: int | None = Field(default=None, foreign_key="person.id")
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="person.id")
    withdrawal_reason: str | None = Field(default=None, sa_type=Text)
    questionnaire_answered: bool = False
    """Only *that* they answered, never what: answers carry no link to a person."""
    attestation_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EnrolmentEvent(SQLModel, table=True):
    """Each enrolment, withdrawal and re-enrolment, by whom and why (never edited)."""

    __tablename__ = "enrolment_event"
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    kind: str = Field(max_length=16)
    at: datetime = _created()
    by_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str | None = Field(default=None, sa_type=Text)


class Attendance(SQLModel, table=True):
    """Présent, absent excusé or absent, per stagiaire and session (the émargement)."""

    __table_args__ = (
        UniqueConstraint("session_id", "enrolment_id", name="uq_attendance"),
        Index("ix_attendance_enrolment", "enrolment_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_session.id")
    enrolment_id: int = Field(foreign_key="enrolment.id")
    status: str = Field(max_length=16)
    recorded_at: datetime = _created()
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")


class ActivityCompletion(SQLModel, table=True):
    """An asynchronous step of the scenario done or not done by one stagiaire."""

    __tablename__ = "activity_completion"
    __table_args__ = (
        UniqueConstraint("step_id", "enrolment_id", name="uq_activity_completion"),
        Index("ix_activity_completion_enrolment", "enrolment_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="scenario_step.id")
    enrolment_id: int = Field(foreign_key="enrolment.id")
    done: bool
    recorded_at: datetime = _created()
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")


class CountCorrection(SQLModel, table=True):
    """A trainee count the formateur set apart from what attendance gives, and why.

    Rows are only added: the latest per figure is in force, the earlier ones are the
    record of every late correction (never a silent change of a paid figure).
    """

    __tablename__ = "count_correction"
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    figure: str = Field(max_length=64)
    """``effectifs`` (stagiaires ayant effectivement participé) or ``suivis:<person id>``
    (candidats tutorés by that tuteur)."""
    computed: int | None = None
    """What attendance gave when the correction was made."""
    value: int
    justification: str = Field(sa_type=Text)
    by_id: int = Field(foreign_key="person.id")
    at: datetime = _created()


class Convocation(SQLModel, table=True):
    """The convocation sent to a stagiaire, or the release notice sent to a school's head,
    for one dossier: how many times, so that a change sends an update, never a copy."""

    __table_args__ = (
        UniqueConstraint("dossier_id", "kind", "recipient_email", name="uq_convocation"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    kind: str = Field(max_length=16)
    """``stagiaire`` or ``responsable`` (chef d'établissement or IEN)."""
    recipient_email: str = Field(max_length=320)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    sends: int = 0
    last_sent_at: datetime = _created()


class QuestionnaireAnswer(SQLModel, table=True):
    """One anonymous answer to the evaluation questionnaire (seed 001's four criteria).

    Deliberately no person, no time and no sequential id: nothing ties an answer to the
    enrolment that was marked as having answered in the same transaction.
    """

    __tablename__ = "questionnaire_answer"
    id: str = Field(primary_key=True, max_length=32)
    """Random (uuid4 hex), so that insertion order reveals nothing."""
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    fiabilite: int
    faisabilite: int
    accompagnement: int
    effets: int
    comment: str = Field(default="", sa_type=Text)


class SigninLinkUse(SQLModel, table=True):
    """An email sign-in link that has served: each opens one session, once."""

    __tablename__ = "signin_link_use"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id")
    used_at: datetime = _created()


class ParticipantPurge(SQLModel, table=True):
    """What is left of a closed dossier's stagiaires once their personal data is purged:
    counts only (the anonymous questionnaire answers stay in their own table)."""

    __tablename__ = "participant_purge"
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    purged_at: datetime = _created()
    purged_by_id: int | None = Field(default=None, foreign_key="person.id")
    enrolled: int
    withdrawn: int
    effective: int | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Per session and per asynchronous step, how many were present or done."""


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


academie_table = _table(Academie)
person_table = _table(Person)
reference_counter_table = _table(ReferenceCounter)
dossier_table = _table(Dossier)
dossier_count_table = _table(DossierCount)
academie_pilote_table = _table(AcademiePilote)
assignment_table = _table(Assignment)
delegation_table = _table(Delegation)
signature_table = _table(Signature)
contract_version_table = _table(ContractVersion)
history_table = _table(History)
task_table = _table(Task)
session_table = _table(TrainingSession)
scenario_table = _table(Scenario)
sequence_table = _table(ScenarioSequence)
step_table = _table(ScenarioStep)
bilan_table = _table(Bilan)
bilan_hours_table = _table(BilanHours)
document_table = _table(Document)
ouverture_table = _table(OuvertureParcours)
decision_table = _table(PaymentDecision)
payment_line_table = _table(PaymentLineRow)
web_session_table = _table(WebSession)
api_token_table = _table(ApiToken)
idempotency_table = _table(IdempotencyRecord)
login_attempt_table = _table(LoginAttempt)
outbox_table = _table(OutboxMessage)
deadline_point_table = _table(DeadlinePoint)
action_link_use_table = _table(ActionLinkUse)
journal_table = _table(JournalEntry)
paf_import_table = _table(PafImport)
bulk_batch_table = _table(BulkBatch)
bulk_item_table = _table(BulkItem)
etablissement_table = _table(Etablissement)
enrolment_table = _table(Enrolment)
enrolment_event_table = _table(EnrolmentEvent)
attendance_table = _table(Attendance)
activity_table = _table(ActivityCompletion)
correction_table = _table(CountCorrection)
convocation_table = _table(Convocation)
answer_table = _table(QuestionnaireAnswer)
signin_link_use_table = _table(SigninLinkUse)
purge_table = _table(ParticipantPurge)
decision_rates_table = _table(DecisionRates)
academie_setting_table = _table(AcademieSetting)
academie_change_table = _table(AcademieChange)
academie_member_table = _table(AcademieMember)

metadata = SQLModel.metadata
