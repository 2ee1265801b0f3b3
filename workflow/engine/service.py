"""The transition service: the one place where a dossier changes state.

One call to ``fire`` is one database transaction: load (row lock on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite) → version check → is the trigger valid from this state (asked of
the spec's shared Machine) → does the actor hold an allowed role on *this* dossier →
guards → effects → state, version, history, phase tasks → subscribers → one commit.
Any error before the commit rolls everything back, so a refused action changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, update

from states import get_spec
from states.roles import role_label
from states.spec import TransitionSpec, WorkflowSpec
from workflow.engine.errors import (
    DossierNotFound,
    GuardFailed,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
)
from workflow.engine.events import Subscriber, TransitionEvent
from workflow.engine.history import RECORD, chained
from workflow.engine.machines import machine_for
from workflow.engine.registry import EffectContext, GuardContext, Rules
from workflow.engine.roles import Capacity, capacities, members
from workflow.engine.rows import DossierRow, load, load_for_actor
from workflow.engine.tasks import close_phase_tasks, task_due_at
from workflow.store.tables import dossier_table, task_table
from workflow.store.types import utcnow

log = logging.getLogger(__name__)

SYSTEM_ROLE = "systeme"

# The hot path's statements are built once: building one costs more than SQLite running it.
_ADVANCE = (
    update(dossier_table)
    .where(
        dossier_table.c.id == bindparam("b_id"),
        dossier_table.c.version == bindparam("b_version"),
    )
    .values(
        state=bindparam("b_state"),
        version=bindparam("b_new_version"),
        updated_at=bindparam("b_now"),
        state_entered_at=bindparam("b_entered"),
        history_head=bindparam("b_head"),
    )
)
COMMENT_MISSING = "un commentaire (obligatoire pour cette action)"


@dataclass(frozen=True, slots=True)
class FireCommand:
    dossier_id: int
    trigger: str
    actor_id: int | None
    """``None`` is the system itself (timers); it may fire only ``system_may_fire``."""
    expected_version: int | None = None
    comment: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FireResult(TransitionEvent):
    """The event the subscribers received, and how many phase tasks were handed out."""

    tasks_created: int = 0


@dataclass(frozen=True, slots=True)
class Availability:
    """A trigger this person may fire now by role, and what still stands in the way."""

    trigger: str
    label: str
    missing: tuple[str, ...]
    comment_required: bool
    irreversible: bool
    on_behalf_of_id: int | None
    awaited: bool = True
    """Whether this person is *expected* to fire it now (it goes in their « À traiter »):
    the spec awaits it of one of their roles here (``TransitionSpec.awaits``), and no
    turn guard says it is someone else's turn (``TransitionSpec.turn_guards``)."""

    @property
    def ready(self) -> bool:
        return not self.missing


