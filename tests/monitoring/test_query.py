"""The pinned fixture dataset (dataset.py), counted by the database: SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter
from divert.monitoring.query import GroupCounts, Scope, count_points, period_key

from . import dataset

POINTS = (
    "encountered",
    "eligible",
    "offered",
    "accepted",
    "engaged",
    "completed",
    "escalated",
    "formal_outcome",
)


def _as_dict(rows: list[GroupCounts]) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(r.period, r.group): tuple(r.counts[p] for p in POINTS) for r in rows}


@pytest.fixture
def loaded(db_session: Session) -> Session:
    dataset.load(db_session)
    return db_session


def test_counts_per_group_and_point_for_one_programme(loaded: Session) -> None:
    got = _as_dict(count_points(loaded, Scope("ethnicity_group", "quarter", dataset.P)))
    assert got == {
        # The White encounter at 23:30 UK time on 31 March is Q1, completed in May: still Q1's cohort.
        ("2026-Q1", "White"): (10, 8, 6, 5, 4, 3, 1, 2),
        # The override to eligible counts; the divert-only offer does not count for this programme.
        ("2026-Q1", "Black"): (10, 6, 3, 2, 1, 0, 1, 3),
        ("2026-Q1", "Asian"): (3, 3, 3, 3, 3, 3, 0, 0),
        ("2026-Q1", "Not stated"): (2, 1, 1, 1, 1, 1, 0, 0),
        ("2026-Q2", "White"): (1, 0, 0, 0, 0, 0, 0, 0),
    }


def test_all_programmes_count_each_encounter_once_at_its_furthest_point(loaded: Session) -> None:
    got = _as_dict(count_points(loaded, Scope("ethnicity_group", "quarter")))
    # One Black encounter was not eligible for P but eligible and offered for divert: +1 eligible,
    # +1 offered, and still one encounter (10), not two.
    assert got[("2026-Q1", "Black")] == (10, 7, 4, 2, 1, 0, 1, 3)
    assert got[("2026-Q1", "White")] == (10, 8, 6, 5, 4, 3, 1, 2)


def test_totals_add_up_to_every_encounter(loaded: Session) -> None:
    rows = count_points(loaded, Scope("ethnicity_code", "year"))
    assert sum(r.counts["encountered"] for r in rows) == len(loaded.scalars(select(Encounter.id)).all()) == 26
    by_code = {r.group: r.counts["encountered"] for r in rows}
    assert by_code == {"W1": 11, "B1": 7, "B2": 3, "A1": 3, "NS": 2}


def test_month_and_year_periods_and_date_range(loaded: Session) -> None:
    months = _as_dict(count_points(loaded, Scope("gender", "month", dataset.P)))
    assert {k for k in months} == {("2026-02", "male"), ("2026-03", "male"), ("2026-04", "male")}
    assert months[("2026-03", "male")][0] == 1  # only the encounter at 23:30 UK time on 31 March
    year = _as_dict(count_points(loaded, Scope("gender", "year", dataset.P)))
    assert year == {("2026", "male"): (26, 18, 13, 11, 9, 7, 2, 5)}
    q2_only = _as_dict(
        count_points(loaded, Scope("gender", "quarter", dataset.P, date(2026, 4, 1), date(2026, 4, 1)))
    )
    assert q2_only == {("2026-Q2", "male"): (1, 0, 0, 0, 0, 0, 0, 0)}
    march = _as_dict(
        count_points(loaded, Scope("gender", "month", dataset.P, date(2026, 3, 1), date(2026, 3, 31)))
    )
    assert march == {("2026-03", "male"): (1, 1, 1, 1, 1, 1, 0, 0)}


def test_officer_ethnicity_and_area_show_missing_values_as_their_own_group(db_session: Session) -> None:
    dataset.load(db_session)
    got = _as_dict(count_points(db_session, Scope("officer_ethnicity", "year", dataset.P)))
    assert got == {("2026", "Not recorded"): (26, 18, 13, 11, 9, 7, 2, 5)}
    areas = _as_dict(count_points(db_session, Scope("area", "year", dataset.P)))
    assert areas == {("2026", "Not known"): (26, 18, 13, 11, 9, 7, 2, 5)}


def test_age_band_at_the_encounter_is_exact_at_birthdays(db_session: Session) -> None:
    from divert.pathways.programmes import sync_definitions
    from tests.factories import create_organisation

    sync_definitions(db_session)
    org = create_organisation(db_session)
    expected: dict[str, int] = {}
    for dob, when, band in dataset.AGE_CASES:
        dataset.record(
            db_session, org, dataset.Journey("W1", "enc", when=when), dataset.P, "enc", date_of_birth=dob
        )
        expected[band] = expected.get(band, 0) + 1
    got = {
        r.group: r.counts["encountered"]
        for r in count_points(db_session, Scope("age_band", "year", dataset.P))
    }
    assert got == expected


def test_period_keys() -> None:
    assert period_key(2026, 3, "month") == "2026-03"
    assert period_key(2026, 3, "quarter") == "2026-Q1"
    assert period_key(2026, 10, "quarter") == "2026-Q4"
    assert period_key(2026, 12, "year") == "2026"


def test_unknown_dimension_or_programme_is_refused(db_session: Session) -> None:
    with pytest.raises(ValueError, match="Unknown dimension"):
        Scope("postcode")
    with pytest.raises(LookupError):
        count_points(db_session, Scope("gender", programme="no-such-programme"))
