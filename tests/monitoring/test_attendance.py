"""Attrition by time: appointments by day, office hours and reminders, counted and suppressed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from divert.app.clock import at_uk_time
from divert.models import OutboxMessage, User
from divert.monitoring.attendance import ALL, attendance_tables, office_hours
from divert.monitoring.journeys import sync
from divert.monitoring.query import Scope
from divert.pathways.casework import record_attendance, schedule_contact

from ..pathways.helpers import police_force, referred_case, staff

# A Monday and a Saturday, well in the past, in British Summer Time.
MONDAY = datetime(2026, 6, 1).date()
SATURDAY = datetime(2026, 6, 6).date()


def _appointment(
    session: Session, yot: User, case: Any, when: datetime, attendance: str, reminded: bool
) -> Any:
    contact = schedule_contact(session, yot, case, kind="session", scheduled_at=when)
    outcome = {"attendance": attendance}
    if attendance == "missed":
        outcome |= {"missed_reason": "Did not come", "reason_acceptable": True}
    record_attendance(session, yot, contact, **outcome)
    if reminded:
        session.add(
            OutboxMessage(
                kind="reminder_before",
                channel="sms",
                recipient="07700900123",
                template="reminder_before",
                referral_id=case.id,
                contact_id=contact.id,
                scheduled_for=when - timedelta(hours=2),
                next_attempt_at=when - timedelta(hours=2),
                status="delivered",
                idempotency_key=f"test:{contact.id}",
            )
        )
    return contact


def test_appointments_by_day_hours_and_reminder(db_session: Session) -> None:
    force = police_force(db_session)
    officer, yot = staff(db_session, "officer", force), staff(db_session, "yot_caseworker", force)
    kept, left = (referred_case(db_session, "tvp-youth-drugs", officer) for _ in range(2))
    monday_10 = at_uk_time(MONDAY, time(10))  # office hours
    monday_18 = at_uk_time(MONDAY, time(18))  # out of hours
    saturday_11 = at_uk_time(SATURDAY, time(11))  # out of hours: a weekend
    _appointment(db_session, yot, kept, monday_10, "attended", reminded=True)
    _appointment(db_session, yot, kept, saturday_11, "late", reminded=True)
    _appointment(db_session, yot, left, monday_18, "attended", reminded=False)
    _appointment(db_session, yot, left, saturday_11 + timedelta(days=7), "missed", reminded=False)
    sync(db_session)
    by_day, by_hours, by_reminder = attendance_tables(db_session, Scope("ethnicity_group"), published=False)

    assert by_day.values[("Monday", "appointments")] == 2 and by_day.values[("Saturday", "appointments")] == 2
    assert by_day.values[("Saturday", "missed")] == 1 and by_day.values[("Sunday", "appointments")] == 0
    assert [
        (by_hours.values[(r, "appointments")], by_hours.values[(r, "attended")]) for r in by_hours.rows
    ] == [
        (1, 1),
        (3, 2),
        (4, 3),
    ]
    assert by_reminder.values[("Reminder sent", "attended")] == 2
    assert by_reminder.values[("No reminder", "missed")] == 1
    assert by_reminder.values[(ALL, "appointments")] == 4
    assert by_reminder.rate("Reminder sent") == "100%" and by_reminder.rate("No reminder") == "50%"


def test_published_tables_hide_small_counts_and_what_reveals_them(db_session: Session) -> None:
    force = police_force(db_session)
    officer, yot = staff(db_session, "officer", force), staff(db_session, "yot_caseworker", force)
    case = referred_case(db_session, "tvp-youth-drugs", officer)
    for week in range(6):
        _appointment(
            db_session, yot, case, at_uk_time(MONDAY - timedelta(weeks=week), time(10)), "attended", True
        )
    _appointment(db_session, yot, case, at_uk_time(MONDAY, time(19)), "missed", False)
    sync(db_session)
    _, by_hours, by_reminder = attendance_tables(
        db_session, Scope("ethnicity_group"), published=True, threshold=5
    )
    # One missed appointment out of hours: hidden, and so is what would give it away.
    assert by_hours.cell("Out of hours", "missed") == "[c]"
    assert by_hours.cell("Out of hours", "appointments") == "[c]"
    assert by_hours.rate("Out of hours") == "[c]"
    for table in (by_hours, by_reminder):
        shown = {k for k in table.values if k not in table.hidden}
        assert all(not (0 < table.values[k] < 5) for k in shown)


def test_office_hours_are_uk_weekdays_nine_to_five() -> None:
    assert office_hours(at_uk_time(MONDAY, time(9)))
    assert not office_hours(at_uk_time(MONDAY, time(17)))
    assert not office_hours(at_uk_time(SATURDAY, time(12)))
    # 08:30 UTC in summer is 09:30 in the UK.
    assert office_hours(datetime(2026, 6, 1, 8, 30, tzinfo=UTC))


def test_the_monitoring_page_shows_them_suppressed_to_an_analyst(client: Any, db_session: Session) -> None:
    from ..client import parse
    from ..factories import PASSWORD, create_user

    force = police_force(db_session)
    officer, yot = staff(db_session, "officer", force), staff(db_session, "yot_caseworker", force)
    case = referred_case(db_session, "tvp-youth-drugs", officer)
    _appointment(db_session, yot, case, at_uk_time(MONDAY, time(19)), "missed", False)
    sync(db_session)
    analyst = create_user(db_session, "analyst", force)
    assert client.sign_in(analyst.email, PASSWORD).status_code == 302
    page = parse(client.get("/monitoring"))
    hours = page.select_one("[data-testid=attendance-2]")
    assert hours is not None and "Out of hours" in hours.text
    cells = [td.text for td in hours.select("tbody tr")[1].select("td")]
    assert cells[0] == "[c]" and cells[2] == "[c]"  # one missed appointment: hidden
