"""Who holds which role on a dossier: assignments, académie roles and live delegations.

The engine asks this before every transition (does the actor hold an allowed role on
*this* dossier?), so it belongs to the engine, not to the team-editing capability; the
capacity query is on its hot path, so it is one Core statement built once. Everything here
is a query on the caller's connection; nothing commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    Integer,
    Subquery,
    and_,
    bindparam,
    cast,
    null,
    or_,
    select,
    union_all,
)

from states.dispositifs import DISPOSITIFS, SignatoryRule
from states.roles import ACADEMIE_ROLES, BILAN_AUTHOR, SIGNATORY
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as D
from workflow.store.tables import dossier_table as T
from workflow.store.tables import person_table as P
from workflow.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class Capacity:
    """A role the actor may act in on a dossier, and for whom when it is delegated."""

    role: str
    on_behalf_of: int | None = None
    acting_as: str | None = None
    """For a derived role (``signataire``), the concrete role it comes from."""

    @property
    def recorded_role(self) -> str:
        return self.acting_as or self.role


@dataclass(frozen=True, slots=True)
class DossierRef:
    id: int
    academie_id: int
    dispositif: str | None


@dataclass(frozen=True, slots=True)
class Member:
    person_id: int
    role: str
    full_name: str
    email: str
    civilite: str | None = None
    """For labels that agree with the person (``states.roles.role_label``)."""


def _held_roles() -> Subquery:
    """Every (role, principal, dossier, académie) the ``person_id`` bind parameter holds.

    Direct assignments, plus the roles of people they stand in for through a delegation
    live at ``now`` (every role can be delegated: a suppléant acts in the titulaire's role,
    recorded as such). A delegation limited to an académie reaches only that académie's
    dossiers. Callers join it to the dossier they care about.
    """
    person = bindparam("person_id", type_=Integer())
    dossier = bindparam("dossier_id", type_=Integer())
    now = bindparam("now", type_=UTCDateTime())
    dossier_academie = select(T.c.academie_id).where(T.c.id == dossier).scalar_subquery()
    direct = select(
        A.c.role, cast(null(), Integer).label("principal"), A.c.dossier_id, A.c.academie_id
    ).where(A.c.person_id == person)
    delegated = (
        select(D.c.role, D.c.delegator_id.label("principal"), A.c.dossier_id, A.c.academie_id)
        .join(A, and_(A.c.person_id == D.c.delegator_id, A.c.role == D.c.role))
        .where(
            D.c.substitute_id == person,
            D.c.starts_at <= now,
            D.c.ends_at > now,
            D.c.revoked_at.is_(None),
            or_(D.c.dossier_id.is_(None), D.c.dossier_id == dossier),
            or_(D.c.academie_id.is_(None), D.c.academie_id == dossier_academie),
        )
    )
    return union_all(direct, delegated).subquery("held")


HELD = _held_roles()

# Built once: this runs on every transition, and building it costs more than running it.
_CAPACITIES = select(HELD.c.role, HELD.c.principal).where(
    or_(
        HELD.c.dossier_id == bindparam("dossier_id"),
        HELD.c.academie_id == bindparam("academie_id"),
    )
)


def capacities(
    conn: Connection, dossier: DossierRef, person_id: int, now: datetime
) -> list[Capacity]:
    """Direct roles first, then roles held for someone else through a live delegation."""
    rows = conn.execute(
        _CAPACITIES,
        {
            "person_id": person_id,
            "dossier_id": dossier.id,
            "academie_id": dossier.academie_id,
            "now": now,
        },
    ).all()
    return with_derived(
        [Capacity(row.role, row.principal) for row in rows],
        dossier,
        signatories_of(conn, dossier),
    )


def signatories_of(conn: Connection, dossier: DossierRef) -> tuple[SignatoryRule, ...]:
    """Who must sign this dossier's contract: its académie's rule for the dispositif, or the
    dispositif's default."""
    return academie_settings(conn, dossier.academie_id).signatories_for(dossier.dispositif)


