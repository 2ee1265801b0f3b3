"""An académie's people: its directory, their académie roles, and deactivation.

People are never deleted: anyone may appear in a dossier's history, a signature, a payment
decision or the decision journal, which must keep naming them. A person who leaves is
*deactivated*: they can no longer sign in (sessions and tokens check ``person.active``),
and the directory shows them as such; they can be reactivated.

A person exists once in formaflow (one address), and may belong to several académies.
Deactivating them is therefore allowed only to someone who administers every académie
where they appear — otherwise an administrateur would change another académie's people.

Every function here runs in the caller's transaction; each change is written to the
académie's history (``changes.record``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, union, update

from states.roles import ACADEMIE_ROLES, role_label
from workflow.admin import changes
from workflow.admin.authority import ADMINISTRATEUR
from workflow.admin.catalog import email_refusal
from workflow.engine.errors import InvalidInput, PersonNotFound
from workflow.store.tables import academie_member_table as M
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as T
from workflow.store.tables import person_table as P


def _described(name: str, email: str) -> str:
    return f"{name} <{email}>"


def academies_of(conn: Connection, person_id: int) -> set[int]:
    """Every académie where the person appears: in its directory, holding an académie role,
    or holding a role on one of its dossiers."""
    found = union(
        select(M.c.academie_id.label("a")).where(M.c.person_id == person_id),
        select(A.c.academie_id.label("a")).where(
            A.c.person_id == person_id, A.c.academie_id.is_not(None)
        ),
        select(T.c.academie_id.label("a"))
        .join(A, A.c.dossier_id == T.c.id)
        .where(A.c.person_id == person_id),
    ).subquery()
    return {int(a) for a in conn.execute(select(found.c.a)).scalars()}


def in_directory_clause(academie_id: int) -> ColumnElement[bool]:
    """SQL condition on ``person`` rows: the académie's people."""
    return or_(
        P.c.id.in_(select(M.c.person_id).where(M.c.academie_id == academie_id)),
        P.c.id.in_(select(A.c.person_id).where(A.c.academie_id == academie_id)),
        P.c.id.in_(
            select(A.c.person_id)
            .join(T, T.c.id == A.c.dossier_id)
            .where(T.c.academie_id == academie_id)
        ),
    )


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    person_id: int
    full_name: str
    email: str
    active: bool
    roles: tuple[str, ...]
    """Académie roles held here, by label."""


