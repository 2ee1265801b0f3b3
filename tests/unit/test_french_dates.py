"""French dates written without Babel's pattern machinery read exactly as Babel writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime

from workflow.language.french import PARIS, format_date, format_datetime


def test_every_day_of_a_leap_year_reads_as_babel_writes_it() -> None:
    day = date(2028, 1, 1)
    while day.year == 2028:
        assert format_date(day) == babel_date(day, format="d MMMM y", locale="fr_FR")
        day += timedelta(days=1)
    assert format_date(date(2026, 8, 1)) == "1 août 2026"
    assert format_date(None) == "(non renseignée)"


def test_times_read_in_paris_as_babel_writes_them_across_both_clock_changes() -> None:
    moment = datetime(2027, 3, 27, 22, 30, tzinfo=UTC)
    for _ in range(24 * 4 * 3):  # three days by quarter hours, over the spring change
        expected = babel_datetime(
            moment.astimezone(PARIS), format="d MMMM y 'à' HH:mm", locale="fr_FR", tzinfo=PARIS
        )
        assert format_datetime(moment) == expected
        moment += timedelta(minutes=15)
    assert format_datetime(datetime(2027, 10, 31, 0, 30, tzinfo=UTC)) == "31 octobre 2027 à 02:30"
