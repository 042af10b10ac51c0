"""Attrition by time: attendance and drop-out by day of week, time of day, and reminder sent or not.

The adult pilot lost most people for want of a service outside office hours, and reminders cut
missed appointments; these tables let a force see whether either keeps people engaged. Counted over
the appointments whose attendance was recorded (attended, late or missed) in the report's reach and
encounter dates. An appointment "led to a drop-out" when it was the last one on a case that ended
without completion. Aggregates only; published tables are suppressed like every other figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from divert.app.clock import LONDON
from divert.models import CaseContact, OutboxMessage, Referral
from divert.monitoring.query import Reach, Scope, frame_by_encounter, programme_id, reach_programme_ids
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Margin, suppress

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OFFICE_HOURS = (time(9, 0), time(17, 0))  # Monday to Friday, UK time
COLUMNS = ("appointments", "attended", "missed", "dropped_out")
COLUMN_LABELS = {
    "appointments": "Appointments",
    "attended": "Attended (or late)",
    "missed": "Missed",
    "dropped_out": "Last before a drop-out",
}
ALL = "All appointments"


@dataclass(frozen=True, slots=True)
class AttendanceTable:
    caption: str
    rows: tuple[str, ...]
    values: Mapping[tuple[str, str], int]
    hidden: frozenset[tuple[str, str]]

    def cell(self, row: str, column: str) -> str:
        return "[c]" if (row, column) in self.hidden else str(self.values.get((row, column), 0))

    def rate(self, row: str) -> str:
        """Attended as a share of appointments; not shown where either count is hidden."""
        if {(row, "attended"), (row, "appointments")} & self.hidden:
            return "[c]"
        total = self.values.get((row, "appointments"), 0)
        return f"{100 * self.values.get((row, 'attended'), 0) / total:.0f}%" if total else "-"


def office_hours(moment: datetime) -> bool:
    local = moment.astimezone(LONDON)
    return local.weekday() < 5 and OFFICE_HOURS[0] <= local.time() < OFFICE_HOURS[1]


def attendance_tables(
    session: Session, scope: Scope, *, published: bool, threshold: int = DEFAULT_THRESHOLD
) -> list[AttendanceTable]:
    """The three tables for the report's scope; suppressed when ``published``."""
    reminded = exists().where(
        OutboxMessage.contact_id == CaseContact.id,
        OutboxMessage.kind.in_(("reminder_booked", "reminder_moved", "reminder_before")),
        OutboxMessage.status.in_(("sent", "delivered")),
    )
    stmt = (
        select(
            CaseContact.referral_id,
            CaseContact.scheduled_at,
            CaseContact.attendance,
            reminded.label("reminded"),
            Referral.closed_at,
            Referral.completed_at,
        )
        .join(Referral, Referral.id == CaseContact.referral_id)
        .where(CaseContact.attendance.in_(("attended", "late", "missed")))
    )
    if scope.programme is not None:
        stmt = stmt.where(Referral.programme_id == programme_id(session, scope.programme))
    ids = reach_programme_ids(scope)
    if ids is not None:
        stmt = stmt.where(Referral.programme_id.in_(ids))
    stmt = frame_by_encounter(session, scope, stmt, Referral.encounter_id)
    rows = session.execute(stmt.execution_options(yield_per=5000)).all()
    last: dict[int, datetime] = {}
    for row in rows:
        if row.referral_id not in last or row.scheduled_at > last[row.referral_id]:
            last[row.referral_id] = row.scheduled_at
    by_day, by_hours, by_reminder = (
        Counter[tuple[str, str]](),
        Counter[tuple[str, str]](),
        Counter[tuple[str, str]](),
    )
    for row in rows:
        outcome = "attended" if row.attendance in ("attended", "late") else "missed"
        dropped = (
            row.closed_at is not None
            and row.completed_at is None
            and last[row.referral_id] == row.scheduled_at
        )
        keys = (
            (by_day, DAYS[row.scheduled_at.astimezone(LONDON).weekday()]),
            (by_hours, "In office hours" if office_hours(row.scheduled_at) else "Out of hours"),
            (by_reminder, "Reminder sent" if row.reminded else "No reminder"),
        )
        for counter, key in keys:
            for name in ("appointments", outcome, *(("dropped_out",) if dropped else ())):
                counter[(key, name)] += 1
                counter[(ALL, name)] += 1
    return [
        _table("By day of the week", DAYS, by_day, published, threshold),
        _table(
            "By time of day (office hours: Monday to Friday, 9am to 5pm)",
            ("In office hours", "Out of hours"),
            by_hours,
            published,
            threshold,
        ),
        _table(
            "By whether a reminder was sent",
            ("Reminder sent", "No reminder"),
            by_reminder,
            published,
            threshold,
        ),
    ]


def _table(
    caption: str, rows: Sequence[str], counts: Counter[tuple[str, str]], published: bool, threshold: int
) -> AttendanceTable:
    names = (*rows, ALL)
    values = {(r, c): counts.get((r, c), 0) for r in names for c in COLUMNS}
    hidden: frozenset[tuple[str, str]] = frozenset()
    if published:
        # What a reader could add up: each row's appointments are its attended and missed; each
        # column's "All" is the sum of its rows (drop-outs are a part of appointments, not a sum).
        margins = [Margin((r, "appointments"), ((r, "attended"), (r, "missed"))) for r in names]
        margins += [Margin((ALL, c), tuple((r, c) for r in rows)) for c in COLUMNS]
        hidden = suppress(values, margins, threshold)
    return AttendanceTable(caption, tuple(names), values, hidden)


def for_page(session: Session, filters: Any, reach: Reach, threshold: int) -> list[AttendanceTable]:
    """The tables for the monitoring page's filters (programme, encounter dates, published or not)."""
    scope = Scope(
        filters.dimension, filters.period, filters.programme, filters.date_from, filters.date_to, reach
    )
    return attendance_tables(session, scope, published=filters.published, threshold=threshold)
