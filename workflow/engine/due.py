"""When a deadline's point comes, and when a dossier is late: one rule, in SQL.

The timer loop (``workflow.engine.deadlines``) acts on the points that have come; every
read that says « en retard », shows a due date or sorts by it (dashboard, « À traiter »,
exports, the charter tasks' due dates) asks the same functions, so a dossier that received
« Bilan d'activités en retard » is late on every page too. A point comes ``offset`` days
after its anchor (entry into the state, first session's start, end of the training); the
offset is the académie's own delay for that deadline when it sets one
(``academie_settings``), else the spec's. A dossier's *due date* is the point of the
deadline its state ``marks_due`` (the signature reminder, the bilan's « attendu
aujourd'hui »…); once it has come, the dossier is late.

Everything here reads, on the caller's connection; the rule is kept apart from the timer
so that the service (which dates the charter tasks) can use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from states import SPECS, get_spec
from states.spec import DeadlineAnchor, DeadlineSpec, WorkflowSpec
from workflow.store.academie_settings import deadline_overrides
from workflow.store.tables import dossier_table as D
from workflow.store.tables import history_table as H
from workflow.store.tables import session_table as S
from workflow.store.types import UTCDateTime

TRAINING_END_TRIGGER = "terminer"
"""The transition whose time is the end of the training (anchor ``fin_formation``)."""

DeadlineDelays = Mapping[int, Mapping[str, int]]
"""Per académie id, the delays (days) it sets for some deadline ids instead of the spec's."""


def training_ended_at(conn: Connection, dossier_id: int) -> datetime | None:
    """When the training was last marked as ended (the bilan is due from then)."""
    value = conn.execute(
        select(func.max(H.c.at)).where(
            H.c.dossier_id == dossier_id, H.c.trigger == TRAINING_END_TRIGGER
        )
    ).scalar()
    return value if isinstance(value, datetime) else None


def deadline_delays(conn: Connection) -> dict[int, dict[str, int]]:
    """Every académie's own delays, read now (a change takes effect at the next scan)."""
    delays: dict[int, dict[str, int]] = {}
    for deadline_id, by_academie in deadline_overrides(conn).items():
        for academie_id, days in by_academie.items():
            delays.setdefault(academie_id, {})[deadline_id] = days
    return delays


def offset_days(deadline: DeadlineSpec, academie_id: int, delays: DeadlineDelays) -> int:
    return delays.get(academie_id, {}).get(deadline.id, deadline.offset_days)


def anchor_of(deadline: DeadlineSpec) -> ColumnElement[datetime] | None:
    """The deadline's anchor as a column of the ``dossier`` row; None for the last
    session's end (a start plus a duration, added up in Python).

    The first session's start and the training's end are kept on the row by database
    triggers (migration 0016: the earliest ``training_session.starts_at``, the latest
    ``terminer`` history row — what ``due_dates`` reads from those tables): a subquery per
    dossier made counting or sorting an académie's dossiers by due date scale with all of
    them."""
    if deadline.anchor is DeadlineAnchor.STATE_ENTERED:
        return D.c.state_entered_at
    if deadline.anchor is DeadlineAnchor.FIRST_SESSION_START:
        return D.c.first_session_at
    if deadline.anchor is DeadlineAnchor.TRAINING_ENDED:
        return D.c.training_ended_at
    return None


def in_states(spec: WorkflowSpec, deadline: DeadlineSpec) -> list[ColumnElement[bool]]:
    return [
        D.c.workflow_name == spec.name,
        D.c.workflow_version == spec.version,
        D.c.state.in_(deadline.states),
    ]


def delay_groups(
    deadline: DeadlineSpec, delays: DeadlineDelays
) -> list[tuple[ColumnElement[bool], int]]:
    """The académies that set their own delay for this deadline, each with it, then all
    the others with the spec's: (condition on the dossier's académie, days)."""
    own = {
        academie_id: days[deadline.id]
        for academie_id, days in delays.items()
        if deadline.id in days and days[deadline.id] != deadline.offset_days
    }
    groups = [(D.c.academie_id == a, days) for a, days in own.items()]
    others = D.c.academie_id.not_in(list(own)) if own else true()
    groups.append((others, deadline.offset_days))
    return groups


