"""Counting people through the decision points: one GROUP BY query per report, run in the database.

Unit: an encounter (not a person), because every encounter is a separate decision about diversion;
a person met twice is counted twice. A cohort: the whole journey counts in the period of the
encounter that started it, so a case completed next quarter still counts in this quarter.

Per programme, each encounter's journey is its *effective* decision for that programme (the one no
other decision overrides) and that programme's case, if one was opened. For all programmes together
an encounter is counted once, at the furthest point it reached on any programme: it is eligible if
it was eligible for any programme, offered if any of its cases was offered, and so on. A point is
counted only when its base point was reached too (an offer without eligibility, say after a
correction, is not counted), so every rate is between 0 and 1.

Dates are UTC, the same dates the rules engine uses for ages, so an encounter's age band here is
the age its decision was made with. Ages are compared as YYYYMMDD integers, which is exact at
birthdays (someone born on 29 February is a year older on 1 March), as ``rules.dates.age_on``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from ..models import Decision, Encounter, EthnicityCode, Person, Programme, ProgrammeVersion, Referral
from .points import AGE_BAND_FLOORS, DIMENSIONS, FORMAL_OUTCOME_CODES, NOT_KNOWN, NOT_RECORDED, UNDER_10

JOURNEY_POINTS = ("eligible", "offered", "accepted", "engaged", "completed", "escalated", "formal_outcome")


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: a programme (None for all), a date range of encounters, a breakdown."""

    dimension: str
    period: str = "quarter"
    programme: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"Unknown dimension '{self.dimension}'; choose one of {', '.join(DIMENSIONS)}")
        if self.period not in ("month", "quarter", "year"):
            raise ValueError("Period must be month, quarter or year")


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """How many encounters of one group, in one period, reached each decision point."""

    period: str
    group: str
    counts: Mapping[str, int]


def period_key(year: int, month: int, period: str) -> str:
    if period == "month":
        return f"{year:04d}-{month:02d}"
    if period == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


def programme_id(session: Session, code: str) -> int:
    found = session.scalar(select(Programme.id).where(Programme.code == code))
    if found is None:
        raise LookupError(f"No programme with the code '{code}'")
    return found


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _utc(session: Session, column: Any) -> Any:
    # PostgreSQL extracts parts of a timestamptz in the session's time zone; ask for UTC explicitly.
    # SQLite stores naive UTC already (models/base.py).
    return func.timezone("UTC", column) if session.get_bind().dialect.name == "postgresql" else column


def _part(field: str, column: Any) -> ColumnElement[int]:
    return cast(extract(field, column), Integer)


def _ymd(column: Any) -> ColumnElement[int]:
    return _part("year", column) * 10000 + _part("month", column) * 100 + _part("day", column)


def _age_years(encounter_day: ColumnElement[int], date_of_birth: Any) -> ColumnElement[int]:
    """Whole years from birth to the encounter (NULL without a date of birth), grouped in the database.

    Integer division truncates towards zero, so the difference is shifted by 100 years first to make
    it floor for a date of birth after the encounter too (a recording error: negative, "Not known").
    Grouping by the age rather than a CASE over bands keeps the date arithmetic to once per row.
    """
    return (encounter_day - _ymd(date_of_birth) + 1_000_000) // 10_000 - 100


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return NOT_KNOWN
    return next((band for floor, band in AGE_BAND_FLOORS if age >= floor), UNDER_10)


def label_group(dimension: str, raw: object) -> str:
    """The group's name from the value the query grouped by."""
    if dimension == "age_band":
        return age_band(None if raw is None else int(str(raw)))
    return str(raw)


def frame_by_encounter(session: Session, scope: Scope, stmt: Select[Any], encounter_id: Any) -> Select[Any]:
    """Add the encounter's year, month and group to ``stmt``, joined on ``encounter_id``, in scope."""
    e = aliased(Encounter, name="e")
    p = aliased(Person, name="p")
    when = _utc(session, e.occurred_at)
    stmt = stmt.join(e, e.id == encounter_id).join(p, p.id == e.person_id)
    group: ColumnElement[Any]
    if scope.dimension == "ethnicity_group":
        sd = aliased(EthnicityCode, name="sd")
        stmt = stmt.join(sd, sd.code == p.self_defined_ethnicity)
        group = sd.ethnic_group.expression
    elif scope.dimension == "ethnicity_code":
        group = p.self_defined_ethnicity.expression
    elif scope.dimension == "officer_ethnicity":
        od = aliased(EthnicityCode, name="od")
        stmt = stmt.outerjoin(od, od.code == p.officer_defined_ethnicity)
        group = func.coalesce(od.ethnic_group, NOT_RECORDED)
    elif scope.dimension == "gender":
        group = p.gender.expression
    elif scope.dimension == "age_band":
        group = _age_years(_ymd(when), p.date_of_birth)
    else:
        group = func.coalesce(e.area, NOT_KNOWN)
    if scope.date_from is not None:
        stmt = stmt.where(e.occurred_at >= datetime.combine(scope.date_from, time(), UTC))
    if scope.date_to is not None:
        stmt = stmt.where(e.occurred_at < datetime.combine(scope.date_to + timedelta(days=1), time(), UTC))
    return stmt.add_columns(
        _part("year", when).label("y"), _part("month", when).label("m"), group.label("grp")
    )


