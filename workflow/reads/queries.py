"""Read-side queries for the edges (CLI, API, pages): plain Core, no transaction of note."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from states import SPECS
from workflow.dossiers.access import Visibility, visibility
from workflow.engine.due import (
    DeadlineDelays,
    DueSlice,
    deadline_delays,
    due_at_expression,
    due_slices,
    late_clause,
)
from workflow.engine.errors import InvalidInput, PersonNotFound
from workflow.reads.expectations import AWAITS_NOBODY, awaited_role_label, awaited_role_order
from workflow.store.database import is_postgresql
from workflow.store.folding import fold
from workflow.store.tables import (
    academie_table,
    assignment_table,
    decision_table,
    dossier_count_table,
    dossier_table,
    history_table,
    payment_line_table,
    person_table,
)
from workflow.store.types import UTCDateTime


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads: on SQLite it does not take the write lock; on PostgreSQL it
    runs in autocommit, which spares a page its ``BEGIN`` and ``ROLLBACK`` round trips and
    changes nothing a read can see (under READ COMMITTED each statement takes its own
    snapshot inside a transaction too)."""
    if is_postgresql(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
        return
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        yield conn
        conn.rollback()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection holding one read-only transaction from first to last statement.

    An audit compares the journal, every history chain and the stored files: read in
    autocommit, a transition committed half-way would show as a broken chain. On
    PostgreSQL the transaction is REPEATABLE READ (one snapshot, and the server-side
    cursor that streams a million history rows needs a transaction anyway); on SQLite a
    deferred ``BEGIN`` under WAL is already a snapshot.
    """
    if is_postgresql(engine):
        isolated = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with isolated as conn, conn.begin():
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn
        return
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        yield conn
        conn.rollback()


def person_id_by_email(conn: Connection, email: str) -> int:
    found = conn.execute(
        select(person_table.c.id).where(person_table.c.email == email.strip().lower())
    ).scalar()
    if found is None:
        raise PersonNotFound(email)
    return int(found)


def academie_id_by_slug(conn: Connection, slug: str) -> int:
    found = conn.execute(select(academie_table.c.id).where(academie_table.c.slug == slug)).scalar()
    if found is None:
        raise InvalidInput(f"Académie inconnue : {slug}", field="academie")
    return int(found)


@dataclass(frozen=True, slots=True)
class StateCount:
    workflow: str
    version: int
    phase: str
    phase_label: str
    state: str
    label: str
    count: int


def counts_by_state(conn: Connection) -> list[StateCount]:
    """Every state of every spec, in spec order, with how many dossiers stand in it (archived
    ones included), from the counters the triggers keep (``dossier_count``)."""
    C = dossier_count_table
    found = {
        (row.workflow_name, row.workflow_version, row.state): int(row.n or 0)
        for row in conn.execute(
            select(
                C.c.workflow_name,
                C.c.workflow_version,
                C.c.state,
                func.sum(C.c.n).label("n"),
            ).group_by(C.c.workflow_name, C.c.workflow_version, C.c.state)
        )
    }
    result = []
    for spec in SPECS.values():
        for state in spec.states:
            result.append(
                StateCount(
                    workflow=spec.name,
                    version=spec.version,
                    phase=state.phase,
                    phase_label=spec.phase(state.phase).label,
                    state=state.id,
                    label=state.label,
                    count=found.get((spec.name, spec.version, state.id), 0),
                )
            )
    return result


@dataclass(frozen=True, slots=True)
class HistoryLine:
    version: int
    at: datetime
    trigger: str
    from_state: str
    to_state: str
    actor: str
    on_behalf_of: str | None
    role: str
    comment: str | None
    payload: dict[str, Any]
    actor_civilite: str | None = None
    """So that the role the actor acted in reads in agreement (« Formatrice »)."""

    @property
    def who(self) -> str:
        """« X pour Y » when a substitute acted for the pilote."""
        if self.on_behalf_of:
            return f"{self.actor} pour {self.on_behalf_of}"
        return self.actor


def history(conn: Connection, dossier_id: int) -> list[HistoryLine]:
    actor = person_table.alias("actor")
    principal = person_table.alias("principal")
    rows = conn.execute(
        select(
            history_table,
            actor.c.full_name.label("actor_name"),
            actor.c.civilite.label("actor_civilite"),
            principal.c.full_name.label("principal_name"),
        )
        .outerjoin(actor, actor.c.id == history_table.c.actor_id)
        .outerjoin(principal, principal.c.id == history_table.c.on_behalf_of_id)
        .where(history_table.c.dossier_id == dossier_id)
        .order_by(history_table.c.version)
    ).all()
    return [
        HistoryLine(
            version=r.version,
            at=r.at,
            trigger=r.trigger,
            from_state=r.from_state,
            to_state=r.to_state,
            actor=r.actor_name or "Système",
            on_behalf_of=r.principal_name,
            role=r.role,
            comment=r.comment,
            payload=r.payload or {},
            actor_civilite=r.actor_civilite,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class DecisionLine:
    person_id: int
    full_name: str
    component: str
    unit: str
    units: Decimal
    rate: Decimal
    amount: Decimal
    steps: list[str]


@dataclass(frozen=True, slots=True)
class Decision:
    total: Decimal
    justification: str | None
    decided_by: str
    decided_at: datetime
    lines: list[DecisionLine]


def payment_decision(conn: Connection, dossier_id: int) -> Decision | None:
    row = conn.execute(
        select(decision_table, person_table.c.full_name)
        .join(person_table, person_table.c.id == decision_table.c.decided_by_id)
        .where(decision_table.c.dossier_id == dossier_id)
    ).first()
    if row is None:
        return None
    lines = conn.execute(
        select(payment_line_table, person_table.c.full_name)
        .join(person_table, person_table.c.id == payment_line_table.c.person_id)
        .where(payment_line_table.c.decision_id == row.id)
        .order_by(payment_line_table.c.id)
    ).all()
    return Decision(
        total=row.total,
        justification=row.justification,
        decided_by=row.full_name,
        decided_at=row.decided_at,
        lines=[
            DecisionLine(
                person_id=line.person_id,
                full_name=line.full_name,
                component=line.component,
                unit=line.unit,
                units=line.units,
                rate=line.rate,
                amount=line.amount,
                steps=list(line.steps),
            )
            for line in lines
        ],
    )


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
    D = dossier_table
    seen = seen or visibility(conn, person_id, now)
    query = (
        select(D, academie_table.c.slug.label("academie_slug"))
        .join(academie_table, academie_table.c.id == D.c.academie_id)
        .where(seen.clause())
        .where(D.c.archived_at.is_not(None) if filters.archived else D.c.archived_at.is_(None))
    )
    if filters.state:
        query = query.where(D.c.state == filters.state)
    if filters.phase:
        pairs = [
            and_(
                D.c.workflow_name == s.name,
                D.c.state.in_([st.id for st in s.states if st.phase == filters.phase]),
            )
            for s in SPECS.values()
        ]
        query = query.where(or_(*pairs))
    if filters.academie:
        query = query.where(academie_table.c.slug == filters.academie)
    if filters.dispositif:
        query = query.where(D.c.dispositif == filters.dispositif)
    if filters.workflow:
        query = query.where(D.c.workflow_name == filters.workflow)
    if filters.pilote is not None:
        query = query.where(
            exists().where(
                assignment_table.c.dossier_id == D.c.id,
                assignment_table.c.role == "pilote",
                assignment_table.c.person_id == filters.pilote,
            )
        )
    if filters.text:
        # Blind to accents and case on both databases: the folded title is stored
        # (workflow.store.folding); ``lower(title)`` still finds a row written without it.
        pattern = f"%{fold(filters.text)}%"
        query = query.where(
            or_(
                D.c.search_text.like(pattern),
                func.lower(D.c.title).like(pattern),
                func.lower(D.c.reference).like(pattern),
                func.lower(D.c.paf_id).like(pattern),
            )
        )
    if filters.overdue is not None:
        clause = overdue_clause(conn, now, delays)
        query = query.where(clause if filters.overdue else ~clause)
    return query


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
        query = _bounded_page(
            _matching(conn, person_id, filters, now, seen, delays), filters, now, delays
        )
    else:
        query = filtered_dossiers(conn, person_id, filters, now, seen, delays)
        query = query.limit(filters.limit + 1).offset(filters.offset)
    rows = conn.execute(query).all()
    return list(rows[: filters.limit]), len(rows) > filters.limit


BOUNDED_SORTS = ("echeance", "attente")
"""Sorts by an expression of the state (its due date, whom it waits on) that a page reads
slice by slice (``workflow.engine.due.DueSlice``) rather than by ordering every matching
dossier: at 250,000 dossiers, the difference between a few hundred rows and all of them."""


def _bounded_page(
    matching: Select[Any], filters: DossierFilters, now: datetime, delays: DeadlineDelays
) -> Select[Any]:
    """One page of ``matching`` in the order of ``_expression_order`` (same rows, same
    order), read as the first rows of each state — cut by the académies' own delays — along
    the indexes (académie, state, anchor or entry date, id), merged and cut to the page.

    Within a slice, the due date is the anchor plus a constant and whom the dossier waits
    on is the state's: each slice's own order is an index order, and the page's first rows
    are among the slices' first ``offset + limit + 1``. Dossiers without a due date are
    read once, by id (they come last, in that order). The late/not late filter is the
    slice's own range on its anchor (the list's clause is kept too): the others of a state
    are read from the end of its backlog, never through it."""
    D = dossier_table
    descending = filters.sort.startswith("-")
    name = filters.sort.removeprefix("-")
    first = filters.offset + filters.limit + 1
    parts: list[Select[Any]] = []
    for piece in due_slices(delays):
        if not _may_match(piece, filters):
            continue
        where = [piece.where]
        dated = name == "echeance"
        if filters.overdue:
            where.append(piece.late(now))
        elif filters.overdue is not None:
            where.append(piece.not_late(now, dated=dated))
        if dated:
            due_at = piece.due_at()
            if due_at is None or piece.anchor is None:
                continue  # no due date: read with the undated ones below
            where.append(piece.anchor.is_not(None))
            order = piece.anchor.desc() if descending else piece.anchor.asc()
            part = matching.add_columns(due_at.label("sort_key")).order_by(order, D.c.id.asc())
        else:
            label = awaited_role_label(piece.spec, piece.state) or AWAITS_NOBODY
            part = matching.add_columns(literal(label).label("sort_key")).order_by(
                D.c.state_entered_at.asc(), D.c.id.asc()
            )
        parts.append(part.where(*where).limit(first))
    if name == "echeance" and filters.overdue is not True:  # a late dossier has a due date
        # Typed: a bare NULL in a subquery is text to PostgreSQL, which UNION then refuses
        # to match with the other parts' dates.
        undated = matching.add_columns(cast(null(), UTCDateTime()).label("sort_key"))
        parts.append(
            undated.where(due_at_expression(delays).is_(None)).order_by(D.c.id.asc()).limit(first)
        )
    if not parts:
        return matching.add_columns(null().label("sort_key")).where(false())
    merged = union_all(*(select(part.subquery()) for part in parts)).subquery()
    key = merged.c.sort_key
    merged_order: list[ColumnElement[Any]]
    if name == "echeance":
        merged_order = [key.desc().nulls_last() if descending else key.asc().nulls_last()]
    else:
        merged_order = [key.desc() if descending else key.asc(), merged.c.state_entered_at.asc()]
    return (
        select(merged)
        .order_by(*merged_order, merged.c.id.asc())
        .limit(filters.limit + 1)
        .offset(filters.offset)
    )


def _may_match(piece: DueSlice, filters: DossierFilters) -> bool:
    """Whether the slice's state can be in the list at all (state, phase and workflow
    filters are plain equalities): a slice that cannot is not even sent."""
    if filters.state and piece.state != filters.state:
        return False
    if filters.workflow and piece.spec.name != filters.workflow:
        return False
    return not filters.phase or piece.spec.state(piece.state).phase == filters.phase


def references_managed_by(conn: Connection, person_id: int, references: set[str]) -> set[str]:
    """Those of ``references`` whose dossier belongs to an académie where ``person_id`` is
    gestionnaire: the dossiers whose every email they may read (the development mailbox)."""
    if not references:
        return set()
    managed = select(assignment_table.c.academie_id).where(
        assignment_table.c.person_id == person_id,
        assignment_table.c.role == "gestionnaire",
        assignment_table.c.academie_id.is_not(None),
    )
    found = conn.execute(
        select(dossier_table.c.reference).where(
            dossier_table.c.reference.in_(sorted(references)),
            dossier_table.c.academie_id.in_(managed),
        )
    ).scalars()
    return set(found)
