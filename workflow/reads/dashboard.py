"""The dossier lists of the dashboard and its exports: one row per dossier, late deadlines.

Same rule as the other reads: the caller passes the person whose visibility applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Row, select

from states import get_spec
from states.dispositifs import DISPOSITIFS
from workflow.engine.due import DueDate, deadline_delays, due_dates
from workflow.engine.rows import DossierRow
from workflow.language.french import PARIS, format_date
from workflow.reads.dossier_list import DossierFilters, filtered_dossiers
from workflow.reads.expectations import expectations
from workflow.reads.reports import Scope, dossier_of_row, pilotes_of, scoped_rows
from workflow.store.tables import academie_table, assignment_table, person_table

# --- Dossier list ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedDossier:
    reference: str
    title: str
    academie: str
    workflow: str
    dispositif: str
    state: str
    phase: str
    state_entered_at: datetime
    updated_at: datetime
    pilotes: str
    late: tuple[str, ...]
    """French labels of the reminders and escalations whose date has passed."""
    paf_id: str | None = None


def late_deadlines(due: DueDate | None) -> tuple[str, ...]:
    """What is late, with the date it was due: the due date of the dossier's state, by the
    timers' own rule (``workflow.engine.due``), once it has passed."""
    if due is None or not due.late:
        return ()
    day = format_date(due.at.astimezone(PARIS).date())
    return (f"{due.deadline.label} (depuis le {day})",)


def dossier_list(conn: Connection, scope: Scope, now: datetime) -> list[ListedDossier]:
    rows = scoped_rows(conn, scope, now)
    dues = due_dates(conn, [dossier_of_row(row) for row in rows], now, deadline_delays(conn))
    result = []
    for row in rows:
        dossier = dossier_of_row(row)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        state = spec.state(dossier.state)
        result.append(
            ListedDossier(
                reference=dossier.reference,
                title=dossier.title,
                academie=str(row.academie_slug),
                workflow=spec.label,
                dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "",
                state=state.label,
                phase=spec.phase(state.phase).label,
                state_entered_at=dossier.state_entered_at,
                updated_at=dossier.updated_at,
                pilotes=pilotes_of(conn, dossier),
                late=late_deadlines(dues.get(dossier.id)),
                paf_id=dossier.paf_id,
            )
        )
    return result


# --- Dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardDossier:
    """One line of the dashboard's export: what the page lists, with what a spreadsheet
    user wants beside it (planned hours and dates, pilotes, the late reminders)."""

    id: int
    reference: str
    title: str
    academie: str
    workflow: str
    dispositif: str
    state: str
    phase: str
    pilotes: str
    planned_hours: Decimal | None
    planned_hours_presentiel: Decimal | None
    planned_hours_distance: Decimal | None
    planned_participants: int | None
    planned_start: date | None
    planned_end: date | None
    state_entered_at: datetime
    updated_at: datetime
    overdue: bool
    late: tuple[str, ...]
    paf_id: str | None = None
    waiting_on: str = ""
    """Whom the dossier waits on (« en attente de »), empty once it has ended."""
    due_at: datetime | None = None


_CHUNK = 500
"""Ids per ``IN (…)`` list: far below SQLite's and PostgreSQL's bound-parameter limits."""


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _pilote_names(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The pilotes of many dossiers in a few queries (``pilotes_of`` is one per dossier)."""
    A, P = assignment_table, person_table
    names: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(A.c.dossier_id, P.c.full_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.role == "pilote", A.c.dossier_id.in_(chunk))
            .order_by(A.c.dossier_id, P.c.full_name)
        )
        for row in rows:
            names.setdefault(int(row.dossier_id), []).append(str(row.full_name))
    return {dossier_id: ", ".join(found) for dossier_id, found in names.items()}


def _academie_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(academie_table.c.id, academie_table.c.name).where(academie_table.c.id.in_(ids))
    )
    return {int(r.id): str(r.name) for r in rows}


def _total_hours(dossier: DossierRow) -> Decimal | None:
    """In-person plus distance hours; None when neither is planned yet (not « 0 h »)."""
    parts = [dossier.planned_hours_presentiel, dossier.planned_hours_distance]
    if all(h is None for h in parts):
        return None
    return sum((h for h in parts if h is not None), Decimal(0))


def dashboard_list(
    conn: Connection, person_id: int, filters: DossierFilters, now: datetime
) -> list[DashboardDossier]:
    """Every dossier the dashboard lists for these filters, unpaged and in the page's order:
    the late ones first, then the others, each sorted as the page sorts them. Built on the
    page's own statement (``filtered_dossiers``), so the export can never show a dossier the
    page would not, nor miss one past the page's first 50."""
    rows: list[tuple[Row[tuple[object, ...]], bool]] = []
    delays = deadline_delays(conn)
    for overdue in (True, False):
        narrowed = DossierFilters(
            **{
                **{name: getattr(filters, name) for name in DossierFilters.__slots__},
                "overdue": overdue,
            }
        )
        query = filtered_dossiers(conn, person_id, narrowed, now, delays=delays)
        rows.extend((row, overdue) for row in conn.execute(query))
    dossiers = [(dossier_of_row(row), overdue) for row, overdue in rows]
    pilotes = _pilote_names(conn, [d.id for d, _ in dossiers])
    academies = _academie_names(conn, {d.academie_id for d, _ in dossiers})
    expected = expectations(conn, [d for d, _ in dossiers], now, delays)
    result = []
    for dossier, overdue in dossiers:
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        state = spec.state(dossier.state)
        waits = expected.get(dossier.id)
        due = waits.due if waits is not None else None
        result.append(
            DashboardDossier(
                id=dossier.id,
                reference=dossier.reference,
                title=dossier.title,
                academie=academies.get(dossier.academie_id, ""),
                workflow=spec.label,
                dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "",
                state=state.label,
                phase=spec.phase(state.phase).label,
                pilotes=pilotes.get(dossier.id, ""),
                planned_hours=_total_hours(dossier),
                planned_hours_presentiel=dossier.planned_hours_presentiel,
                planned_hours_distance=dossier.planned_hours_distance,
                planned_participants=dossier.planned_participants,
                planned_start=dossier.planned_start,
                planned_end=dossier.planned_end,
                state_entered_at=dossier.state_entered_at,
                updated_at=dossier.updated_at,
                overdue=overdue,
                late=late_deadlines(due),
                paf_id=dossier.paf_id,
                waiting_on=waits.waiting_on() if waits is not None else "",
                due_at=due.at if due is not None else None,
            )
        )
    return result
