"""Which people are due for review under the retention rules, and carrying out what is confirmed.

The facts (cases with their closing days, encounters that led to no case with the programmes
that found them not eligible) are read in chunks of people, set-based; the pure
``rules.retention.due`` decides each person. Days are UK dates (app/clock.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from divert.app.clock import uk_date
from divert.models import Decision, Encounter, Person, Programme, ProgrammeVersion, Referral, User
from divert.models.programme import compiled
from divert.pathways.anonymise import Outcome, anonymise, erase
from divert.pathways.errors import OperationError
from divert.rules.retention import (
    ClosedCase,
    Due,
    PeriodError,
    Retention,
    RetentionRule,
    UnreferredEncounter,
    due,
    parse_period,
)

CHUNK = 2000  # people whose facts are read at once


def retention_from_settings(session: Session, settings: Mapping[str, Any]) -> Retention:
    """Each programme's rule from its latest published definition, else the configured default."""
    try:
        default = RetentionRule(
            parse_period(str(settings.get("RETENTION_REVIEW_AFTER_CLOSED", "6 years"))),
            parse_period(str(settings.get("RETENTION_NOT_ELIGIBLE", "2 years"))),
        )
        never = parse_period(str(settings.get("RETENTION_NEVER_REFERRED", "2 years")))
    except PeriodError as error:
        raise OperationError(f"Retention settings: {error}") from None
    rules: dict[str, RetentionRule] = {}
    latest: dict[str, tuple[int, RetentionRule | None]] = {}
    rows = session.execute(
        select(Programme.code, ProgrammeVersion)
        .join(ProgrammeVersion.programme)
        .order_by(ProgrammeVersion.id)
    ).all()
    for code, version in rows:
        if version.status != "published":
            continue
        if code not in latest or version.version > latest[code][0]:
            latest[code] = (version.version, compiled(version).retention)
    for code, (_, rule) in latest.items():
        if rule is not None:
            rules[code] = rule
    return Retention(rules, default, never)


@dataclass(frozen=True, slots=True)
class DuePerson:
    person_id: int
    organisation_id: int
    name: str
    due: Due


@dataclass
class Review:
    """What is due as of a day: each person, and the counts by programme and kind."""

    as_of: date
    people: list[DuePerson] = field(default_factory=list)

    def counts(self) -> list[tuple[str, str, str, int]]:
        """(programme, kind, action, people) rows, in a stable order."""
        counted = Counter(
            (p.due.programme or "(no programme)", p.due.kind, p.due.action) for p in self.people
        )
        return [(*key, n) for key, n in sorted(counted.items())]

    def ids(self, action: str | None = None) -> list[int]:
        return [p.person_id for p in self.people if action is None or p.due.action == action]


def _candidates(
    session: Session, organisation_id: int | None, only: list[int] | None = None
) -> Iterator[list[tuple[int, int, str]]]:
    """Live records (not merged away, not yet anonymised), in id order, a chunk at a time."""
    stmt = (
        select(Person.id, Person.organisation_id, Person.given_name + " " + Person.family_name)
        .where(Person.merged_into_id.is_(None), Person.anonymised_at.is_(None))
        .order_by(Person.id)
    )
    if organisation_id is not None:
        stmt = stmt.where(Person.organisation_id == organisation_id)
    if only is not None:
        for start in range(0, len(only), CHUNK):
            found = session.execute(stmt.where(Person.id.in_(only[start : start + CHUNK]))).all()
            yield [(int(r[0]), int(r[1]), str(r[2])) for r in found]
        return
    after = 0
    while True:
        rows = [
            (int(r[0]), int(r[1]), str(r[2]))
            for r in session.execute(stmt.where(Person.id > after).limit(CHUNK)).all()
        ]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _facts(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[ClosedCase]], dict[int, list[UnreferredEncounter]]]:
    # A record merged into one of these counts as theirs: its encounters and cases are the person's.
    merged = aliased(Person)
    owner: dict[int, int] = {i: i for i in ids}
    frontier = list(ids)
    while frontier:
        found = session.execute(
            select(merged.id, merged.merged_into_id).where(merged.merged_into_id.in_(frontier))
        ).all()
        frontier = []
        for child, parent in found:
            if child not in owner:
                owner[child] = owner[parent]
                frontier.append(child)
    everyone = list(owner)
    cases: dict[int, list[ClosedCase]] = defaultdict(list)
    for person_id, code, closed_at in session.execute(
        select(Referral.person_id, Programme.code, Referral.closed_at)
        .join(Programme, Programme.id == Referral.programme_id)
        .where(Referral.person_id.in_(everyone))
    ):
        cases[owner[person_id]].append(ClosedCase(code, None if closed_at is None else uk_date(closed_at)))
    later = aliased(Decision)
    not_eligible: dict[int, set[str]] = defaultdict(set)
    for encounter_id, code in session.execute(
        select(Decision.encounter_id, Programme.code)
        .join(Encounter, Encounter.id == Decision.encounter_id)
        .join(ProgrammeVersion, ProgrammeVersion.id == Decision.programme_version_id)
        .join(Programme, Programme.id == ProgrammeVersion.programme_id)
        .where(
            Encounter.person_id.in_(everyone),
            Decision.eligible.is_(False),
            ~exists().where(later.overrides_id == Decision.id),
        )
    ):
        not_eligible[encounter_id].add(code)
    unreferred: dict[int, list[UnreferredEncounter]] = defaultdict(list)
    for encounter_id, person_id, occurred_at in session.execute(
        select(Encounter.id, Encounter.person_id, Encounter.occurred_at).where(
            Encounter.person_id.in_(everyone), ~exists().where(Referral.encounter_id == Encounter.id)
        )
    ):
        unreferred[owner[person_id]].append(
            UnreferredEncounter(uk_date(occurred_at), tuple(sorted(not_eligible.get(encounter_id, ()))))
        )
    return cases, unreferred


def review(
    session: Session,
    retention: Retention,
    as_of: date,
    organisation_id: int | None = None,
    only: Iterable[int] | None = None,
) -> Review:
    """Everyone due as of ``as_of`` (of one organisation's records, or all; or of ``only`` these)."""
    result = Review(as_of)
    for rows in _candidates(session, organisation_id, None if only is None else sorted(set(only))):
        cases, unreferred = _facts(session, [r[0] for r in rows])
        for person_id, organisation, name in rows:
            decided = due(cases.get(person_id, ()), unreferred.get(person_id, ()), retention, as_of)
            if decided is not None:
                result.people.append(DuePerson(person_id, organisation, name, decided))
    return result


@dataclass(frozen=True, slots=True)
class Applied:
    anonymised: Outcome
    erased: Outcome


def apply_due(
    session: Session,
    actor: User | None,
    retention: Retention,
    as_of: date,
    person_ids: Iterable[int],
    reason: str,
    organisation_id: int | None = None,
) -> Applied:
    """Carry out what is due for the people confirmed, as of ``as_of``: only those still due
    (a case reopened since the review keeps its person). Flushes; the caller commits."""
    chosen = review(session, retention, as_of, organisation_id, only=person_ids).people
    detail = f"retention as of {as_of.isoformat()}: {reason}"
    anonymised = anonymise(
        session, actor, [p.person_id for p in chosen if p.due.action == "anonymise"], detail
    )
    erased = erase(session, actor, [p.person_id for p in chosen if p.due.action == "erase"], detail)
    return Applied(anonymised, erased)
