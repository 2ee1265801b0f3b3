"""How dates, times and quantities read in French (Europe/Paris), for every output."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

PARIS = ZoneInfo("Europe/Paris")


def _day(value: date) -> str:
    """The day of a date pattern: French writes the first of the month as an ordinal,
    « le 1er décembre », and every other day as a cardinal, « le 2 décembre »."""
    return "d'er'" if value.day == 1 else "d"


def format_date(value: date | None, *, weekday: bool = False) -> str:
    """« 1er décembre 2026 », « 3 mars 2026 »; with ``weekday``, « lundi 1er décembre 2026 »."""
    if value is None:
        return "(non renseignée)"
    pattern = f"{'EEEE ' if weekday else ''}{_day(value)} MMMM y"
    return babel_date(value, format=pattern, locale="fr_FR")


def format_datetime(value: datetime | None) -> str:
    """An aware UTC datetime shown as Paris local time, e.g. « 3 mars 2026 à 14:05 »,
    « 1er mars 2026 à 09:00 »."""
    if value is None:
        return "(non renseignée)"
    local = value.astimezone(PARIS)
    pattern = f"{_day(local)} MMMM y 'à' HH:mm"
    return babel_datetime(local, format=pattern, locale="fr_FR", tzinfo=PARIS)


def format_hours(value: Decimal | None) -> str:
    if value is None:
        return "(non renseignées)"
    return f"{format_decimal(value, format='#,##0.##', locale='fr_FR')} h"
