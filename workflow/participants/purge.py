"""Purging a closed dossier's stagiaire data once the académie's retention period is over.

A closed dossier (mis en paiement, paiement refusé, annulé) keeps its stagiaires' personal
data for ``stagiaire_retention_days`` after it closed (its académie's setting), then loses
it: enrolments and their events, attendance, activities, convocations, the stagiaires'
tasks and role, the emails sent to them or naming them. What stays is counted, never
named: how many were enrolled, withdrew, effectively participated, were present at each
session and did each asynchronous step (``participant_purge``), and the questionnaire's
anonymous answers. A person who is nobody else's concern anywhere any more (no other role,
enrolment, signature, history…) is anonymised: name, address, password and sessions go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Engine, delete, exists, insert, or_, select, update

from workflow.engine.errors import InvalidInput
from workflow.engine.rows import DossierRow, load
from workflow.language.french import format_date
from workflow.participants.access import OPEN_STATES, PARTICIPANT, Part, require
from workflow.participants.counts import trainee_counts
from workflow.participants.roster import async_steps, marks_of, roster, slots
from workflow.store import tables as t
from workflow.store.academie_settings import academie_settings
from workflow.store.types import utcnow

CLOSED = OPEN_STATES[Part.PURGE]
ANONYMOUS_NAME = "Personne supprimée"


def anonymous_email(person_id: int) -> str:
    return f"supprime-{person_id}@anonyme.invalid"


@dataclass(frozen=True, slots=True)
class PurgeStatus:
    """Whether a dossier's stagiaire data may be purged now, and from when."""

    closed: bool
    purged_at: datetime | None
    due_at: datetime | None
    retention_days: int
    people: int

    def due(self, now: datetime) -> bool:
        return (
            self.closed
            and self.purged_at is None
            and self.due_at is not None
            and self.due_at <= now
        )

    def explain(self, now: datetime) -> str:
        if self.purged_at is not None:
            return f"Données des stagiaires supprimées le {format_date(self.purged_at.date())}."
        if not self.closed:
            return (
                "Les données des stagiaires sont conservées tant que le dossier est ouvert, "
                f"puis {self.retention_days} jours après sa clôture."
            )
        assert self.due_at is not None
        if self.due_at > now:
            return (
                f"Dossier clos : les données des stagiaires pourront être supprimées à partir "
                f"du {format_date(self.due_at.date())} ({self.retention_days} jours après la "
                "clôture)."
            )
        return (
            "La durée de conservation est écoulée : les données des stagiaires peuvent être "
            "supprimées."
        )


def status(conn: Connection, dossier: DossierRow) -> PurgeStatus:
    days = academie_settings(conn, dossier.academie_id).stagiaire_retention_days
    purged = conn.execute(
        select(t.purge_table.c.purged_at).where(t.purge_table.c.dossier_id == dossier.id)
    ).scalar()
    people = len(roster(conn, dossier.id))
    closed = dossier.state in CLOSED
    due = dossier.state_entered_at + timedelta(days=days) if closed else None
    return PurgeStatus(closed, purged, due, days, people)


def due_dossiers(conn: Connection, now: datetime) -> list[tuple[int, str]]:
    """(id, reference) of every closed dossier whose stagiaire data is due for purging."""
    D = t.dossier_table
    candidates = conn.execute(
        select(D.c.id, D.c.reference)
        .where(
            D.c.state.in_(CLOSED),
            exists().where(t.enrolment_table.c.dossier_id == D.c.id),
            ~exists().where(t.purge_table.c.dossier_id == D.c.id),
        )
        .order_by(D.c.id)
    ).all()
    return [
        (int(row.id), str(row.reference))
        for row in candidates
        if status(conn, load(conn, int(row.id))).due(now)
    ]


_PERSON_REFERENCES: tuple[Column[Any], ...] = (
    t.assignment_table.c.person_id,
    t.enrolment_table.c.person_id,
    t.delegation_table.c.delegator_id,
    t.delegation_table.c.substitute_id,
    t.history_table.c.actor_id,
    t.history_table.c.on_behalf_of_id,
    t.signature_table.c.person_id,
    t.bilan_hours_table.c.person_id,
    t.payment_line_table.c.person_id,
    t.decision_table.c.decided_by_id,
    t.document_table.c.uploaded_by_id,
    t.correction_table.c.by_id,
    t.session_table.c.formateur_id,
    t.step_table.c.tutor_id,
    t.task_table.c.person_id,
    t.enrolment_event_table.c.by_id,
    t.attendance_table.c.recorded_by_id,
    t.activity_table.c.recorded_by_id,
)
"""Where a person still matters once this dossier's stagiaire data is gone: kept if any."""


