"""A moment becomes a day in one place (clock.uk_date): the rules' ages and dates, and monitoring's
cohorts, are UK dates across both clock changes and at midnight, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date, uk_day_number
from divert.models import Decision, Programme, ProgrammeVersion
from divert.monitoring.query import Scope, count_points
from divert.pathways.cases import record_encounter
from divert.pathways.importing import import_file
from divert.pathways.programmes import assign_operator, sync_definitions

from ..factories import create_encounter, create_person, create_user
from ..importing.helpers import row, to_csv

# (UTC moment, the day in England and Wales)
MOMENTS = [
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),  # GMT, a minute before the change
    (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), date(2026, 3, 28)),
    (datetime(2026, 3, 31, 22, 59, tzinfo=UTC), date(2026, 3, 31)),  # BST 23:59
    (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 4, 1)),  # BST 00:30 on 1 April
    (datetime(2026, 10, 24, 22, 59, tzinfo=UTC), date(2026, 10, 24)),  # BST 23:59
    (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), date(2026, 10, 25)),  # BST midnight, night of the change
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), date(2026, 10, 25)),  # GMT after the change
    (datetime(2026, 10, 25, 23, 59, tzinfo=UTC), date(2026, 10, 25)),  # GMT: UTC and UK agree again
    (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), date(2026, 12, 31)),
    (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
]


@pytest.mark.parametrize(("moment", "day"), MOMENTS)
def test_the_uk_date_of_a_moment(moment: datetime, day: date) -> None:
    assert uk_date(moment) == day
    # SQLite's stored text (naive UTC), as the database function sees it.
    stored = moment.replace(tzinfo=None).isoformat(sep=" ")
    assert uk_day_number(stored) == day.year * 10000 + day.month * 100 + day.day


def test_a_naive_moment_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="time zone"):
        uk_date(datetime(2026, 4, 1, 0, 30))


@pytest.fixture
def force(db_session: Session, org: Any) -> Any:
    sync_definitions(db_session)
    for code in ("tvp-youth-drugs", "tvp-adult-drugs"):
        programme = db_session.scalars(select(Programme).where(Programme.code == code)).one()
        assign_operator(db_session, programme, org.id, "police")
    return org


def _quarters(session: Session, programme: str | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in count_points(session, Scope("gender", "quarter", programme)):
        counts[r.period] = counts.get(r.period, 0) + r.counts["encountered"]
    return counts


def test_an_encounter_at_half_past_midnight_on_1_april_counts_in_aprils_quarter(
    db_session: Session, force: Any
) -> None:
    officer = create_user(db_session, "officer", force)
    for when in (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), datetime(2026, 3, 31, 22, 30, tzinfo=UTC)):
        person = create_person(db_session, force, date_of_birth=date(2010, 6, 1))
        record_encounter(db_session, officer, create_encounter(db_session, person, force, occurred_at=when))
    # 00:30 on 1 April (BST) is in April to June; 23:30 on 31 March is in January to March.
    assert _quarters(db_session, "tvp-youth-drugs") == {"2026-Q1": 1, "2026-Q2": 1}
    assert _quarters(db_session) == {"2026-Q1": 1, "2026-Q2": 1}
    # The rules chose the version in force on the UK date: version 2 took effect on 1 April 2026.
    versions = db_session.execute(
        select(ProgrammeVersion.version)
        .join(Decision, Decision.programme_version_id == ProgrammeVersion.id)
        .join(Programme, Programme.id == ProgrammeVersion.programme_id)
        .where(Programme.code == "tvp-youth-drugs")
        .order_by(Decision.encounter_id)
    ).scalars()
    assert list(versions) == [2, 1]


def _decided(session: Session) -> dict[str, bool]:
    rows = session.execute(
        select(Programme.code, Decision.eligible)
        .join(ProgrammeVersion, ProgrammeVersion.id == Decision.programme_version_id)
        .join(Programme, Programme.id == ProgrammeVersion.programme_id)
    ).all()
    return {code: eligible for code, eligible in rows}


def test_an_18th_birthday_at_twenty_past_midnight_in_summer_time_is_decided_as_18(
    db_session: Session, force: Any
) -> None:
    officer = create_user(db_session, "officer", force)
    person = create_person(db_session, force, date_of_birth=date(2008, 6, 15))
    # 00:20 BST on 15 June 2026 is 23:20 UTC on 14 June: the person is 18 in England and Wales.
    encounter = create_encounter(
        db_session, person, force, occurred_at=datetime(2026, 6, 14, 23, 20, tzinfo=UTC)
    )
    record_encounter(db_session, officer, encounter)
    assert _decided(db_session) == {"tvp-youth-drugs": False, "tvp-adult-drugs": True}
    [band] = [r.group for r in count_points(db_session, Scope("age_band", "year", "tvp-adult-drugs"))]
    assert band == "18–20"


def test_an_imported_18th_birthday_in_uk_time_is_decided_as_18(db_session: Session, force: Any) -> None:
    admin = create_user(db_session, "admin", force)
    # Written as UK time (no offset), and as the same moment in UTC.
    for ref, when in (("B-1", "2026-06-15T00:20"), ("B-2", "2026-06-14T23:20Z")):
        rows = [
            row(encounter_ref=ref, occurred_at=when, programme="tvp-adult-drugs", date_of_birth="2008-06-15")
        ]
        import_file(
            db_session,
            to_csv(rows),
            f"{ref}.csv",
            organisation_id=force.id,
            actor=admin,
            today=date(2026, 7, 1),
        )
    assert db_session.scalars(select(Decision.eligible)).all() == [True, True]
