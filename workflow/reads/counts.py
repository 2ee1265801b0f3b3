"""The dashboard's numbers at the scale of a national instance: dossiers per state, how many
of them are late, and the pilotes one may filter on, without scanning the dossiers.

Counting an académie's 250,000 dossiers at every page took 0.15–1 s. Instead:

- **per state**, for the académies where the person is EAFC staff, the ``dossier_count``
  counters, which triggers keep in the transaction of every write (migration 0014): a sum
  over at most a few thousand small rows, whatever the number of dossiers;
- **late** ones, by ``workflow.engine.due`` (the timers' rule, with the académie's own
  delays): where the due date counts from the entry into the state, every dossier of the
  state is late except those that entered it within the delay, so late = the state's
  counter − those recent entries, counted on the partial index
  ``ix_dossier_open_state_entered`` (the cost follows the last weeks' inflow, never the
  backlog); where it counts from a session or the end of the training, the late ones of
  that state are counted with the same clause;
- the dossiers a person sees **outside** their staff académies (their own roles, the
  pilotes they stand in for) are few: counted live, late ones through ``late_clause``.

Counts are scoped by ``Visibility`` exactly like the lists: a page never tells a person how
many dossiers exist outside what they may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)

from states import SPECS
from states.spec import DeadlineAnchor, DeadlineSpec, WorkflowSpec
from workflow.dossiers.access import Visibility
from workflow.engine.due import (
    DeadlineDelays,
    deadline_delays,
    due_deadline,
    due_deadlines,
    has_come,
    late_clause,
)
from workflow.store.tables import academie_pilote_table as AP
from workflow.store.tables import academie_table as AC
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_count_table as C
from workflow.store.tables import dossier_table as D
from workflow.store.tables import person_table as P


@dataclass(frozen=True, slots=True)
class VisibleCount:
    workflow: str
    workflow_label: str
    phase: str
    phase_label: str
    state: str
    label: str
    count: int
    overdue: int


def _academie_id(slug: str) -> ColumnElement[Any]:
    return select(AC.c.id).where(AC.c.slug == slug).scalar_subquery()


StateKey = tuple[str, int, str]
"""(workflow, version, state)."""


@dataclass(frozen=True, slots=True)
class _Due:
    key: StateKey
    spec: WorkflowSpec
    deadline: DeadlineSpec

    @property
    def by_entry(self) -> bool:
        """Due counted from the entry into the state: the dossiers *not yet* late are the
        recent entries, a short range of the partial index, whatever the backlog."""
        return self.deadline.anchor is DeadlineAnchor.STATE_ENTERED


def _due_states() -> list[_Due]:
    return [
        _Due((spec.name, spec.version, state), spec, deadline)
        for spec, deadline in due_deadlines()
        for state in deadline.states
        if due_deadline(spec, state) is deadline
    ]


def _staff_statement(
    dues: list[_Due], narrowed: bool, now: datetime, delays: DeadlineDelays
) -> CompoundSelect[Any]:
    """One statement: the counters of the staff académies per state, and per state with a
    due date the dossiers that are not late yet (due counted from the state's entry: an
    index range on ``ix_dossier_open_state_entered``) or late (other anchors: the first
    session, the end of the training), by ``workflow.engine.due``'s own clause — the one
    the lists and the timers use. ``narrowed``: within the académie named by ``s_slug``."""
    academies: BindParameter[int] = bindparam("s_academies", expanding=True)
    slug = select(AC.c.id).where(AC.c.slug == bindparam("s_slug")).scalar_subquery()
    key = (C.c.workflow_name, C.c.workflow_version, C.c.state)
    totals = (
        select(literal("total").label("part"), *key, func.sum(C.c.n).label("n"))
        .where(C.c.academie_id.in_(academies), C.c.archived == bindparam("s_archived"))
        .group_by(*key)
    )
    if narrowed:
        totals = totals.where(C.c.academie_id == slug)
    parts: list[Select[Any]] = [totals]
    state_key = (D.c.workflow_name, D.c.workflow_version, D.c.state)
    for due in dues:
        workflow, version, state = due.key
        come = has_come(due.spec, due.deadline, now, delays)
        part = (
            select(literal("recent" if due.by_entry else "late"), *state_key, func.count())
            .where(
                D.c.academie_id.in_(academies),
                D.c.workflow_name == workflow,
                D.c.workflow_version == version,
                D.c.state == state,
                not_(come) if due.by_entry else come,
                D.c.archived_at.is_(None),
            )
            .group_by(*state_key)
        )
        parts.append(part.where(D.c.academie_id == slug) if narrowed else part)
    return union_all(*parts)


def _staff_counts(
    conn: Connection, seen: Visibility, academie: str | None, archived: bool, now: datetime
) -> dict[StateKey, tuple[int, int]]:
    """Per state of the staff académies: the counter, and how many of those are late."""
    if not seen.academies:
        return {}
    dues = [] if archived else _due_states()
    parameters: dict[str, Any] = {
        "s_academies": list(seen.academies),
        "s_archived": archived,
        "s_slug": academie,
    }
    statement = _staff_statement(dues, academie is not None, now, deadline_delays(conn))
    totals: dict[StateKey, int] = {}
    recent: dict[StateKey, int] = {}
    late: dict[StateKey, int] = {}
    for row in conn.execute(statement, parameters):
        found = (str(row[1]), int(row[2]), str(row[3]))
        {"total": totals, "recent": recent, "late": late}[row[0]][found] = int(row[4] or 0)
    by_entry = {d.key for d in dues if d.by_entry}
    return {
        found: (
            total,
            max(0, total - recent.get(found, 0)) if found in by_entry else late.get(found, 0),
        )
        for found, total in totals.items()
    }


def _beyond_counts(
    conn: Connection, seen: Visibility, academie: str | None, archived: bool, now: datetime
) -> dict[StateKey, tuple[int, int]]:
    """Counted live: the few dossiers seen outside the person's staff académies."""
    beyond = seen.beyond_academies()
    if not beyond:
        return {}
    scope: list[ColumnElement[bool]] = [
        or_(*beyond),
        D.c.archived_at.is_not(None) if archived else D.c.archived_at.is_(None),
    ]
    if seen.academies:
        scope.append(D.c.academie_id.not_in(seen.academies))
    if academie is not None:
        scope.append(D.c.academie_id == _academie_id(academie))
    late = late_clause(now, deadline_delays(conn))
    rows = conn.execute(
        select(
            D.c.workflow_name,
            D.c.workflow_version,
            D.c.state,
            func.count(),
            func.sum(case((late, 1), else_=0)),
        )
        .where(*scope)
        .group_by(D.c.workflow_name, D.c.workflow_version, D.c.state)
    )
    return {(str(r[0]), int(r[1]), str(r[2])): (int(r[3]), int(r[4] or 0)) for r in rows}


