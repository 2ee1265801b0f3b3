"""The dossier lists (dashboard, search, exports, bulk actions): filters, sorts and pages.

Apart from ``workflow.reads.queries`` because this is the one read that must stay fast at a
million dossiers, and its bounded page (due date, whom a dossier waits on) is a query plan of
its own, best read and measured (``bench/dashboard.py``) in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import visitors

from states import SPECS
from workflow.dossiers.access import Visibility, visibility
from workflow.engine.due import (
    DeadlineDelays,
    DueSlice,
    deadline_delays,
    delays_key,
    due_at_expression,
    due_slices,
    late_clause,
)
from workflow.reads.expectations import AWAITS_NOBODY, awaited_role_label, awaited_role_order
from workflow.store.folding import fold
from workflow.store.tables import (
    academie_table,
    assignment_table,
    dossier_table,
)
from workflow.store.types import UTCDateTime

EXPRESSION_SORTS = ("echeance", "-echeance", "depuis", "-depuis", "attente", "-attente")
"""Sorts by a computed column: the due date (soonest first, undated last), the time in the
state (longest waiting first), whom the dossier waits on (by role)."""

SORTS: dict[str, tuple[str, bool]] = {
    "mis_a_jour": ("updated_at", False),
    "-mis_a_jour": ("updated_at", True),
    "reference": ("reference", False),
    "-reference": ("reference", True),
    "titre": ("title", False),
    "-titre": ("title", True),
    "etat": ("state", False),
    "-etat": ("state", True),
    "cree": ("created_at", False),
    "-cree": ("created_at", True),
}


@dataclass(frozen=True, slots=True)
class DossierFilters:
    state: str | None = None
    phase: str | None = None
    academie: str | None = None
    dispositif: str | None = None
    workflow: str | None = None
    pilote: int | None = None
    text: str | None = None
    overdue: bool | None = None
    archived: bool = False
    """Archived dossiers only (``formaflow archive``), instead of the others: the default
    lists leave out dossiers closed for longer than their académie's retention period."""
    limit: int = 50
    offset: int = 0
    sort: str = "-mis_a_jour"


def overdue_clause(
    conn: Connection, now: datetime, delays: DeadlineDelays | None = None
) -> ColumnElement[bool]:
    """Dossiers past the due date of their state, by the timers' own rule
    (``workflow.engine.due``: the same anchors, the académie's own delays, read here
    unless the caller already did)."""
    return late_clause(now, deadline_delays(conn) if delays is None else delays)


def _matching(
    conn: Connection,
    person_id: int,
    filters: DossierFilters,
    now: datetime,
    seen: Visibility | None,
    delays: DeadlineDelays | None,
) -> Select[Any]:
    """The dossiers this person may see that match ``filters``, in no order."""
    seen = seen or visibility(conn, person_id, now)
    query = _scoped(seen, filters).where(*_state_filters(filters))
    if filters.overdue is not None:
        clause = overdue_clause(conn, now, delays)
        query = query.where(clause if filters.overdue else ~clause)
    return query


def _scoped(seen: Visibility, filters: DossierFilters) -> Select[Any]:
    """What the person may see, archived or not, narrowed by every filter but the state,
    phase, workflow and due ones. Values are named parameters (``_filter_values``) so that
    a statement built from it can be kept and run again with other values."""
    D = dossier_table
    query = (
        select(D, academie_table.c.slug.label("academie_slug"))
        .join(academie_table, academie_table.c.id == D.c.academie_id)
        .where(seen.clause())
        .where(D.c.archived_at.is_not(None) if filters.archived else D.c.archived_at.is_(None))
    )
    if filters.academie:
        query = query.where(academie_table.c.slug == bindparam("f_academie", filters.academie))
    if filters.dispositif:
        query = query.where(D.c.dispositif == bindparam("f_dispositif", filters.dispositif))
    if filters.pilote is not None:
        query = query.where(
            exists().where(
                assignment_table.c.dossier_id == D.c.id,
                assignment_table.c.role == "pilote",
                assignment_table.c.person_id == bindparam("f_pilote", filters.pilote),
            )
        )
    if filters.text:
        # Blind to accents and case on both databases: the folded title is stored
        # (workflow.store.folding); ``lower(title)`` still finds a row written without it.
        pattern: BindParameter[str] = bindparam("f_text", _pattern(filters.text))
        query = query.where(
            or_(
                D.c.search_text.like(pattern),
                func.lower(D.c.title).like(pattern),
                func.lower(D.c.reference).like(pattern),
                func.lower(D.c.paf_id).like(pattern),
            )
        )
    return query


