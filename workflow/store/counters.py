"""The dashboard's counters (``dossier_count``, ``academie_pilote``) and the due-date
anchors kept on each dossier (``first_session_at``, ``training_ended_at``): rebuilt and
checked.

Database triggers keep them in the transaction of every write (migrations 0014, 0016), so
nothing here runs on the hot path. A load that bypasses triggers (a restore with
``--disable-triggers``, the benchmark's bulk generator) leaves them stale: ``rebuild``
recounts them from the rows (``formaflow db recount``), and ``drift`` says whether they
agree with the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from workflow.store.tables import academie_pilote_table as AP
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_count_table as C
from workflow.store.tables import dossier_table as D
from workflow.store.tables import history_table as H
from workflow.store.tables import session_table as S

SHARDS = 64
"""Rows per (académie, workflow, state): as the migration's triggers spread them."""


def _counted() -> list[ColumnElement[Any]]:
    return [
        D.c.academie_id,
        D.c.workflow_name,
        D.c.workflow_version,
        D.c.state,
        D.c.archived_at.is_not(None),
        D.c.id % SHARDS,
    ]


def _from_rows() -> Select[Any]:
    key = _counted()
    return select(*key, func.count()).group_by(*key)


def _pilotes_from_rows() -> Select[Any]:
    return (
        select(D.c.academie_id, A.c.person_id, func.count())
        .join(D, D.c.id == A.c.dossier_id)
        .where(A.c.role == "pilote")
        .group_by(D.c.academie_id, A.c.person_id)
    )


TRAINING_END = "terminer"
"""The trigger whose history row ends the training (``workflow.engine.due`` sits above the
store and names it too; migration 0016's trigger watches the same)."""


def _anchors() -> dict[str, ColumnElement[Any]]:
    """Each dossier's due-date anchors computed from the rows, as the triggers keep them."""
    return {
        "first_session_at": select(func.min(S.c.starts_at))
        .where(S.c.dossier_id == D.c.id)
        .scalar_subquery(),
        "training_ended_at": select(func.max(H.c.at))
        .where(H.c.dossier_id == D.c.id, H.c.trigger == TRAINING_END)
        .scalar_subquery(),
    }


def _anchor_drift() -> ColumnElement[bool]:
    return or_(*(D.c[name].is_distinct_from(value) for name, value in _anchors().items()))


def rebuild(conn: Connection) -> None:
    """Recount both tables and recompute the anchors from the rows, in the caller's
    transaction."""
    conn.execute(update(D).where(_anchor_drift()).values(**_anchors()))
    conn.execute(delete(C))
    conn.execute(
        insert(C).from_select(
            ["academie_id", "workflow_name", "workflow_version", "state", "archived", "shard", "n"],
            _from_rows(),
        )
    )
    conn.execute(delete(AP))
    conn.execute(
        insert(AP).from_select(
            ["academie_id", "person_id", "dossiers"],
            _pilotes_from_rows(),
        )
    )


@dataclass(frozen=True, slots=True)
class Drift:
    dossier_keys: int
    """(académie, workflow, version, state, archived) whose count differs from the rows."""
    pilote_keys: int
    """(académie, pilote) whose count differs from the assignments."""
    anchors: int = 0
    """Dossiers whose first session or training end differs from their sessions and
    history."""

    @property
    def none(self) -> bool:
        return not self.dossier_keys and not self.pilote_keys and not self.anchors


def drift(conn: Connection) -> Drift:
    """Compare the counters with a count of the rows (a full scan: for checks, not pages)."""
    key = _counted()[:5]
    counted = {
        (r[0], r[1], r[2], r[3], bool(r[4])): int(r[5])
        for r in conn.execute(select(*key, func.count()).group_by(*key))
    }
    kept_key = [C.c.academie_id, C.c.workflow_name, C.c.workflow_version, C.c.state, C.c.archived]
    kept = {
        (r[0], r[1], r[2], r[3], bool(r[4])): int(r[5])
        for r in conn.execute(select(*kept_key, func.sum(C.c.n)).group_by(*kept_key))
    }
    pilotes = {(int(r[0]), int(r[1])): int(r[2]) for r in conn.execute(_pilotes_from_rows())}
    held = {(int(r[0]), int(r[1])): int(r[2]) for r in conn.execute(select(AP))}
    return Drift(
        dossier_keys=sum(
            1 for k in counted.keys() | kept.keys() if counted.get(k, 0) != kept.get(k, 0)
        ),
        pilote_keys=sum(
            1 for k in pilotes.keys() | held.keys() if pilotes.get(k, 0) != held.get(k, 0)
        ),
        anchors=int(conn.execute(select(func.count()).where(_anchor_drift())).scalar_one()),
    )