def _by_academie(
    deadline: DeadlineSpec,
    delays: DeadlineDelays,
    clause: Callable[[int], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """``clause(offset)`` for the académies that set their own delay for this deadline,
    and for all the others with the spec's."""
    return or_(*(and_(where, clause(days)) for where, days in delay_groups(deadline, delays)))


def _come(at: ColumnElement[datetime], now: datetime, days: int) -> ColumnElement[bool]:
    """The point ``days`` after ``at`` has come; false, never NULL, without an anchor (no
    session yet, training not ended): so that « not late » is the exact opposite of
    « late » and a dossier without a due date stands in the list of the others."""
    come = at <= now - timedelta(days=days)
    if isinstance(at, Column) and not at.nullable:
        return come  # the entry into the state: always there
    return and_(at.is_not(None), come)


def has_come(
    spec: WorkflowSpec,
    deadline: DeadlineSpec,
    now: datetime,
    delays: DeadlineDelays,
    anchor: ColumnElement[datetime] | None = None,
) -> ColumnElement[bool]:
    """Dossiers in one of the deadline's states whose point has come by ``now``."""
    at = anchor if anchor is not None else anchor_of(deadline)
    if at is None:
        raise ValueError(f"{deadline.id}: anchor not expressible in SQL")
    return and_(
        *in_states(spec, deadline),
        _by_academie(deadline, delays, lambda days: _come(at, now, days)),
    )


def due_deadline(spec: WorkflowSpec, state: str) -> DeadlineSpec | None:
    """The deadline whose point is the due date of what ``state`` waits for, if any."""
    for deadline in spec.deadlines:
        if deadline.marks_due and state in deadline.states:
            return deadline
    return None


def due_deadlines() -> Iterator[tuple[WorkflowSpec, DeadlineSpec]]:
    """The deadlines whose point is a due date (``marks_due``), with their spec."""
    for spec in SPECS.values():
        for deadline in spec.deadlines:
            if deadline.marks_due:
                yield spec, deadline


def late_clause(now: datetime, delays: DeadlineDelays) -> ColumnElement[bool]:
    """Dossiers past the due date of their state: the point of its ``marks_due`` deadline
    has come — the very point at which the timers send that reminder."""
    return or_(false(), *(has_come(s, d, now, delays) for s, d in due_deadlines()))


class _PlusDays(FunctionElement[datetime]):
    """``timestamp + n days`` in the database's own dialect (only to sort by it)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(_PlusDays, "sqlite")
def _plus_days_sqlite(element: _PlusDays, compiler: SQLCompiler, **kw: Any) -> str:
    # datetime() drops the fraction of a second: put the stored one back (SQLAlchemy
    # stores « YYYY-MM-DD HH:MM:SS.ffffff »), so that the order is the anchor's, exactly.
    at, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"(datetime({at}, CAST({days} AS TEXT) || ' days') || substr({at}, 20))"


@compiles(_PlusDays)
def _plus_days_default(element: _PlusDays, compiler: SQLCompiler, **kw: Any) -> str:
    at, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({at} + make_interval(days => {days}))"


def plus_days(at: ColumnElement[datetime], days: int) -> ColumnElement[datetime]:
    """``at`` + ``days`` in SQL, to the microsecond like ``at``: ordering by it is ordering
    by ``at``."""
    return _PlusDays(at, literal(days, Integer()))


def due_at_expression(delays: DeadlineDelays) -> ColumnElement[datetime]:
    """Each dossier's due date in SQL (NULL without one), for ``ORDER BY``."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[datetime]]] = []
    for spec, deadline in due_deadlines():
        at = anchor_of(deadline)
        assert at is not None
        for where, days in delay_groups(deadline, delays):
            whens.append((and_(*in_states(spec, deadline), where), plus_days(at, days)))
    return case(*whens, else_=None)


@dataclass(frozen=True, slots=True)
class DueSlice:
    """The dossiers of one state whose due date counts alike: the state, and the académies
    that share one delay for its due deadline (every académie for a state without one).

    A list sorted by due date, or by what a state waits for, reads each slice's first rows
    along an index (académie, state, anchor) and merges them: a bounded plan, instead of
    ordering all of an académie's dossiers by an expression."""

    spec: WorkflowSpec
    state: str
    where: ColumnElement[bool]
    """The slice's dossiers (workflow, version, state, académies)."""
    deadline: DeadlineSpec | None
    anchor: ColumnElement[datetime] | None
    days: int

    def late_from(self, cut: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        """Its dossiers that are late (``late_clause`` within the slice) at the cut point
        « now − the slice's delay », possibly a bound parameter (a statement built once then
        serves every ``now``): a range of the anchor that an index serves."""
        if self.anchor is None:
            return false()
        return self.anchor <= cut

    def not_late_from(self, cut: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        """The others that have an anchor, as a range too (no ``NOT``, which neither
        database turns into a range); the undated ones are a range of their own
        (``anchor IS NULL``), read apart: one OR of both made SQLite read the whole state."""
        if self.anchor is None:
            return true()
        return self.anchor > cut

    @property
    def may_be_undated(self) -> bool:
        """Whether some of its dossiers may have no anchor yet, hence no due date (no
        session planned, training not ended): the entry date is always set."""
        anchor = self.anchor
        return anchor is not None and (not isinstance(anchor, Column) or bool(anchor.nullable))

    @property
    def late_are_few(self) -> bool:
        """Whether its late dossiers are expected to be few, and the others many: when the
        due date counts from a moment of the dossier's life that may not have come (the
        first session, the training's end) rather than from the entry into the state.
        Until then a dossier has no due date, and most of such a state may wait there
        (« Scénario validé » without sessions; in the benchmark's data, loaded without
        sessions or ``terminer`` rows, every « Réalisée » too), while a moment long past
        with the state unchanged is the exception the dashboard shows in red. Counted from
        the entry, the late ones are the state's backlog and the recent ones the few.
        Counts and lists read the few side along the index."""
        return self.deadline is not None and self.may_be_undated

    def due_at(self) -> ColumnElement[datetime] | None:
        """Its dossiers' due date (``due_at_expression`` within the slice)."""
        if self.anchor is None:
            return None
        return plus_days(self.anchor, self.days)


def delays_key(delays: DeadlineDelays) -> tuple[tuple[int, tuple[tuple[str, int], ...]], ...]:
    """``delays`` as a hashable value: what a statement built from them is cached by."""
    return tuple(sorted((a, tuple(sorted(d.items()))) for a, d in delays.items()))


_SLICES: dict[tuple[Any, ...], list[DueSlice]] = {}


def due_slices(delays: DeadlineDelays) -> list[DueSlice]:
    """Every state of every spec, cut by the académies' own delays for its due date.

    Built once per set of delays (a list sorted by due date asks for them at every page,
    and building some thirty clauses cost 3 ms); the slices are immutable SQL clauses, so
    the lists and counts share them. Emptied past a few dozen sets of delays."""
    key = delays_key(delays)
    found = _SLICES.get(key)
    if found is None:
        if len(_SLICES) > 64:
            _SLICES.clear()
        found = _SLICES[key] = _build_slices(delays)
    return list(found)


def _build_slices(delays: DeadlineDelays) -> list[DueSlice]:
    slices = []
    for spec in SPECS.values():
        for state in spec.states:
            where = [
                D.c.workflow_name == spec.name,
                D.c.workflow_version == spec.version,
                D.c.state == state.id,
            ]
            deadline = due_deadline(spec, state.id)
            if deadline is None:
                slices.append(DueSlice(spec, state.id, and_(*where), None, None, 0))
                continue
            anchor = anchor_of(deadline)
            if anchor is None:
                raise ValueError(f"{deadline.id}: anchor not expressible in SQL")
            for academies, days in delay_groups(deadline, delays):
                slices.append(
                    DueSlice(spec, state.id, and_(*where, academies), deadline, anchor, days)
                )
    return slices


class DossierLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def academie_id(self) -> int: ...
    @property
    def workflow_name(self) -> str: ...
    @property
    def workflow_version(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def state_entered_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class DueDate:
    """A dossier's due date: what is due (the deadline), by when, and whether it is late."""

    deadline: DeadlineSpec
    at: datetime
    late: bool


def due_dates(
    conn: Connection, dossiers: Sequence[DossierLike], now: datetime, delays: DeadlineDelays
) -> dict[int, DueDate]:
    """The due date of each dossier that has one, by the rule of ``late_clause`` (the
    training's end read for all of them in one query per 500)."""
    wanted: list[tuple[DossierLike, DeadlineSpec]] = []
    for dossier in dossiers:
        deadline = due_deadline(
            get_spec(dossier.workflow_name, dossier.workflow_version), dossier.state
        )
        if deadline is not None:
            wanted.append((dossier, deadline))
    ended = _training_ends(
        conn, [d.id for d, dl in wanted if dl.anchor is DeadlineAnchor.TRAINING_ENDED]
    )
    first = _first_sessions(
        conn, [d.id for d, dl in wanted if dl.anchor is DeadlineAnchor.FIRST_SESSION_START]
    )
    found: dict[int, DueDate] = {}
    for dossier, deadline in wanted:
        if deadline.anchor is DeadlineAnchor.STATE_ENTERED:
            anchor: datetime | None = dossier.state_entered_at
        elif deadline.anchor is DeadlineAnchor.TRAINING_ENDED:
            anchor = ended.get(dossier.id)
        elif deadline.anchor is DeadlineAnchor.FIRST_SESSION_START:
            anchor = first.get(dossier.id)
        else:
            anchor = None
        if anchor is None:
            continue
        at = anchor + timedelta(days=offset_days(deadline, dossier.academie_id, delays))
        found[dossier.id] = DueDate(deadline, at, at <= now)
    return found


def _first_sessions(conn: Connection, dossier_ids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in chunks(dossier_ids, 500):
        rows = conn.execute(
            select(S.c.dossier_id, func.min(S.c.starts_at).label("first"))
            .where(S.c.dossier_id.in_(chunk))
            .group_by(S.c.dossier_id)
        ).all()
        found.update({int(r.dossier_id): r.first for r in rows})
    return found


def _training_ends(conn: Connection, dossier_ids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in chunks(dossier_ids, 500):
        rows = conn.execute(
            select(H.c.dossier_id, func.max(H.c.at).label("ended"))
            .where(H.c.dossier_id.in_(chunk), H.c.trigger == TRAINING_END_TRIGGER)
            .group_by(H.c.dossier_id)
        ).all()
        found.update({int(r.dossier_id): r.ended for r in rows})
    return found


def anchor_for(
    conn: Connection, dossier_id: int, state_entered_at: datetime, deadline: DeadlineSpec
) -> datetime | None:
    """One dossier's anchor for ``deadline`` now (None when it has none yet: no session,
    training not ended)."""
    if deadline.anchor is DeadlineAnchor.STATE_ENTERED:
        return state_entered_at
    if deadline.anchor is DeadlineAnchor.TRAINING_ENDED:
        return training_ended_at(conn, dossier_id)
    if deadline.anchor is DeadlineAnchor.FIRST_SESSION_START:
        value = conn.execute(
            select(func.min(S.c.starts_at)).where(S.c.dossier_id == dossier_id)
        ).scalar()
        return value if isinstance(value, datetime) else None
    return session_ends(conn, [dossier_id]).get(dossier_id)


def session_ends(conn: Connection, dossier_ids: list[int]) -> dict[int, datetime]:
    """The last session's end of each dossier: a start plus a duration, not a column."""
    found: dict[int, datetime] = {}
    for chunk in chunks(dossier_ids, 500):
        for row in conn.execute(
            select(S.c.dossier_id, S.c.starts_at, S.c.duration_minutes).where(
                S.c.dossier_id.in_(chunk)
            )
        ):
            end = row.starts_at + timedelta(minutes=row.duration_minutes)
            if row.dossier_id not in found or end > found[row.dossier_id]:
                found[row.dossier_id] = end
    return found


def chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