def _pattern(text: str) -> str:
    return f"%{fold(text)}%"


def _state_filters(filters: DossierFilters) -> list[ColumnElement[bool]]:
    D = dossier_table
    where: list[ColumnElement[bool]] = []
    if filters.state:
        where.append(D.c.state == bindparam("f_state", filters.state))
    if filters.phase:
        pairs = [
            and_(
                D.c.workflow_name == s.name,
                D.c.state.in_([st.id for st in s.states if st.phase == filters.phase]),
            )
            for s in SPECS.values()
        ]
        where.append(or_(*pairs))
    if filters.workflow:
        where.append(D.c.workflow_name == bindparam("f_workflow", filters.workflow))
    return where


def _filter_values(filters: DossierFilters) -> dict[str, Any]:
    """The values of the named parameters of ``_scoped`` and ``_state_filters``."""
    values: dict[str, Any] = {}
    if filters.academie:
        values["f_academie"] = filters.academie
    if filters.dispositif:
        values["f_dispositif"] = filters.dispositif
    if filters.pilote is not None:
        values["f_pilote"] = filters.pilote
    if filters.text:
        values["f_text"] = _pattern(filters.text)
    if filters.state:
        values["f_state"] = filters.state
    if filters.workflow:
        values["f_workflow"] = filters.workflow
    return values


def filtered_dossiers(
    conn: Connection,
    person_id: int,
    filters: DossierFilters,
    now: datetime,
    seen: Visibility | None = None,
    delays: DeadlineDelays | None = None,
) -> Select[Any]:
    """The dossiers this person may see that match ``filters``, sorted, without paging.

    One statement for the page (``list_dossiers``) and for the dashboard's export, so that
    what is downloaded is exactly what the page lists for the same filters. ``seen`` is
    the person's ``visibility`` and ``delays`` the académies' deadline delays when the
    caller already read them (a query saved each)."""
    query = _matching(conn, person_id, filters, now, seen, delays)
    D = dossier_table
    if filters.sort in EXPRESSION_SORTS:
        return query.order_by(*_expression_order(conn, filters.sort, delays))
    column, descending = SORTS.get(filters.sort, SORTS["-mis_a_jour"])
    order = D.c[column].desc() if descending else D.c[column].asc()
    tiebreak = D.c.id.desc() if descending else D.c.id.asc()
    return query.order_by(order, tiebreak)


def _expression_order(
    conn: Connection, sort: str, delays: DeadlineDelays | None
) -> list[ColumnElement[Any]]:
    D = dossier_table
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    if name == "echeance":
        due = due_at_expression(deadline_delays(conn) if delays is None else delays)
        first = due.desc().nulls_last() if descending else due.asc().nulls_last()
        return [first, D.c.id.asc()]
    if name == "depuis":
        entered = D.c.state_entered_at
        return [entered.desc() if descending else entered.asc(), D.c.id.asc()]
    awaited = awaited_role_order()
    return [
        awaited.desc() if descending else awaited.asc(),
        D.c.state_entered_at.asc(),
        D.c.id.asc(),
    ]


def list_dossiers(
    conn: Connection,
    person_id: int,
    filters: DossierFilters,
    now: datetime,
    seen: Visibility | None = None,
    delays: DeadlineDelays | None = None,
) -> tuple[list[Row[Any]], bool]:
    """A page of the dossiers this person may see, and whether more follow."""
    if filters.sort.removeprefix("-") in BOUNDED_SORTS:
        delays = deadline_delays(conn) if delays is None else delays
        seen = seen or visibility(conn, person_id, now)
        kept = _bounded_statement(seen, filters, delays)
        values = {
            **seen.parameters(),
            **_filter_values(filters),
            "b_first": filters.offset + filters.limit + 1,
            "b_limit": filters.limit + 1,
            "b_offset": filters.offset,
            **{f"b_cut_{i}": now - timedelta(days=p.days) for i, p in enumerate(kept.slices)},
        }
        if not kept.named <= values.keys():
            # A kept statement run without one of its values would run with those of the
            # list it was built for (another person's académies): refuse, never guess.
            raise RuntimeError(f"bounded list: no value for {sorted(kept.named - values.keys())}")
        rows = conn.execute(kept.statement, values).all()
    else:
        query = filtered_dossiers(conn, person_id, filters, now, seen, delays)
        rows = conn.execute(query.limit(filters.limit + 1).offset(filters.offset)).all()
    return list(rows[: filters.limit]), len(rows) > filters.limit


