"""The deadline loop: reminders, escalations and automatic transitions of the specs.

Deadlines are data in the specs (``DeadlineSpec``): *n* days after an anchor — entry into
a state, the first session's start, the last session's end, the end of the training.
Each scan finds the due points not yet acted upon and handles each in a transaction of
its own: record the point (unique per dossier, deadline and anchor), then either fire the
transition through the service as the system, or tell the deadline subscribers (the
outbox writes the reminder emails). A second timer process racing for the same point
fails on the unique key and rolls back, emails included, so each point acts once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from states import SPECS
from states.spec import DeadlineAction, DeadlineAnchor, DeadlineSpec, WorkflowSpec
from workflow.engine.errors import WorkflowError
from workflow.engine.events import DeadlineEvent, DeadlineSubscriber
from workflow.engine.service import FireCommand, WorkflowService
from workflow.store.tables import deadline_point_table as DP
from workflow.store.tables import dossier_table as D
from workflow.store.tables import history_table as H
from workflow.store.tables import session_table as S

log = logging.getLogger(__name__)

TRAINING_END_TRIGGER = "terminer"
"""The transition whose time is the end of the training (anchor ``fin_formation``)."""


@dataclass(frozen=True, slots=True)
class DuePoint:
    spec: WorkflowSpec
    deadline: DeadlineSpec
    dossier_id: int
    anchor_at: datetime

    @property
    def due_at(self) -> datetime:
        return self.anchor_at + timedelta(days=self.deadline.offset_days)


def training_ended_at(conn: Connection, dossier_id: int) -> datetime | None:
    """When the training was last marked as ended (the bilan is due from then)."""
    value = conn.execute(
        select(func.max(H.c.at)).where(
            H.c.dossier_id == dossier_id, H.c.trigger == TRAINING_END_TRIGGER
        )
    ).scalar()
    return value if isinstance(value, datetime) else None


def due_points(conn: Connection, now: datetime) -> Iterator[DuePoint]:
    """Every due point of every spec that has come and has not been acted upon."""
    for spec in SPECS.values():
        for deadline in spec.deadlines:
            yield from _due(conn, spec, deadline, now)


def _in_states(spec: WorkflowSpec, deadline: DeadlineSpec) -> list[ColumnElement[bool]]:
    return [
        D.c.workflow_name == spec.name,
        D.c.workflow_version == spec.version,
        D.c.state.in_(deadline.states),
    ]


def _not_recorded(deadline: DeadlineSpec, anchor: ColumnElement[datetime]) -> ColumnElement[bool]:
    return ~exists().where(
        DP.c.dossier_id == D.c.id, DP.c.deadline_id == deadline.id, DP.c.anchor_at == anchor
    )


def _due(
    conn: Connection, spec: WorkflowSpec, deadline: DeadlineSpec, now: datetime
) -> Iterator[DuePoint]:
    offset = timedelta(days=deadline.offset_days)
    latest_anchor = now - offset
    if deadline.anchor is DeadlineAnchor.STATE_ENTERED:
        # Fully in SQL: the anchor is a column, so the index on (workflow, state) serves.
        rows = conn.execute(
            select(D.c.id, D.c.state_entered_at).where(
                *_in_states(spec, deadline),
                D.c.state_entered_at <= latest_anchor,
                _not_recorded(deadline, D.c.state_entered_at),
            )
        ).all()
        for row in rows:
            yield DuePoint(spec, deadline, row.id, row.state_entered_at)
        return
    if deadline.anchor is DeadlineAnchor.FIRST_SESSION_START:
        first = (
            select(S.c.dossier_id, func.min(S.c.starts_at).label("anchor"))
            .group_by(S.c.dossier_id)
            .subquery()
        )
        rows = conn.execute(
            select(D.c.id, first.c.anchor)
            .join(first, first.c.dossier_id == D.c.id)
            .where(
                *_in_states(spec, deadline),
                first.c.anchor <= latest_anchor,
                _not_recorded(deadline, first.c.anchor),
            )
        ).all()
        for row in rows:
            yield DuePoint(spec, deadline, row.id, row.anchor)
        return
    candidates = [
        row.id for row in conn.execute(select(D.c.id).where(*_in_states(spec, deadline))).all()
    ]
    anchors = _anchors(conn, deadline.anchor, candidates)
    recorded = _recorded(conn, deadline, list(anchors))
    for dossier_id, anchor in anchors.items():
        if anchor <= latest_anchor and (dossier_id, anchor) not in recorded:
            yield DuePoint(spec, deadline, dossier_id, anchor)


def _anchors(
    conn: Connection, anchor: DeadlineAnchor, dossier_ids: list[int]
) -> dict[int, datetime]:
    """Anchors computed in Python: a session's end and the training's end are not columns."""
    found: dict[int, datetime] = {}
    for chunk in _chunks(dossier_ids, 500):
        if anchor is DeadlineAnchor.LAST_SESSION_END:
            for row in conn.execute(
                select(S.c.dossier_id, S.c.starts_at, S.c.duration_minutes).where(
                    S.c.dossier_id.in_(chunk)
                )
            ):
                end = row.starts_at + timedelta(minutes=row.duration_minutes)
                if row.dossier_id not in found or end > found[row.dossier_id]:
                    found[row.dossier_id] = end
        elif anchor is DeadlineAnchor.TRAINING_ENDED:
            ended = conn.execute(
                select(H.c.dossier_id, func.max(H.c.at).label("ended"))
                .where(H.c.dossier_id.in_(chunk), H.c.trigger == TRAINING_END_TRIGGER)
                .group_by(H.c.dossier_id)
            ).all()
            found.update({r.dossier_id: r.ended for r in ended})
    return found


def _recorded(
    conn: Connection, deadline: DeadlineSpec, dossier_ids: list[int]
) -> set[tuple[int, datetime]]:
    seen: set[tuple[int, datetime]] = set()
    for chunk in _chunks(dossier_ids, 500):
        rows = conn.execute(
            select(DP.c.dossier_id, DP.c.anchor_at).where(
                DP.c.deadline_id == deadline.id, DP.c.dossier_id.in_(chunk)
            )
        )
        seen.update((row.dossier_id, row.anchor_at) for row in rows)
    return seen


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
