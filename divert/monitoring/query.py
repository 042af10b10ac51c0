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

Dates are UK dates (``clock.uk_date``), the same dates the rules engine uses for ages, so an
encounter's age band here is the age its decision was made with, and an encounter at 00:30 on
1 April (23:30 UTC on 31 March in summer time) counts in April's quarter. Ages are compared as
YYYYMMDD integers, which is exact at birthdays (someone born on 29 February is a year older on
1 March), as ``rules.dates.age_on``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from divert.models import (
    EncounterJourney,
    EthnicityCode,
    Organisation,
    Programme,
    ProgrammeJourney,
    ProgrammeOperator,
    Referral,
    ReferralParty,
)
from divert.monitoring import journeys
from divert.monitoring.points import AGE_BAND_FLOORS, DIMENSIONS, NOT_KNOWN, NOT_RECORDED, UNDER_10

JOURNEY_POINTS = journeys.POINTS


@dataclass(frozen=True, slots=True)
class Reach:
    """Whose figures a report holds: one organisation's programmes and, within them, its encounters.

    A police organisation counts the encounters it recorded under the programmes it runs; a
    receiving organisation (a YOT, a YJU, a provider) the encounters referred to it under the
    programmes whose referrals it receives. Nobody's figures include another force's encounters.
    """

    organisation_id: int
    organisation: str
    police: tuple[tuple[int, str, str], ...] = ()  # (programme id, code, name) it runs
    receiving: tuple[tuple[int, str, str], ...] = ()  # ... whose referrals it receives
    # ... it oversees (a PCC commissioning a scheme, a scrutiny panel): every force's encounters
    # under them, because that is what it was given (``programmes assign --role oversight``).
    oversight: tuple[tuple[int, str, str], ...] = ()

    @property
    def programmes(self) -> list[tuple[str, str]]:
        """(code, name) of every programme in reach, by name."""
        every = {(c, n) for _, c, n in (*self.police, *self.receiving, *self.oversight)}
        return sorted(every, key=lambda p: p[1])

    def describe(self) -> str:
        parts = []
        if self.police:
            names = "; ".join(sorted(n for _, _, n in self.police))
            parts.append(f"encounters it recorded under the programmes it runs ({names})")
        if self.receiving:
            names = "; ".join(sorted(n for _, _, n in self.receiving))
            parts.append(f"encounters referred to it under the programmes it receives ({names})")
        if self.oversight:
            names = "; ".join(sorted(n for _, _, n in self.oversight))
            parts.append(f"every organisation's encounters under the programmes it oversees ({names})")
        if not parts:
            return f"{self.organisation}: it runs, receives and oversees no programme, so it has no figures"
        return f"{self.organisation}: " + " and ".join(parts)


