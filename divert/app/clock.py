"""Local time in England and Wales.

Timestamps are stored in UTC; people read and type local times, and a day on a case (the day a
session fell on, the day a deadline counts from) is a day in England and Wales, not in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def uk_date(moment: datetime) -> date:
    """The day in England and Wales at ``moment`` (an aware timestamp).

    The one place a moment becomes a day: age at the encounter, the rules' dates, monitoring's
    cohorts and periods, deadlines. A naive value is refused, not guessed at (it would be read in
    the server's zone).
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; a moment must say its time zone")
    return moment.astimezone(LONDON).date()


def uk_day_number(stored: str | None) -> int | None:
    """``uk_date`` as a YYYYMMDD integer, of a UTC timestamp as SQLite stores it (naive text).

    SQLite has no time zones, so divert/app/db.py registers this as the SQL function ``uk_day``;
    PostgreSQL does the same with ``timezone('Europe/London', ...)`` (monitoring/journeys.py).
    """
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored)
    day = uk_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return day.year * 10000 + day.month * 100 + day.day


def today() -> date:
    """Today in England and Wales, whatever time zone the server runs in."""
    return uk_date(datetime.now(UTC))


def at_uk_time(day: date, clock: time) -> datetime:
    """The UTC moment of a wall-clock time on a day in England and Wales, as a person typed it."""
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)


def uk_moment_text(value: datetime | None) -> str:
    """A timestamp as people in England and Wales read it ("3 March 2026 at 14:05"): pages and the
    files made from them (the audit CSV) say a moment the same way."""
    if value is None:
        return "Not recorded"
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"
