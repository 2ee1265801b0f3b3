"""The vocabulary in which workflows are written down.

A workflow is data, not code: every behaviour it needs (guards, effects, recipients,
templates) is referred to by name and resolved by the packages that implement it. That
keeps the specs readable by a non-programmer at the EAFC, lets a test prove that every
name resolves, and lets a dossier keep the version of the spec it was started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class DeadlineAnchor(StrEnum):
    """The moment a deadline is counted from."""

    STATE_ENTERED = "entree_etat"
    FIRST_SESSION_START = "debut_premiere_session"
    LAST_SESSION_END = "fin_derniere_session"
    TRAINING_ENDED = "fin_formation"


class DeadlineAction(StrEnum):
    REMINDER = "rappel"
    ESCALATION = "escalade"
    TRANSITION = "transition"


@dataclass(frozen=True, slots=True)
class StateSpec:
    id: str
    label: str
    phase: str
    terminal: bool = False


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """Who is told about a transition, and with which template.

    ``recipients`` are role ids or derived recipient sets (see ``states.roles``).
    ``only_to`` restricts the rule to one destination state, for triggers such as
    ``signer`` that may stay in place or move on.
    """

    recipients: tuple[str, ...]
    template: str
    only_to: str | None = None
    include_actor: bool = False


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """A point in time, counted from an anchor, at which something must happen.

    Reminders and escalations send ``template`` to ``recipients``; a transition deadline
    fires ``trigger`` through the service as the system actor.
    """

    id: str
    label: str
    states: tuple[str, ...]
    anchor: DeadlineAnchor
    offset_days: int
    action: DeadlineAction
    recipients: tuple[str, ...] = ()
    template: str | None = None
    trigger: str | None = None


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """One trigger from one or several states.

    ``dest_unless`` names a condition: while it is false the dossier stays in its state
    (a reflexive transition); once it is true the dossier moves to ``dest``. ``signer``
    uses it so that only the last required signature moves the contract on.
    """

    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    comment_required: bool = False
    irreversible: bool = False
    system_may_fire: bool = False
    dest_condition: str | None = None
    opens_phase_tasks: str | None = None
    notifications: tuple[NotificationRule, ...] = ()
    reflexive: bool = False
    """The dossier stays in whichever source state it is in (``dest`` names the first
    source, for readers that expect a state): an avenant is signed in any state."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A charter task handed to every holder of ``role`` when a phase opens."""

    phase: str
    code: str
    role: str
    label: str
    due_after_days: int | None = None


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    name: str
    version: int
    label: str
    initial: str
    phases: tuple[PhaseSpec, ...]
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    deadlines: tuple[DeadlineSpec, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()

    def __hash__(self) -> int:
        return hash((self.name, self.version))

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    def state(self, state_id: str) -> StateSpec:
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)

    def phase(self, phase_id: str) -> PhaseSpec:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def transition(self, trigger: str) -> TransitionSpec:
        for transition in self.transitions:
            if transition.trigger == trigger:
                return transition
        raise KeyError(trigger)

    def tasks_for(self, phase: str) -> tuple[TaskSpec, ...]:
        return tuple(task for task in self.tasks if task.phase == phase)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(t.trigger for t in self.transitions)

    @property
    def terminal_states(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.states if s.terminal)

    def edges(self) -> Iterator[tuple[str, str, TransitionSpec]]:
        """Every (source, destination, transition) arc, reflexive ones included."""
        for transition in self.transitions:
            for source in transition.sources:
                if transition.reflexive:
                    yield source, source, transition
                    continue
                if transition.dest_condition is not None:
                    yield source, source, transition
                yield source, transition.dest, transition
