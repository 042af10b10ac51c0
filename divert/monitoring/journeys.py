"""Keeping the monitoring journey rows (models/journey.py) in step with decisions, cases and people.

The hooks below rewrite an encounter's rows, once per transaction, whenever its encounter,
decisions or cases change, and the person columns of a person's rows whenever that person's
monitoring fields change; ``rebuild_all`` rewrites them all. ``register`` attaches the hooks to the
app's session factory.

What a row copies from its person is worked out in one place, ``person_columns``, which every path
that writes rows uses: the per-encounter refresh, the bulk import (through ``refresh``), the rebuild
and the person update (``refresh_people``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Executable,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    exists,
    extract,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction, aliased, sessionmaker

from divert.app.clock import uk_date
from divert.models import (
    Decision,
    Encounter,
    EncounterJourney,
    Person,
    ProgrammeJourney,
    ProgrammeVersion,
    Referral,
)
from divert.monitoring.points import FORMAL_OUTCOME_CODES, POINT_NAMES

# Every decision point after the base one (monitoring/points.py), in the same order.
POINTS: tuple[str, ...] = POINT_NAMES[1:]
_CHUNK = 2000  # encounter ids per statement: well under SQLite's bound-parameter limit


def ymd(column: Any) -> ColumnElement[int]:
    """A date (or a timestamp's date as stored) as a YYYYMMDD integer, worked out in the database."""

    def part(field: str) -> ColumnElement[int]:
        return cast(extract(field, column), Integer)

    return part("year") * 10000 + part("month") * 100 + part("day")


def uk_day(dialect: str, column: Any) -> ColumnElement[int]:
    """A UTC timestamp's UK date (``clock.uk_date``) as a YYYYMMDD integer, worked out in the database.

    PostgreSQL converts with the zone database; SQLite has none, so it calls the Python function
    divert/app/db.py registers on every connection.
    """
    if dialect == "postgresql":
        return ymd(func.timezone("Europe/London", column))
    return cast(func.uk_day(column), Integer)


def age_years(encounter_day: ColumnElement[int], date_of_birth: Any) -> ColumnElement[int]:
    """Whole years from birth to the encounter (NULL without a date of birth), in the database.

    Ages are compared as YYYYMMDD integers, which is exact at birthdays (someone born on 29
    February is a year older on 1 March), as ``rules.dates.age_on``. Integer division truncates
    towards zero, so the difference is shifted by 100 years first to make it floor for a date of
    birth after the encounter too (a recording error: negative, "Not known").
    """
    return (encounter_day - ymd(date_of_birth) + 1_000_000) // 10_000 - 100


# The person columns of a journey row, in the order person_columns gives them.
PERSON_COLUMNS = ("self_defined_ethnicity", "officer_defined_ethnicity", "gender", "age")
# The person's fields they are worked out from: a change to any of these rewrites the person's rows.
PERSON_FIELDS = ("self_defined_ethnicity", "officer_defined_ethnicity", "gender", "date_of_birth")


def person_columns(person: Any, encounter_day: Any, age_floor: Any) -> dict[str, ColumnElement[Any]]:
    """What a journey row copies from its person: the one derivation every writer uses.

    ``person`` is the people table (or an alias), ``encounter_day`` the row's YYYYMMDD day and
    ``age_floor`` the encounter's age floor (set once the person is anonymised and their date of
    birth is gone, so it wins over the date of birth).
    """
    return {
        "self_defined_ethnicity": person.self_defined_ethnicity,
        "officer_defined_ethnicity": person.officer_defined_ethnicity,
        "gender": person.gender,
        "age": func.coalesce(age_floor, age_years(encounter_day, person.date_of_birth)),
    }


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _programme_rows(dialect: str, encounter_ids: BindParameter[Any] | None) -> Select[Any]:
    """Each encounter's journey per programme, worked out from its decisions and cases."""
    d = aliased(Decision, name="d")
    later = aliased(Decision, name="later")
    pv = aliased(ProgrammeVersion, name="pv")
    r = aliased(Referral, name="r")
    e = aliased(Encounter, name="e")
    p = aliased(Person, name="p")
    # A point counts only when its base point was reached too (an offer without eligibility, say
    # after a correction, is not counted), so every rate stays between 0 and 1.
    eligible = d.eligible.is_(True)
    offered = and_(eligible, r.offered_at.is_not(None))
    accepted = and_(offered, r.accepted_at.is_not(None))
    engaged = and_(accepted, r.engaged_at.is_not(None))
    decision_route = and_(accepted, r.decision_route_at.is_not(None))
    conditions: dict[str, ColumnElement[bool]] = {
        "eligible": eligible,
        "offered": offered,
        "accepted": accepted,
        "engaged": engaged,
        "completed": and_(engaged, r.completed_at.is_not(None)),
        "escalated": and_(accepted, r.escalated_at.is_not(None)),
        # Every ending the definition counts as a formal outcome (a milestone on the case), and
        # outcome codes 1-3 for cases written before the milestone existed (the bench's, say).
        "formal_outcome": or_(r.formal_outcome_at.is_not(None), r.outcome_code.in_(FORMAL_OUTCOME_CODES)),
        "decision_route": decision_route,
        "diverted_again": and_(decision_route, r.diverted_again_at.is_not(None)),
        "decision_formal": and_(
            decision_route, r.diverted_again_at.is_(None), r.formal_outcome_at.is_not(None)
        ),
    }
    # The effective decision is the one no later decision overrides; only the few overriding rows
    # are looked at (IS NOT NULL), so the anti-join hashes thousands of ids, not every decision.
    effective = ~exists().where(later.overrides_id.is_not(None), later.overrides_id == d.id)
    grouped = (
        d.encounter_id, pv.programme_id, e.person_id, e.occurred_at, e.area, e.organisation_id, e.age_floor,
        *(getattr(p, name) for name in PERSON_FIELDS),
    )  # fmt: skip
    day = uk_day(dialect, e.occurred_at)
    stmt = (
        select(
            d.encounter_id,
            pv.programme_id,
            e.person_id,
            day,
            e.area,
            e.organisation_id,
            e.age_floor,
            # MAX: one row even if an encounter was ever decided twice for a programme.
            *(func.max(_flag(conditions[name])) for name in POINTS),
            *person_columns(p, day, e.age_floor).values(),
        )
        .select_from(d)
        .join(pv, pv.id == d.programme_version_id)
        .join(e, e.id == d.encounter_id)
        .join(p, p.id == e.person_id)
        .outerjoin(r, and_(r.encounter_id == d.encounter_id, r.programme_id == pv.programme_id))
        # Only the encounters the programme is for (its population) are in its funnel, however
        # they were entered: the form decides under every programme the force runs.
        .where(effective, d.in_population.is_(True))
        .group_by(*grouped)
    )
    return stmt if encounter_ids is None else stmt.where(d.encounter_id.in_(encounter_ids))


def _encounter_rows(encounter_ids: BindParameter[Any] | None) -> Select[Any]:
    """All programmes together: an encounter reached a point if it reached it on any programme."""
    j = ProgrammeJourney
    grouped = (
        j.encounter_id, j.person_id, j.encounter_day, j.area, j.organisation_id, j.age_floor,
        *(getattr(j, name) for name in PERSON_COLUMNS),
    )  # fmt: skip
    points = (func.max(getattr(j, name)) for name in POINTS)
    stmt = select(*grouped[:6], *points, *grouped[6:]).group_by(*grouped)
    return stmt if encounter_ids is None else stmt.where(j.encounter_id.in_(encounter_ids))


_PROGRAMME_COLUMNS = (
    "encounter_id",
    "programme_id",
    "person_id",
    "encounter_day",
    "area",
    "organisation_id",
    "age_floor",
    *POINTS,
    *PERSON_COLUMNS,
)
_ENCOUNTER_COLUMNS = (
    "encounter_id", "person_id", "encounter_day", "area", "organisation_id", "age_floor", *POINTS,
    *PERSON_COLUMNS,
)  # fmt: skip


_IDS: BindParameter[list[int]] = bindparam("encounter_ids", expanding=True)
# Encounters whose rows are out of date: noted at each flush, written once per transaction.
PENDING = "monitoring_journeys_pending"
PENDING_NEW = "monitoring_journeys_pending_new"  # of those, encounters created in this transaction
PENDING_PEOPLE = "monitoring_journeys_pending_people"  # people whose monitoring fields changed


@functools.cache
def _refresh_statements(dialect: str) -> tuple[tuple[Executable, ...], tuple[Executable, ...]]:
    """The statements that clear some encounters' rows, and those that write them, built once:
    building them costs more Python time than running them for one encounter."""
    clear: list[Executable] = []
    if dialect == "postgresql":
        # Two requests moving two cases of one encounter at once would each see only its own
        # case; locking the encounter makes the second wait, then read the first's (READ
        # COMMITTED takes a fresh snapshot per statement). SQLite writers are serialised already.
        # The people too, shared: a correction to one of them in another transaction then
        # commits first (its journey update cannot see rows we have not committed), and the rows
        # written here read the corrected values.
        clear.append(
            select(Encounter.id)
            .join(Person, Person.id == Encounter.person_id)
            .where(Encounter.id.in_(_IDS))
            .order_by(Encounter.id)
            .with_for_update(of=Encounter.__table__)
            .suffix_with("FOR SHARE OF people")
        )
    clear += [
        delete(EncounterJourney).where(EncounterJourney.encounter_id.in_(_IDS)),
        delete(ProgrammeJourney).where(ProgrammeJourney.encounter_id.in_(_IDS)),
    ]
    return tuple(clear), _fill_statements(dialect, filtered=True)


def _fill_statements(dialect: str, *, filtered: bool) -> tuple[Executable, Executable]:
    ids = _IDS if filtered else None
    return (
        insert(ProgrammeJourney).from_select(_PROGRAMME_COLUMNS, _programme_rows(dialect, ids)),
        insert(EncounterJourney).from_select(_ENCOUNTER_COLUMNS, _encounter_rows(ids)),
    )


def refresh(connection: Connection, encounter_ids: Iterable[int], *, new: bool = False) -> None:
    """Rewrite these encounters' journey rows from their decisions and cases.

    ``new``: encounters created in this transaction, so they have no rows yet and nobody else can
    see them: their rows are only inserted, with no lock and nothing to delete.
    """
    ordered = sorted(set(encounter_ids))
    clear, fill = _refresh_statements(connection.dialect.name)
    statements = fill if new else (*clear, *fill)
    for start in range(0, len(ordered), _CHUNK):
        chunk = {"encounter_ids": ordered[start : start + _CHUNK]}
        for statement in statements:
            connection.execute(statement, chunk)


_PEOPLE: BindParameter[list[int]] = bindparam("person_ids", expanding=True)


@functools.cache
def _people_statements() -> tuple[Executable, ...]:
    """Rewrite the person columns of some people's journey rows from the people table."""
    statements = []
    person = Person.__table__
    for table in (ProgrammeJourney.__table__, EncounterJourney.__table__):
        assert isinstance(table, Table)
        values = person_columns(person.c, table.c.encounter_day, table.c.age_floor)
        statements.append(
            update(table)
            .where(table.c.person_id == person.c.id, table.c.person_id.in_(_PEOPLE))
            .values(**values)
        )
    return tuple(statements)


def refresh_people(connection: Connection, person_ids: Iterable[int]) -> None:
    """Rewrite what these people's journey rows copy from them (after a correction, a merge filling
    a field, anonymisation). Two UPDATEs per chunk of people, however many encounters they have."""
    ordered = sorted(set(person_ids))
    for start in range(0, len(ordered), _CHUNK):
        chunk = {"person_ids": ordered[start : start + _CHUNK]}
        for statement in _people_statements():
            connection.execute(statement, chunk)


def rebuild_all(connection: Connection) -> None:
    """Rewrite every journey row (after loading data in bulk, or to check the maintained rows)."""
    connection.execute(delete(EncounterJourney))
    connection.execute(delete(ProgrammeJourney))
    for statement in _fill_statements(connection.dialect.name, filtered=False):
        connection.execute(statement)


def sync(session: Session) -> None:
    """Write the rows of every encounter changed in this transaction so far.

    Runs before each commit; a report reading in the same transaction as changes calls it first.
    """
    session.flush()
    pending: set[int] = session.info.pop(PENDING, set())
    created: set[int] = session.info.pop(PENDING_NEW, set())
    if pending - created:
        refresh(session.connection(), pending - created)
    if created:
        refresh(session.connection(), created, new=True)
    people: set[int] = session.info.pop(PENDING_PEOPLE, set())
    if people:
        refresh_people(session.connection(), people)


def _note_changes(session: Session, flush_context: UOWTransaction) -> None:
    # Only noted here: a request flushes three or four times, and each refresh is five statements.
    # Deleted encounters lose their rows by ON DELETE CASCADE.
    touched: set[int] = session.info.setdefault(PENDING, set())
    created: set[int] = session.info.setdefault(PENDING_NEW, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Decision | Referral):
            touched.add(obj.encounter_id)
        elif isinstance(obj, Encounter) and obj not in session.deleted:
            touched.add(obj.id)
            if obj in session.new:
                created.add(obj.id)
        elif isinstance(obj, Person) and obj in session.dirty and _monitoring_fields_changed(obj):
            # A new person has no rows yet (their encounters' rows read them when written).
            session.info.setdefault(PENDING_PEOPLE, set()).add(obj.id)


def _monitoring_fields_changed(person: Person) -> bool:
    # after_flush still sees the flush's attribute history (SQLAlchemy resets it afterwards).
    state = inspect(person)
    return any(state.attrs[name].history.has_changes() for name in PERSON_FIELDS)


def _write_before_commit(session: Session) -> None:
    # In the same transaction as the changes, so the rows can never disagree with what committed.
    # (Ids noted before a rollback are harmless: rewriting an unchanged encounter changes nothing.)
    sync(session)


def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # The whole transaction is gone, so are its changes; an id it used may be handed out again
    # (SQLite reuses a rolled-back rowid), and must not then be taken for one with no rows yet.
    # A savepoint's rollback leaves the outer transaction's changes pending.
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(PENDING_NEW, None)
        session.info.pop(PENDING_PEOPLE, None)


_HOOKS = (
    ("after_flush", _note_changes),
    ("before_commit", _write_before_commit),
    ("after_soft_rollback", _forget_on_rollback),
)


def register(factory: sessionmaker[Session]) -> None:
    """Keep the journey rows of the sessions this factory makes in step. Safe to call again."""
    for name, listener in _HOOKS:
        if not event.contains(factory, name, listener):
            event.listen(factory, name, listener)


# ---- Rows for encounters written in bulk -----------------------------------------------------------
# The bulk import writes its encounters, decisions and cases with COPY, so their journey rows are
# worked out in Python from the same row dicts, in the same pass, instead of an INSERT ... SELECT
# over what was just written (the grouping above, which was a fifth of an import's time). They must
# equal what ``_programme_rows`` and ``_encounter_rows`` give; tests/monitoring/test_journeys.py
# holds the two equal. A column added to the journey rows is added here too.


# The columns of each kind of row, in order: what a loader that COPYs them (bench/generate.py) names.
PROGRAMME_COLUMNS, ENCOUNTER_COLUMNS = _PROGRAMME_COLUMNS, _ENCOUNTER_COLUMNS


def programme_row(
    encounter_id: int,
    encounter: Mapping[str, Any],
    decision: Mapping[str, Any],
    programme_id: int,
    case: Mapping[str, Any] | None,
    person: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """A new encounter's journey row on one programme, from the rows written for it: the encounter,
    its effective decision (the one no other overrides) and that programme's case of the encounter,
    if one was opened. None when the encounter is not in the programme's population.

    ``person``: the person's row as stored (ethnicity codes, gender, date of birth), for the
    columns a report groups by; without it they are left empty for ``refresh_people`` to fill."""
    if not decision["in_population"]:
        return None
    day = uk_day_number_of(encounter["occurred_at"])
    r = case or {}
    eligible = bool(decision["eligible"])
    offered = eligible and r.get("offered_at") is not None
    accepted = offered and r.get("accepted_at") is not None
    engaged = accepted and r.get("engaged_at") is not None
    decision_route = accepted and r.get("decision_route_at") is not None
    formal_at = r.get("formal_outcome_at")
    points = {
        "eligible": eligible,
        "offered": offered,
        "accepted": accepted,
        "engaged": engaged,
        "completed": engaged and r.get("completed_at") is not None,
        "escalated": accepted and r.get("escalated_at") is not None,
        "formal_outcome": formal_at is not None or r.get("outcome_code") in FORMAL_OUTCOME_CODES,
        "decision_route": decision_route,
        "diverted_again": decision_route and r.get("diverted_again_at") is not None,
        "decision_formal": decision_route and r.get("diverted_again_at") is None and formal_at is not None,
    }
    return {
        "encounter_id": encounter_id,
        "programme_id": programme_id,
        "person_id": encounter["person_id"],
        "encounter_day": day,
        "area": encounter["area"],
        "organisation_id": encounter["organisation_id"],
        "age_floor": encounter.get("age_floor"),
        **{name: int(points[name]) for name in POINTS},
        **person_values(person, day, encounter.get("age_floor")),
    }


def person_values(person: Mapping[str, Any] | None, day: int, age_floor: int | None) -> dict[str, Any]:
    """``person_columns`` worked out in Python, for rows built before they are written (a bulk
    load); tests hold the two equal (tests/importing/test_journey_rows.py, the generator's)."""
    if person is None:
        return dict.fromkeys(PERSON_COLUMNS)
    born: date | None = person.get("date_of_birth")
    age = age_floor
    if age is None and born is not None:
        age = (day - (born.year * 10000 + born.month * 100 + born.day) + 1_000_000) // 10_000 - 100
    return {
        "self_defined_ethnicity": person.get("self_defined_ethnicity"),
        "officer_defined_ethnicity": person.get("officer_defined_ethnicity"),
        "gender": person.get("gender"),
        "age": age,
    }


def encounter_rows(programme_rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """All programmes together, as ``_encounter_rows`` groups them: a point on any programme."""
    out: dict[int, dict[str, Any]] = {}
    for row in programme_rows:
        found = out.get(row["encounter_id"])
        if found is None:
            out[row["encounter_id"]] = {name: row[name] for name in _ENCOUNTER_COLUMNS}
        else:
            for name in POINTS:
                found[name] = max(found[name], row[name])
    return list(out.values())


def uk_day_number_of(moment: datetime) -> int:
    """``uk_day`` of an aware timestamp, as the database works it out for the rows above."""
    day = uk_date(moment)
    return day.year * 10000 + day.month * 100 + day.day
