"""Suppléances: someone acts for a titulaire in one of their roles, for a period.

Every role can be delegated, on a dossier (pilote, formateur, concepteur…) or on an académie
(gestionnaire, responsable, administrateur). The suppléant acts *in the titulaire's role*
and the history records both (« Olivier Mercier pour Paul Lefèvre »); they receive the
titulaire's emails while the suppléance runs. A signature stays personal: a suppléant does
not sign a contract in someone else's name (``workflow.engine.roles.with_derived``).

A suppléance is one of:

- on one dossier (``dossier_id``), for a role the titulaire holds there (or on its académie);
- on every dossier where the titulaire holds a dossier role (no dossier), possibly limited
  to one académie (``academie_id``);
- on an académie (``academie_id``) for an académie role.

Who may make one: the titulaire for their own role; whoever may change a dossier's team,
for a dossier role on that dossier; an administrateur of the académie, for any role
within it; the operator (CLI, ``actor_id=None``). The same people, and the suppléant
themself, may revoke it. Each use case is one transaction (the caller's ``begin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from states.roles import ACADEMIE_ROLES, ROLES, role_label
from workflow.dossiers.access import Edit, require_edit
from workflow.engine.errors import (
    DelegationNotFound,
    InvalidInput,
    NotPermitted,
    PersonNotFound,
    WorkflowError,
)
from workflow.engine.rows import load
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as D
from workflow.store.tables import dossier_table as T
from workflow.store.tables import person_table as P

ADMINISTRATEUR = "administrateur"


@dataclass(frozen=True, slots=True)
class DelegationRequest:
    delegator_id: int
    substitute_id: int
    role: str
    starts_at: datetime
    ends_at: datetime
    dossier_id: int | None = None
    academie_id: int | None = None


def is_administrateur(conn: Connection, person_id: int, academie_id: int) -> bool:
    return _holds_on_academie(conn, person_id, ADMINISTRATEUR, academie_id)


def _holds_on_academie(conn: Connection, person_id: int, role: str, academie_id: int) -> bool:
    found = select(A.c.id).where(
        A.c.person_id == person_id, A.c.role == role, A.c.academie_id == academie_id
    )
    return conn.execute(found.limit(1)).first() is not None


def _active_person(conn: Connection, person_id: int, what: str) -> str:
    row = conn.execute(select(P.c.full_name, P.c.active).where(P.c.id == person_id)).first()
    if row is None:
        raise PersonNotFound(person_id)
    if not row.active:
        raise InvalidInput(f"{row.full_name} est désactivé(e) : {what} impossible.", "suppleant")
    return str(row.full_name)


def _check_request(request: DelegationRequest) -> None:
    if request.role not in ROLES:
        raise InvalidInput(f"Rôle inconnu : {request.role}", "role")
    if request.delegator_id == request.substitute_id:
        raise InvalidInput("On ne peut pas se désigner soi-même comme suppléant.", "suppleant")
    if request.ends_at <= request.starts_at:
        raise InvalidInput("La fin de la suppléance doit suivre son début.", "ends_at")
    if (
        request.role in ACADEMIE_ROLES
        and request.dossier_id is None
        and request.academie_id is None
    ):
        raise InvalidInput(
            f"Une suppléance de {role_label(request.role)} se donne sur une académie.", "academie"
        )


def _authorise(
    conn: Connection, request: DelegationRequest, actor_id: int | None, now: datetime
) -> None:
    """Refuse unless the actor may make this suppléance (see the module docstring)."""
    if actor_id is None or actor_id == request.delegator_id:
        return
    academie = request.academie_id
    if request.dossier_id is not None:
        dossier = load(conn, request.dossier_id)
        academie = dossier.academie_id
        if request.role not in ACADEMIE_ROLES and not is_administrateur(conn, actor_id, academie):
            require_edit(conn, request.dossier_id, actor_id, Edit.TEAM, now)
            return
    if academie is not None and is_administrateur(conn, actor_id, academie):
        return
    raise NotPermitted(
        "désigner le suppléant d'une autre personne",
        ["la personne suppléée", "l'équipe du dossier (pilote, gestionnaire)", "administrateur"],
        where="",
    )


def _held(conn: Connection, request: DelegationRequest) -> bool:
    """Whether the titulaire holds the delegated role where the suppléance applies."""
    query = select(A.c.id).where(A.c.person_id == request.delegator_id, A.c.role == request.role)
    if request.role in ACADEMIE_ROLES:
        academie = request.academie_id
        if request.dossier_id is not None:
            academie = load(conn, request.dossier_id).academie_id
        query = query.where(A.c.academie_id == academie)
    elif request.dossier_id is not None:
        query = query.where(A.c.dossier_id == request.dossier_id)
    elif request.academie_id is not None:
        query = query.join(T, T.c.id == A.c.dossier_id).where(
            T.c.academie_id == request.academie_id
        )
    return conn.execute(query.limit(1)).first() is not None


def delegate(
    conn: Connection, request: DelegationRequest, *, actor_id: int | None, now: datetime
) -> int:
    """Record the suppléance (in the caller's transaction); its id."""
    _check_request(request)
    delegator = _active_person(conn, request.delegator_id, "suppléance")
    _active_person(conn, request.substitute_id, "suppléance")
    _authorise(conn, request, actor_id, now)
    if not _held(conn, request):
        where = "sur ce dossier" if request.dossier_id is not None else "dans cette académie"
        if request.dossier_id is None and request.academie_id is None:
            where = "sur aucun dossier"
        raise InvalidInput(
            f"{delegator} n'est pas {role_label(request.role)} {where} : rien à suppléer.",
            "delegant",
        )
    academie = request.academie_id
    if request.dossier_id is not None:
        academie = load(conn, request.dossier_id).academie_id
    result = conn.execute(
        insert(D).values(
            delegator_id=request.delegator_id,
            substitute_id=request.substitute_id,
            role=request.role,
            dossier_id=request.dossier_id,
            academie_id=academie if request.role in ACADEMIE_ROLES else request.academie_id,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            created_at=now,
            created_by_id=actor_id,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


@dataclass(frozen=True, slots=True)
class DelegationRow:
    id: int
    delegator_id: int
    substitute_id: int
    role: str
    dossier_id: int | None
    academie_id: int | None
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    created_by_id: int | None


def find(conn: Connection, delegation_id: int) -> DelegationRow:
    row = conn.execute(
        select(
            D.c.id,
            D.c.delegator_id,
            D.c.substitute_id,
            D.c.role,
            D.c.dossier_id,
            D.c.academie_id,
            D.c.starts_at,
            D.c.ends_at,
            D.c.revoked_at,
            D.c.created_by_id,
        ).where(D.c.id == delegation_id)
    ).first()
    if row is None:
        raise DelegationNotFound(delegation_id)
    return DelegationRow(**row._asdict())


def may_revoke(conn: Connection, delegation: DelegationRow, actor_id: int, now: datetime) -> bool:
    """The titulaire, the suppléant, whoever made it, an administrateur of its académie, or
    (for one on a dossier) whoever may change that dossier's team."""
    if actor_id in (delegation.delegator_id, delegation.substitute_id, delegation.created_by_id):
        return True
    academie = delegation.academie_id
    if delegation.dossier_id is not None:
        academie = load(conn, delegation.dossier_id).academie_id
    if academie is not None and is_administrateur(conn, actor_id, academie):
        return True
    if academie is None and delegation.role not in ACADEMIE_ROLES:
        # A suppléance on all of someone's dossiers: the administrateurs of the académies
        # where they hold that role.
        places = (
            select(T.c.academie_id)
            .join(A, A.c.dossier_id == T.c.id)
            .where(A.c.person_id == delegation.delegator_id, A.c.role == delegation.role)
        )
        admin = select(A.c.id).where(
            A.c.person_id == actor_id,
            A.c.role == ADMINISTRATEUR,
            A.c.academie_id.in_(places),
        )
        if conn.execute(admin.limit(1)).first() is not None:
            return True
    if delegation.dossier_id is not None and delegation.role not in ACADEMIE_ROLES:
        try:
            require_edit(conn, delegation.dossier_id, actor_id, Edit.TEAM, now)
        except WorkflowError:  # not on the team's editors, or not even able to see it
            return False
        return True
    return False


def revoke(
    conn: Connection, delegation_id: int, *, actor_id: int | None, now: datetime
) -> DelegationRow:
    """End the suppléance now (in the caller's transaction). A suppléance the actor may not
    revoke is « introuvable » to them, like anything they may not see."""
    delegation = find(conn, delegation_id)
    if actor_id is not None and not may_revoke(conn, delegation, actor_id, now):
        raise DelegationNotFound(delegation_id)
    if delegation.revoked_at is not None:
        raise InvalidInput("Cette suppléance est déjà révoquée.")
    if delegation.ends_at <= now:
        raise InvalidInput("Cette suppléance est déjà terminée.")
    conn.execute(
        update(D)
        .where(D.c.id == delegation_id, D.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor_id)
    )
    return find(conn, delegation_id)


def reaching_academie(academie_id: int) -> ColumnElement[bool]:
    """SQL condition on ``delegation`` rows: those that concern this académie (made on it, on
    one of its dossiers, or by one of its académie-role holders without a limit)."""
    return or_(
        D.c.academie_id == academie_id,
        D.c.dossier_id.in_(select(T.c.id).where(T.c.academie_id == academie_id)),
        and_(
            D.c.academie_id.is_(None),
            D.c.dossier_id.is_(None),
            D.c.delegator_id.in_(select(A.c.person_id).where(A.c.academie_id == academie_id)),
        ),
    )
