"""Charter tasks (DOMAIN §3) as their holder sees them: list mine, tick one, untick it.

The service hands the tasks out when a phase opens; from then on a task belongs to one
person in one role on one dossier, and only that person may tick it. A task that is not
the caller's is reported exactly like one that does not exist, so that nobody learns, by
probing ids, which tasks (and so which dossiers and people) exist. The holder who has
since left the dossier (their role was withdrawn) still sees that the task exists — it is
theirs — but may no longer change it, and it drops out of their list.

Each public method of ``TaskBook`` is one transaction and owns its commit, like
``WorkflowService.fire``. Ticking is idempotent: the first ``done_at`` is kept, so a
double click or a retried request never rewrites when the work was actually done.

Due dates come from the spec: a task names the deadline whose point it is due by
(``TaskSpec.due_with``: the first session's start for « en amont », the bilan's due date
for « après »), computed by ``workflow.engine.due`` with the académie's own delays, and
moved again when the sessions move. When its phase ends — the dossier enters a state of
another phase, or ends — a task not done is closed (``closed_at``): it leaves the open
list, stays in its holder's history as « non faite », and can no longer be ticked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    exists,
    select,
    update,
)

from states import get_spec
from states.roles import role_label
from states.spec import DeadlineAnchor, StateSpec, TaskSpec, WorkflowSpec
from workflow.engine.due import anchor_for, offset_days
from workflow.engine.errors import InvalidInput, NotPermitted, WorkflowError
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as D
from workflow.store.tables import task_table as T
from workflow.store.types import utcnow


class TaskNotFound(WorkflowError):
    """An unknown task, or someone else's: the two are deliberately indistinguishable."""

    code = "introuvable"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"La tâche {task_id} est introuvable parmi vos tâches.")
        self.task_id = task_id


class TaskClosed(InvalidInput):
    """A task whose phase is over: it stays « non faite » in the history."""

    def __init__(self, label: str) -> None:
        super().__init__(
            f"La tâche « {label} » est close : sa phase est terminée sans qu'elle ait été "
            "faite. Elle reste dans votre historique comme « non faite »."
        )


class TaskStatus(StrEnum):
    """Which of my tasks to list; the values are what a person types in a URL."""

    OPEN = "ouvertes"
    DONE = "faites"
    OVERDUE = "en_retard"
    CLOSED = "non_faites"
    ALL = "toutes"


@dataclass(frozen=True, slots=True)
class TaskFilters:
    status: TaskStatus = TaskStatus.OPEN
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TaskView:
    """One task with what its holder needs to recognise it without opening the dossier."""

    id: int
    dossier_id: int
    dossier_reference: str
    dossier_title: str
    phase: str
    phase_label: str
    role: str
    role_label: str
    code: str
    label: str
    due_at: datetime | None
    done_at: datetime | None
    done_by_id: int | None
    overdue: bool
    closed_at: datetime | None = None
    """When its phase ended with the task not done (« non faite »)."""


_COLUMNS = (
    T.c.id,
    T.c.dossier_id,
    T.c.person_id,
    T.c.role,
    T.c.phase,
    T.c.code,
    T.c.label,
    T.c.due_at,
    T.c.done_at,
    T.c.done_by_id,
    T.c.closed_at,
    D.c.reference,
    D.c.title,
    D.c.workflow_name,
    D.c.workflow_version,
)


def _still_held() -> ColumnElement[bool]:
    """The task's holder still holds the task's role on its dossier."""
    return exists().where(
        A.c.dossier_id == T.c.dossier_id,
        A.c.person_id == T.c.person_id,
        A.c.role == T.c.role,
    )


def _base() -> Select[Any]:
    return select(*_COLUMNS).join(D, D.c.id == T.c.dossier_id)


def _phase_label(workflow: str, version: int, phase: str) -> str:
    """The phase's French label; the bare id if the spec no longer knows it (a task
    outlives spec edits, and a list must never fail on an old row)."""
    try:
        return get_spec(workflow, version).phase(phase).label
    except KeyError:
        return phase


def _view(row: Any, now: datetime) -> TaskView:
    return TaskView(
        id=row.id,
        dossier_id=row.dossier_id,
        dossier_reference=row.reference,
        dossier_title=row.title,
        phase=row.phase,
        phase_label=_phase_label(row.workflow_name, row.workflow_version, row.phase),
        role=row.role,
        role_label=role_label(row.role),
        code=row.code,
        label=row.label,
        due_at=row.due_at,
        done_at=row.done_at,
        done_by_id=row.done_by_id,
        overdue=row.done_at is None
        and row.closed_at is None
        and row.due_at is not None
        and row.due_at < now,
        closed_at=row.closed_at,
    )


def _status_clause(status: TaskStatus, now: datetime) -> ColumnElement[bool] | None:
    open_ = and_(T.c.done_at.is_(None), T.c.closed_at.is_(None))
    if status is TaskStatus.OPEN:
        return open_
    if status is TaskStatus.DONE:
        return T.c.done_at.is_not(None)
    if status is TaskStatus.OVERDUE:
        return and_(open_, T.c.due_at.is_not(None), T.c.due_at < now)
    if status is TaskStatus.CLOSED:
        return and_(T.c.done_at.is_(None), T.c.closed_at.is_not(None))
    return None


