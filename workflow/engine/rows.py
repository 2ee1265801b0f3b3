"""Reading and creating dossier rows with Core statements, on the caller's connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Row, bindparam, insert, literal, or_, select, update

from workflow.engine.errors import DossierNotFound
from workflow.engine.roles import HELD, Capacity, DossierRef, with_derived
from workflow.store.academie_settings import SIGNATORIES_PREFIX, decode, signatory_rules
from workflow.store.database import is_postgresql
from workflow.store.tables import academie_setting_table as S
from workflow.store.tables import academie_table, reference_counter_table
from workflow.store.tables import dossier_table as T


@dataclass(frozen=True, slots=True)
class DossierRow:
    id: int
    reference: str
    title: str
    academie_id: int
    workflow_name: str
    workflow_version: int
    dispositif: str | None
    state: str
    version: int
    planned_hours_presentiel: Decimal | None
    planned_hours_distance: Decimal | None
    planned_participants: int | None
    planned_start: date | None
    planned_end: date | None
    state_entered_at: datetime
    created_at: datetime
    updated_at: datetime
    paf_id: str | None = None
    """Identifiant PAF, when the dossier came from the plan académique de formation."""
    history_head: str | None = None
    """The hash of its last history row: the next row chains to it."""
    archived_at: datetime | None = None
    """Set once ``formaflow archive`` has archived the dossier (closed long ago)."""

    @property
    def ref(self) -> DossierRef:
        return DossierRef(self.id, self.academie_id, self.dispositif)

    @classmethod
    def from_row(cls, row: Row[tuple[object, ...]]) -> DossierRow:
        return cls(**row._asdict())


_COLUMNS = [T.c[name] for name in DossierRow.__slots__]


# Built once: on the hot path, building a statement costs more than SQLite running it.
_LOAD = select(*_COLUMNS).where(T.c.id == bindparam("dossier_id"))
_LOAD_FOR_UPDATE = _LOAD.with_for_update()


def load(conn: Connection, dossier_id: int, *, for_update: bool = False) -> DossierRow:
    """The dossier row, locked against concurrent transitions on PostgreSQL if asked."""
    query = _LOAD_FOR_UPDATE if for_update and is_postgresql(conn) else _LOAD
    row = conn.execute(query, {"dossier_id": dossier_id}).first()
    if row is None:
        raise DossierNotFound(dossier_id)
    return DossierRow.from_row(row)


# The académie's own signatories for the dossier's dispositif, if it set them, read in the
# same round trip: the first statement of every transition stays the only one before guards.
_SIGNATORIES = (
    select(S.c.value)
    .where(
        S.c.academie_id == T.c.academie_id, S.c.key == literal(SIGNATORIES_PREFIX) + T.c.dispositif
    )
    .scalar_subquery()
)

_LOAD_FOR_ACTOR = (
    select(
        *_COLUMNS,
        HELD.c.role.label("held_role"),
        HELD.c.principal.label("held_for"),
        _SIGNATORIES.label("signatories"),
    )
    .select_from(
        T.outerjoin(HELD, or_(HELD.c.dossier_id == T.c.id, HELD.c.academie_id == T.c.academie_id))
    )
    .where(T.c.id == bindparam("dossier_id"))
)
_LOAD_FOR_ACTOR_LOCKED = _LOAD_FOR_ACTOR.with_for_update(of=T)


def load_for_actor(
    conn: Connection,
    dossier_id: int,
    person_id: int | None,
    now: datetime,
    *,
    for_update: bool = True,
) -> tuple[DossierRow, list[Capacity]]:
    """The dossier, locked on PostgreSQL, and the roles ``person_id`` holds on it.

    One round trip instead of two: this is the first statement of every transition.
    """
    locked = for_update and is_postgresql(conn)
    query = _LOAD_FOR_ACTOR_LOCKED if locked else _LOAD_FOR_ACTOR
    rows = conn.execute(
        query,
        {"dossier_id": dossier_id, "person_id": -1 if person_id is None else person_id, "now": now},
    ).all()
    if not rows:
        raise DossierNotFound(dossier_id)
    values = rows[0]._asdict()
    dossier = DossierRow(**{name: values[name] for name in DossierRow.__slots__})
    held = [Capacity(r.held_role, r.held_for) for r in rows if r.held_role is not None]
    stored = values["signatories"]
    rules = None if stored is None else signatory_rules(decode(stored))
    return dossier, with_derived(held, dossier.ref, rules)


def find_id(conn: Connection, reference: str) -> int:
    dossier_id = conn.execute(select(T.c.id).where(T.c.reference == reference)).scalar()
    if dossier_id is None:
        raise DossierNotFound(reference)
    return int(dossier_id)


def next_reference(conn: Connection, academie_id: int, year: int) -> str:
    """``26-AMX-0001``: two-digit year, académie code, number within the year.

    The counter row is updated in the caller's transaction, so two concurrent creations
    serialise on it and never get the same number.
    """
    code = conn.execute(
        select(academie_table.c.code).where(academie_table.c.id == academie_id)
    ).scalar_one()
    C = reference_counter_table
    bumped = conn.execute(
        update(C)
        .where(C.c.academie_id == academie_id, C.c.year == year)
        .values(last_value=C.c.last_value + 1)
        .returning(C.c.last_value)
    ).scalar()
    if bumped is None:
        conn.execute(insert(C).values(academie_id=academie_id, year=year, last_value=1))
        bumped = 1
    return f"{year % 100:02d}-{code}-{int(bumped):04d}"


def next_references(conn: Connection, academie_id: int, year: int, count: int) -> list[str]:
    """``count`` consecutive references at once (an import of many dossiers): one bump of
    the counter, in the caller's transaction, instead of two statements per dossier."""
    if count <= 0:
        return []
    first = next_reference(conn, academie_id, year)
    if count == 1:
        return [first]
    C = reference_counter_table
    last = conn.execute(
        update(C)
        .where(C.c.academie_id == academie_id, C.c.year == year)
        .values(last_value=C.c.last_value + (count - 1))
        .returning(C.c.last_value)
    ).scalar_one()
    prefix = first.rsplit("-", 1)[0]
    return [first] + [f"{prefix}-{n:04d}" for n in range(int(last) - count + 2, int(last) + 1)]
