"""Calendar arithmetic the rules depend on, kept in one place so every programme counts the same way."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from functools import lru_cache

import holidays

_SATURDAY = 5


def whole_months_between(start: date, end: date) -> int:
    """Complete calendar months from ``start`` to ``end``.

    A month is complete on the day of ``end``'s month matching ``start``'s day; when that day does not exist
    (31 January to February) it completes on the 1st of the next month. This is the rule English law uses for
    birthdays: someone born on 29 February turns a year older on 1 March in a non-leap year.
    """
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return months


def add_months(start: date, months: int) -> date:
    """The day ``months`` whole months after ``start`` are complete, by the same rule as birthdays."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    try:
        return date(year, month + 1, start.day)
    except ValueError:
        # The day does not exist in that month (31 April, 29 February): the month completes on the 1st after.
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


def add_duration(start: date, amount: int, unit: str) -> date:
    """The day a length in days, weeks or whole months after ``start`` ends: 12 weeks is 84 days,
    not three months (a conditional caution's 12 weeks end on the same weekday)."""
    if unit == "days":
        return start + timedelta(days=amount)
    if unit == "weeks":
        return start + timedelta(weeks=amount)
    if unit == "months":
        return add_months(start, amount)
    raise ValueError(f"unknown unit of time {unit!r}")


def age_on(date_of_birth: date, on: date) -> int | None:
    """Age in whole years on ``on``; ``None`` when the date of birth is after it (a recording error)."""
    if date_of_birth > on:
        return None
    return whole_months_between(date_of_birth, on) // 12


def add_working_days(start: date, n: int, holidays: Container[date] = frozenset()) -> date:
    """The date ``n`` working days after ``start``, skipping weekends and the given holidays.

    The caller chooses the holidays (usually ``BANK_HOLIDAYS``), so a test or a replay can name its own.
    A negative ``n`` counts backwards.
    """
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    current = start
    while remaining:
        current += step
        if current.weekday() < _SATURDAY and current not in holidays:
            remaining -= 1
    return current


@lru_cache(maxsize=64)
def _bank_holidays_in(year: int) -> frozenset[date]:
    # England and Wales share one list (the package's ENG and WLS lists are equal; a test checks it).
    # Only weekdays: when a holiday falls at a weekend the package lists both the day and its substitute,
    # and the substitute is the day off.
    listed = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(day for day in listed if day.weekday() < _SATURDAY)


class _BankHolidays(Container[date]):
    """Bank holidays in England and Wales for any year, worked out once per year and kept.

    Worked out by the ``holidays`` package rather than read from a list, so no year runs out; a one-off
    holiday (a coronation, a jubilee) arrives with a new release of the package.
    """

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in _bank_holidays_in(day.year)

    def in_year(self, year: int) -> frozenset[date]:
        return _bank_holidays_in(year)


BANK_HOLIDAYS = _BankHolidays()