def state_counts(
    conn: Connection,
    seen: Visibility,
    now: datetime,
    academie: str | None = None,
    *,
    archived: bool = False,
) -> list[VisibleCount]:
    """Every state of every spec, in spec order, with how many of the person's visible
    dossiers stand in it and how many of those are late; within one académie (its slug)
    when the dashboard is narrowed to it; archived dossiers only if ``archived`` (they are
    never late: they are closed)."""
    found = _staff_counts(conn, seen, academie, archived, now)
    for key, (count, late) in _beyond_counts(conn, seen, academie, archived, now).items():
        before = found.get(key, (0, 0))
        found[key] = (before[0] + count, before[1] + late)
    result = []
    for spec in SPECS.values():
        for state in spec.states:
            count, overdue = found.get((spec.name, spec.version, state.id), (0, 0))
            result.append(
                VisibleCount(
                    workflow=spec.name,
                    workflow_label=spec.label,
                    phase=state.phase,
                    phase_label=spec.phase(state.phase).label,
                    state=state.id,
                    label=state.label,
                    count=count,
                    overdue=overdue,
                )
            )
    return result


@dataclass(frozen=True, slots=True)
class PersonChoice:
    person_id: int
    full_name: str


def pilote_choices(
    conn: Connection, seen: Visibility, limit: int | None = None
) -> list[PersonChoice] | None:
    """The pilotes of the dossiers the person may see, by name (the dashboard's pilote
    filter); ``None`` when there are more than ``limit`` (the page then asks for an
    address instead of offering a list nobody could scroll). For EAFC staff, read from
    ``academie_pilote``; names are read only for a list that will be shown."""
    sources: list[Select[Any]] = []
    if seen.academies:
        staff = (
            select(AP.c.person_id)
            .where(AP.c.academie_id.in_(seen.academies), AP.c.dossiers > 0)
            .distinct()
        )
        sources.append(staff if limit is None else staff.limit(limit + 1))
    beyond = seen.beyond_academies()
    if beyond:
        scope = [or_(*beyond)]
        if seen.academies:
            scope.append(D.c.academie_id.not_in(seen.academies))
        sources.append(
            select(A.c.person_id)
            .join(D, D.c.id == A.c.dossier_id)
            .where(A.c.role == "pilote", and_(*scope))
            .distinct()
        )
    if not sources:
        return []
    ids = {
        int(i)
        for i in conn.execute(
            union_all(*(select(source.subquery().c.person_id) for source in sources))
        ).scalars()
    }
    if limit is not None and len(ids) > limit:
        return None  # names not even read: the page shows an address field
    if not ids:
        return []
    rows = conn.execute(
        select(P.c.id, P.c.full_name).where(P.c.id.in_(ids)).order_by(P.c.full_name, P.c.id)
    )
    return [PersonChoice(int(r.id), str(r.full_name)) for r in rows]
