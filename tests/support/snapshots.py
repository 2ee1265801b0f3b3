"""Everything a transition may write about one dossier, to prove a refusal wrote nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from workflow.store.tables import (
    decision_table,
    dossier_table,
    history_table,
    signature_table,
    task_table,
)


def snapshot(engine: Engine, dossier_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(dossier_table).where(dossier_table.c.id == dossier_id)).one()

        def count(table: Any) -> int:
            return int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.dossier_id == dossier_id)
                ).scalar_one()
            )

        return {
            "dossier": row._asdict(),
            "history": count(history_table),
            "tasks": count(task_table),
            "signatures": count(signature_table),
            "decisions": count(decision_table),
        }


def history_rows(engine: Engine, dossier_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(history_table)
                .where(history_table.c.dossier_id == dossier_id)
                .order_by(history_table.c.version)
            ).all()
        )
