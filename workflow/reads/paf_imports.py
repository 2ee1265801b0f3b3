"""The PAF files dropped in an académie, newest first, for the import page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from workflow.store.tables import academie_table as R
from workflow.store.tables import paf_import_table as I
from workflow.store.tables import person_table as P


@dataclass(frozen=True, slots=True)
class ImportLine:
    id: int
    academie: str
    filename: str
    created_at: datetime
    created_by: str
    status: str
    imported_at: datetime | None
    created: int
    updated: int

    @property
    def status_label(self) -> str:
        return "Importé" if self.status == "importe" else "Essai (non importé)"


def recent_imports(conn: Connection, academie_ids: list[int], limit: int = 10) -> list[ImportLine]:
    if not academie_ids:
        return []
    rows = conn.execute(
        select(
            I.c.id,
            R.c.name,
            I.c.filename,
            I.c.created_at,
            P.c.full_name,
            I.c.status,
            I.c.imported_at,
            I.c.created,
            I.c.updated,
        )
        .join(R, R.c.id == I.c.academie_id)
        .outerjoin(P, P.c.id == I.c.created_by_id)
        .where(I.c.academie_id.in_(academie_ids))
        .order_by(I.c.id.desc())
        .limit(limit)
    ).all()
    return [
        ImportLine(
            id=r.id,
            academie=r.name,
            filename=r.filename,
            created_at=r.created_at,
            created_by=r.full_name or "Ligne de commande",
            status=r.status,
            imported_at=r.imported_at,
            created=r.created,
            updated=r.updated,
        )
        for r in rows
    ]


def last_import_academie(conn: Connection, person_id: int, academie_ids: list[int]) -> int | None:
    """The académie of this person's latest PAF file among ``academie_ids``, if any: the
    upload form offers it first — someone of two académies mostly imports for one of them,
    and was asked to choose it again at every file."""
    if not academie_ids:
        return None
    found = conn.execute(
        select(I.c.academie_id)
        .where(I.c.created_by_id == person_id, I.c.academie_id.in_(academie_ids))
        .order_by(I.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)
