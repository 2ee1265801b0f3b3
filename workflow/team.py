"""Who holds which role on a dossier: assignments, académie roles, delegations, signatories.

Everything here is a query on the caller's connection; nothing commits. The capacity
query is on the hot path of every transition, so it is one Core statement.
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
    union,
    union_all,
)

from states.dispositifs import DISPOSITIFS, SignatoryMode
from states.roles import ACADEMIE_ROLES, BILAN_AUTHOR, SIGNATORY
from workflow.tables import assignment_table as A
from workflow.tables import delegation_table as D
from workflow.tables import dossier_table as T
from workflow.tables import person_table as P
from workflow.tables import signature_table as S
from workflow.types import UTCDateTime


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


def _held_roles() -> Subquery:
    """Every (role, principal, dossier, académie) the ``person_id`` bind parameter holds.

    Direct assignments, plus the roles of people they stand in for through a delegation
    live at ``now``. Callers join it to the dossier they care about.
    """
    person = bindparam("person_id", type_=Integer())
    dossier = bindparam("dossier_id", type_=Integer())
    now = bindparam("now", type_=UTCDateTime())
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
    return with_derived([Capacity(row.role, row.principal) for row in rows], dossier)


def with_derived(found: list[Capacity], dossier: DossierRef) -> list[Capacity]:
    """Sort direct roles first and add the roles the dossier's dispositif derives from them."""
    found.sort(key=lambda c: c.on_behalf_of is not None)
    dispositif = DISPOSITIFS.get(dossier.dispositif or "")
    if dispositif is None:
        return found
    direct_roles = [c.role for c in found if c.on_behalf_of is None]
    derived: list[Capacity] = []
    for rule in dispositif.signatories:
        if rule.role in direct_roles:
            derived.append(Capacity(SIGNATORY, acting_as=rule.role))
            break
    for role in dispositif.bilan_roles:
        if role in direct_roles:
            derived.append(Capacity(BILAN_AUTHOR, acting_as=role))
            break
    return found + derived


_MEMBERS = (
    select(A.c.person_id, A.c.role, P.c.full_name, P.c.email)
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
    return [Member(r.person_id, r.role, r.full_name, r.email) for r in rows]


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    required: tuple[Member, ...]
    """Everyone whose signature is awaited or was given (one holder per 'one of' role)."""
    signed: frozenset[int]
    missing: tuple[Member, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def signature_status(conn: Connection, dossier: DossierRef) -> SignatureStatus:
    """Which required signatures of the contract are given and which are missing.

    A role in mode ``chacun`` needs every holder's signature; a role in mode ``un`` needs
    one signature from any holder, and while it is missing every holder is listed.
    """
    dispositif = DISPOSITIFS.get(dossier.dispositif or "")
    if dispositif is None:
        return SignatureStatus((), frozenset(), ())
    signed = frozenset(
        conn.execute(select(S.c.person_id).where(S.c.dossier_id == dossier.id)).scalars()
    )
    holders = members(conn, dossier, [rule.role for rule in dispositif.signatories])
    required: list[Member] = []
    missing: list[Member] = []
    for rule in dispositif.signatories:
        role_holders = [m for m in holders if m.role == rule.role]
        if rule.mode is SignatoryMode.EACH:
            required += role_holders
            missing += [m for m in role_holders if m.person_id not in signed]
        else:
            signers = [m for m in role_holders if m.person_id in signed]
            required += signers or role_holders
            if not signers:
                missing += role_holders
    return SignatureStatus(tuple(required), signed, tuple(_unique(missing)))


def _unique(people: Sequence[Member]) -> list[Member]:
    seen: set[int] = set()
    result = []
    for member in people:
        if member.person_id not in seen:
            seen.add(member.person_id)
            result.append(member)
    return result


def recipients(conn: Connection, dossier: DossierRef, names: Iterable[str]) -> list[Member]:
    """People behind a notification rule's recipient names, one entry per person."""
    roles: list[str] = []
    found: list[Member] = []
    for name in names:
        if name == "signataires":
            found += signature_status(conn, dossier).required
        elif name == "signataires_restants":
            found += signature_status(conn, dossier).missing
        elif name == BILAN_AUTHOR:
            dispositif = DISPOSITIFS.get(dossier.dispositif or "")
            roles += list(dispositif.bilan_roles) if dispositif else []
        elif name == SIGNATORY:
            found += signature_status(conn, dossier).required
        else:
            roles.append(name)
    found += members(conn, dossier, roles)
    return _unique(found)


@dataclass(frozen=True, slots=True)
class Person:
    person_id: int
    full_name: str
    email: str


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
    row = conn.execute(select(P.c.id, P.c.full_name, P.c.email).where(P.c.id == person_id)).first()
    return None if row is None else Person(int(row.id), row.full_name, row.email)
