"""How dates, times and quantities read in French (Europe/Paris), for every output."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from babel.numbers import format_decimal

PARIS = ZoneInfo("Europe/Paris")


_MONTHS = get_month_names("wide", "format", locale="fr_FR")
"""« janvier » … « décembre », read once from Babel's French data."""


def format_date(value: date | None) -> str:
    """« 3 mars 2026 »: Babel's ``d MMMM y`` in French, written directly with its month
    names (a page of 100 dossiers spent a tenth of its time formatting their dates)."""
    if value is None:
        return "(non renseignée)"
    return f"{value.day} {_MONTHS[value.month]} {value.year}"


def format_datetime(value: datetime | None) -> str:
    """An aware UTC datetime shown as Paris local time, e.g. « 3 mars 2026 à 14:05 »."""
    if value is None:
        return "(non renseignée)"
    local = value.astimezone(PARIS)
    return f"{format_date(local.date())} à {local.hour:02d}:{local.minute:02d}"


def format_hours(value: Decimal | None) -> str:
    if value is None:
        return "(non renseignées)"
    return f"{format_decimal(value, format='#,##0.##', locale='fr_FR')} h"
