"""Who administers which académie.

The ``administrateur`` role is held on an académie. Its holder administers that académie
and nothing else: asked about another académie, every use case answers « introuvable »
exactly as for one that does not exist, so that an administrateur learns nothing of the
others. Someone who holds another role in the académie (gestionnaire, responsable) is told
plainly that administration is not theirs. ``actor_id=None`` is the operator (the CLI),
who may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from workflow.engine.errors import AcademieNotFound, NotPermitted
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table as R
from workflow.store.tables import assignment_table as A

ADMINISTRATEUR = "administrateur"
ADMINISTRATEUR_LABEL = "Administrateur de l'académie"


@dataclass(frozen=True, slots=True)
class AcademieRef:
    id: int
    slug: str
    name: str
    code: str
    institution: str | None = None
    """Its institution as its pages' header names it (read by ``require_academie``, which
    the pages of one académie go through): an administrateur of several sees, in the
    header, the one they are working on."""


def administered(conn: Connection, person_id: int) -> list[AcademieRef]:
    """The académies this person administers, by name."""
    rows = conn.execute(
        select(R.c.id, R.c.slug, R.c.name, R.c.code)
        .join(A, A.c.academie_id == R.c.id)
        .where(A.c.person_id == person_id, A.c.role == ADMINISTRATEUR)
        .order_by(R.c.name, R.c.id)
    ).all()
    return [AcademieRef(int(r.id), r.slug, r.name, r.code) for r in rows]


def every_academie(conn: Connection) -> list[AcademieRef]:
    """Every académie (the operator's view)."""
    rows = conn.execute(select(R.c.id, R.c.slug, R.c.name, R.c.code).order_by(R.c.name)).all()
    return [AcademieRef(int(r.id), r.slug, r.name, r.code) for r in rows]


def may_create_academie(conn: Connection, person_id: int | None) -> bool:
    """The operator, and anyone who administers an académie already (they become the first
    administrateur of the one they create)."""
    if person_id is None:
        return True
    found = select(A.c.id).where(A.c.person_id == person_id, A.c.role == ADMINISTRATEUR)
    return conn.execute(found.limit(1)).first() is not None


def require_academie(conn: Connection, slug_or_id: str | int, actor_id: int | None) -> AcademieRef:
    """The académie, if ``actor_id`` administers it (or is the operator).

    Not an administrateur of it: « introuvable » for an outsider, « non autorisé » for
    someone who holds another role in it."""
    column = R.c.id if isinstance(slug_or_id, int) else R.c.slug
    row = conn.execute(
        select(R.c.id, R.c.slug, R.c.name, R.c.code).where(column == slug_or_id)
    ).first()
    if row is None:
        raise AcademieNotFound(slug_or_id)
    institution = academie_settings(conn, int(row.id)).institution
    academie = AcademieRef(int(row.id), row.slug, row.name, row.code, institution)
    if actor_id is None:
        return academie
    roles = set(
        conn.execute(
            select(A.c.role).where(A.c.person_id == actor_id, A.c.academie_id == academie.id)
        ).scalars()
    )
    if ADMINISTRATEUR in roles:
        return academie
    if roles:
        raise NotPermitted(
            "administrer l'académie", [ADMINISTRATEUR_LABEL], where="sur cette académie"
        )
    raise AcademieNotFound(slug_or_id)
