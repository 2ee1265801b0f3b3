"""Recording attendance: one session's présents and absents, one asynchronous step's work
done, and a formateur's correction of a count. Each call is one transaction.

After each of them the bilan's figures are brought in line in the same transaction — the
number enrolled and effectively present, each tuteur's « stagiaires suivis » — and the
session is marked as held with its headcount (the virtual-class barème reads it), so the
bilan and the barème follow the attendance without anyone typing the numbers again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update

from workflow.engine.errors import InvalidInput
from workflow.engine.rows import DossierRow
from workflow.language.french import format_datetime
from workflow.participants.access import Part, require
from workflow.participants.counts import EFFECTIVE, FOLLOWED, trainee_counts
from workflow.participants.inputs import ActivityMarks, CorrectionInput, SessionMarks
from workflow.participants.roster import async_steps, slot
from workflow.store.tables import activity_table as AC
from workflow.store.tables import attendance_table as AT
from workflow.store.tables import bilan_hours_table as BH
from workflow.store.tables import bilan_table as B
from workflow.store.tables import correction_table as C
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import session_table as S
from workflow.store.types import utcnow


def _active_enrolments(conn: Connection, dossier_id: int) -> set[int]:
    return {
        int(e)
        for e in conn.execute(
            select(N.c.id).where(N.c.dossier_id == dossier_id, N.c.withdrawn_at.is_(None))
        ).scalars()
    }


def _check_people(conn: Connection, dossier_id: int, ids: set[int]) -> None:
    unknown = ids - _active_enrolments(conn, dossier_id)
    if unknown:
        raise InvalidInput(
            "Certaines personnes ne sont pas (ou plus) inscrites sur ce dossier : rechargez "
            "la page.",
            "marks",
        )


def sync_bilan(conn: Connection, dossier: DossierRow, now: datetime) -> None:
    """The bilan's counts as attendance (and its corrections) give them."""
    counts = trainee_counts(conn, dossier)
    if not counts.from_attendance:
        return
    values = {
        "participants_enrolled": counts.enrolled,
        "participants_effective": counts.effective.value,
        "updated_at": now,
    }
    existing = conn.execute(select(B.c.id).where(B.c.dossier_id == dossier.id)).scalar()
    if existing is None:
        conn.execute(insert(B).values(dossier_id=dossier.id, **values))
    else:
        conn.execute(update(B).where(B.c.id == existing).values(**values))
    for tutor, figure in counts.followed.items():
        if figure.value is not None:
            conn.execute(
                update(BH)
                .where(BH.c.dossier_id == dossier.id, BH.c.person_id == tutor)
                .values(trainees_followed=figure.value)
            )


class Registers:
    """The attendance registers of the dossiers (émargement, activity done)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def record_session(
        self, dossier_id: int, session_id: int, data: SessionMarks, *, actor_id: int | None
    ) -> int:
        """Statuses for the listed stagiaires; the session becomes held. Its headcount."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ATTENDANCE, now)
            session = slot(conn, dossier_id, session_id)
            if session is None:
                raise InvalidInput("Cette session n'appartient pas à ce dossier.", "session")
            if session.starts_at > now:
                # Recording presences makes the session held: as on the session form, only
                # once it has begun (its hours would go to payment for work not yet done).
                raise InvalidInput(
                    "Les présences d'une session se saisissent une fois qu'elle a commencé : "
                    f"celle-ci commence le {format_datetime(session.starts_at)}.",
                    "session",
                )
            _check_people(conn, dossier_id, set(data.marks))
            if data.marks:
                conn.execute(
                    delete(AT).where(
                        AT.c.session_id == session_id, AT.c.enrolment_id.in_(list(data.marks))
                    )
                )
                conn.execute(
                    insert(AT),
                    [
                        {
                            "session_id": session_id,
                            "enrolment_id": enrolment,
                            "status": status,
                            "recorded_at": now,
                            "recorded_by_id": actor_id,
                        }
                        for enrolment, status in data.marks.items()
                    ],
                )
            present = len(
                conn.execute(
                    select(AT.c.id).where(
                        AT.c.session_id == session_id,
                        AT.c.status == "present",
                        AT.c.enrolment_id.in_(list(_active_enrolments(conn, dossier_id))),
                    )
                ).all()
            )
            # Held, with its headcount: not a calendar change, so no new revision.
            conn.execute(
                update(S).where(S.c.id == session_id).values(held=True, actual_headcount=present)
            )
            sync_bilan(conn, dossier, now)
            return present

    def record_step(
        self, dossier_id: int, step_id: int, data: ActivityMarks, *, actor_id: int | None
    ) -> int:
        """Done or not for the listed stagiaires on one asynchronous step; how many did it."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ATTENDANCE, now)
            if step_id not in {s.id for s in async_steps(conn, dossier_id)}:
                raise InvalidInput(
                    "Cette étape n'est pas une étape asynchrone du scénario de ce dossier.", "etape"
                )
            _check_people(conn, dossier_id, set(data.done))
            if data.done:
                conn.execute(
                    delete(AC).where(
                        AC.c.step_id == step_id, AC.c.enrolment_id.in_(list(data.done))
                    )
                )
                conn.execute(
                    insert(AC),
                    [
                        {
                            "step_id": step_id,
                            "enrolment_id": enrolment,
                            "done": done,
                            "recorded_at": now,
                            "recorded_by_id": actor_id,
                        }
                        for enrolment, done in data.done.items()
                    ],
                )
            sync_bilan(conn, dossier, now)
            return sum(1 for done in data.done.values() if done)

    def correct(self, dossier_id: int, data: CorrectionInput, *, actor_id: int) -> None:
        """Set a count apart from attendance, with its justification (recorded, never
        silent); the bilan shows the corrected figure, the barème uses it."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.COUNTS, now)
            counts = trainee_counts(conn, dossier)
            if not counts.from_attendance:
                raise InvalidInput(
                    "Aucune présence n'est enregistrée : saisissez les effectifs dans le bilan.",
                    "figure",
                )
            if data.figure == EFFECTIVE:
                figure = counts.effective
                if data.value > counts.enrolled:
                    raise InvalidInput(
                        f"Plus de participants ({data.value}) que d'inscrits ({counts.enrolled}).",
                        "value",
                    )
            else:
                kind, _, tutor = data.figure.partition(":")
                found = (
                    counts.followed.get(int(tutor))
                    if kind == FOLLOWED and tutor.isdigit()
                    else None
                )
                if found is None:
                    raise InvalidInput("Ce nombre n'existe pas pour ce dossier.", "figure")
                figure = found
            if data.value == figure.value:
                raise InvalidInput(
                    "Ce nombre est déjà celui du bilan : aucune correction à enregistrer.", "value"
                )
            conn.execute(
                insert(C).values(
                    dossier_id=dossier_id,
                    figure=data.figure,
                    computed=figure.computed,
                    value=data.value,
                    justification=data.justification,
                    by_id=actor_id,
                    at=now,
                )
            )
            sync_bilan(conn, dossier, now)
