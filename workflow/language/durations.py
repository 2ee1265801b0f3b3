"""How long something has waited, in French: « depuis 9 jours », « depuis hier ».

Counted in calendar days in Paris, as a person counts them: something that arrived last
evening has waited « depuis hier », even if fewer than 24 hours have passed.
"""

from __future__ import annotations

from datetime import datetime

from workflow.language.french import PARIS


def days_between(then: datetime, now: datetime) -> int:
    """Calendar days (Paris) from ``then`` to ``now``; 0 the same day."""
    return (now.astimezone(PARIS).date() - then.astimezone(PARIS).date()).days


def since(then: datetime, now: datetime) -> str:
    """« depuis aujourd'hui », « depuis hier », « depuis 9 jours »."""
    days = days_between(then, now)
    if days <= 0:
        return "depuis aujourd'hui"
    if days == 1:
        return "depuis hier"
    return f"depuis {days} jours"


def in_days(when: datetime, now: datetime) -> str:
    """A due date relative to today: « aujourd'hui », « demain », « dans 3 jours »,
    « hier », « il y a 4 jours »."""
    days = days_between(now, when)
    if days == 0:
        return "aujourd'hui"
    if days == 1:
        return "demain"
    if days == -1:
        return "hier"
    return f"dans {days} jours" if days > 0 else f"il y a {-days} jours"
