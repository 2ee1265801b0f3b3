"""Reads that the web pages need beyond one dossier: the roles a person holds anywhere (to
fit their menu), the counts of the dossiers they may see, the choices of the dashboard's
filters, and a dossier's charter tasks.

Counts are scoped by ``visible_clause`` like every list: a page must never tell a person
how many dossiers exist outside what they may see. Every function runs on the caller's
connection and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from states import SPECS
from states.roles import ACADEMIE_ROLES, role_label
from workflow.dossiers.access import visible_clause
from workflow.reads.queries import overdue_clause
from workflow.store.tables import academie_table as AC
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as G
from workflow.store.tables import dossier_table as D
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


@dataclass(frozen=True, slots=True)
class VisibleCount:
    workflow: str
    workflow_label: str
    phase: str
    phase_label: str
    state: str
    label: str
    count: int
    overdue: int


def visible_counts(
    conn: Connection, person_id: int, now: datetime, academie: str | None = None
) -> list[VisibleCount]:
    """Every state of every spec, in spec order, with how many of the person's visible
    dossiers stand in it and how many of those are late; within one académie (its slug)
    when the dashboard is narrowed to it, so that the counts describe the académie shown."""
    late = overdue_clause(now)
    scope = [visible_clause(conn, person_id, now)]
    if academie is not None:
        scope.append(
            D.c.academie_id.in_(select(AC.c.id).where(AC.c.slug == academie).scalar_subquery())
        )
    found = {
        (row.workflow_name, row.workflow_version, row.state): (int(row.n), int(row.late or 0))
        for row in conn.execute(
            select(
                D.c.workflow_name,
                D.c.workflow_version,
                D.c.state,
                func.count().label("n"),
                func.sum(case((late, 1), else_=0)).label("late"),
            )
            .where(*scope)
            .group_by(D.c.workflow_name, D.c.workflow_version, D.c.state)
        )
    }
    result = []
    for spec in SPECS.values():
        for state in spec.states:
            count, overdue = found.get((spec.name, spec.version, state.id), (0, 0))
            result.append(
                VisibleCount(
                    workflow=spec.name,
                    workflow_label=spec.label,
                    phase=state.phase,
                    phase_label=spec.phase(state.phase).label,
                    state=state.id,
                    label=state.label,
                    count=count,
                    overdue=overdue,
                )
            )
    return result


@dataclass(frozen=True, slots=True)
class PersonChoice:
    person_id: int
    full_name: str


def visible_pilotes(conn: Connection, person_id: int, now: datetime) -> list[PersonChoice]:
    """The pilotes of the dossiers the person may see (the dashboard's pilote filter)."""
    rows = conn.execute(
        select(P.c.id, P.c.full_name)
        .join(A, A.c.person_id == P.c.id)
        .join(D, D.c.id == A.c.dossier_id)
        .where(A.c.role == "pilote", visible_clause(conn, person_id, now))
        .group_by(P.c.id, P.c.full_name)
        .order_by(P.c.full_name)
    ).all()
    return [PersonChoice(int(r.id), r.full_name) for r in rows]


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
        )
        for r in rows
    ]
