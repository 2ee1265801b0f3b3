"""Which académie — and so which institution — a page speaks for.

The page header names the institution a person works for (DSFR « bloc-marque »); a person
holds no « home académie » column, so it is found from what they do: the académie where
they hold an académie role (gestionnaire, responsable…), else the académie of the latest
dossier they hold a role on. Someone with neither gets the product's default.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from workflow.store.tables import academie_table as AC
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as D


def home_academie(conn: Connection, person_id: int) -> int | None:
    """The académie a person's pages speak for, or None when they belong to none yet."""
    staff = conn.execute(
        select(A.c.academie_id)
        .where(A.c.person_id == person_id, A.c.academie_id.is_not(None))
        .order_by(A.c.academie_id)
        .limit(1)
    ).scalar()
    if staff is not None:
        return int(staff)
    latest = conn.execute(
        select(D.c.academie_id)
        .join(A, A.c.dossier_id == D.c.id)
        .where(A.c.person_id == person_id)
        .order_by(D.c.id.desc())
        .limit(1)
    ).scalar()
    return None if latest is None else int(latest)


def every_academie(conn: Connection) -> list[int]:
    """Every académie of this installation, by name: the legal notices name each publisher."""
    return [int(i) for i in conn.execute(select(AC.c.id).order_by(AC.c.name, AC.c.id)).scalars()]
