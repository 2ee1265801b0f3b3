"""How dates, times and quantities read in French (Europe/Paris), for every output."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

PARIS = ZoneInfo("Europe/Paris")


def format_date(value: date | None) -> str:
    if value is None:
        return "(non renseignée)"
    return babel_date(value, format="d MMMM y", locale="fr_FR")


def format_datetime(value: datetime | None) -> str:
    """An aware UTC datetime shown as Paris local time, e.g. « 3 mars 2026 à 14:05 »."""
    if value is None:
        return "(non renseignée)"
    local = value.astimezone(PARIS)
    return babel_datetime(local, format="d MMMM y 'à' HH:mm", locale="fr_FR", tzinfo=PARIS)


def format_hours(value: Decimal | None) -> str:
    if value is None:
        return "(non renseignées)"
    return f"{format_decimal(value, format='#,##0.##', locale='fr_FR')} h"
