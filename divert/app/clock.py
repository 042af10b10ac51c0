"""Local time in England and Wales.

Timestamps are stored in UTC; people read and type local times, and a day on a case (the day a
session fell on, the day a deadline counts from) is a day in England and Wales, not in UTC.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