class WorkflowService:
    def __init__(
        self,
        engine: Engine,
        rules: Rules,
        subscribers: Iterable[Subscriber] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``rules`` resolves the spec's guard and effect names (``workflow.rules.RULES``):
        given here, not imported, so the engine knows no capability."""
        self.engine = engine
        self.rules = rules
        self.subscribers: list[Subscriber] = list(subscribers)
        self.clock = clock

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def fire(
        self,
        command: FireCommand,
        *,
        also: Callable[[Connection, FireResult], None] | None = None,
    ) -> FireResult:
        """Fire in a transaction of its own; ``also`` writes more in that same transaction
        (the API records its idempotent answer with the state change it describes)."""
        with self.engine.begin() as conn:
            result = self.fire_in(conn, command)
            if also is not None:
                also(conn, result)
            return result

    def fire_in(self, conn: Connection, command: FireCommand) -> FireResult:
        """Fire within a transaction the caller opened (the timer loop, the demo loader)."""
        now = self.clock()
        dossier, held_list = load_for_actor(conn, command.dossier_id, command.actor_id, now)
        if command.actor_id is not None and not held_list:
            # No role at all on this dossier: it is not theirs to see, so it does not exist.
            log.warning(
                "transition refused (dossier not visible): actor=%s trigger=%s dossier=%s at=%s",
                command.actor_id,
                command.trigger,
                command.dossier_id,
                now.isoformat(),
            )
            raise DossierNotFound(command.dossier_id)
        if command.expected_version is not None and command.expected_version != dossier.version:
            raise StaleVersion(command.expected_version, dossier.version)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        machine = machine_for(spec.name, spec.version)
        held = tuple(held_list)

        def offered(other: TransitionSpec) -> bool:
            """Whether to name ``other`` among the actions possible here: never what only
            the system fires, nor a turn that is not the person's (an avenant to sign
            when none waits for them)."""
            if command.actor_id is None:
                return True
            if not other.roles:
                return False
            turn = GuardContext(conn, dossier, command.actor_id, {}, now)
            return not any(self.rules.guards[g](turn) for g in other.turn_guards)

        transition = _valid_transition(
            spec, machine.triggers_from(dossier.state), dossier, command, offered
        )
        capacity = _authorise(transition, command.actor_id, held, command.dossier_id)
        ctx = GuardContext(conn, dossier, command.actor_id, command.payload, now)
        missing = _missing(self.rules, transition, ctx, command.comment)
        if missing:
            raise GuardFailed(transition.label, missing)
        facts: dict[str, bool] = {}
        for effect_name in transition.effects:
            facts.update(self.rules.effects[effect_name].run(EffectContext(ctx, held)))
        to_state = machine.fire(dossier.state, transition.trigger, facts)
        version = dossier.version + 1
        comment = (command.comment or "").strip() or None
        line = chained(
            {
                "dossier_id": dossier.id,
                "version": version,
                "trigger": transition.trigger,
                "from_state": dossier.state,
                "to_state": to_state,
                "actor_id": command.actor_id,
                "on_behalf_of_id": capacity.on_behalf_of,
                "role": capacity.recorded_role,
                "comment": comment,
                "payload": dict(command.payload),
                "at": now,
            },
            dossier.history_head,
        )
        changed = conn.execute(
            _ADVANCE,
            {
                "b_id": dossier.id,
                "b_version": dossier.version,
                "b_state": to_state,
                "b_new_version": version,
                "b_now": now,
                "b_entered": now if to_state != dossier.state else dossier.state_entered_at,
                "b_head": line["row_hash"],
            },
        ).rowcount
        if changed != 1:
            raise StaleVersion(command.expected_version or dossier.version, dossier.version + 1)
        inserted = conn.execute(RECORD, line).inserted_primary_key
        assert inserted is not None
        history_id = int(inserted[0])
        if spec.state(to_state).phase != spec.state(dossier.state).phase:
            close_phase_tasks(conn, dossier.id, spec.state(to_state), now)
        tasks = _open_phase_tasks(conn, spec, transition, dossier, now)
        result = FireResult(
            dossier_id=dossier.id,
            reference=dossier.reference,
            academie_id=dossier.academie_id,
            workflow_name=spec.name,
            workflow_version=spec.version,
            trigger=transition.trigger,
            from_state=dossier.state,
            to_state=to_state,
            version=version,
            history_id=history_id,
            actor_id=command.actor_id,
            on_behalf_of_id=capacity.on_behalf_of,
            role=capacity.recorded_role,
            comment=comment,
            at=now,
            payload=dict(command.payload),
            tasks_created=tasks,
        )
        for subscriber in self.subscribers:
            subscriber(conn, result)
        return result

    def available(self, dossier_id: int, person_id: int) -> list[Availability]:
        """The triggers ``person_id`` may fire now by role, each with what is missing."""
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            result = self.available_in(conn, dossier_id, person_id)
            conn.rollback()
            return result

    def available_in(
        self,
        conn: Connection,
        dossier_id: int,
        person_id: int,
        *,
        row: DossierRow | None = None,
    ) -> list[Availability]:
        """``available`` on the caller's connection (a read: nothing is written), so that a
        worklist asks it for many dossiers over one connection; ``row`` is the dossier as
        the caller just read it, on that same connection (one query saved per dossier)."""
        now = self.clock()
        dossier = row if row is not None and row.id == dossier_id else load(conn, dossier_id)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        machine = machine_for(spec.name, spec.version)
        held = tuple(capacities(conn, dossier.ref, person_id, now))
        ctx = GuardContext(conn, dossier, person_id, {}, now)
        result = []
        for trigger in machine.triggers_from(dossier.state):
            transition = spec.transition(trigger)
            capacity = _first_allowed(transition, held)
            if capacity is None:
                continue
            missing: list[str] = []
            turn_taken = False
            for guard_name in transition.guards:
                found = self.rules.guards[guard_name](ctx)
                missing += found
                turn_taken = turn_taken or bool(found and guard_name in transition.turn_guards)
            if turn_taken:
                # Not this person's turn (they signed; no avenant waits for them): nothing to
                # offer, not even as blocked.
                continue
            awaited = any(c.role in transition.roles and transition.awaits(c.role) for c in held)
            result.append(
                Availability(
                    trigger=trigger,
                    label=transition.label,
                    missing=tuple(missing),
                    comment_required=transition.comment_required,
                    irreversible=transition.irreversible,
                    on_behalf_of_id=capacity.on_behalf_of,
                    awaited=awaited,
                )
            )
        return result


def _valid_transition(
    spec: WorkflowSpec,
    valid: Sequence[str],
    dossier: DossierRow,
    command: FireCommand,
    offered: Callable[[TransitionSpec], bool],
) -> TransitionSpec:
    if command.trigger not in valid:
        raise TriggerNotAvailable(
            command.trigger,
            spec.state(dossier.state).label,
            [(t, spec.transition(t).label) for t in valid if offered(spec.transition(t))],
            spec.transition(command.trigger).label if command.trigger in spec.triggers else None,
        )
    return spec.transition(command.trigger)


def _first_allowed(transition: TransitionSpec, held: Sequence[Capacity]) -> Capacity | None:
    for capacity in held:
        if capacity.role in transition.roles:
            return capacity
    return None


def _authorise(
    transition: TransitionSpec, actor_id: int | None, held: Sequence[Capacity], dossier_id: int
) -> Capacity:
    if actor_id is None:
        if transition.system_may_fire:
            return Capacity(SYSTEM_ROLE)
    else:
        capacity = _first_allowed(transition, held)
        if capacity is not None:
            return capacity
    log.warning(
        "transition refused: actor=%s trigger=%s dossier=%s held=%s at=%s",
        actor_id,
        transition.trigger,
        dossier_id,
        [c.role for c in held],
        utcnow().isoformat(),
    )
    raise NotPermitted(transition.label, [role_label(r) for r in transition.roles])


def _missing(
    rules: Rules,
    transition: TransitionSpec,
    ctx: GuardContext,
    comment: str | None,
    *,
    check_comment: bool = True,
) -> list[str]:
    missing: list[str] = []
    if check_comment and transition.comment_required and not (comment or "").strip():
        missing.append(COMMENT_MISSING)
    for guard_name in transition.guards:
        missing += rules.guards[guard_name](ctx)
    return missing


def _open_phase_tasks(
    conn: Connection,
    spec: WorkflowSpec,
    transition: TransitionSpec,
    dossier: DossierRow,
    now: datetime,
) -> int:
    if transition.opens_phase_tasks is None:
        return 0
    tasks = spec.tasks_for(transition.opens_phase_tasks)
    people = members(conn, dossier.ref, {task.role for task in tasks})
    rows = [
        {
            "dossier_id": dossier.id,
            "person_id": member.person_id,
            "role": member.role,
            "phase": task.phase,
            "code": task.code,
            "label": task.label,
            "due_at": task_due_at(conn, spec, task, dossier.id, dossier.academie_id, now),
            "created_at": now,
        }
        for task in tasks
        for member in people
        if member.role == task.role
    ]
    if rows:
        conn.execute(insert(task_table), rows)
    return len(rows)
