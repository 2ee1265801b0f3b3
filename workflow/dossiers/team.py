"""Reads of a dossier's team as its pages show it: known people, holders, delegations.

The engine's own question (which roles does this actor hold here?) is in
``workflow.engine.roles``; this module serves the people composing a team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, or_, select, union

from states.roles import ACADEMIE_ROLES
from workflow.dossiers.delegations import reaching_academie
from workflow.engine.errors import DelegationNotFound
from workflow.engine.roles import DossierRef
from workflow.store.tables import academie_member_table as M
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
    """The people of the académie — in its directory (created or imported there), or holding
    a role on it or on one of its dossiers — who can still sign in, by name: whom a pilote
    or gestionnaire picks from when composing a team, so that they need not know a
    colleague's address by heart. Anyone else can still be added by address."""
    in_directory = select(M.c.person_id).where(M.c.academie_id == academie_id)
    on_academie = select(A.c.person_id).where(A.c.academie_id == academie_id)
    # Trainees are not offered: they are many, and a pilote of another dossier has no
    # business browsing them (anyone can still be added by address).
    on_a_dossier = (
        select(A.c.person_id)
        .join(T, T.c.id == A.c.dossier_id)
        .where(T.c.academie_id == academie_id, A.c.role != "stagiaire")
    )
    rows = conn.execute(
        select(P.c.id, P.c.full_name, P.c.email)
        .where(P.c.id.in_(union(in_directory, on_academie, on_a_dossier)), P.c.active.is_(True))
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
    delegator_id: int = 0
    substitute_id: int = 0
    created_by_id: int | None = None
    dossier_id: int | None = None
    academie_id: int | None = None
    dossier_reference: str | None = None

    def status(self, now: datetime) -> str:
        """« révoquée », « à venir », « en cours » or « terminée », as the page shows it."""
        if self.revoked_at is not None:
            return "revoquee"
        if now < self.starts_at:
            return "a_venir"
        return "en_cours" if now < self.ends_at else "terminee"

    def scope(self) -> str:
        """What the suppléance covers, in French."""
        if self.dossier_id is not None:
            return (
                f"Le dossier {self.dossier_reference}" if self.dossier_reference else "Ce dossier"
            )
        if self.role in ACADEMIE_ROLES:
            return "L'académie"
        if self.academie_id is not None:
            return "Ses dossiers de l'académie"
        return "Tous ses dossiers"


_DELEGATOR = P.alias("delegator")
_SUBSTITUTE = P.alias("substitute")
_LINES = (
    select(
        D.c.id,
        D.c.role,
        D.c.dossier_id,
        D.c.academie_id,
        D.c.starts_at,
        D.c.ends_at,
        D.c.revoked_at,
        D.c.delegator_id,
        D.c.substitute_id,
        D.c.created_by_id,
        _DELEGATOR.c.full_name.label("delegator"),
        _SUBSTITUTE.c.full_name.label("substitute"),
        T.c.reference.label("dossier_reference"),
    )
    .join(_DELEGATOR, _DELEGATOR.c.id == D.c.delegator_id)
    .join(_SUBSTITUTE, _SUBSTITUTE.c.id == D.c.substitute_id)
    .outerjoin(T, T.c.id == D.c.dossier_id)
    .order_by(D.c.starts_at.desc(), D.c.id.desc())
)


def _lines(conn: Connection, where: ColumnElement[bool]) -> list[DelegationLine]:
    return [
        DelegationLine(
            id=int(r.id),
            role=r.role,
            delegator=r.delegator,
            substitute=r.substitute,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            revoked_at=r.revoked_at,
            this_dossier_only=r.dossier_id is not None,
            delegator_id=int(r.delegator_id),
            substitute_id=int(r.substitute_id),
            created_by_id=r.created_by_id,
            dossier_id=r.dossier_id,
            academie_id=r.academie_id,
            dossier_reference=r.dossier_reference,
        )
        for r in conn.execute(_LINES.where(where)).all()
    ]


def delegations_of(conn: Connection, dossier: DossierRef) -> list[DelegationLine]:
    """Every delegation that reaches this dossier: the ones made on it, the general ones of
    the people who hold the delegated role on it, and those of its académie's EAFC staff
    (gestionnaire, responsable). Newest first."""
    holders = select(A.c.person_id).where(A.c.dossier_id == dossier.id, A.c.role == D.c.role)
    staff = select(A.c.person_id).where(
        A.c.academie_id == dossier.academie_id, A.c.role == D.c.role
    )
    return _lines(
        conn,
        or_(
            D.c.dossier_id == dossier.id,
            and_(
                D.c.dossier_id.is_(None),
                or_(D.c.academie_id.is_(None), D.c.academie_id == dossier.academie_id),
                or_(
                    D.c.delegator_id.in_(holders.scalar_subquery()),
                    and_(
                        D.c.role.in_(list(ACADEMIE_ROLES)),
                        D.c.delegator_id.in_(staff.scalar_subquery()),
                    ),
                ),
            ),
        ),
    )


def delegation_line(conn: Connection, delegation_id: int) -> DelegationLine:
    found = _lines(conn, D.c.id == delegation_id)
    if not found:
        raise DelegationNotFound(delegation_id)
    return found[0]


def delegations_in(conn: Connection, academie_id: int, limit: int = 500) -> list[DelegationLine]:
    """Every delegation that concerns the académie (``delegations.reaching_academie``),
    newest first: what its administrateur sees and may revoke."""
    return _lines(conn, reaching_academie(academie_id))[:limit]


def person_of(conn: Connection, person_id: int) -> Person | None:
    row = conn.execute(
        select(P.c.id, P.c.full_name, P.c.email, P.c.civilite).where(P.c.id == person_id)
    ).first()
    return None if row is None else Person(int(row.id), row.full_name, row.email, row.civilite)
