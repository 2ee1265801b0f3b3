"""What the editing use cases tell the rest of the product, inside their transaction.

A session added or changed after the convocations went out must reach the stagiaires as
an update, in the very commit that changed it; the convocations live at the edge, so the
editor hands this event to subscribers registered at start-up (``api.wiring``), as the
service does with transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

CALENDAR_FIELDS = ("starts_at", "duration_minutes", "modality", "place", "connection_link")
"""What a calendar, a convocation or a school head cares about in a session."""


@dataclass(frozen=True, slots=True)
class SessionChanged:
    dossier_id: int
    session_id: int
    created: bool
    calendar_changed: bool
    """Whether the date, time, duration, modality, place or link changed (marking a
    session as held is not news to anyone's calendar)."""
    at: datetime
    actor_id: int | None
    previous_starts_at: datetime | None = None
    previous_modality: str | None = None


class SessionSubscriber(Protocol):
    def __call__(self, connection: Connection, event: SessionChanged, /) -> None: ...
