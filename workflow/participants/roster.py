"""Reads of a dossier's stagiaires and of what can be attended: sessions, asynchronous steps.

Every function runs on the caller's connection and checks nothing: the edge has asked
``access.team_reader`` (the team) or is showing a stagiaire their own enrolment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from workflow.language.french import PARIS
from workflow.language.vocabulary import MODALITIES
from workflow.store.tables import activity_table as AC
from workflow.store.tables import attendance_table as AT
from workflow.store.tables import enrolment_event_table as EV
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import etablissement_table as E
from workflow.store.tables import person_table as P
from workflow.store.tables import scenario_table as SC
from workflow.store.tables import sequence_table as SQ
from workflow.store.tables import session_table as S
from workflow.store.tables import step_table as ST


@dataclass(frozen=True, slots=True)
class Participant:
    enrolment_id: int
    person_id: int
    full_name: str
    email: str
    etablissement_id: int | None
    etablissement: str | None
    uai: str | None
    head_role: str | None
    head_name: str | None
    head_email: str | None
    discipline: str
    enrolled_at: datetime
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    questionnaire_answered: bool
    attestation_sent_at: datetime | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


_PARTICIPANT = (
    select(
        N.c.id.label("enrolment_id"),
        N.c.person_id,
        P.c.full_name,
        P.c.email,
        N.c.etablissement_id,
        E.c.name.label("etablissement"),
        E.c.uai,
        E.c.head_role,
        E.c.head_name,
        E.c.head_email,
        N.c.discipline,
        N.c.enrolled_at,
        N.c.withdrawn_at,
        N.c.withdrawal_reason,
        N.c.questionnaire_answered,
        N.c.attestation_sent_at,
    )
    .join(P, P.c.id == N.c.person_id)
    .outerjoin(E, E.c.id == N.c.etablissement_id)
)


def roster(conn: Connection, dossier_id: int, *, active_only: bool = False) -> list[Participant]:
    """The dossier's stagiaires by name, the withdrawn ones too unless ``active_only``."""
    query = _PARTICIPANT.where(N.c.dossier_id == dossier_id)
    if active_only:
        query = query.where(N.c.withdrawn_at.is_(None))
    rows = conn.execute(query.order_by(P.c.full_name, N.c.id)).all()
    return [Participant(**row._asdict()) for row in rows]


def participant(conn: Connection, dossier_id: int, enrolment_id: int) -> Participant | None:
    row = conn.execute(
        _PARTICIPANT.where(N.c.dossier_id == dossier_id, N.c.id == enrolment_id)
    ).first()
    return None if row is None else Participant(**row._asdict())


def enrolment_of(conn: Connection, dossier_id: int, person_id: int) -> Participant | None:
    """The person's own enrolment on the dossier (active or not), or None."""
    row = conn.execute(
        _PARTICIPANT.where(N.c.dossier_id == dossier_id, N.c.person_id == person_id)
    ).first()
    return None if row is None else Participant(**row._asdict())


@dataclass(frozen=True, slots=True)
class EnrolmentEventLine:
    kind: str
    at: datetime
    by: str | None
    reason: str | None


EVENT_LABELS = {
    "inscription": "Inscription",
    "desinscription": "Désinscription",
    "reinscription": "Nouvelle inscription",
}


def events_of(conn: Connection, enrolment_id: int) -> list[EnrolmentEventLine]:
    rows = conn.execute(
        select(EV.c.kind, EV.c.at, P.c.full_name, EV.c.reason)
        .outerjoin(P, P.c.id == EV.c.by_id)
        .where(EV.c.enrolment_id == enrolment_id)
        .order_by(EV.c.at, EV.c.id)
    ).all()
    return [EnrolmentEventLine(r.kind, r.at, r.full_name, r.reason) for r in rows]


# What can be attended --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionSlot:
    id: int
    starts_at: datetime
    duration_minutes: int
    modality: str
    place: str | None
    connection_link: str | None
    held: bool
    actual_headcount: int | None
    revision: int

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def modality_label(self) -> str:
        return MODALITIES.get(self.modality, self.modality)

    @property
    def hours(self) -> str:
        """« 14:00 – 17:00 », in Paris."""
        start, end = self.starts_at.astimezone(PARIS), self.ends_at.astimezone(PARIS)
        return f"{start:%H:%M} – {end:%H:%M}"


_SLOT = select(
    S.c.id,
    S.c.starts_at,
    S.c.duration_minutes,
    S.c.modality,
    S.c.place,
    S.c.connection_link,
    S.c.held,
    S.c.actual_headcount,
    S.c.revision,
)


def slots(conn: Connection, dossier_id: int) -> list[SessionSlot]:
    rows = conn.execute(
        _SLOT.where(S.c.dossier_id == dossier_id).order_by(S.c.starts_at, S.c.id)
    ).all()
    return [SessionSlot(**row._asdict()) for row in rows]


def slot(conn: Connection, dossier_id: int, session_id: int) -> SessionSlot | None:
    row = conn.execute(_SLOT.where(S.c.dossier_id == dossier_id, S.c.id == session_id)).first()
    return None if row is None else SessionSlot(**row._asdict())


@dataclass(frozen=True, slots=True)
class AsyncStep:
    """An asynchronous step of the scenario: a period of work at a distance."""

    id: int
    sequence: str
    sequence_position: int
    position: int
    period: str
    scheduled_at: datetime | None
    duration_minutes: int | None
    content: str
    tutor_id: int | None

    @property
    def label(self) -> str:
        when = self.period or f"séquence {self.sequence_position}, étape {self.position}"
        return f"{when} — {self.content or self.sequence}"


def async_steps(conn: Connection, dossier_id: int) -> list[AsyncStep]:
    rows = conn.execute(
        select(
            ST.c.id,
            SQ.c.title.label("sequence"),
            SQ.c.position.label("sequence_position"),
            ST.c.position,
            ST.c.period,
            ST.c.scheduled_at,
            ST.c.duration_minutes,
            ST.c.content,
            ST.c.tutor_id,
        )
        .join(SQ, SQ.c.id == ST.c.sequence_id)
        .join(SC, SC.c.id == SQ.c.scenario_id)
        .where(SC.c.dossier_id == dossier_id, ST.c.modality == "asynchrone")
        .order_by(SQ.c.position, ST.c.position, ST.c.id)
    ).all()
    return [AsyncStep(**row._asdict()) for row in rows]


# What was attended -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Marks:
    """Everything recorded for a dossier: status per (session, enrolment), done per (step,
    enrolment)."""

    sessions: dict[tuple[int, int], str]
    steps: dict[tuple[int, int], bool]

    @property
    def any(self) -> bool:
        return bool(self.sessions or self.steps)


def marks_of(conn: Connection, dossier_id: int) -> Marks:
    enrolments = select(N.c.id).where(N.c.dossier_id == dossier_id)
    sessions = {
        (int(r.session_id), int(r.enrolment_id)): str(r.status)
        for r in conn.execute(
            select(AT.c.session_id, AT.c.enrolment_id, AT.c.status).where(
                AT.c.enrolment_id.in_(enrolments)
            )
        )
    }
    steps = {
        (int(r.step_id), int(r.enrolment_id)): bool(r.done)
        for r in conn.execute(
            select(AC.c.step_id, AC.c.enrolment_id, AC.c.done).where(
                AC.c.enrolment_id.in_(enrolments)
            )
        )
    }
    return Marks(sessions, steps)
