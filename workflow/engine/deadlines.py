"""The deadline loop: reminders, escalations and automatic transitions of the specs.

Deadlines are data in the specs (``DeadlineSpec``): *n* days after an anchor — entry into
a state, the first session's start, the last session's end, the end of the training.
Each académie may set its own *n* for a deadline (``delais.<id>`` among its settings, read
afresh at each scan). When a point comes is ``workflow.engine.due``'s rule, shared with
every read that says « en retard ». Each scan finds the due points not yet acted upon and
handles each in a transaction of its own: record the point (unique per dossier, deadline
and anchor), then either fire the transition through the service as the system, or tell
the deadline subscribers (the outbox writes the reminder emails). A second timer process
racing for the same point fails on the unique key and rolls back, emails included, so each
point acts once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, exists, insert, select
from sqlalchemy.exc import IntegrityError

from states import SPECS
from states.spec import DeadlineAction, DeadlineSpec, WorkflowSpec
from workflow.engine.due import (
    DeadlineDelays,
    anchor_of,
    chunks,
    deadline_delays,
    has_come,
    in_states,
    offset_days,
    session_ends,
)
from workflow.engine.errors import WorkflowError
from workflow.engine.events import DeadlineEvent, DeadlineSubscriber
from workflow.engine.service import FireCommand, WorkflowService
from workflow.store.tables import deadline_point_table as DP
from workflow.store.tables import dossier_table as D

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DuePoint:
    spec: WorkflowSpec
    deadline: DeadlineSpec
    dossier_id: int
    anchor_at: datetime
    offset_days: int

    @property
    def due_at(self) -> datetime:
        return self.anchor_at + timedelta(days=self.offset_days)


def due_points(conn: Connection, now: datetime) -> Iterator[DuePoint]:
    """Every due point of every spec that has come and has not been acted upon."""
    delays = deadline_delays(conn)
    for spec in SPECS.values():
        for deadline in spec.deadlines:
            yield from _due(conn, spec, deadline, now, delays)


def _not_recorded(deadline: DeadlineSpec, anchor: ColumnElement[datetime]) -> ColumnElement[bool]:
    return ~exists().where(
        DP.c.dossier_id == D.c.id, DP.c.deadline_id == deadline.id, DP.c.anchor_at == anchor
    )


def _due(
    conn: Connection,
    spec: WorkflowSpec,
    deadline: DeadlineSpec,
    now: datetime,
    delays: DeadlineDelays,
) -> Iterator[DuePoint]:
    anchor = anchor_of(deadline)
    if anchor is not None:
        # In SQL, by the same rule as the reads (``has_come``).
        rows = conn.execute(
            select(D.c.id, D.c.academie_id, anchor.label("anchor")).where(
                has_come(spec, deadline, now, delays, anchor),
                _not_recorded(deadline, anchor),
            )
        ).all()
        for row in rows:
            days = offset_days(deadline, row.academie_id, delays)
            yield DuePoint(spec, deadline, row.id, row.anchor, days)
        return
    candidates = conn.execute(
        select(D.c.id, D.c.academie_id).where(*in_states(spec, deadline))
    ).all()
    academies = {int(r.id): int(r.academie_id) for r in candidates}
    anchors = session_ends(conn, list(academies))
    recorded = _recorded(conn, deadline, list(anchors))
    for dossier_id, anchor_at in anchors.items():
        days = offset_days(deadline, academies[dossier_id], delays)
        if anchor_at <= now - timedelta(days=days) and (dossier_id, anchor_at) not in recorded:
            yield DuePoint(spec, deadline, dossier_id, anchor_at, days)


def _recorded(
    conn: Connection, deadline: DeadlineSpec, dossier_ids: list[int]
) -> set[tuple[int, datetime]]:
    seen: set[tuple[int, datetime]] = set()
    for chunk in chunks(dossier_ids, 500):
        rows = conn.execute(
            select(DP.c.dossier_id, DP.c.anchor_at).where(
                DP.c.deadline_id == deadline.id, DP.c.dossier_id.in_(chunk)
            )
        )
        seen.update((row.dossier_id, row.anchor_at) for row in rows)
    return seen


class DeadlineTimer:
    """Acts on due points through the service; safe to run in several processes."""

    def __init__(
        self,
        engine: Engine,
        service: WorkflowService,
        subscribers: Iterable[DeadlineSubscriber] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.service = service
        self.subscribers = list(subscribers)
        self.clock = clock or service.clock

    def run_once(self) -> int:
        """Handle every point due now; the number acted upon (others lost a race or failed)."""
        now = self.clock()
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            points = list(due_points(conn, now))
            conn.rollback()
        return sum(self._act(group, now) for group in _together(points))

    def _act(self, group: list[DuePoint], now: datetime) -> int:
        """Record every point of ``group`` and act on its last one, in one transaction."""
        point = group[-1]
        deadline = point.deadline
        try:
            with self.engine.begin() as conn:
                for earlier in group[:-1]:
                    conn.execute(
                        insert(DP).values(
                            dossier_id=earlier.dossier_id,
                            deadline_id=earlier.deadline.id,
                            anchor_at=earlier.anchor_at,
                            fired_at=now,
                        )
                    )
                point_id = conn.execute(
                    insert(DP).values(
                        dossier_id=point.dossier_id,
                        deadline_id=deadline.id,
                        anchor_at=point.anchor_at,
                        fired_at=now,
                    )
                ).inserted_primary_key
                assert point_id is not None
                if deadline.action is DeadlineAction.TRANSITION:
                    assert deadline.trigger is not None
                    self.service.fire_in(
                        conn, FireCommand(point.dossier_id, deadline.trigger, actor_id=None)
                    )
                else:
                    assert deadline.template is not None
                    event = DeadlineEvent(
                        point_id=int(point_id[0]),
                        dossier_id=point.dossier_id,
                        deadline_id=deadline.id,
                        template=deadline.template,
                        recipients=deadline.recipients,
                        anchor_at=point.anchor_at,
                        due_at=point.due_at,
                        at=now,
                    )
                    for subscriber in self.subscribers:
                        subscriber(conn, event)
        except IntegrityError:
            log.info("deadline %s of dossier %s already handled", deadline.id, point.dossier_id)
            return 0
        except WorkflowError as error:
            # E.g. the state changed since the scan: nothing written, the next scan decides.
            log.warning(
                "deadline %s of dossier %s not acted upon: %s",
                deadline.id,
                point.dossier_id,
                error.message,
            )
            return 0
        return len(group)


def _together(points: list[DuePoint]) -> list[list[DuePoint]]:
    """Points to handle as one, latest due last.

    After downtime several reminders of one dossier can come due in the same scan — the
    bilan's « dans 7 jours » and « aujourd'hui » — with the same email to the same people.
    Each is recorded, so none comes back, but only the latest is sent: one reminder per
    person at a time. Transitions and points of different emails stay apart.
    """
    groups: dict[tuple[object, ...], list[DuePoint]] = {}
    for n, point in enumerate(points):
        deadline = point.deadline
        key: tuple[object, ...] = (
            (point.dossier_id, deadline.template, deadline.recipients)
            if deadline.action is not DeadlineAction.TRANSITION
            else (n,)
        )
        groups.setdefault(key, []).append(point)
    return [sorted(group, key=lambda p: p.due_at) for group in groups.values()]
