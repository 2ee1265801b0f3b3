"""What the service tells the rest of the product after a transition, inside its transaction.

Subscribers are registered at the edges (``api``); they receive the open connection so
that what they write (the notifications outbox) commits or rolls back with the state
change. A subscriber that raises makes the whole transition fail and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class TransitionEvent:
    dossier_id: int
    reference: str
    academie_id: int
    workflow_name: str
    workflow_version: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    history_id: int
    actor_id: int | None
    on_behalf_of_id: int | None
    role: str
    comment: str | None
    at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


class Subscriber(Protocol):
    def __call__(self, connection: Connection, event: TransitionEvent, /) -> None: ...


@dataclass(frozen=True, slots=True)
class DeadlineEvent:
    """A reminder or escalation that came due, told to subscribers inside its transaction.

    ``point_id`` is the deadline point just recorded: it names the emails, so a second
    timer process can never produce a second copy of them.
    """

    point_id: int
    dossier_id: int
    deadline_id: str
    template: str
    recipients: tuple[str, ...]
    anchor_at: datetime
    due_at: datetime
    at: datetime


class DeadlineSubscriber(Protocol):
    def __call__(self, connection: Connection, event: DeadlineEvent, /) -> None: ...
