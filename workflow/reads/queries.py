"""Read-side queries for the edges (CLI, API, pages): plain Core, no transaction of note."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    func,
    select,
)

from states import SPECS
from workflow.engine.errors import InvalidInput, PersonNotFound
from workflow.store.database import is_postgresql
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
