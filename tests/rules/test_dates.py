from datetime import date

import holidays
import pytest

from divert.rules import BANK_HOLIDAYS, add_months, add_working_days, age_on, whole_months_between


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


def test_bank_holidays_skip_weekends_and_take_the_substitute_day() -> None:
    # Boxing Day 2026 is a Saturday: the day off is Monday 28 December.
    assert date(2026, 12, 28) in BANK_HOLIDAYS and date(2026, 12, 26) not in BANK_HOLIDAYS
    assert date(2026, 12, 25) in BANK_HOLIDAYS and date(2026, 12, 24) not in BANK_HOLIDAYS
    assert all(day.weekday() < 5 for day in BANK_HOLIDAYS.in_year(2026))
    assert "2026-12-25" not in BANK_HOLIDAYS


def test_a_2030_deadline_skips_that_years_bank_holidays() -> None:
    # Thursday 18 April 2030: Good Friday (19th) and Easter Monday (22nd) are not working days.
    assert add_working_days(date(2030, 4, 18), 2) == date(2030, 4, 22)
    assert add_working_days(date(2030, 4, 18), 2, BANK_HOLIDAYS) == date(2030, 4, 24)
    # Christmas Day and Boxing Day 2030 fall on Wednesday and Thursday.
    assert add_working_days(date(2030, 12, 24), 1, BANK_HOLIDAYS) == date(2030, 12, 27)
    assert BANK_HOLIDAYS.in_year(2030) == {
        date(2030, 1, 1),
        date(2030, 4, 19),
        date(2030, 4, 22),
        date(2030, 5, 6),
        date(2030, 5, 27),
        date(2030, 8, 26),
        date(2030, 12, 25),
        date(2030, 12, 26),
    }


def test_england_and_wales_share_one_list() -> None:
    years = range(2020, 2041)
    england = holidays.country_holidays("GB", subdiv="ENG", years=years)
    wales = holidays.country_holidays("GB", subdiv="WLS", years=years)
    assert sorted(england) == sorted(wales)
