"""Which of a dossier's files are worth offering on its page, and the dashboard's budget.

The files themselves are built by ``api/exports`` behind ``/api/v1/.../exports`` (the same
addresses the CLI documents), each readable by whoever may read the dossier. A link is
offered once its file holds something: a fiche once the payment is decided, the printable
bilan and the Sofia-FMO package once a bilan was started, the calendar once a session is
planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, exists, select

from workflow.store.tables import bilan_table, decision_table, document_table, session_table


@dataclass(frozen=True, slots=True)
class Downloads:
    fiche: bool
    bilan: bool
    sofia: bool
    calendar: bool

    def __bool__(self) -> bool:
        return self.fiche or self.bilan or self.sofia or self.calendar


def downloads(conn: Connection, dossier_id: int) -> Downloads:
    def has(table: Table) -> bool:
        found = select(exists().where(table.c.dossier_id == dossier_id))
        return bool(conn.execute(found).scalar())

    decided, bilan = has(decision_table), has(bilan_table)
    return Downloads(
        fiche=decided,
        bilan=bilan,
        sofia=decided or bilan or has(document_table),
        calendar=has(session_table),
    )