def _journeys(session: Session, scope: Scope) -> Any:
    """One row per encounter in scope: 1/0 for each decision point it reached."""
    d = aliased(Decision, name="d")
    later = aliased(Decision, name="later")
    pv = aliased(ProgrammeVersion, name="pv")
    r = aliased(Referral, name="r")
    eligible = d.eligible.is_(True)
    offered = and_(eligible, r.offered_at.is_not(None))
    accepted = and_(offered, r.accepted_at.is_not(None))
    engaged = and_(accepted, r.engaged_at.is_not(None))
    conditions: dict[str, ColumnElement[bool]] = {
        "eligible": eligible,
        "offered": offered,
        "accepted": accepted,
        "engaged": engaged,
        "completed": and_(engaged, r.completed_at.is_not(None)),
        "escalated": and_(accepted, r.escalated_at.is_not(None)),
        "formal_outcome": r.outcome_code.in_(FORMAL_OUTCOME_CODES),
    }
    # The effective decision: the one no later decision overrides. Only the few overriding rows
    # are looked at (IS NOT NULL), so the anti-join hashes thousands of ids, not every decision.
    effective = ~exists().where(later.overrides_id.is_not(None), later.overrides_id == d.id)
    if scope.programme is not None:
        # One effective decision per encounter for one programme: no per-encounter grouping needed.
        chosen = programme_id(session, scope.programme)
        return (
            select(d.encounter_id, *(_flag(conditions[n]).label(n) for n in JOURNEY_POINTS))
            .select_from(d)
            .join(pv, pv.id == d.programme_version_id)
            .outerjoin(r, and_(r.encounter_id == d.encounter_id, r.programme_id == chosen))
            .where(effective, pv.programme_id == chosen)
            .subquery("j")
        )
    stmt = (
        select(d.encounter_id, *(func.max(_flag(conditions[n])).label(n) for n in JOURNEY_POINTS))
        .select_from(d)
        .join(pv, pv.id == d.programme_version_id)
        .outerjoin(r, and_(r.encounter_id == d.encounter_id, r.programme_id == pv.programme_id))
        .where(effective)
        .group_by(d.encounter_id)
    )
    if scope.date_from is not None or scope.date_to is not None:
        # Narrow the decisions before grouping them, so a one-quarter report reads one quarter.
        e = aliased(Encounter, name="e_in")
        stmt = stmt.join(e, e.id == d.encounter_id)
        if scope.date_from is not None:
            stmt = stmt.where(e.occurred_at >= datetime.combine(scope.date_from, time(), UTC))
        if scope.date_to is not None:
            stmt = stmt.where(
                e.occurred_at < datetime.combine(scope.date_to + timedelta(days=1), time(), UTC)
            )
    return stmt.subquery("j")


def tune(session: Session) -> None:
    # PostgreSQL's JIT compiler spends about 0.7 s compiling these one-off aggregate queries, more
    # than it saves (measured at 1,000,000 encounters, bench/bench_monitoring.py). LOCAL: only for
    # the current transaction, which for a report is read-only anyway.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def count_points(session: Session, scope: Scope) -> list[GroupCounts]:
    """Counts at every decision point per period and group: one query, grouped in the database."""
    tune(session)
    j = _journeys(session, scope)
    framed = frame_by_encounter(
        session, scope, select(*(j.c[n] for n in JOURNEY_POINTS)).select_from(j), j.c.encounter_id
    )
    rows = framed.subquery("f")
    stmt = select(
        rows.c.y,
        rows.c.m,
        rows.c.grp,
        func.count().label("encountered"),
        *(func.sum(rows.c[n]).label(n) for n in JOURNEY_POINTS),
    ).group_by(rows.c.y, rows.c.m, rows.c.grp)
    return _fold(session.execute(stmt).all(), scope, ("encountered", *JOURNEY_POINTS))


def _fold(result: Any, scope: Scope, names: tuple[str, ...]) -> list[GroupCounts]:
    """Add monthly rows up to the period asked for (counts of disjoint cohorts add up)."""
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in result:
        key = (period_key(int(row.y), int(row.m), scope.period), label_group(scope.dimension, row.grp))
        for name in names:
            totals[key][name] += int(getattr(row, name) or 0)
    return [GroupCounts(p, g, counts) for (p, g), counts in sorted(totals.items())]
