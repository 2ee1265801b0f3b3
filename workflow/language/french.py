"""How dates, times and quantities read in French (Europe/Paris), for every output."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names
from babel.numbers import format_decimal

PARIS = ZoneInfo("Europe/Paris")


_MONTHS = get_month_names("wide", "format", locale="fr_FR")
"""« janvier » … « décembre », read once from Babel's French data."""
_WEEKDAYS = get_day_names("wide", "format", locale="fr_FR")
"""« lundi » (0) … « dimanche » (6), as ``date.weekday()`` numbers them."""


def _day(value: date) -> str:
    """French writes the first of the month as an ordinal, « le 1er décembre », and every
    other day as a cardinal, « le 2 décembre »."""
    return "1er" if value.day == 1 else str(value.day)


def format_date(value: date | None, *, weekday: bool = False) -> str:
    """« 1er décembre 2026 », « 3 mars 2026 »; with ``weekday``, « lundi 1er décembre 2026 ».

    Babel's ``d MMMM y`` in French, written directly with its month and day names (a page
    of 100 dossiers spent a tenth of its time in Babel's pattern machinery)."""
    if value is None:
        return "(non renseignée)"
    text = f"{_day(value)} {_MONTHS[value.month]} {value.year}"
    return f"{_WEEKDAYS[value.weekday()]} {text}" if weekday else text


def format_datetime(value: datetime | None) -> str:
    """An aware UTC datetime shown as Paris local time, e.g. « 3 mars 2026 à 14:05 »,
    « 1er mars 2026 à 09:00 »."""
    if value is None:
        return "(non renseignée)"
    local = value.astimezone(PARIS)
    return f"{format_date(local.date())} à {local.hour:02d}:{local.minute:02d}"


def format_hours(value: Decimal | None) -> str:
    if value is None:
        return "(non renseignées)"
    return f"{format_decimal(value, format='#,##0.##', locale='fr_FR')} h"


_ELIDING = frozenset("aàâeéèêëiîïoôuùûyhAÀÂEÉÈÊËIÎÏOÔUÙÛYH")


def de(text: str) -> str:
    """« de » before ``text``, elided before a vowel or a mute h: « d'Hélène Garnier »,
    « de Paul Lefèvre » (French names' initial h is mute, as in « Hélène », « Hugo »)."""
    return f"d'{text}" if text[:1] in _ELIDING else f"de {text}"