def with_derived(
    found: list[Capacity],
    dossier: DossierRef,
    signatories: Sequence[SignatoryRule] | None = None,
) -> list[Capacity]:
    """Sort direct roles first and add the roles the dossier's dispositif derives from them.

    ``signatories`` are the académie's required signatories for the dispositif
    (``signatories_of``); ``None`` falls back to the dispositif's default. A signature stays
    personal: only a role held directly makes one a signatory, never a suppléance."""
    found.sort(key=lambda c: c.on_behalf_of is not None)
    dispositif = DISPOSITIFS.get(dossier.dispositif or "")
    if dispositif is None:
        return found
    rules = dispositif.signatories if signatories is None else signatories
    direct_roles = [c.role for c in found if c.on_behalf_of is None]
    derived: list[Capacity] = []
    for rule in rules:
        if rule.role in direct_roles:
            derived.append(Capacity(SIGNATORY, acting_as=rule.role))
            break
    for role in dispositif.bilan_roles:
        if role in direct_roles:
            derived.append(Capacity(BILAN_AUTHOR, acting_as=role))
            break
    return found + derived


_MEMBERS = (
    select(A.c.person_id, A.c.role, P.c.full_name, P.c.email, P.c.civilite)
    .join(P, P.c.id == A.c.person_id)
    .where(
        or_(
            and_(
                A.c.dossier_id == bindparam("dossier_id"),
                A.c.role.in_(bindparam("dossier_roles", expanding=True)),
            ),
            and_(
                A.c.academie_id == bindparam("academie_id"),
                A.c.role.in_(bindparam("academie_roles", expanding=True)),
            ),
        )
    )
    .order_by(A.c.role, P.c.full_name, A.c.person_id)
)


def members(conn: Connection, dossier: DossierRef, roles: Iterable[str]) -> list[Member]:
    """Holders of ``roles`` on the dossier, including académie-level roles."""
    roles = list(roles)
    rows = conn.execute(
        _MEMBERS,
        {
            "dossier_id": dossier.id,
            "academie_id": dossier.academie_id,
            "dossier_roles": [r for r in roles if r not in ACADEMIE_ROLES],
            "academie_roles": [r for r in roles if r in ACADEMIE_ROLES],
        },
    ).all()
    return [Member(r.person_id, r.role, r.full_name, r.email, r.civilite) for r in rows]


_MEMBERS_OF_MANY = union_all(
    select(
        A.c.dossier_id.label("of_dossier"),
        A.c.person_id,
        A.c.role,
        P.c.full_name,
        P.c.email,
        P.c.civilite,
    )
    .join(P, P.c.id == A.c.person_id)
    .where(
        A.c.dossier_id.in_(bindparam("dossier_ids", expanding=True)),
        A.c.role.in_(bindparam("dossier_roles", expanding=True)),
    ),
    select(T.c.id, A.c.person_id, A.c.role, P.c.full_name, P.c.email, P.c.civilite)
    .join(A, A.c.academie_id == T.c.academie_id)
    .join(P, P.c.id == A.c.person_id)
    .where(
        T.c.id.in_(bindparam("dossier_ids", expanding=True)),
        A.c.role.in_(bindparam("academie_roles", expanding=True)),
    ),
).order_by("role", "full_name", "person_id")


def members_of_many(
    conn: Connection, roles_of: dict[int, Sequence[str]]
) -> dict[int, list[Member]]:
    """``members`` of many dossiers at once (dossier id → the roles wanted of it), in one
    query per 500 dossiers: each dossier's holders in the order ``members`` gives them."""
    found: dict[int, list[Member]] = {}
    ids = list(roles_of)
    wanted = {r for roles in roles_of.values() for r in roles}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            _MEMBERS_OF_MANY,
            {
                "dossier_ids": ids[start : start + 500],
                "dossier_roles": sorted(r for r in wanted if r not in ACADEMIE_ROLES),
                "academie_roles": sorted(r for r in wanted if r in ACADEMIE_ROLES),
            },
        ).all()
        for r in rows:
            if r.role in roles_of[int(r.of_dossier)]:
                found.setdefault(int(r.of_dossier), []).append(
                    Member(r.person_id, r.role, r.full_name, r.email, r.civilite)
                )
    return found


def unique_people(people: Sequence[Member]) -> list[Member]:
    """One entry per person, first role kept: a person holding two roles gets one email."""
    seen: set[int] = set()
    result = []
    for member in people:
        if member.person_id not in seen:
            seen.add(member.person_id)
            result.append(member)
    return result
