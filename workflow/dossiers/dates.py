"""Dates that make sense: starting or ending a training against its sessions' dates.

A person may start (``demarrer``) a training before its first session begins, or end it
(``terminer``) before its last session is over — a session moved at the last minute, a
training cut short — but never by a slip of the mouse: the guards ``debut_atteint`` and
``fin_atteinte`` then ask for an explicit confirmation (``avant_date_confirme`` in the
payload), and since the payload is kept in the history row, the history says the date
was forced and by whom. The timers fire these transitions at the dates themselves, so the
system is never asked.

That a session can be recorded as held only once it has started is checked where sessions
are written (``workflow.dossiers.editing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from workflow.engine.due import session_ends
from workflow.engine.registry import Guard, GuardContext
from workflow.language.french import format_datetime
from workflow.store.tables import session_table as S

EARLY_CONFIRMED = "avant_date_confirme"
"""Payload key of ``demarrer``/``terminer``: the person confirms acting before the date."""

_WHAT = {
    "demarrer": ("démarrer la formation avant sa première session", "commence"),
    "terminer": ("terminer la formation avant la fin de sa dernière session", "se termine"),
}


@dataclass(frozen=True, slots=True)
class Early:
    """Firing ``trigger`` now would come before the date the sessions give."""

    trigger: str
    planned_at: datetime

    @property
    def missing(self) -> str:
        """What the guard names as missing while the person has not confirmed."""
        what, _ = _WHAT[self.trigger]
        return f"votre confirmation de {what}, prévue le {format_datetime(self.planned_at)}"

    @property
    def question(self) -> str:
        """The checkbox a page shows to give that confirmation."""
        what, verb = _WHAT[self.trigger]
        session = "première" if self.trigger == "demarrer" else "dernière"
        return (
            f"La {session} session {verb} le {format_datetime(self.planned_at)} : "
            f"je confirme vouloir {what}."
        )


def early(conn: Connection, dossier_id: int, trigger: str, now: datetime) -> Early | None:
    """Whether ``trigger`` fired now would come before the sessions' date; None when it
    would not, or when no session is planned (there is then no date to go against)."""
    if trigger == "demarrer":
        first = conn.execute(
            select(func.min(S.c.starts_at)).where(S.c.dossier_id == dossier_id)
        ).scalar()
        if isinstance(first, datetime) and now < first:
            return Early(trigger, first)
    elif trigger == "terminer":
        last = session_ends(conn, [dossier_id]).get(dossier_id)
        if last is not None and now < last:
            return Early(trigger, last)
    return None


def _guard(trigger: str) -> Guard:
    def guard(ctx: GuardContext) -> list[str]:
        if ctx.actor_id is None or ctx.payload.get(EARLY_CONFIRMED) is True:
            return []
        found = early(ctx.conn, ctx.dossier.id, trigger, ctx.now)
        return [] if found is None else [found.missing]

    guard.__doc__ = f"Guard of ``{trigger}``: a person acting before the date confirms it."
    return guard


DATE_GUARDS: dict[str, Guard] = {
    "debut_atteint": _guard("demarrer"),
    "fin_atteinte": _guard("terminer"),
}
