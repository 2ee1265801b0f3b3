"""What the EAFC and ops see and do with the outbox: list, send again, purge.

A gestionnaire sees the emails of their académie — the dead ones above all, with the SMTP
server's answer, since a dead email is a trainer who never heard of their bilan deadline.
Each function here runs in a transaction of its own: these are not transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, select, update

from states.roles import ACADEMIE_ROLES
from workflow.reads.queries import reading
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as D
from workflow.store.tables import outbox_table as O
from workflow.store.types import utcnow

STATUSES = ("pending", "sent", "dead")


@dataclass(frozen=True, slots=True)
class OutboxLine:
    id: int
    message_id: str
    academie_id: int
    dossier_id: int | None
    dossier_reference: str | None
    template: str
    to_email: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def staff_academies(engine: Engine, person_id: int) -> list[int]:
    """The académies where this person is EAFC staff (gestionnaire or responsable)."""
    with reading(engine) as conn:
        return list(
            conn.execute(
                select(A.c.academie_id)
                .where(
                    A.c.person_id == person_id,
                    A.c.academie_id.is_not(None),
                    A.c.role.in_(list(ACADEMIE_ROLES)),
                )
                .distinct()
            ).scalars()
        )


def lines(
    engine: Engine,
    *,
    academies: list[int] | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
    conn: Connection | None = None,
) -> list[OutboxLine]:
    """Newest first; ``academies=None`` means every académie (the ops command). ``conn``: a
    read connection the caller already holds (a page's), to spare a checkout."""
    query = select(
        O.c.id,
        O.c.message_id,
        O.c.academie_id,
        O.c.dossier_id,
        D.c.reference.label("dossier_reference"),
        O.c.template,
        O.c.to_email,
        O.c.subject,
        O.c.status,
        O.c.attempts,
        O.c.next_attempt_at,
        O.c.last_error,
        O.c.created_at,
        O.c.sent_at,
    ).outerjoin(D, D.c.id == O.c.dossier_id)
    if academies is not None:
        query = query.where(O.c.academie_id.in_(academies))
    if status is not None:
        query = query.where(O.c.status == status)
    query = query.order_by(O.c.created_at.desc(), O.c.id.desc()).limit(limit).offset(offset)
    if conn is not None:
        return [OutboxLine(**row._asdict()) for row in conn.execute(query)]
    with reading(engine) as held:
        return [OutboxLine(**row._asdict()) for row in held.execute(query)]


def counts(engine: Engine, academies: list[int] | None = None) -> dict[str, int]:
    query = select(O.c.status, func.count()).group_by(O.c.status)
    if academies is not None:
        query = query.where(O.c.academie_id.in_(academies))
    with reading(engine) as conn:
        found = {str(status): int(n) for status, n in conn.execute(query).all()}
    return {status: found.get(status, 0) for status in STATUSES}


def retry(
    engine: Engine, *, ids: list[int] | None = None, academies: list[int] | None = None
) -> int:
    """Put dead messages back in the queue, due now, with a fresh attempt count."""
    statement = (
        update(O)
        .where(O.c.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None)
    )
    if ids is not None:
        statement = statement.where(O.c.id.in_(ids))
    if academies is not None:
        statement = statement.where(O.c.academie_id.in_(academies))
    with engine.begin() as conn:
        return int(conn.execute(statement).rowcount)


def purge(engine: Engine, *, older_than_days: int, dead_too: bool = False) -> int:
    """Delete sent messages (and dead ones, if asked) older than the given age."""
    limit = utcnow() - timedelta(days=older_than_days)
    kept = ("sent", "dead") if dead_too else ("sent",)
    with engine.begin() as conn:
        return int(
            conn.execute(delete(O).where(O.c.status.in_(kept), O.c.created_at < limit)).rowcount
        )
