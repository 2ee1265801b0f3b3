"""The dashboard's numbers at the scale of a national instance: dossiers per state, how many
of them are late, and the pilotes one may filter on, without scanning the dossiers.

Counting an académie's 250,000 dossiers at every page took 0.15–1 s. Instead:

- **per state**, for the académies where the person is EAFC staff, the ``dossier_count``
  counters, which triggers keep in the transaction of every write (migration 0014): a sum
  over at most a few thousand small rows, whatever the number of dossiers;
- **late** ones, by ``workflow.engine.due`` (the timers' rule, with the académie's own
  delays): every dossier of a state with a due date is late except those whose anchor
  (entry into the state, first session's start, end of the training — all three kept on
  the row) came within the delay, or that have no anchor yet; so late = the state's
  counter − those recent ones, counted on the partial indexes by académie, state and
  anchor (the cost follows the last weeks' inflow, never the backlog); where the due date
  counts from the first session or the training's end, the late ones are counted
  themselves (``DueSlice.late_are_few``: much of such a state may have no anchor yet,
  hence no due date, and the late are the exception);
- the dossiers a person sees **outside** their staff académies (their own roles, the
  pilotes they stand in for) are few: counted live, late ones through ``late_clause``.

Counts are scoped by ``Visibility`` exactly like the lists: a page never tells a person how
many dossiers exist outside what they may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
    or_,
    select,
    union_all,
)

from states import SPECS
from workflow.dossiers.access import Visibility
from workflow.engine.due import (
    DeadlineDelays,
    DueSlice,
    deadline_delays,
    delays_key,
    due_slices,
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


def _staff_statement(slices: list[DueSlice], narrowed: bool) -> CompoundSelect[Any]:
    """One statement: the counters of the staff académies per state, and per state with a
    due date — per group of académies sharing its delay — the dossiers that are not late
    yet (``DueSlice.not_late``: a range of the partial index on the anchor, the recent
    and undated ones), by ``workflow.engine.due``'s rule — the one the lists and the
    timers use. ``narrowed``: within the académie named by ``s_slug``; the i-th slice's
    cut point (now minus its delay) is the parameter ``s_cut_i``, so that the statement
    is built once per set of delays (``_STATEMENTS``)."""
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
    for i, piece in enumerate(slices):
        cut = bindparam(f"s_cut_{i}", type_=D.c.state_entered_at.type)
        # The few side of the state, one range of its index: the late ones where the
        # anchor may be missing (``late_are_few``), else the recent ones (the anchor is
        # the entry into the state, never missing).
        if piece.late_are_few:
            name, condition = "late", piece.late_from(cut)
        else:
            name, condition = "recent", piece.not_late_from(cut)
        part = (
            select(literal(name), *state_key, func.count())
            .where(
                D.c.academie_id.in_(academies),
                piece.where,
                condition,
                D.c.archived_at.is_(None),
            )
            .group_by(*state_key)
        )
        parts.append(part.where(D.c.academie_id == slug) if narrowed else part)
    return union_all(*parts)


_STATEMENTS: dict[tuple[Any, ...], tuple[CompoundSelect[Any], list[DueSlice]]] = {}
"""The staff statement and its slices per (académies' delays, narrowed, archived): building
the union of some thirty slices, and SQLAlchemy's walk over it to find its compiled form,
cost more than the database's counting (7 ms of the 14 at a million dossiers). Delays
change rarely; the cache is emptied past a few dozen sets."""


def _statement_for(
    delays: DeadlineDelays, narrowed: bool, archived: bool
) -> tuple[CompoundSelect[Any], list[DueSlice]]:
    key = (delays_key(delays), narrowed, archived)
    found = _STATEMENTS.get(key)
    if found is None:
        # Archived dossiers are closed: never late.
        slices = [] if archived else [s for s in due_slices(delays) if s.deadline is not None]
        if len(_STATEMENTS) > 64:
            _STATEMENTS.clear()
        found = _STATEMENTS[key] = (_staff_statement(slices, narrowed), slices)
    return found


def _staff_counts(
    conn: Connection,
    seen: Visibility,
    academie: str | None,
    archived: bool,
    now: datetime,
    delays: DeadlineDelays,
) -> dict[StateKey, tuple[int, int]]:
    """Per state of the staff académies: the counter, and how many of those are late:
    every dossier of a state with a due date, but the not yet late ones."""
    if not seen.academies:
        return {}
    statement, slices = _statement_for(delays, academie is not None, archived)
    parameters: dict[str, Any] = {
        "s_academies": list(seen.academies),
        "s_archived": archived,
        "s_slug": academie,
        **{f"s_cut_{i}": now - timedelta(days=s.days) for i, s in enumerate(slices)},
    }
    parts: dict[str, dict[StateKey, int]] = {"total": {}, "recent": {}, "late": {}}
    for row in conn.execute(statement, parameters):
        found = (str(row[1]), int(row[2]), str(row[3]))
        into = parts[str(row[0])]
        into[found] = into.get(found, 0) + int(row[4] or 0)
    due = {(s.spec.name, s.spec.version, s.state) for s in slices}
    direct = {(s.spec.name, s.spec.version, s.state) for s in slices if s.late_are_few}
    return {
        found: (total, _late(found, total, parts, due, direct))
        for found, total in parts["total"].items()
    }


def _late(
    found: StateKey,
    total: int,
    parts: dict[str, dict[StateKey, int]],
    due: set[StateKey],
    direct: set[StateKey],
) -> int:
    if found not in due:
        return 0
    if found in direct:
        return min(total, parts["late"].get(found, 0))
    return max(0, total - parts["recent"].get(found, 0))


def _beyond_counts(
    conn: Connection,
    seen: Visibility,
    academie: str | None,
    archived: bool,
    now: datetime,
    delays: DeadlineDelays,
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
    late = late_clause(now, delays)
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
    delays: DeadlineDelays | None = None,
) -> list[VisibleCount]:
    """Every state of every spec, in spec order, with how many of the person's visible
    dossiers stand in it and how many of those are late; within one académie (its slug)
    when the dashboard is narrowed to it; archived dossiers only if ``archived`` (they are
    never late: they are closed). ``delays``: the académies' own deadline delays, when the
    caller already read them (``deadline_delays``) for its lists too."""
    if delays is None:
        delays = deadline_delays(conn)
    found = _staff_counts(conn, seen, academie, archived, now, delays)
    beyond = _beyond_counts(conn, seen, academie, archived, now, delays)
    for key, (count, late) in beyond.items():
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
