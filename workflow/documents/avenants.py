"""An avenant follows the edit that changed the contract's terms, in the edit's transaction.

The dossier editor tells its hooks after a team or planning edit (``DossierEditor
.after_change``); this hook, wired in ``api``, fires ``etablir_avenant`` through the service
when the signed terms changed (``versions.pending_changes``), so that the new version, its
history row, its emails and its journal entry commit with the edit, or not at all. The
dossier keeps its state (the transition is reflexive).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from workflow.documents.versions import current, pending_changes
from workflow.engine.rows import load
from workflow.engine.service import FireCommand, WorkflowService
from workflow.store.tables import person_table


class AvenantOnEdit:
    def __init__(self, service: WorkflowService) -> None:
        self.service = service

    def __call__(self, conn: Connection, dossier_id: int, actor_id: int | None) -> None:
        dossier = load(conn, dossier_id)
        changes = pending_changes(conn, dossier)
        if not changes:
            return
        version = current(conn, dossier_id)
        assert version is not None
        by = ""
        if actor_id is not None:
            name = conn.execute(
                select(person_table.c.full_name).where(person_table.c.id == actor_id)
            ).scalar_one()
            by = f" (modification faite par {name})"
        comment = f"Avenant n° {version.number} : " + " ".join(changes) + by
        self.service.fire_in(
            conn,
            FireCommand(dossier_id, "etablir_avenant", None, comment=comment),
        )
