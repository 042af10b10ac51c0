"""Builders for case-working tests: real cases opened the way an officer opens them, and small readers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date as local_date
from divert.models import CaseFlag, Organisation, Programme, Referral, ReferralEvent, User, utcnow
from divert.pathways.cases import offer, record_encounter, respond
from divert.pathways.programmes import assign_operator, sync_definitions

from ..factories import create_encounter, create_organisation, create_person, create_user

ENCOUNTER_AT = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
ADULT = date(1990, 1, 1)
# Facts that make a person eligible for each shipped programme on ENCOUNTER_AT; tests add only what they test.
ELIGIBLE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "tvp-youth-drugs": ({"date_of_birth": date(2009, 5, 1)}, {}),
    "tvp-adult-drugs": ({"date_of_birth": ADULT}, {}),
    "avon-somerset-dep": ({"date_of_birth": ADULT}, {}),
    "divert": (
        {"date_of_birth": date(2004, 1, 1)},
        {"setting": "custody", "offence_category": "theft", "drug_class": None, "personal_use": None},
    ),
    "checkpoint": (
        {"date_of_birth": ADULT},
        {
            "offence_category": "theft",
            "offence_date": date(2026, 2, 20),
            "lives_in_area": True,
            "offended_in_area": True,
            "drug_class": None,
            "personal_use": None,
        },
    ),
    "checkpoint-plus": (
        {"date_of_birth": ADULT, "gender": "female"},
        {"offence_category": "theft", "drug_class": None, "personal_use": None},
    ),
    # The example schemes of issue 14 (seeds/programmes/womens-diversion.yaml, conditional-caution.yaml).
    "womens-diversion": (
        {"date_of_birth": ADULT, "gender": "female"},
        {"offence_category": "theft", "drug_class": None, "personal_use": None},
    ),
    "conditional-caution": (
        {"date_of_birth": ADULT},
        {"offence_category": "criminal_damage", "drug_class": None, "personal_use": None},
    ),
}
_names = itertools.count(1)


def police_force(session: Session) -> Organisation:
    return create_organisation(session, kind="police_force")


def staff(session: Session, role: str, organisation: Organisation | None = None) -> User:
    return create_user(session, role, organisation)


def open_case(
    session: Session,
    programme_code: str,
    officer: User,
    *,
    person: Any = None,
    occurred_at: datetime = ENCOUNTER_AT,
    **encounter_fields: Any,
) -> Referral:
    """Record an eligible encounter for ``programme_code`` with ``record_encounter``; return its case."""
    sync_definitions(session)
    programme = session.scalars(select(Programme).where(Programme.code == programme_code)).one()
    assign_operator(session, programme, officer.organisation_id, "police")
    person_fields, defaults = ELIGIBLE[programme_code]
    if person is None:
        # A name of its own, so no test's person looks like another test's.
        person = create_person(session, family_name=f"Case{next(_names)}", **person_fields)
    encounter = create_encounter(
        session,
        person,
        officer.organisation,
        officer_id=officer.id,
        occurred_at=occurred_at,
        **{**defaults, **encounter_fields},
    )
    outcomes = {o.programme.code: o for o in record_encounter(session, officer, encounter)}
    referral = outcomes[programme_code].referral
    assert referral is not None, outcomes[programme_code].decision.reasons
    return referral


def repeat_possession(session: Session, officer: User) -> Referral:
    """A youth case with an earlier possession on record, which sends it to the Youth Justice Unit."""
    person_fields, _ = ELIGIBLE["tvp-youth-drugs"]
    person = create_person(session, family_name=f"Case{next(_names)}", **person_fields)
    create_encounter(session, person, officer.organisation, occurred_at=datetime(2025, 6, 1, tzinfo=UTC))
    return open_case(session, "tvp-youth-drugs", officer, person=person)


def refer(session: Session, officer: User, referral: Referral) -> Referral:
    """The officer offers diversion and the person accepts: the case enters its route."""
    offer(session, officer, referral, True)
    respond(session, officer, referral, True)
    return referral


def referred_case(session: Session, programme_code: str, officer: User, **fields: Any) -> Referral:
    return refer(session, officer, open_case(session, programme_code, officer, **fields))


def days_ago(days: int, hour: int = 10) -> datetime:
    """A time ``days`` days before now (UTC, timezone-aware), at ``hour`` o'clock if that has passed."""
    now = utcnow()
    moment = (now - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    # Never in the future: attendance cannot be recorded for an appointment still to come.
    return min(moment, now - timedelta(minutes=1))


def timeline(session: Session, referral: Referral) -> list[ReferralEvent]:
    return list(
        session.scalars(
            select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id)
        )
    )


def steps(session: Session, referral: Referral) -> list[tuple[str, str | None, str | None]]:
    """The case's timeline as (kind, from state, to state)."""
    return [(e.kind, e.from_state, e.to_state) for e in timeline(session, referral)]


def flags(session: Session, referral: Referral | None = None) -> list[CaseFlag]:
    statement = select(CaseFlag).order_by(CaseFlag.id)
    if referral is not None:
        statement = statement.where(CaseFlag.referral_id == referral.id)
    return list(session.scalars(statement))


def referred_on(session: Session, referral: Referral) -> date:
    """The day (in England) the case entered its route, which deadlines count from."""
    moves = [e for e in timeline(session, referral) if e.kind == "transition" and e.to_state]
    return local_date(moves[-1].occurred_at)


@contextmanager
def counting_queries(session: Session) -> Iterator[list[str]]:
    """Collect every SQL statement sent on the session's connection while the block runs."""
    statements: list[str] = []
    bind = session.get_bind()

    def before_cursor_execute(*args: Any) -> None:
        statements.append(args[2])

    event.listen(bind, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", before_cursor_execute)
