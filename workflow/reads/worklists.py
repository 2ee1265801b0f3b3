"""Reads that the web pages need beyond one dossier: the roles a person holds anywhere (to
fit their menu), the counts of the dossiers they may see, the choices of the dashboard's
filters, and a dossier's charter tasks.

Counts are scoped by ``Visibility`` like every list: a page must never tell a person
how many dossiers exist outside what they may see. Every function runs on the caller's
connection and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from states.roles import ACADEMIE_ROLES, role_label
from workflow.dossiers.access import Visibility, visibility
from workflow.engine.due import DeadlineDelays
from workflow.reads.counts import PersonChoice, VisibleCount, pilote_choices, state_counts
from workflow.store.tables import academie_table as AC
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as G
from workflow.store.tables import person_table as P
from workflow.store.tables import task_table as T


def roles_held(conn: Connection, person_id: int, now: datetime) -> frozenset[str]:
    """Every role the person holds somewhere (on a dossier, on an académie, or as a live
    substitute of a pilote): the header menu offers the pages of these roles only."""
    direct = set(conn.execute(select(A.c.role).where(A.c.person_id == person_id)).scalars())
    delegated = conn.execute(
        select(G.c.role).where(
            G.c.substitute_id == person_id,
            G.c.starts_at <= now,
            G.c.ends_at > now,
            G.c.revoked_at.is_(None),
        )
    ).scalars()
    return frozenset(direct | set(delegated))


def visible_counts(
    conn: Connection,
    person_id: int,
    now: datetime,
    academie: str | None = None,
    *,
    seen: Visibility | None = None,
    archived: bool = False,
    delays: DeadlineDelays | None = None,
) -> list[VisibleCount]:
    """Every state of every spec, in spec order, with how many of the person's visible
    dossiers stand in it and how many of those are late; within one académie (its slug)
    when the dashboard is narrowed to it, so that the counts describe the académie shown.
    Read from the counters (``workflow.reads.counts``), not by scanning the dossiers."""
    seen = seen or visibility(conn, person_id, now)
    return state_counts(conn, seen, now, academie, archived=archived, delays=delays)


def visible_pilotes(
    conn: Connection, person_id: int, now: datetime, *, seen: Visibility | None = None
) -> list[PersonChoice]:
    """The pilotes of the dossiers the person may see, by name (the dashboard's pilote
    filter caps them with ``pilote_choices``)."""
    found = pilote_choices(conn, seen or visibility(conn, person_id, now))
    assert found is not None  # no limit: never too many
    return found


@dataclass(frozen=True, slots=True)
class AcademieChoice:
    slug: str
    name: str


def staff_academies(conn: Connection, person_id: int) -> list[AcademieChoice]:
    """The académies where the person is gestionnaire or responsable, by name: the
    dashboard's académie filter offers these and no other (``visible_clause`` decides what
    is shown; the filter only narrows it)."""
    rows = conn.execute(
        select(AC.c.slug, AC.c.name)
        .join(A, A.c.academie_id == AC.c.id)
        .where(A.c.person_id == person_id, A.c.role.in_(list(ACADEMIE_ROLES)))
        .group_by(AC.c.slug, AC.c.name)
        .order_by(AC.c.name)
    ).all()
    return [AcademieChoice(str(r.slug), str(r.name)) for r in rows]


@dataclass(frozen=True, slots=True)
class DossierTask:
    id: int
    person_id: int
    holder: str
    role_label: str
    phase: str
    label: str
    due_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None = None


def tasks_of(conn: Connection, dossier_id: int) -> list[DossierTask]:
    """Every charter task of the dossier, by phase then holder (the caller has checked that
    the person may read the dossier)."""
    rows = conn.execute(
        select(T, P.c.full_name, P.c.civilite)
        .join(P, P.c.id == T.c.person_id)
        .where(T.c.dossier_id == dossier_id)
        .order_by(T.c.created_at, P.c.full_name, T.c.id)
    ).all()
    return [
        DossierTask(
            id=r.id,
            person_id=r.person_id,
            holder=r.full_name,
            role_label=role_label(r.role, r.civilite),
            phase=r.phase,
            label=r.label,
            due_at=r.due_at,
            done_at=r.done_at,
            closed_at=r.closed_at,
        )
        for r in rows
    ]
