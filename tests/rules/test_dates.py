from datetime import date

import pytest

from divert.rules import add_months, add_working_days, age_on, whole_months_between


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2006, 6, 12), date(2024, 6, 11), 17),  # the day before the 18th birthday
        (date(2006, 6, 12), date(2024, 6, 12), 18),  # on it
        (date(2014, 3, 1), date(2024, 2, 29), 9),
        (date(2014, 3, 1), date(2024, 3, 1), 10),
        (date(2006, 2, 28), date(2024, 2, 28), 18),
        # Born 29 February: a year older on 1 March in a non-leap year, on 29 February in a leap year.
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2000, 1, 1), date(2000, 1, 1), 0),
        (date(1998, 12, 31), date(2024, 12, 30), 25),
        (date(1998, 12, 31), date(2024, 12, 31), 26),
    ],
)
def test_age_at_the_encounter(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_birth_after_the_encounter_has_no_age() -> None:
    assert age_on(date(2024, 6, 13), date(2024, 6, 12)) is None


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2024, 1, 15), date(2024, 4, 14), 2),
        (date(2024, 1, 15), date(2024, 4, 15), 3),
        (date(2024, 1, 31), date(2024, 2, 29), 0),
        (date(2024, 1, 31), date(2024, 3, 1), 1),
        (date(2024, 11, 30), date(2025, 2, 28), 2),
        (date(2024, 11, 30), date(2025, 3, 1), 3),
    ],
)
def test_whole_months(start: date, end: date, months: int) -> None:
    assert whole_months_between(start, end) == months


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2024, 1, 15), 4, date(2024, 5, 15)),
        (date(2023, 10, 31), 4, date(2024, 3, 1)),  # no 31 February: the month completes on 1 March
        (date(2024, 9, 30), 4, date(2025, 1, 30)),
        (date(2024, 12, 31), 2, date(2025, 3, 1)),
        (date(2024, 11, 15), 2, date(2025, 1, 15)),
    ],
)
def test_add_months_agrees_with_whole_months(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end
    assert whole_months_between(start, end) == months


@pytest.mark.parametrize(
    ("start", "n", "holidays", "expected"),
    [
        (
            date(2024, 6, 10),
            10,
            frozenset(),
            date(2024, 6, 24),
        ),  # Monday + 10 working days = Monday fortnight
        (date(2024, 6, 14), 1, frozenset(), date(2024, 6, 17)),  # Friday + 1 skips the weekend
        (date(2024, 6, 15), 1, frozenset(), date(2024, 6, 17)),  # from a Saturday
        (date(2024, 6, 14), 0, frozenset(), date(2024, 6, 14)),
        (date(2024, 8, 23), 1, frozenset({date(2024, 8, 26)}), date(2024, 8, 27)),  # summer bank holiday
        (date(2024, 12, 20), 5, frozenset({date(2024, 12, 25), date(2024, 12, 26)}), date(2024, 12, 31)),
        (date(2024, 6, 17), -1, frozenset(), date(2024, 6, 14)),
    ],
)
def test_add_working_days(start: date, n: int, holidays: frozenset[date], expected: date) -> None:
    assert add_working_days(start, n, holidays) == expected
