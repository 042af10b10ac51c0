"""Searching the audit trail: by person, user, organisation, action and date, within a scope.

An organisation's administrators see the entries written by their own organisation's users and
the entries about records their organisation holds (its people, their encounters and cases, its
users), whoever wrote them. A system administrator (``manage_organisations``) sees every entry.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import IO

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from divert.app.clock import at_uk_time, uk_moment_text
from divert.auth.policy import holds
from divert.auth.visibility import colleagues
from divert.models import AuditEntry, Encounter, Organisation, Person, Referral, User

PAGE_SIZE = 50
_MIDNIGHT = time(0, 0)
# A CSV of a search is a report someone reads or loads, not a copy of the database.
EXPORT_LIMIT = 100_000
CSV_COLUMNS = ("When", "User", "Email", "Organisation", "Action", "Record", "Record id", "Detail", "From")
# Rows between progress reports of a CSV written in the background.
REPORT_EVERY = 2_000


@dataclass(frozen=True)
class AuditFilters:
    person_id: int | None = None
    user_id: int | None = None
    organisation_id: int | None = None
    action: str | None = None
    from_day: date | None = None
    to_day: date | None = None

    def describe(self) -> str:
        """The filters as the audit entry of an export records them."""
        parts = [f"{name}={value}" for name, value in vars(self).items() if value not in (None, "")]
        return ", ".join(parts) or "no filters"


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    user_name: str | None
    user_email: str | None
    organisation_name: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int


def _ids_as_text(column: ColumnElement[int]) -> ColumnElement[str]:
    # object_id is text (ids of several kinds of record): compare like with like on both databases.
    return cast(column, String)


def _about(object_type: str, ids: Select[tuple[int]]) -> ColumnElement[bool]:
    return and_(
        AuditEntry.object_type == object_type,
        AuditEntry.object_id.in_(ids.with_only_columns(_ids_as_text(ids.selected_columns[0]))),
    )


def _scope(actor: User) -> ColumnElement[bool] | None:
    if holds(actor, "manage_organisations"):
        return None
    org = actor.organisation_id
    held = select(Person.id).where(Person.organisation_id == org)
    return or_(
        AuditEntry.user_id.in_(colleagues(actor)),
        _about("person", held),
        _about("encounter", select(Encounter.id).where(Encounter.person_id.in_(held))),
        _about("referral", select(Referral.id).where(Referral.person_id.in_(held))),
        _about("user", select(User.id).where(User.organisation_id == org)),
    )


def _about_person(person_id: int) -> ColumnElement[bool]:
    return or_(
        and_(AuditEntry.object_type == "person", AuditEntry.object_id == str(person_id)),
        _about("encounter", select(Encounter.id).where(Encounter.person_id == person_id)),
        _about("referral", select(Referral.id).where(Referral.person_id == person_id)),
    )


def _query(actor: User, filters: AuditFilters) -> Select[tuple[AuditEntry, str, str, str]]:
    query = (
        select(AuditEntry, User.name, User.email, Organisation.name)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
    )
    scope = _scope(actor)
    if scope is not None:
        query = query.where(scope)
    if filters.person_id is not None:
        query = query.where(_about_person(filters.person_id))
    if filters.user_id is not None:
        query = query.where(AuditEntry.user_id == filters.user_id)
    if filters.organisation_id is not None:
        query = query.where(User.organisation_id == filters.organisation_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    # Days are UK days: an entry at 00:30 BST on 2 June belongs to 2 June, not 1 June.
    if filters.from_day is not None:
        query = query.where(AuditEntry.at >= at_uk_time(filters.from_day, _MIDNIGHT))
    if filters.to_day is not None:
        query = query.where(AuditEntry.at < at_uk_time(filters.to_day + timedelta(days=1), _MIDNIGHT))
    return query


def search(session: Session, actor: User, filters: AuditFilters, page: int = 1) -> AuditPage:
    query = _query(actor, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage([AuditRow(*row) for row in rows], total, page, pages)


def export_rows(session: Session, actor: User, filters: AuditFilters) -> Iterator[AuditRow]:
    query = _query(actor, filters).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(EXPORT_LIMIT)
    # Streamed in batches: a 100,000-entry export is never all in memory at once.
    for row in session.execute(query.execution_options(yield_per=1_000)):
        yield AuditRow(*row)


def actions(session: Session) -> list[str]:
    """The actions the trail holds, for the search form's list."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def count(session: Session, actor: User, filters: AuditFilters) -> int:
    """How many entries a CSV of the search would hold (the export's size decides where it is made)."""
    query = _query(actor, filters).order_by(None).limit(EXPORT_LIMIT).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def write_csv(
    session: Session,
    actor: User,
    filters: AuditFilters,
    out: IO[str],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the search as CSV to ``out``, streaming rows; returns how many entries it holds.

    One writer for the page's download and the background export, so both files say the same."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in export_rows(session, actor, filters):
        entry = row.entry
        writer.writerow(
            _safe(value)
            for value in (
                uk_moment_text(entry.at),
                row.user_name or "divert (no user)",
                row.user_email or "",
                row.organisation_name or "",
                entry.action,
                entry.object_type,
                entry.object_id or "",
                entry.detail,
                entry.ip_address or "command line",
            )
        )
        written += 1
        if progress is not None and written % REPORT_EVERY == 0:
            progress(written)
    return written


def _safe(value: str) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula; typed text must not.
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value
