"""Anonymisation and erasure of people's records past retention (issue 17).

**Anonymisation** removes or coarsens everything that identifies a person and keeps what the
monitoring figures count, so figures already published for past periods do not change:

- the person: names become "Anonymised" and "record <id>", the date of birth becomes the age band
  at their latest encounter (``people.age_band``), and each encounter keeps the band the person
  was in that day (``encounters.age_floor``, copied to the monitoring journey rows, which
  monitoring reads in place of the date of birth); the PNC ID goes; the postcode district becomes
  its postcode area ('OX4' -> 'OX');
- every column ``identifying.IDENTIFYING`` lists, in every table: free text (notes, reasons,
  locations, case notes, assessments' text, placements, conditions, flags), JSON that carries
  text, exit reasons that are not a definition's codes, and external references;
- field history (``change_history``): the old and new values of those same columns, for the
  person and for every record of theirs, become "[removed]" — history of a correction must not
  keep the value corrected;
- the audit trail keeps every entry (who did what, when) but the person's name, PNC ID and date
  of birth are replaced in its details and paths (a search typed a name into the address);
  replies kept for API retries (``idempotent_requests``) that carried them are deleted.

The monitoring journey rows are kept as they were: same encounters, days, areas and points; the
person columns they copy (monitoring/journeys.py ``person_columns``) are rewritten in the same
transaction, so their age is the encounter's age floor from then on.

**Erasure** (where the law requires it, DPA 2018 s.47) deletes the person, every record merged
into them, their encounters, decisions, cases with everything on them, the monitoring journey
rows of those encounters and the field history of all of these. The audit trail keeps its
entries (what was done, by whom; now naming only ids) with the identifying values removed as for
anonymisation. **Monitoring figures for past periods can then change**: the encounters are no
longer counted.

Both are audited per person with who, when and why, and both are set-based (a few statements per
chunk of people) so that a hundred thousand people past retention is minutes, not hours.
Operations only flush; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Table, Text, bindparam, case, cast, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from divert.models import Base, Person, User, utcnow
from divert.models.audit import ORIGIN, Origin
from divert.monitoring import journeys
from divert.monitoring.breakdowns import vocabulary
from divert.pathways.identifying import (
    EXIT_REASON,
    IDENTIFYING,
    IDENTITY_KEYS,
    JSON_TEXT,
    NULL,
    PERSON_COLUMNS,
    PERSON_HISTORY,
    REMOVED,
    REMOVED_TEXT,
    Identifying,
)
from divert.rules.retention import AGE_BAND_LABELS, age_floor, coarse_district

CHUNK = 500  # people per round of statements: well under SQLite's bound-parameter limit
_CODE = re.compile(r"^[a-z0-9]+([_-][a-z0-9]+)*$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")


@dataclass(frozen=True, slots=True)
class Outcome:
    people: int
    records: int  # person records, with those merged into them


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def with_merged(session: Session, person_ids: Iterable[int]) -> list[int]:
    """The records of these people and every record merged into them: one person, one outcome."""
    found = set(person_ids)
    frontier = set(found)
    while frontier:
        more = set(session.scalars(select(Person.id).where(Person.merged_into_id.in_(frontier)))) - found
        found |= more
        frontier = more
    return sorted(found)


# --- how rows reach a person ----------------------------------------------------------------


def _row_ids(reach: str, people: list[int]) -> Any:
    """A SELECT of the ids of the rows of a table with this reach that belong to ``people``."""
    encounters, referrals = _table("encounters"), _table("referrals")
    if reach == "person_id":
        raise ValueError("person_id tables are matched on the column itself")
    if reach == "encounter_id":
        return select(encounters.c.id).where(encounters.c.person_id.in_(people))
    if reach == "referral_id":
        return select(referrals.c.id).where(referrals.c.person_id.in_(people))
    if reach == "contract_id":
        contracts = _table("contracts")
        return select(contracts.c.id).where(
            contracts.c.referral_id.in_(select(referrals.c.id).where(referrals.c.person_id.in_(people)))
        )
    raise ValueError(f"unknown reach {reach!r}")


def _belongs(entry: Identifying, table: Table, people: list[int]) -> Any:
    if entry.reach == "person_id":
        return table.c.person_id.in_(people)
    if entry.reach == "merge":
        return or_(table.c.survivor_id.in_(people), table.c.merged_id.in_(people))
    return table.c[entry.reach].in_(_row_ids(entry.reach, people))


# --- values ------------------------------------------------------------------------------------


def _removed(column: Any) -> Any:
    """Given text becomes REMOVED_TEXT; blank (or NULL) stays as it was."""
    return case((func.coalesce(func.trim(column), "") == "", column), else_=literal(REMOVED_TEXT))


def scrub_json(value: Any) -> Any:
    """Every string in a JSON value that is not a code or a date becomes REMOVED_TEXT; values under
    identity keys (a date of birth in a decision's facts, a name a merge filled in) become None."""
    if isinstance(value, dict):
        return {k: None if k in IDENTITY_KEYS else scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    if isinstance(value, str) and value and not (_CODE.match(value) or _ISO.match(value)):
        return REMOVED_TEXT
    return value


def _scrub_table(session: Session, entry: Identifying, people: list[int], exit_codes: frozenset[str]) -> int:
    table = _table(entry.table)
    where = _belongs(entry, table, people)
    if entry.delete_rows:
        deleted = session.execute(delete(table).where(where))
        return int(getattr(deleted, "rowcount", 0) or 0)
    simple = {c: t for c, t in entry.columns.items() if t in (NULL, REMOVED)}
    if simple:
        values = {c: (None if t == NULL else _removed(table.c[c])) for c, t in simple.items()}
        session.execute(update(table).where(where).values(**values))
    rowwise = [c for c, t in entry.columns.items() if t in (JSON_TEXT, EXIT_REASON)]
    if not rowwise:
        return 0
    rows = session.execute(select(table.c.id, *(table.c[c] for c in rowwise)).where(where)).all()
    changes = []
    for row in rows:
        new = {}
        for column in rowwise:
            old = getattr(row, column)
            if entry.columns[column] == JSON_TEXT:
                value = scrub_json(old)
            else:
                value = old if old is None or not old.strip() or old in exit_codes else REMOVED_TEXT
            if value != old:
                new[column] = value
        if new:
            changes.append({"row_id": row.id, **{c: new.get(c, getattr(row, c)) for c in rowwise}})
    if changes:
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(**{c: bindparam(c) for c in rowwise})
        )
        session.execute(statement, changes, execution_options={"synchronize_session": False})
    return len(changes)


def _scrub_history(session: Session, entry: Identifying, people: list[int]) -> None:
    if entry.history is None:
        return
    table = _table(entry.table)
    ids = (
        select(table.c.id).where(table.c.person_id.in_(people))
        if entry.reach == "person_id"
        else select(table.c.id).where(_belongs(entry, table, people))
    )
    _remove_history(session, entry.history, ids, list(entry.columns))


def _remove_history(session: Session, object_type: str, object_ids: Any, fields: list[str]) -> None:
    history = _table("change_history")
    session.execute(
        update(history)
        .where(
            history.c.object_type == object_type,
            history.c.object_id.in_(object_ids),
            history.c.field.in_(fields),
        )
        .values(
            old_value=case((history.c.old_value.is_(None), None), else_=literal(REMOVED_TEXT)),
            new_value=case((history.c.new_value.is_(None), None), else_=literal(REMOVED_TEXT)),
        )
    )


# --- the person and what names them ----------------------------------------------------------


def _identifying_values(people: Sequence[Any]) -> list[str]:
    """The exact strings that would name these people in free-form text (audit details, paths)."""
    values: set[str] = set()
    for person in people:
        for value in (person.given_name, person.family_name, person.pnc_id):
            if value and len(value) >= 3:
                values.add(value)
        if person.date_of_birth is not None:
            values.add(person.date_of_birth.isoformat())
    return sorted(values, key=len, reverse=True)


def _scrub_mentions(session: Session, values: list[str]) -> None:
    """Replace the values in the audit trail's details and paths, and drop kept API replies that
    carry them. Matched on the text, so another person's entry mentioning the same name is
    scrubbed too: erring towards removing, never towards keeping."""
    if not values:
        return
    audit = _table("audit_log")
    for start in range(0, len(values), 100):
        chunk = values[start : start + 100]
        mentions = or_(*(audit.c.detail.contains(v, autoescape=True) for v in chunk)) | or_(
            *(audit.c.path.contains(v, autoescape=True) for v in chunk)
        )
        rows = session.execute(select(audit.c.id, audit.c.detail, audit.c.path).where(mentions)).all()
        changes = [
            {"row_id": row.id, "detail": _replace(row.detail, chunk), "path": _replace(row.path, chunk)}
            for row in rows
        ]
        if changes:
            session.execute(
                update(audit)
                .where(audit.c.id == bindparam("row_id"))
                .values(detail=bindparam("detail"), path=bindparam("path")),
                changes,
                execution_options={"synchronize_session": False},
            )
        kept = _table("idempotent_requests")
        body = cast(kept.c.body, Text)
        session.execute(delete(kept).where(or_(*(body.contains(v, autoescape=True) for v in chunk))))


def _replace(text: str | None, values: list[str]) -> str | None:
    if text is None:
        return None
    for value in values:
        text = re.sub(re.escape(value), REMOVED_TEXT, text, flags=re.IGNORECASE)
    return text


def _audit_rows(
    session: Session, actor: User | None, action: str, people: list[int], detail: str
) -> list[dict[str, Any]]:
    origin: Origin | None = session.info.get(ORIGIN)
    now = utcnow()
    return [
        {
            "at": now,
            "user_id": None if actor is None else actor.id,
            "action": action,
            "object_type": "person",
            "object_id": str(person_id),
            "detail": detail,
            "ip_address": origin.ip_address if origin else None,
            "user_agent": origin.user_agent[:300] if origin else None,
            "path": origin.path[:300] if origin else None,
        }
        for person_id in people
    ]


def _ages(session: Session, people: list[int]) -> dict[int, str | None]:
    """Each encounter's age floor, written to it and its journey rows; returns each person's band
    at their latest encounter (None without a date of birth or an encounter)."""
    encounters = _table("encounters")
    rows = session.execute(
        select(encounters.c.id, encounters.c.person_id, encounters.c.occurred_at, Person.date_of_birth)
        .join(Person, Person.id == encounters.c.person_id)
        .where(encounters.c.person_id.in_(people))
        .order_by(encounters.c.person_id, encounters.c.occurred_at)
    ).all()
    bands: dict[int, str | None] = {}
    floors = []
    for row in rows:
        moment = row.occurred_at
        if moment.tzinfo is None:  # SQLite hands back naive UTC
            moment = moment.replace(tzinfo=UTC)
        # The UTC day, as the journey rows' encounter_day is, so the band is the one counted.
        floor = age_floor(row.date_of_birth, moment.astimezone(UTC).date())
        floors.append({"row_id": row.id, "age_floor": floor})
        bands[row.person_id] = None if floor is None or floor < 0 else AGE_BAND_LABELS[floor]
    if floors:
        for name in ("encounters", "monitoring_journeys", "monitoring_encounters"):
            table = _table(name)
            key = table.c.id if name == "encounters" else table.c.encounter_id
            session.execute(
                update(table).where(key == bindparam("row_id")).values(age_floor=bindparam("age_floor")),
                floors,
                execution_options={"synchronize_session": False},
            )
    return bands


def _coarsen_people(session: Session, people: Sequence[Any], bands: dict[int, str | None]) -> None:
    table = _table("people")
    now = utcnow()
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            given_name="Anonymised",
            given_name_key="anonymised",
            family_name=bindparam("family"),
            family_name_key=bindparam("family"),
            date_of_birth=None,
            pnc_id=None,
            postcode_district=bindparam("district"),
            age_band=bindparam("band"),
            anonymised_at=now,
            restricted_reason=case((table.c.restricted_reason == "", ""), else_=literal(REMOVED_TEXT)),
            version_id=table.c.version_id + 1,
            updated_at=now,
        ),
        [
            {
                "row_id": p.id,
                "family": f"record {p.id}",
                "district": coarse_district(p.postcode_district),
                "band": bands.get(p.id),
            }
            for p in people
        ],
        execution_options={"synchronize_session": False},
    )


