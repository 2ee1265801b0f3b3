"""« Mes formations »: what a stagiaire reads about their own trainings, and nothing else.

Everything here is keyed by the person asking: their enrolments, the sessions of those
dossiers, *their* attendance, *their* attestation. No function takes another person's id
from the request, so a stagiaire cannot read another stagiaire's data by changing an
address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from states import get_spec
from workflow.engine.errors import DossierNotFound
from workflow.language.vocabulary import ATTENDANCE_STATUSES
from workflow.participants.attestations import Attestation, attestations
from workflow.participants.convocations import STAGIAIRE, sends_to
from workflow.participants.questionnaire import OPEN_STATES as QUESTIONNAIRE_STATES
from workflow.participants.roster import (
    AsyncStep,
    Participant,
    SessionSlot,
    async_steps,
    enrolment_of,
    marks_of,
    slots,
)
from workflow.store.tables import dossier_table as D
from workflow.store.tables import enrolment_table as N


@dataclass(frozen=True, slots=True)
class MySession:
    slot: SessionSlot
    attendance: str | None
    """« Présent », « Absent excusé »… once recorded."""


CANCELLED = "annule"


@dataclass(frozen=True, slots=True)
class MyTraining:
    dossier_id: int
    reference: str
    title: str
    state: str
    state_label: str
    enrolment: Participant
    sessions: tuple[MySession, ...]
    steps: tuple[tuple[AsyncStep, bool | None], ...]
    convoked: bool
    attestation: Attestation | None

    @property
    def active(self) -> bool:
        return self.enrolment.active

    @property
    def questionnaire_answered(self) -> bool:
        return self.enrolment.questionnaire_answered

    @property
    def questionnaire_open(self) -> bool:
        return (
            self.active and self.state in QUESTIONNAIRE_STATES and not self.questionnaire_answered
        )

    @property
    def cancelled(self) -> bool:
        """The training was cancelled: its sessions do not take place."""
        return self.state == CANCELLED

    def upcoming(self, now: datetime) -> tuple[MySession, ...]:
        if self.cancelled:
            return ()
        return tuple(s for s in self.sessions if s.slot.ends_at >= now)


def _training(
    conn: Connection, dossier_id: int, person_id: int, now: datetime
) -> MyTraining | None:
    mine = enrolment_of(conn, dossier_id, person_id)
    if mine is None:
        return None
    row = conn.execute(
        select(D.c.reference, D.c.title, D.c.state, D.c.workflow_name, D.c.workflow_version).where(
            D.c.id == dossier_id
        )
    ).one()
    label = get_spec(row.workflow_name, row.workflow_version).state(row.state).label
    if not mine.active:
        return MyTraining(
            dossier_id, row.reference, row.title, row.state, label, mine, (), (), False, None
        )
    marks = marks_of(conn, dossier_id)
    sessions = tuple(
        MySession(
            s, ATTENDANCE_STATUSES.get(marks.sessions.get((s.id, mine.enrolment_id), ""), None)
        )
        for s in slots(conn, dossier_id)
    )
    steps = tuple(
        (step, marks.steps.get((step.id, mine.enrolment_id)))
        for step in async_steps(conn, dossier_id)
    )
    own = attestations(conn, dossier_id, now, enrolment_id=mine.enrolment_id)
    return MyTraining(
        dossier_id=dossier_id,
        reference=row.reference,
        title=row.title,
        state=row.state,
        state_label=label,
        enrolment=mine,
        sessions=sessions,
        steps=steps,
        convoked=sends_to(conn, dossier_id, STAGIAIRE, mine.email) > 0,
        attestation=own[0] if own else None,
    )


def my_trainings(conn: Connection, person_id: int, now: datetime) -> list[MyTraining]:
    """Every dossier the person is (or was) enrolled on, the most recent first."""
    ids = conn.execute(
        select(N.c.dossier_id).where(N.c.person_id == person_id).order_by(N.c.enrolled_at.desc())
    ).scalars()
    found = [_training(conn, int(d), person_id, now) for d in ids]
    return [t for t in found if t is not None]


def my_training(conn: Connection, person_id: int, dossier_id: int, now: datetime) -> MyTraining:
    """The person's own enrolment on this dossier, or « not found » (never anyone else's)."""
    found = _training(conn, dossier_id, person_id, now)
    if found is None:
        raise DossierNotFound(dossier_id)
    return found
