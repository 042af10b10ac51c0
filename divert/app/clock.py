"""Local time in England and Wales.

Timestamps are stored in UTC; people read and type local times, and a day on a case (the day a
session fell on, the day a deadline counts from) is a day in England and Wales, not in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def uk_date(moment: datetime) -> date:
    """The day in England and Wales at ``moment`` (an aware timestamp)."""
    return moment.astimezone(LONDON).date()


def today() -> date:
    """Today in England and Wales, whatever time zone the server runs in."""
    return uk_date(datetime.now(UTC))


def at_uk_time(day: date, clock: time) -> datetime:
    """The UTC moment of a wall-clock time on a day in England and Wales, as a person typed it."""
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)
