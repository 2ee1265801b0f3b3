"""Who receives the email of a transition or a deadline: one entry per person.

A spec names recipient roles; here they become people — the holders of those roles on the
dossier or on its académie, the derived sets (remaining signatories, bilan authors), and
anyone standing in for them through a live delegation. A person holding several of the
roles gets one email, which knows all their roles so it can say what each asks of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Integer, bindparam, or_, select

from states.dispositifs import SignatoryRule
from states.roles import ROLES
from workflow.engine.roles import (
    Capacity,
    DossierRef,
    Member,
    members,
    signatories_of,
    with_derived,
)
from workflow.reads.recipients import recipients
from workflow.store.tables import delegation_table as D
from workflow.store.tables import person_table as P
from workflow.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    full_name: str
    email: str
    roles: tuple[str, ...]
    """Roles on the dossier, derived ones (``signataire``, ``auteur_bilan``) included."""
    substitute_for: str | None = None
    """The name of the person this one stands in for, when reached through a delegation."""
    civilite: str | None = None
    """So that the email's labels agree with its reader (« suppléante », « Formatrice »)."""


def resolve(
    conn: Connection,
    dossier: DossierRef,
    names: Iterable[str],
    now: datetime,
    *,
    exclude: int | None = None,
    team: Sequence[Member] | None = None,
    signatories: Sequence[SignatoryRule] | None = None,
) -> list[Recipient]:
    """The people behind ``names``, then their live substitutes; ``exclude`` gets nothing.

    ``team`` (everyone's roles on the dossier, ``members(…, ROLES)``) and ``signatories``
    are read here unless the caller already has them for this dossier in this transaction
    (the outbox reads them once per transition, not once per notification rule)."""
    people = recipients(conn, dossier, names, team)
    if not people:
        return []
    roles_of: dict[int, list[str]] = {}
    for member in members(conn, dossier, ROLES) if team is None else team:
        roles_of.setdefault(member.person_id, []).append(member.role)
    if signatories is None:
        signatories = signatories_of(conn, dossier)
    result: list[Recipient] = []
    for person in people:
        held = with_derived(
            [Capacity(role) for role in roles_of.get(person.person_id, [])], dossier, signatories
        )
        roles = tuple(dict.fromkeys(c.role for c in held)) or (person.role,)
        result.append(
            Recipient(
                person.person_id, person.full_name, person.email, roles, civilite=person.civilite
            )
        )
    result += _substitutes(conn, dossier, result, now)
    gone = _deactivated(conn, {r.person_id for r in result})
    return [r for r in result if r.person_id != exclude and r.person_id not in gone]


def _deactivated(conn: Connection, person_ids: set[int]) -> set[int]:
    """People an administrateur deactivated (they left): they keep their place in the
    histories, but formaflow no longer writes to them."""
    if not person_ids:
        return set()
    query = select(P.c.id).where(P.c.id.in_(person_ids), P.c.active.is_(False))
    return {int(i) for i in conn.execute(query).scalars()}


# Built once: it runs for every email-writing transition, and building it cost more than
# running it (``python -m bench.paf_bulk``).
_NOW = bindparam("now", type_=UTCDateTime())
_SUBSTITUTES = (
    select(D.c.delegator_id, D.c.substitute_id, D.c.role, P.c.full_name, P.c.email, P.c.civilite)
    .join(P, P.c.id == D.c.substitute_id)
    .where(
        D.c.delegator_id.in_(bindparam("principals", expanding=True)),
        D.c.starts_at <= _NOW,
        D.c.ends_at > _NOW,
        D.c.revoked_at.is_(None),
        or_(D.c.dossier_id.is_(None), D.c.dossier_id == bindparam("dossier_id", type_=Integer())),
        or_(
            D.c.academie_id.is_(None),
            D.c.academie_id == bindparam("academie_id", type_=Integer()),
        ),
    )
    .order_by(D.c.substitute_id, D.c.id)
)


def _substitutes(
    conn: Connection, dossier: DossierRef, principals: list[Recipient], now: datetime
) -> list[Recipient]:
    """Who stands in for a recipient right now, in a role the recipient holds here."""
    by_id = {r.person_id: r for r in principals}
    rows = conn.execute(
        _SUBSTITUTES,
        {
            "principals": list(by_id),
            "now": now,
            "dossier_id": dossier.id,
            "academie_id": dossier.academie_id,
        },
    ).all()
    found: dict[int, Recipient] = {}
    for row in rows:
        principal = by_id[row.delegator_id]
        if row.substitute_id in by_id or row.role not in principal.roles:
            continue
        if row.substitute_id not in found:
            found[row.substitute_id] = Recipient(
                row.substitute_id,
                row.full_name,
                row.email,
                (row.role,),
                substitute_for=principal.full_name,
                civilite=row.civilite,
            )
    return list(found.values())
