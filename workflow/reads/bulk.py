"""What a bulk action shows: its progress, and per dossier « fait » or « refusé » and why.

A batch is seen by the person who launched it and by the académie's gestionnaires and
responsables; anyone else is told it does not exist, as for a dossier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, or_, select

from states import get_spec
from workflow.admin.bulk import ACTIONS, BATCH_STATUS, ITEM_STATUS, LAUNCHERS
from workflow.engine.errors import DossierNotFound, WorkflowError
from workflow.store.tables import academie_table as R
from workflow.store.tables import assignment_table as A
from workflow.store.tables import bulk_batch_table as B
from workflow.store.tables import bulk_item_table as BI
from workflow.store.tables import dossier_table as D
from workflow.store.tables import person_table as P


class BatchNotFound(DossierNotFound):
    code = "introuvable"

    def __init__(self, batch_id: int) -> None:
        WorkflowError.__init__(self, f"L'action groupée {batch_id} est introuvable.")
        self.dossier = batch_id


@dataclass(frozen=True, slots=True)
class BatchItem:
    position: int
    dossier_id: int
    reference: str
    title: str
    paf_id: str | None
    state_label: str
    status: str
    status_label: str
    message: str | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class BatchView:
    id: int
    academie_slug: str
    academie_name: str
    action: str
    action_label: str
    comment: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    status_label: str
    total: int
    done: int
    refused: int
    items: tuple[BatchItem, ...] = ()

    @property
    def handled(self) -> int:
        return self.done + self.refused

    @property
    def pending(self) -> int:
        return self.total - self.handled

    @property
    def finished(self) -> bool:
        return self.status == "terminee"

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.handled) // self.total


def _staff_academies(person_id: int) -> Select[tuple[int | None]]:
    return select(A.c.academie_id).where(A.c.person_id == person_id, A.c.role.in_(LAUNCHERS))


def _visible(person_id: int) -> ColumnElement[bool]:
    return or_(B.c.created_by_id == person_id, B.c.academie_id.in_(_staff_academies(person_id)))


def _counts(conn: Connection, batch_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    if not batch_ids:
        return counts
    for row in conn.execute(
        select(BI.c.batch_id, BI.c.status, func.count().label("n"))
        .where(BI.c.batch_id.in_(batch_ids))
        .group_by(BI.c.batch_id, BI.c.status)
    ):
        counts.setdefault(int(row.batch_id), {})[str(row.status)] = int(row.n)
    return counts


_BATCH = select(
    B,
    R.c.slug.label("academie_slug"),
    R.c.name.label("academie_name"),
    P.c.full_name.label("created_by"),
).select_from(B.join(R, R.c.id == B.c.academie_id).join(P, P.c.id == B.c.created_by_id))


def _view(r: Any, counts: dict[str, int], items: tuple[BatchItem, ...] = ()) -> BatchView:
    return BatchView(
        id=r.id,
        academie_slug=r.academie_slug,
        academie_name=r.academie_name,
        action=r.action,
        action_label=ACTIONS[r.action].label,
        comment=r.comment,
        created_by=r.created_by,
        created_at=r.created_at,
        started_at=r.started_at,
        finished_at=r.finished_at,
        status=r.status,
        status_label=BATCH_STATUS.get(r.status, r.status),
        total=r.total,
        done=counts.get("fait", 0),
        refused=counts.get("refuse", 0),
        items=items,
    )


def batch(conn: Connection, batch_id: int, person_id: int | None) -> BatchView:
    """One batch with every dossier's result, in the order they were chosen."""
    query = _BATCH.where(B.c.id == batch_id)
    if person_id is not None:
        query = query.where(_visible(person_id))
    row = conn.execute(query).first()
    if row is None:
        raise BatchNotFound(batch_id)
    items = tuple(
        BatchItem(
            position=i.position,
            dossier_id=i.dossier_id,
            reference=i.reference,
            title=i.title,
            paf_id=i.paf_id,
            state_label=get_spec(i.workflow_name, i.workflow_version).state(i.state).label,
            status=i.status,
            status_label=ITEM_STATUS.get(i.status, i.status),
            message=i.message,
            done_at=i.done_at,
        )
        for i in conn.execute(
            select(
                BI.c.position,
                BI.c.dossier_id,
                BI.c.status,
                BI.c.message,
                BI.c.done_at,
                D.c.reference,
                D.c.title,
                D.c.paf_id,
                D.c.workflow_name,
                D.c.workflow_version,
                D.c.state,
            )
            .join(D, D.c.id == BI.c.dossier_id)
            .where(BI.c.batch_id == batch_id)
            .order_by(BI.c.position)
        )
    )
    return _view(row, _counts(conn, [batch_id]).get(batch_id, {}), items)


def recent(conn: Connection, person_id: int, limit: int = 20) -> list[BatchView]:
    """The latest batches the person may see (without their dossiers), newest first."""
    rows = conn.execute(
        _BATCH.where(_visible(person_id)).order_by(B.c.id.desc()).limit(limit)
    ).all()
    counts = _counts(conn, [int(r.id) for r in rows])
    return [_view(r, counts.get(int(r.id), {})) for r in rows]


@dataclass(frozen=True, slots=True)
class LaunchAcademie:
    id: int
    slug: str
    name: str


def launcher_academies(conn: Connection, person_id: int) -> list[LaunchAcademie]:
    """The académies where the person may launch a bulk action, by name."""
    rows = conn.execute(
        select(R.c.id, R.c.slug, R.c.name)
        .where(R.c.id.in_(_staff_academies(person_id)))
        .order_by(R.c.name, R.c.id)
    ).all()
    return [LaunchAcademie(int(r.id), str(r.slug), str(r.name)) for r in rows]


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    reference: str
    title: str
    paf_id: str | None
    state_label: str


def candidates(conn: Connection, academie_id: int, ids: list[int]) -> list[Candidate]:
    """The chosen dossiers that belong to the académie, in the order chosen."""
    found: dict[int, Candidate] = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(
            select(
                D.c.id,
                D.c.reference,
                D.c.title,
                D.c.paf_id,
                D.c.workflow_name,
                D.c.workflow_version,
                D.c.state,
            ).where(D.c.id.in_(ids[start : start + 500]), D.c.academie_id == academie_id)
        ):
            spec = get_spec(row.workflow_name, row.workflow_version)
            found[int(row.id)] = Candidate(
                int(row.id), row.reference, row.title, row.paf_id, spec.state(row.state).label
            )
    return [found[i] for i in ids if i in found]
