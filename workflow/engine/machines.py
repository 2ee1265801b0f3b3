"""One ``transitions.Machine`` per workflow spec, built once and shared by every request.

Building a Machine costs milliseconds and ``add_model`` slows down as models accumulate,
and SQLModel rows refuse the attributes a Machine binds. So the Machine is built with no
model at all, and each fire runs against a throw-away ``Token`` that carries the current
state and the facts the spec's conditions read. Nothing is ever added to the Machine, so
its memory stays flat however many dossiers go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from transitions import Machine

from states import get_spec
from states.spec import WorkflowSpec


@dataclass(slots=True)
class Token:
    """The stand-in model a Machine fires against."""

    state: str
    facts: dict[str, bool] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Conditions are looked up by name on the model: answer them from ``facts``.
        facts = object.__getattribute__(self, "facts")
        if name in facts:
            return lambda *args, **kwargs: facts[name]
        raise AttributeError(name)


class WorkflowMachine:
    """The spec's Machine plus the lookups the service needs on every fire."""

    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.machine = Machine(
            model=None,
            states=[s.id for s in spec.states],
            initial=spec.initial,
            auto_transitions=False,
            send_event=False,
            ignore_invalid_triggers=False,
        )
        for transition in spec.transitions:
            for source in transition.sources:
                if transition.reflexive:
                    self.machine.add_transition(transition.trigger, source, source)
                elif transition.dest_condition is None:
                    self.machine.add_transition(transition.trigger, source, transition.dest)
                else:
                    self.machine.add_transition(
                        transition.trigger,
                        source,
                        transition.dest,
                        conditions=[transition.dest_condition],
                    )
                    # Otherwise the dossier stays where it is (e.g. not the last signature).
                    self.machine.add_transition(transition.trigger, source, source)
        self._triggers_from: dict[str, tuple[str, ...]] = {
            state.id: tuple(sorted(self.machine.get_triggers(state.id))) for state in spec.states
        }

    def triggers_from(self, state: str) -> tuple[str, ...]:
        return self._triggers_from.get(state, ())

    def fire(self, state: str, trigger: str, facts: dict[str, bool] | None = None) -> str:
        """Run ``trigger`` from ``state`` and return the destination state."""
        token = Token(state=state, facts=facts or {})
        self.machine.events[trigger].trigger(token)
        return token.state


@cache
def machine_for(name: str, version: int) -> WorkflowMachine:
    return WorkflowMachine(get_spec(name, version))
