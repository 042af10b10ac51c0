"""Calendar arithmetic the rules depend on, kept in one place so every programme counts the same way."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

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


def age_on(date_of_birth: date, on: date) -> int | None:
    """Age in whole years on ``on``; ``None`` when the date of birth is after it (a recording error)."""
    if date_of_birth > on:
        return None
    return whole_months_between(date_of_birth, on) // 12


def add_working_days(start: date, n: int, holidays: Collection[date] = frozenset()) -> date:
    """The date ``n`` working days after ``start``, skipping weekends and the given holidays.

    Bank holidays differ between England and Wales and change by proclamation, so the caller supplies them.
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