def _still_referenced(conn: Connection, person_id: int) -> bool:
    return any(
        conn.execute(select(column).where(column == person_id).limit(1)).first() is not None
        for column in _PERSON_REFERENCES
    )


def _anonymise(conn: Connection, person_id: int) -> None:
    email = conn.execute(
        select(t.person_table.c.email).where(t.person_table.c.id == person_id)
    ).scalar()
    conn.execute(
        update(t.person_table)
        .where(t.person_table.c.id == person_id)
        .values(
            email=anonymous_email(person_id),
            full_name=ANONYMOUS_NAME,
            password_hash=None,
            oidc_issuer=None,
            oidc_subject=None,
            active=False,
        )
    )
    for table in (t.web_session_table, t.api_token_table, t.signin_link_use_table):
        conn.execute(delete(table).where(table.c.person_id == person_id))
    conn.execute(delete(t.outbox_table).where(t.outbox_table.c.person_id == person_id))
    if email:
        keys = [f"email:{email}", f"lien:{email}"]
        conn.execute(delete(t.login_attempt_table).where(t.login_attempt_table.c.key.in_(keys)))


@dataclass(frozen=True, slots=True)
class PurgeResult:
    reference: str
    enrolments: int
    anonymised: int


class Purges:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def purge(self, dossier_id: int, *, actor_id: int | None) -> PurgeResult:
        """One transaction: counts kept, personal data removed. Refused before the end of
        the retention period, and for an open dossier."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.PURGE, now)
            state = status(conn, dossier)
            if not state.due(now):
                raise InvalidInput(state.explain(now))
            people = roster(conn, dossier_id)
            counts = trainee_counts(conn, dossier)
            marks = marks_of(conn, dossier_id)
            kept = {
                "sessions": {
                    str(s.id): sum(
                        1
                        for (sid, _), st in marks.sessions.items()
                        if sid == s.id and st == "present"
                    )
                    for s in slots(conn, dossier_id)
                },
                "etapes": {
                    str(s.id): sum(
                        1 for (sid, _), done in marks.steps.items() if sid == s.id and done
                    )
                    for s in async_steps(conn, dossier_id)
                },
            }
            enrolment_ids = [p.enrolment_id for p in people]
            person_ids = sorted({p.person_id for p in people})
            N = t.enrolment_table
            for table in (t.attendance_table, t.activity_table, t.enrolment_event_table):
                conn.execute(delete(table).where(table.c.enrolment_id.in_(enrolment_ids)))
            conn.execute(
                delete(t.convocation_table).where(t.convocation_table.c.dossier_id == dossier_id)
            )
            OB = t.outbox_table
            conn.execute(
                delete(OB).where(
                    OB.c.dossier_id == dossier_id,
                    or_(OB.c.person_id.in_(person_ids), OB.c.template.like("participants/%")),
                )
            )
            T = t.task_table
            conn.execute(
                delete(T).where(
                    T.c.dossier_id == dossier_id,
                    T.c.person_id.in_(person_ids),
                    T.c.role == PARTICIPANT,
                )
            )
            A = t.assignment_table
            conn.execute(delete(A).where(A.c.dossier_id == dossier_id, A.c.role == PARTICIPANT))
            conn.execute(delete(N).where(N.c.dossier_id == dossier_id))
            conn.execute(
                insert(t.purge_table).values(
                    dossier_id=dossier_id,
                    purged_at=now,
                    purged_by_id=actor_id,
                    enrolled=sum(1 for p in people if p.active),
                    withdrawn=sum(1 for p in people if not p.active),
                    effective=counts.effective.value,
                    counts=kept,
                )
            )
            anonymised = 0
            for person in person_ids:
                if not _still_referenced(conn, person):
                    _anonymise(conn, person)
                    anonymised += 1
            return PurgeResult(dossier.reference, len(enrolment_ids), anonymised)