def directory(
    conn: Connection, academie_id: int, *, search: str = "", limit: int = 200, offset: int = 0
) -> tuple[list[DirectoryEntry], int]:
    """The académie's people by name (optionally those whose name or address contains
    ``search``), and how many match in all."""
    where = [in_directory_clause(academie_id)]
    text = search.strip().lower()
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        where.append(or_(func.lower(P.c.full_name).like(pattern), P.c.email.like(pattern)))
    total = conn.execute(select(func.count()).select_from(P).where(*where)).scalar_one()
    rows = conn.execute(
        select(P.c.id, P.c.full_name, P.c.email, P.c.active)
        .where(*where)
        .order_by(P.c.full_name, P.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [int(r.id) for r in rows]
    roles: dict[int, list[str]] = {}
    if ids:
        for held in conn.execute(
            select(A.c.person_id, A.c.role)
            .where(A.c.academie_id == academie_id, A.c.person_id.in_(ids))
            .order_by(A.c.role)
        ):
            roles.setdefault(int(held.person_id), []).append(role_label(held.role))
    return [
        DirectoryEntry(
            int(r.id), r.full_name, r.email, bool(r.active), tuple(roles.get(int(r.id), ()))
        )
        for r in rows
    ], int(total)


def entry(conn: Connection, academie_id: int, person_id: int) -> DirectoryEntry:
    """One person of the académie's directory; « introuvable » for anyone else."""
    if academie_id not in academies_of(conn, person_id):
        raise PersonNotFound(person_id)
    name, email, active = _person(conn, person_id)
    roles = conn.execute(
        select(A.c.role)
        .where(A.c.academie_id == academie_id, A.c.person_id == person_id)
        .order_by(A.c.role)
    ).scalars()
    return DirectoryEntry(person_id, name, email, active, tuple(role_label(r) for r in roles))


@dataclass(frozen=True, slots=True)
class RoleHolder:
    person_id: int
    full_name: str
    email: str
    role: str
    active: bool


def role_holders(conn: Connection, academie_id: int) -> list[RoleHolder]:
    """Who holds each académie role here, role by role."""
    rows = conn.execute(
        select(A.c.person_id, A.c.role, P.c.full_name, P.c.email, P.c.active)
        .join(P, P.c.id == A.c.person_id)
        .where(A.c.academie_id == academie_id, A.c.role.in_(list(ACADEMIE_ROLES)))
        .order_by(A.c.role, P.c.full_name)
    ).all()
    return [
        RoleHolder(int(r.person_id), r.full_name, r.email, r.role, bool(r.active)) for r in rows
    ]


def _person(conn: Connection, person_id: int) -> tuple[str, str, bool]:
    row = conn.execute(
        select(P.c.full_name, P.c.email, P.c.active).where(P.c.id == person_id)
    ).first()
    if row is None:
        raise PersonNotFound(person_id)
    return str(row.full_name), str(row.email), bool(row.active)


def _in_academie(conn: Connection, academie_id: int, person_id: int) -> tuple[str, str, bool]:
    """The person, if they belong to the académie; otherwise « introuvable » (the directory
    of another académie is not this administrateur's to read)."""
    if academie_id not in academies_of(conn, person_id):
        raise PersonNotFound(person_id)
    return _person(conn, person_id)


def add_member(
    conn: Connection, academie_id: int, person_id: int, *, actor_id: int | None, now: datetime
) -> bool:
    """Put the person in the académie's directory; False if they were already in it."""
    found = select(M.c.id).where(M.c.academie_id == academie_id, M.c.person_id == person_id)
    if conn.execute(found).first() is not None:
        return False
    conn.execute(
        insert(M).values(
            academie_id=academie_id, person_id=person_id, created_at=now, created_by_id=actor_id
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class Added:
    person_id: int
    created: bool
    """False: the address was already known to formaflow (the person was only added here)."""
    joined: bool
    """False: they were already in this académie's directory."""


def check_new_person(email: str, full_name: str) -> tuple[str, str]:
    """The address and name as kept, or ``InvalidInput`` naming the field."""
    address = email.strip().lower()
    name = " ".join(full_name.split())
    if not address:
        raise InvalidInput("adresse électronique manquante", "courriel")
    refusal = email_refusal(address)
    if refusal is not None:
        raise InvalidInput(refusal, "courriel")
    if len(name) < 2:
        raise InvalidInput("nom manquant (2 caractères au moins)", "nom")
    if len(name) > 200:
        raise InvalidInput("nom trop long (200 caractères au plus)", "nom")
    return address, name


def add_person(
    conn: Connection,
    academie_id: int,
    email: str,
    full_name: str,
    *,
    actor_id: int | None,
    now: datetime,
) -> Added:
    """Create the person (or find them by address) and put them in the directory."""
    address, name = check_new_person(email, full_name)
    existing = conn.execute(select(P.c.id).where(P.c.email == address)).scalar()
    created = existing is None
    if existing is None:
        key = conn.execute(
            insert(P).values(email=address, full_name=name, created_at=now)
        ).inserted_primary_key
        assert key is not None
        person_id = int(key[0])
    else:
        person_id = int(existing)
    joined = add_member(conn, academie_id, person_id, actor_id=actor_id, now=now)
    if joined:
        shown_name = name if created else _person(conn, person_id)[0]
        changes.record(
            conn,
            academie_id,
            "personne.creee",
            None,
            _described(shown_name, address),
            actor_id=actor_id,
            now=now,
        )
    return Added(person_id, created, joined)


def set_active(
    conn: Connection,
    academie_id: int,
    person_id: int,
    active: bool,
    *,
    actor_id: int | None,
    administered: set[int] | None,
    now: datetime,
) -> str:
    """Deactivate or reactivate; the person's name. ``administered``: the académies the
    actor administers (``None`` for the operator)."""
    name, email, was_active = _in_academie(conn, academie_id, person_id)
    if actor_id == person_id:
        raise InvalidInput("On ne peut pas désactiver son propre compte.")
    if administered is not None and not academies_of(conn, person_id) <= administered:
        raise InvalidInput(
            f"{name} a aussi un rôle dans une académie que vous n'administrez pas : "
            "seul l'exploitant peut désactiver ce compte."
        )
    if was_active == active:
        state = "active" if active else "désactivée"
        raise InvalidInput(f"{name} est déjà {state}.")
    conn.execute(update(P).where(P.c.id == person_id).values(active=active))
    changes.record(
        conn,
        academie_id,
        "personne.reactivee" if active else "personne.desactivee",
        None,
        _described(name, email),
        actor_id=actor_id,
        now=now,
    )
    return name


def grant(
    conn: Connection,
    academie_id: int,
    person_id: int,
    role: str,
    *,
    actor_id: int | None,
    now: datetime,
) -> str:
    """Give an académie role; the person's name. Giving it twice changes nothing."""
    if role not in ACADEMIE_ROLES:
        allowed = ", ".join(ACADEMIE_ROLES.values())
        raise InvalidInput(f"Rôle d'académie inconnu : « {role} » (au choix : {allowed}).", "role")
    name, email, active = _person(conn, person_id)
    if not active:
        raise InvalidInput(f"{name} est désactivé(e) : réactivez son compte d'abord.", "personne")
    held = select(A.c.id).where(
        A.c.person_id == person_id, A.c.role == role, A.c.academie_id == academie_id
    )
    if conn.execute(held).first() is not None:
        raise InvalidInput(f"{name} est déjà {role_label(role)} de cette académie.", "personne")
    conn.execute(
        insert(A).values(person_id=person_id, role=role, academie_id=academie_id, created_at=now)
    )
    add_member(conn, academie_id, person_id, actor_id=actor_id, now=now)
    changes.record(
        conn, academie_id, f"role.{role}", None, _described(name, email), actor_id=actor_id, now=now
    )
    return name


def withdraw(
    conn: Connection,
    academie_id: int,
    person_id: int,
    role: str,
    *,
    actor_id: int | None,
    now: datetime,
) -> str:
    """Take an académie role back; the académie always keeps one administrateur."""
    name, email, _ = _in_academie(conn, academie_id, person_id)
    if role == ADMINISTRATEUR:
        others = conn.execute(
            select(func.count())
            .select_from(A)
            .where(
                A.c.academie_id == academie_id,
                A.c.role == ADMINISTRATEUR,
                A.c.person_id != person_id,
            )
        ).scalar_one()
        if not others:
            raise InvalidInput(
                "L'académie doit garder au moins un administrateur : nommez-en un autre d'abord."
            )
    removed = conn.execute(
        delete(A).where(
            A.c.person_id == person_id, A.c.role == role, A.c.academie_id == academie_id
        )
    ).rowcount
    if not removed:
        raise InvalidInput(f"{name} n'est pas {role_label(role)} de cette académie.", "role")
    changes.record(
        conn, academie_id, f"role.{role}", _described(name, email), None, actor_id=actor_id, now=now
    )
    return name