class TaskBook:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def mine(self, person_id: int, filters: TaskFilters) -> tuple[list[TaskView], bool]:
        """A page of my tasks, soonest due first (undated last), and whether more follow.

        Only tasks of a role I still hold on the dossier: one I can no longer tick would
        otherwise stay « en retard » in my list forever.
        """
        now = self.clock()
        query = _base().where(T.c.person_id == person_id, _still_held())
        clause = _status_clause(filters.status, now)
        if clause is not None:
            query = query.where(clause)
        query = (
            query.order_by(T.c.due_at.asc().nulls_last(), D.c.reference, T.c.id)
            .limit(filters.limit + 1)
            .offset(filters.offset)
        )
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            rows = conn.execute(query).all()
            conn.rollback()
        views = [_view(row, now) for row in rows[: filters.limit]]
        return views, len(rows) > filters.limit

    def complete(self, task_id: int, person_id: int) -> TaskView:
        """Tick the task; ticking a ticked task changes nothing (the first date stays)."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._own(conn, task_id, person_id, "cocher cette tâche")
            conn.execute(
                update(T)
                .where(T.c.id == task_id, T.c.done_at.is_(None))
                .values(done_at=now, done_by_id=person_id)
            )
            return self._reload(conn, task_id, now)

    def reopen(self, task_id: int, person_id: int) -> TaskView:
        """Untick the task (ticked by mistake, or work to redo); idempotent as well."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._own(conn, task_id, person_id, "rouvrir cette tâche")
            conn.execute(
                update(T)
                .where(T.c.id == task_id, T.c.done_at.is_not(None))
                .values(done_at=None, done_by_id=None)
            )
            return self._reload(conn, task_id, now)

    def _own(self, conn: Connection, task_id: int, person_id: int, action: str) -> None:
        """Refuse anyone but the holder, and the holder who no longer has the role.

        The conditional ``UPDATE`` that follows takes the row lock (PostgreSQL) or already
        runs under ``BEGIN IMMEDIATE`` (SQLite), so two concurrent ticks keep one date.
        """
        row = conn.execute(
            select(T.c.role, T.c.label, T.c.closed_at, _still_held().label("held")).where(
                T.c.id == task_id, T.c.person_id == person_id
            )
        ).first()
        if row is None:
            raise TaskNotFound(task_id)
        if not row.held:
            raise NotPermitted(action, [role_label(row.role)])
        if row.closed_at is not None:
            raise TaskClosed(row.label)

    def _reload(self, conn: Connection, task_id: int, now: datetime) -> TaskView:
        row = conn.execute(_base().where(T.c.id == task_id)).one()
        return _view(row, now)


# --- Phases and due dates (on the service's connection) ------------------------------------


_CLOSE_OPEN = (
    update(T)
    .where(T.c.dossier_id == bindparam("c_dossier"), T.c.done_at.is_(None), T.c.closed_at.is_(None))
    .values(closed_at=bindparam("c_now", type_=T.c.closed_at.type))
)
_CLOSE_OTHER_PHASES = _CLOSE_OPEN.where(T.c.phase != bindparam("c_phase"))
"""Built once: every transition runs one of them, and building the ``UPDATE`` (and
SQLAlchemy's walk to find its compiled form) cost more than running it — a third of the
service's time per transition (``bench/transitions.py``, profiled)."""


def close_phase_tasks(conn: Connection, dossier_id: int, entered: StateSpec, now: datetime) -> int:
    """Close the dossier's tasks not done whose phase is over now that it entered
    ``entered`` (every one when that state ends the dossier); how many."""
    values: dict[str, object] = {"c_dossier": dossier_id, "c_now": now}
    if entered.terminal:
        return int(conn.execute(_CLOSE_OPEN, values).rowcount)
    values["c_phase"] = entered.phase
    return int(conn.execute(_CLOSE_OTHER_PHASES, values).rowcount)


def task_due_at(
    conn: Connection,
    spec: WorkflowSpec,
    task: TaskSpec,
    dossier_id: int,
    academie_id: int,
    now: datetime,
) -> datetime | None:
    """When ``task`` is due on this dossier, by its spec (None: no date, or not yet known —
    no session planned)."""
    if task.due_with is None:
        return None if task.due_after_days is None else now + timedelta(days=task.due_after_days)
    deadline = next(d for d in spec.deadlines if d.id == task.due_with)
    anchor = anchor_for(conn, dossier_id, now, deadline)
    if anchor is None:
        return None
    delays = {academie_id: academie_settings(conn, academie_id).deadline_days}
    return anchor + timedelta(days=offset_days(deadline, academie_id, delays))


SESSION_ANCHORS = (DeadlineAnchor.FIRST_SESSION_START, DeadlineAnchor.LAST_SESSION_END)


def refresh_due_dates(conn: Connection, dossier_id: int, now: datetime) -> int:
    """Date again the open tasks due by a session's date, after the sessions changed; how
    many moved. A task of another kind keeps the date it was given when its phase opened."""
    dossier = conn.execute(
        select(D.c.workflow_name, D.c.workflow_version, D.c.academie_id).where(D.c.id == dossier_id)
    ).one()
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    by_key = {(t.phase, t.code, t.role): t for t in spec.tasks}
    deadlines = {d.id: d for d in spec.deadlines}
    rows = conn.execute(
        select(T.c.id, T.c.phase, T.c.code, T.c.role, T.c.due_at).where(
            T.c.dossier_id == dossier_id, T.c.done_at.is_(None), T.c.closed_at.is_(None)
        )
    ).all()
    moved = 0
    for row in rows:
        task = by_key.get((row.phase, row.code, row.role))
        if task is None or task.due_with is None:
            continue
        if deadlines[task.due_with].anchor not in SESSION_ANCHORS:
            continue
        due = task_due_at(conn, spec, task, dossier_id, dossier.academie_id, now)
        if due != row.due_at:
            conn.execute(update(T).where(T.c.id == row.id).values(due_at=due))
            moved += 1
    return moved