BOUNDED_SORTS = ("echeance", "attente")
"""Sorts by an expression of the state (its due date, whom it waits on) that a page reads
slice by slice (``workflow.engine.due.DueSlice``) rather than by ordering every matching
dossier: at 250,000 dossiers, the difference between a few hundred rows and all of them."""


@dataclass(frozen=True, slots=True)
class _Kept:
    statement: Select[Any]
    slices: list[DueSlice]
    """In the order of the cut points' parameters (``b_cut_i``)."""
    named: frozenset[str]
    """Its named parameters (the person's, the filters', the page's), each of which a run
    must give."""


_BOUNDED: dict[tuple[Any, ...], _Kept] = {}
"""The bounded page's statement and its slices, per shape of list (delays, sort, late
filter, which states, which filters are set, the shape of the person's visibility). The
union of some thirty slices cost 20–25 ms of Python to build and for SQLAlchemy to walk
to its compiled form, at every page, twice on the dashboard; every value in it (the
person's académies, the filters, the cut points, the page) is a named parameter. Emptied
past a few hundred shapes."""


def _bounded_statement(seen: Visibility, filters: DossierFilters, delays: DeadlineDelays) -> _Kept:
    """``_bounded_page`` for this shape of list, built once."""
    every = due_slices(delays)
    chosen = tuple(i for i, piece in enumerate(every) if _may_match(piece, filters))
    key = (
        delays_key(delays),
        chosen,  # the state, phase and workflow filters, as the slices they leave
        filters.phase if chosen else None,  # the undated part filters on it too
        filters.sort,
        filters.overdue,
        filters.archived,
        tuple(sorted(_filter_values(filters))),
        seen.shape,
    )
    found = _BOUNDED.get(key)
    if found is None:
        if len(_BOUNDED) > 256:
            _BOUNDED.clear()
        slices = [every[i] for i in chosen]
        statement = _bounded_page(seen, filters, delays, slices)
        named: set[str] = set()
        visitors.traverse(statement, {}, {"bindparam": lambda b: named.add(str(b.key))})
        found = _BOUNDED[key] = _Kept(
            statement, slices, frozenset(n for n in named if n.startswith(_NAMED))
        )
    return found


_NAMED = ("seen_", "f_", "b_")
"""The prefixes of the parameters a run gives (``Visibility.parameters``,
``_filter_values``, the page's); SQLAlchemy names the literals of the slices itself."""