def anonymise(session: Session, actor: User | None, person_ids: Iterable[int], reason: str) -> Outcome:
    """Anonymise these people (and the records merged into them); flushes, never commits."""
    asked = sorted(set(person_ids))
    exit_codes = vocabulary(session).exit_codes
    records = 0
    session.flush()
    for chunk in _chunks(asked):
        group = with_merged(session, chunk)
        records += len(group)
        people = session.execute(
            select(
                Person.id, Person.given_name, Person.family_name, Person.pnc_id,
                Person.date_of_birth, Person.postcode_district,
            ).where(Person.id.in_(group), Person.anonymised_at.is_(None))
        ).all()  # fmt: skip
        ids = [p.id for p in people]
        if not ids:
            continue
        _scrub_mentions(session, _identifying_values(people))
        bands = _ages(session, ids)
        for entry in IDENTIFYING:
            _scrub_table(session, entry, ids, exit_codes)
            _scrub_history(session, entry, ids)
        _remove_history(session, PERSON_HISTORY, ids, list(PERSON_COLUMNS))
        _coarsen_people(session, people, bands)
        # A Core UPDATE passes the session's hooks by: the rows' age now comes from the floor.
        journeys.refresh_people(session.connection(), ids)
        session.execute(
            insert(_table("change_history")),
            [
                {
                    "at": utcnow(),
                    "user_id": None if actor is None else actor.id,
                    "object_type": PERSON_HISTORY,
                    "object_id": person_id,
                    "object_key": None,
                    "field": "(record)",
                    "old_value": None,
                    "new_value": "anonymised",
                }
                for person_id in ids
            ],
        )
        session.execute(insert(_table("audit_log")), _audit_rows(session, actor, "anonymise", ids, reason))
    session.expire_all()
    return Outcome(people=len(asked), records=records)


