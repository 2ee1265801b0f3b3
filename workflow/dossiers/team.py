"""Reads of a dossier's team as its pages show it: known people, holders, delegations.

The engine's own question (which roles does this actor hold here?) is in
``workflow.engine.roles``; this module serves the people composing a team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, union

from workflow.engine.roles import DossierRef
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as D
from workflow.store.tables import dossier_table as T
from workflow.store.tables import person_table as P


@dataclass(frozen=True, slots=True)
class Person:
    person_id: int
    full_name: str
    email: str
    civilite: str | None = None


def known_people(conn: Connection, academie_id: int, limit: int = 1000) -> list[Person]:
    """The people who hold a role in the académie (on it, or on one of its dossiers), by
    name: whom a pilote or gestionnaire picks from when composing a team, so that they need
    not know a colleague's address by heart. Anyone else can still be added by address."""
    on_academie = select(A.c.person_id).where(A.c.academie_id == academie_id)
    on_a_dossier = (
        select(A.c.person_id)
        .join(T, T.c.id == A.c.dossier_id)
        .where(T.c.academie_id == academie_id)
    )
    rows = conn.execute(
        select(P.c.id, P.c.full_name, P.c.email)
        .where(P.c.id.in_(union(on_academie, on_a_dossier)))
        .order_by(P.c.full_name, P.c.id)
        .limit(limit)
    ).all()
    return [Person(int(r.id), r.full_name, r.email) for r in rows]


def holds(conn: Connection, dossier_id: int, person_id: int, role: str) -> bool:
    """Whether the person already holds ``role`` on the dossier itself (not via a
    delegation): adding them again would change nothing, and the page says so."""
    found = select(A.c.id).where(
        A.c.dossier_id == dossier_id, A.c.person_id == person_id, A.c.role == role
    )
    return conn.execute(found.limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class DelegationLine:
    id: int
    role: str
    delegator: str
    substitute: str
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    this_dossier_only: bool

    def status(self, now: datetime) -> str:
        """« révoquée », « à venir », « en cours » or « terminée », as the page shows it."""
        if self.revoked_at is not None:
            return "revoquee"
        if now < self.starts_at:
            return "a_venir"
        return "en_cours" if now < self.ends_at else "terminee"


def delegations_of(conn: Connection, dossier: DossierRef) -> list[DelegationLine]:
    """Every delegation that reaches this dossier: the ones made on it, and the general
    ones of the people who hold the delegated role on it. Newest first."""
    delegator = P.alias("delegator")
    substitute = P.alias("substitute")
    holders = select(A.c.person_id).where(A.c.dossier_id == dossier.id, A.c.role == D.c.role)
    rows = conn.execute(
        select(
            D.c.id,
            D.c.role,
            D.c.dossier_id,
            D.c.starts_at,
            D.c.ends_at,
            D.c.revoked_at,
            delegator.c.full_name.label("delegator"),
            substitute.c.full_name.label("substitute"),
        )
        .join(delegator, delegator.c.id == D.c.delegator_id)
        .join(substitute, substitute.c.id == D.c.substitute_id)
        .where(
            or_(
                D.c.dossier_id == dossier.id,
                and_(D.c.dossier_id.is_(None), D.c.delegator_id.in_(holders.scalar_subquery())),
            )
        )
        .order_by(D.c.starts_at.desc(), D.c.id.desc())
    ).all()
    return [
        DelegationLine(
            int(r.id),
            r.role,
            r.delegator,
            r.substitute,
            r.starts_at,
            r.ends_at,
            r.revoked_at,
            r.dossier_id is not None,
        )
        for r in rows
    ]


def person_of(conn: Connection, person_id: int) -> Person | None:
    row = conn.execute(
        select(P.c.id, P.c.full_name, P.c.email, P.c.civilite).where(P.c.id == person_id)
    ).first()
    return None if row is None else Person(int(row.id), row.full_name, row.email, row.civilite)
