"""Recording an encounter from the officer's form: find the person or add them, then decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, User, audit
from divert.models.person import name_key
from divert.pathways.cases import Outcome, record_encounter
from divert.pathways.identity import hold_identity

PERSON_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "pnc_id",
    "gender",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "postcode_district",
)


@dataclass(frozen=True)
class Recorded:
    """What recording did. Possible matches are not worked out here: the encounter's page finds
    them when it is shown, and the API does not return them, so doing it here too only slowed
    every recording (a large share of an API request's time at national scale).
    """

    encounter: Encounter
    outcomes: list[Outcome]
    existing_person: bool


def existing_record(session: Session, organisation_id: int, details: dict[str, Any]) -> Person | None:
    """The organisation's record that certainly is this person: the same PNC ID, or the same name
    and date of birth. Only records ``organisation_id`` holds: another force's record of the same
    person is theirs (two forces meeting one person hold two records).

    Anything less certain is only suggested (``possible_matches``) for a person to confirm.
    """
    held = (Person.organisation_id == organisation_id, Person.merged_into_id.is_(None))
    pnc = (details.get("pnc_id") or "").strip().upper() or None
    if pnc:
        found = session.scalar(select(Person).where(Person.pnc_id == pnc, *held).order_by(Person.id))
        if found is not None:
            return found
    dob: date | None = details.get("date_of_birth")
    key = name_key(details["given_name"], details["family_name"], dob)
    if key is None:
        return None
    given, family, _ = key
    candidates = session.scalars(
        select(Person).where(
            Person.family_name_key == family,
            Person.given_name_key == given,
            Person.date_of_birth == dob,
            *held,
        )
    ).all()
    # A different PNC ID on the stored record means a different person with the same name.
    same = [p for p in candidates if not pnc or not p.pnc_id or p.pnc_id == pnc]
    return same[0] if len(same) == 1 else None


def record_from_form(
    session: Session,
    actor: User,
    person_details: dict[str, Any],
    encounter_details: dict[str, Any],
    submission_key: str | None,
    person: Person | None = None,
) -> Recorded:
    """Record one encounter, once: a repeated submission returns the first one's result.

    Two copies of a form can also arrive at the same moment (a double tap on a slow signal): the
    second then hits the unique submission key, and gets the first one's result instead of an error.
    """
    if submission_key:
        earlier = _by_submission_key(session, submission_key)
        if earlier is not None:
            return Recorded(earlier, [], True)
        try:
            with session.begin_nested():
                return _record(session, actor, person_details, encounter_details, submission_key, person)
        except IntegrityError:
            earlier = _by_submission_key(session, submission_key)
            if earlier is None:
                raise
            return Recorded(earlier, [], True)
    return _record(session, actor, person_details, encounter_details, submission_key, person)


def _by_submission_key(session: Session, key: str) -> Encounter | None:
    return session.scalar(select(Encounter).where(Encounter.submission_key == key))


def _record(
    session: Session,
    actor: User,
    person_details: dict[str, Any],
    encounter_details: dict[str, Any],
    submission_key: str | None,
    person: Person | None,
) -> Recorded:
    if person is not None and person.organisation_id != actor.organisation_id:
        person = None  # seen as party to a case, but another organisation's record: find our own
    existing = person is not None
    if person is None:
        hold_identity(
            session,
            actor.organisation_id,
            pnc_id=person_details.get("pnc_id"),
            given_name=person_details["given_name"],
            family_name=person_details["family_name"],
            date_of_birth=person_details.get("date_of_birth"),
        )
        person = existing_record(session, actor.organisation_id, person_details)
        existing = person is not None
    if person is None:
        person = Person(
            organisation_id=actor.organisation_id,
            **{k: v for k, v in person_details.items() if k in PERSON_FIELDS},
        )
        session.add(person)
        session.flush()
        audit.record(session, actor, "create", "person", person.id)
    else:
        # Collect once, use many times: fill in what the stored record lacks, never overwrite.
        for field in ("pnc_id", "postcode_district", "officer_defined_ethnicity", "date_of_birth"):
            if getattr(person, field) is None and person_details.get(field):
                setattr(person, field, person_details[field])
    encounter = Encounter(
        person=person,
        organisation_id=actor.organisation_id,
        officer_id=actor.id,
        submission_key=submission_key,
        **encounter_details,
    )
    outcomes = record_encounter(session, actor, encounter)
    return Recorded(encounter, outcomes, existing)