def reach_of(session: Session, organisation: Organisation) -> Reach:
    """What ``organisation`` may see figures of: the programmes it operates, by its role in each."""
    rows = session.execute(
        select(Programme.id, Programme.code, Programme.name, ProgrammeOperator.role)
        .join(ProgrammeOperator, ProgrammeOperator.programme_id == Programme.id)
        .where(ProgrammeOperator.organisation_id == organisation.id)
        .order_by(Programme.name)
    ).all()
    police = tuple((i, c, n) for i, c, n, role in rows if role == "police")
    receiving = tuple((i, c, n) for i, c, n, role in rows if role == "receiving")
    oversight = tuple((i, c, n) for i, c, n, role in rows if role == "oversight")
    return Reach(organisation.id, organisation.name, police, receiving, oversight)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: a programme (None for all), a date range of encounters, a breakdown,
    and whose figures (``reach``; None for every organisation's, as a national export)."""

    dimension: str
    period: str = "quarter"
    programme: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    reach: Reach | None = None

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


def month_period(ym: int, period: str) -> str:
    """The period a YYYYMM month falls in."""
    return period_key(*divmod(ym, 100), period)


def period_key(year: int, month: int, period: str) -> str:
    if period == "month":
        return f"{year:04d}-{month:02d}"
    if period == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


def programme_id(session: Session, code: str) -> int:
    # Kept for the transaction (monitoring/cache.py clears it): a release asks once per table.
    known: dict[str, int] = session.info.setdefault(PROGRAMME_IDS, {})
    if code in known:
        return known[code]
    found = session.scalar(select(Programme.id).where(Programme.code == code))
    if found is None:
        raise LookupError(f"No programme with the code '{code}'")
    known[code] = found
    return found


PROGRAMME_IDS = "monitoring_programme_ids"


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return NOT_KNOWN
    return next((band for floor, band in AGE_BAND_FLOORS if age >= floor), UNDER_10)


def label_group(dimension: str, raw: object) -> str:
    """The group's name from the value the query grouped by."""
    if dimension == "age_band":
        return age_band(None if raw is None else int(str(raw)))
    return str(raw)


def grouped_by(scope: Scope, stmt: Select[Any], j: Any) -> tuple[Select[Any], Any]:
    """Join what the breakdown needs to ``stmt`` (which reads the journey rows ``j``) and return the
    expression to group by. Everything is on the journey rows (journeys.person_columns), kept current
    when a person changes, so no breakdown reads people; the grouped ethnicities join only the
    19-row code table, so an administrator's regrouping of a code counts at once."""
    if scope.dimension == "ethnicity_group":
        sd = aliased(EthnicityCode, name="sd")
        return stmt.join(sd, sd.code == j.c.self_defined_ethnicity), sd.ethnic_group
    if scope.dimension == "ethnicity_code":
        return stmt, j.c.self_defined_ethnicity
    if scope.dimension == "officer_ethnicity":
        od = aliased(EthnicityCode, name="od")
        stmt = stmt.outerjoin(od, od.code == j.c.officer_defined_ethnicity)
        return stmt, func.coalesce(od.ethnic_group, NOT_RECORDED)
    if scope.dimension == "gender":
        return stmt, j.c.gender
    if scope.dimension == "age_band":
        # Whole years at the encounter (the age floor for anonymised people), banded in Python.
        return stmt, j.c.age
    return stmt, func.coalesce(j.c.area, NOT_KNOWN)


def _in_scope(scope: Scope, stmt: Select[Any], j: Any) -> tuple[Select[Any], Any, Any]:
    """Keep the report's date range in ``stmt`` (which reads the journey rows ``j``), and return it
    with the YYYYMM month and the group to count by."""
    stmt, group = grouped_by(scope, stmt, j)
    if scope.date_from is not None:
        stmt = stmt.where(j.c.encounter_day >= _day_number(scope.date_from))
    if scope.date_to is not None:
        stmt = stmt.where(j.c.encounter_day <= _day_number(scope.date_to))
    return stmt, j.c.encounter_day // 100, group


def frame_by_encounter(session: Session, scope: Scope, stmt: Select[Any], encounter_id: Any) -> Select[Any]:
    """Add the encounter's month (``ym``, YYYYMM) and group to ``stmt``, joined on ``encounter_id``.

    Through the encounter's kept journey row rather than ``encounters``: it has the day, area and
    person in a few bytes, where an encounter row carries its notes and location too, so the join
    reads a tenth as much. Every encounter with a decision (so every case) has a journey row.
    """
    j = EncounterJourney.__table__
    joined = stmt.join(j, j.c.encounter_id == encounter_id).where(*reach_condition(scope, j))
    stmt, month, group = _in_scope(scope, joined, j)
    return stmt.add_columns(month.label("ym"), group.label("grp"))


def _journey_table(session: Session, scope: Scope) -> tuple[Any, list[ColumnElement[bool]]]:
    """The kept journey rows (models/journey.py) for the report: one programme's, or all together."""
    if scope.programme is None:
        table = EncounterJourney.__table__
        return table, reach_condition(scope, table)
    table = ProgrammeJourney.__table__
    return table, [
        table.c.programme_id == programme_id(session, scope.programme),
        *reach_condition(scope, table),
    ]


def reach_programme_ids(scope: Scope) -> list[int] | None:
    """The programmes a report may count cases of (None: every programme)."""
    if scope.reach is None:
        return None
    return [i for i, _, _ in (*scope.reach.police, *scope.reach.receiving, *scope.reach.oversight)]


def reach_condition(scope: Scope, j: Any) -> list[ColumnElement[bool]]:
    """Keep the journey rows ``j`` (any table with encounter_id and organisation_id) in reach."""
    reach = scope.reach
    if reach is None:
        return []

    def ids(programmes: tuple[tuple[int, str, str], ...]) -> list[int]:
        return [i for i, code, _ in programmes if scope.programme in (None, code)]

    police, receiving, oversight = ids(reach.police), ids(reach.receiving), ids(reach.oversight)
    either: list[ColumnElement[bool]] = []
    if oversight:
        overseen = ProgrammeJourney.__table__.alias("overseen")
        either.append(
            j.c.encounter_id.in_(
                select(overseen.c.encounter_id).where(overseen.c.programme_id.in_(oversight))
            )
        )
    if police:
        own = j.c.organisation_id == reach.organisation_id
        if scope.programme is None:
            # All programmes together: its own encounters decided under a programme it runs (an
            # import can record encounters under others).
            pj = ProgrammeJourney.__table__.alias("in_reach")
            own = own & j.c.encounter_id.in_(select(pj.c.encounter_id).where(pj.c.programme_id.in_(police)))
        either.append(own)
    if receiving:
        either.append(
            j.c.encounter_id.in_(
                select(Referral.encounter_id)
                .join(ReferralParty, ReferralParty.referral_id == Referral.id)
                .where(
                    ReferralParty.organisation_id == reach.organisation_id,
                    ReferralParty.role == "receiving",
                    Referral.programme_id.in_(receiving),
                )
            )
        )
    return [or_(*either)] if either else [false()]


def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def tune(session: Session) -> None:
    """Ready the session for a report query."""
    # Changes made earlier in this transaction count too (the journey rows are written at commit).
    journeys.sync(session)
    # PostgreSQL's JIT compiler spends longer compiling these one-off aggregate queries than it
    # saves (docs/benchmarks.md, bench/bench_monitoring.py). The default working memory makes the
    # reasons query sort on disk at national scale; 64 MB keeps its hashes and sorts in memory, for
    # one report at a time. LOCAL: only for the current transaction,
    # which for a report is read-only anyway.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def count_points(session: Session, scope: Scope) -> list[GroupCounts]:
    """Counts at every decision point per period and group: one query, grouped in the database.

    It reads the kept journey rows alone, one narrow row per encounter carrying what it groups by
    (joined only to the 19-row ethnicity codes for grouped ethnicity): one programme's report reads
    that programme's rows from the covering index and never the people table.
    """
    tune(session)
    j, where = _journey_table(session, scope)
    stmt, month, group = _in_scope(scope, select().select_from(j).where(*where), j)
    # Grouped by the YYYYMM month; _fold adds months up to quarters or years.
    stmt = stmt.add_columns(
        month.label("ym"),
        group.label("grp"),
        func.count().label("encountered"),
        *(func.sum(j.c[n]).label(n) for n in JOURNEY_POINTS),
    ).group_by(month, group)
    return _fold(session.execute(stmt).all(), scope, ("encountered", *JOURNEY_POINTS))


def _fold(result: Any, scope: Scope, names: tuple[str, ...]) -> list[GroupCounts]:
    """Add monthly rows up to the period asked for (counts of disjoint cohorts add up)."""
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in result:
        key = (month_period(int(row.ym), scope.period), label_group(scope.dimension, row.grp))
        for name in names:
            totals[key][name] += int(getattr(row, name) or 0)
    return [GroupCounts(p, g, counts) for (p, g), counts in sorted(totals.items())]
