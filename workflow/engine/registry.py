"""What a named guard and a named effect are, and the registry the service is built with.

Specs (``states/``) refer to guards and effects by name. The capabilities define them and
``workflow.rules`` maps the names to them; the service receives that mapping when it is
built, so the engine never imports a capability (ARCHITECTURE: arrows point downwards).

A guard returns every missing item, in French, or nothing; it only reads. An effect runs
after the guards passed, in the service's transaction, and returns the facts the Machine's
conditions read (``signatures_completes`` for ``signer``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from workflow.engine.roles import Capacity
from workflow.engine.rows import DossierRow


@dataclass(frozen=True, slots=True)
class GuardContext:
    conn: Connection
    dossier: DossierRow
    actor_id: int | None
    payload: Mapping[str, Any]
    now: datetime
    memo: dict[str, Any] = field(default_factory=dict)
    """Work shared between a transition's guards and effects within one fire."""


Guard = Callable[[GuardContext], list[str]]


@dataclass(frozen=True, slots=True)
class EffectContext:
    guard: GuardContext
    capacities: tuple[Capacity, ...]


EffectFn = Callable[[EffectContext], dict[str, bool]]


@dataclass(frozen=True, slots=True)
class Effect:
    run: EffectFn
    facts: tuple[str, ...] = ()
    """The Machine conditions this effect answers."""


@dataclass(frozen=True, slots=True)
class Rules:
    """The names a spec may use, resolved: handed to ``WorkflowService`` when it is built."""

    guards: Mapping[str, Guard]
    effects: Mapping[str, Effect]
