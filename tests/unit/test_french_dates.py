"""French dates written without Babel's pattern machinery read exactly as Babel writes them
(with « 1er » for the first of the month, Babel's ``d'er'``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime

from workflow.language.french import PARIS, format_date, format_datetime


def _day(value: date) -> str:
    return "d'er'" if value.day == 1 else "d"


def test_every_day_of_a_leap_year_reads_as_babel_writes_it() -> None:
    day = date(2028, 1, 1)
    while day.year == 2028:
        pattern = f"{_day(day)} MMMM y"
        assert format_date(day) == babel_date(day, format=pattern, locale="fr_FR")
        weekday = babel_date(day, format=f"EEEE {pattern}", locale="fr_FR")
        assert format_date(day, weekday=True) == weekday
        day += timedelta(days=1)
    assert format_date(date(2026, 8, 1)) == "1er août 2026"
    assert format_date(date(2026, 12, 1), weekday=True) == "mardi 1er décembre 2026"
    assert format_date(None) == "(non renseignée)"


def test_times_read_in_paris_as_babel_writes_them_across_both_clock_changes() -> None:
    moment = datetime(2027, 3, 27, 22, 30, tzinfo=UTC)
    for _ in range(24 * 4 * 3):  # three days by quarter hours, over the spring change
        local = moment.astimezone(PARIS)
        expected = babel_datetime(
            local, format=f"{_day(local)} MMMM y 'à' HH:mm", locale="fr_FR", tzinfo=PARIS
        )
        assert format_datetime(moment) == expected
        moment += timedelta(minutes=15)
    assert format_datetime(datetime(2027, 10, 31, 0, 30, tzinfo=UTC)) == "31 octobre 2027 à 02:30"