def _bounded_page(
    seen: Visibility, filters: DossierFilters, delays: DeadlineDelays, slices: list[DueSlice]
) -> Select[Any]:
    """One page of the matching dossiers in the order of ``_expression_order`` (same rows,
    same order), read as the first rows of each state — cut by the académies' own delays —
    along the indexes (académie, state, anchor or entry date, id), merged and cut to the
    page.

    Within a slice, the due date is the anchor plus a constant and whom the dossier waits
    on is the state's: each slice's own order is an index order, and the page's first rows
    are among the slices' first ``offset + limit + 1`` (``b_first``). Dossiers without a
    due date are read once, by id (they come last, in that order). The late/not late
    filter is the slice's own range on its anchor, cut at ``b_cut_i`` (now minus the
    slice's delay): the others of a state are read from the end of its backlog, never
    through it. The state, phase and workflow filters are the choice of ``slices``."""
    D = dossier_table
    descending = filters.sort.startswith("-")
    name = filters.sort.removeprefix("-")
    dated = name == "echeance"
    first = bindparam("b_first", type_=Integer())
    # The slices carry only what orders them; the page's rows are joined back once at the
    # end (every column of ``dossier`` in each subquery cost more Python than the
    # database's work).
    narrow = _scoped(seen, filters).with_only_columns(D.c.id, D.c.state_entered_at)
    parts: list[Select[Any]] = []
    for i, piece in enumerate(slices):
        cut = bindparam(f"b_cut_{i}", type_=D.c.state_entered_at.type)
        if dated:
            due_at = piece.due_at()
            if due_at is None or piece.anchor is None:
                continue  # no due date: read with the undated ones below
            order = piece.anchor.desc() if descending else piece.anchor.asc()
            part = narrow.add_columns(due_at.label("sort_key")).order_by(order, D.c.id.asc())
            part = part.where(piece.anchor.is_not(None))
        else:
            label = awaited_role_label(piece.spec, piece.state) or AWAITS_NOBODY
            part = narrow.add_columns(literal(label).label("sort_key"))
        for condition, few in _ranges(piece, filters.overdue, cut, dated):
            if not dated:
                part = part.order_by(None).order_by(*_entry_order(piece, few))
            parts.append(part.where(piece.where, condition).limit(first))
    if dated and filters.overdue is not True and slices:  # a late dossier has a due date
        # Typed: a bare NULL in a subquery is text to PostgreSQL, which UNION then refuses
        # to match with the other parts' dates.
        undated = narrow.add_columns(cast(null(), UTCDateTime()).label("sort_key"))
        parts.append(
            undated.where(*_state_filters(filters), due_at_expression(delays).is_(None))
            .order_by(D.c.id.asc())
            .limit(first)
        )
    if not parts:
        empty = _scoped(seen, filters).add_columns(null().label("sort_key")).where(false())
        return empty.limit(bindparam("b_limit", type_=Integer()))
    merged = union_all(*(select(part.subquery()) for part in parts)).subquery()

    def ordered(source: Any) -> list[ColumnElement[Any]]:
        key = source.c.sort_key
        if dated:
            return [key.desc().nulls_last() if descending else key.asc().nulls_last(), source.c.id]
        return [key.desc() if descending else key.asc(), source.c.state_entered_at, source.c.id]

    page = (
        select(merged)
        .order_by(*ordered(merged))
        .limit(bindparam("b_limit", type_=Integer()))
        .offset(bindparam("b_offset", type_=Integer()))
        .subquery()
    )
    return (
        select(D, academie_table.c.slug.label("academie_slug"), page.c.sort_key)
        .select_from(
            page.join(D, D.c.id == page.c.id).join(
                academie_table, academie_table.c.id == D.c.academie_id
            )
        )
        .order_by(*ordered(page))
    )


def _entry_order(piece: DueSlice, few: bool) -> list[ColumnElement[Any]]:
    """A slice's order by entry into the state. When the rows kept are a range of another
    anchor (first session, end of the training) expected to hold few of the state's
    dossiers, the entry date is wrapped so that no index offers that order: the database
    then takes the range from the anchor's index and sorts the few rows found, instead of
    walking the whole state in entry order to find them (50 ms per slice on SQLite at a
    million dossiers). A large range keeps the index order (a sort of thousands of rows
    would cost more)."""
    entered: ColumnElement[Any] = dossier_table.c.state_entered_at
    if few and piece.anchor is not None and piece.anchor is not entered:
        entered = func.coalesce(entered, entered)
    return [entered.asc(), dossier_table.c.id.asc()]


def _ranges(
    piece: DueSlice, overdue: bool | None, cut: ColumnElement[datetime], dated: bool
) -> list[tuple[ColumnElement[bool], bool]]:
    """The slice's dossiers that the late / not late filter keeps, as ranges of its
    anchor's index, each with whether it should hold few dossiers: « not late » is the
    recent ones and, apart, the undated ones — one OR of both made SQLite read the whole
    state (60–120 ms a list at a million dossiers). Few: the recent ones; the late ones
    only where the due date counts from the first session or the training's end (a
    moment long past, the state unchanged), where elsewhere they are the state's backlog
    (``DueSlice.late_are_few``). The undated ones, few or many, come in entry order from
    an index of their own: the entry index for the first session (most of such a state
    waits for its sessions), ``ix_dossier_open_unended_entered`` for the training's end."""
    if overdue:
        return [(piece.late_from(cut), piece.late_are_few)] if piece.anchor is not None else []
    if overdue is None:
        return [(true(), False)]
    ranges = [(piece.not_late_from(cut), True)]
    if not dated and piece.anchor is not None and piece.may_be_undated:
        ranges.append((piece.anchor.is_(None), False))
    return ranges


def _may_match(piece: DueSlice, filters: DossierFilters) -> bool:
    """Whether the slice's state can be in the list at all (state, phase and workflow
    filters are plain equalities): a slice that cannot is not even sent."""
    if filters.state and piece.state != filters.state:
        return False
    if filters.workflow and piece.spec.name != filters.workflow:
        return False
    return not filters.phase or piece.spec.state(piece.state).phase == filters.phase