# Erasure deletes in this order: each table before the tables its rows point at.
_ERASE_ORDER: tuple[tuple[str, str], ...] = (
    ("monitoring_encounters", "encounter_id"),
    ("monitoring_journeys", "encounter_id"),
    ("case_flags", "referral_id"),
    ("case_goals", "referral_id"),
    ("case_contacts", "referral_id"),
    ("needs_assessments", "referral_id"),
    ("contract_conditions", "contract_id"),
    ("contracts", "referral_id"),
    ("referral_events", "referral_id"),
    # Consent per referral and a record shared with another force (issue 17).
    ("referral_consents", "referral_id"),
    ("person_shares", "person_id"),
    ("referral_parties", "referral_id"),
    ("referrals", "person_id"),
    ("decisions", "encounter_id"),
    ("encounters", "person_id"),
    ("person_merges", "merge"),
)
# change_history object types of erased rows, with the table they name.
_HISTORY_OF = {
    "encounter": "encounters",
    "referral": "referrals",
    "casecontact": "case_contacts",
    "casegoal": "case_goals",
    "contract": "contracts",
    "referralconsent": "referral_consents",
}


def erase(session: Session, actor: User | None, person_ids: Iterable[int], reason: str) -> Outcome:
    """Delete these people, the records merged into them and everything of theirs (see the module
    docstring for what is removed, and that past figures can then change); flushes."""
    asked = sorted(set(person_ids))
    records = 0
    session.flush()
    history = _table("change_history")
    for chunk in _chunks(asked):
        group = with_merged(session, chunk)
        records += len(group)
        people = session.execute(
            select(
                Person.id, Person.given_name, Person.family_name, Person.pnc_id, Person.date_of_birth
            ).where(Person.id.in_(group))
        ).all()
        _scrub_mentions(session, _identifying_values(people))
        for object_type, name in _HISTORY_OF.items():
            table = _table(name)
            owned = (
                table.c.person_id.in_(group)
                if "person_id" in table.c
                else table.c.referral_id.in_(_row_ids("referral_id", group))
            )
            session.execute(
                delete(history).where(
                    history.c.object_type == object_type,
                    history.c.object_id.in_(select(table.c.id).where(owned)),
                )
            )
        session.execute(
            delete(history).where(history.c.object_type == PERSON_HISTORY, history.c.object_id.in_(group))
        )
        for name, reach in _ERASE_ORDER:
            table = _table(name)
            if reach == "merge":
                where = or_(table.c.survivor_id.in_(group), table.c.merged_id.in_(group))
            elif reach == "person_id":
                where = table.c.person_id.in_(group)
            elif name.startswith("monitoring_"):
                where = table.c.encounter_id.in_(_row_ids("encounter_id", group))
            else:
                where = table.c[reach].in_(_row_ids(reach, group))
            session.execute(delete(table).where(where))
        # Records merged into another point at it: clear the links before the rows go.
        people_table = _table("people")
        session.execute(update(people_table).where(people_table.c.id.in_(group)).values(merged_into_id=None))
        session.execute(delete(people_table).where(people_table.c.id.in_(group)))
        session.execute(
            insert(_table("audit_log")),
            _audit_rows(session, actor, "erase", group, reason),
        )
    session.expire_all()
    return Outcome(people=len(asked), records=records)
