"""Recording an encounter from the officer's form: find the person or add them, then decide."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, Programme, ProgrammeVersion, User
from divert.models.person import name_key
from divert.pathways.cases import Outcome, record_encounter
from divert.pathways.identity import hold_identity
from divert.pathways.matching import Looked, record_of

InForce = list[tuple[Programme, ProgrammeVersion | None]]

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
    return find_record(session, organisation_id, details)[0]


def find_record(
    session: Session, organisation_id: int, details: dict[str, Any]
) -> tuple[Person | None, Looked | None]:
    """``existing_record``, and what it read: in one statement, every record the organisation
    holds with the PNC ID or the name and date of birth, merged ones too, which is also the first
    thing ``matching.same_person_ids`` asks when the person's earlier encounters are looked for."""
    pnc = (details.get("pnc_id") or "").strip().upper() or None
    dob: date | None = details.get("date_of_birth")
    key = name_key(details["given_name"], details["family_name"], dob)
    ways_in = []
    if pnc:
        ways_in.append(Person.pnc_id == pnc)
    if key is not None:
        given, family, _ = key
        ways_in.append(
            and_(
                Person.family_name_key == family, Person.given_name_key == given, Person.date_of_birth == dob
            )
        )
    if not ways_in:
        return None, None
    rows = session.scalars(
        select(Person).where(or_(*ways_in), Person.organisation_id == organisation_id).order_by(Person.id)
    ).all()
    looked = Looked(
        pnc,
        key,
        {
            p.id: record_of(
                p.id, p.pnc_id, p.given_name_key, p.family_name_key, p.date_of_birth, p.merged_into_id
            )
            for p in rows
        },
    )
    live = [p for p in rows if p.merged_into_id is None]
    if pnc:
        found = next((p for p in live if p.pnc_id == pnc), None)
        if found is not None:
            return found, looked
    if key is None:
        return None, looked
    candidates = [
        p for p in live if (p.given_name_key, p.family_name_key, p.date_of_birth) == (key[0], key[1], dob)
    ]
    # A different PNC ID on the stored record means a different person with the same name.
    same = [p for p in candidates if not pnc or not p.pnc_id or p.pnc_id == pnc]
    return (same[0] if len(same) == 1 else None), looked


def record_from_form(
    session: Session,
    actor: User,
    person_details: dict[str, Any],
    encounter_details: dict[str, Any],
    submission_key: str | None,
    person: Person | None = None,
    in_force: InForce | None = None,
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
                return _record(
                    session, actor, person_details, encounter_details, submission_key, person, in_force
                )
        except IntegrityError:
            earlier = _by_submission_key(session, submission_key)
            if earlier is None:
                raise
            return Recorded(earlier, [], True)
    return _record(session, actor, person_details, encounter_details, submission_key, person, in_force)


def _by_submission_key(session: Session, key: str) -> Encounter | None:
    return session.scalar(select(Encounter).where(Encounter.submission_key == key))


def _record(
    session: Session,
    actor: User,
    person_details: dict[str, Any],
    encounter_details: dict[str, Any],
    submission_key: str | None,
    person: Person | None,
    in_force: InForce | None,
) -> Recorded:
    if person is not None and person.organisation_id != actor.organisation_id:
        person = None  # seen as party to a case, but another organisation's record: find our own
    existing = person is not None
    looked: Looked | None = None
    if person is None:
        hold_identity(
            session,
            actor.organisation_id,
            pnc_id=person_details.get("pnc_id"),
            given_name=person_details["given_name"],
            family_name=person_details["family_name"],
            date_of_birth=person_details.get("date_of_birth"),
        )
        person, looked = find_record(session, actor.organisation_id, person_details)
        existing = person is not None
    if person is None:
        # Written in the same flush as the encounter, and audited with it (record_encounter).
        person = Person(
            organisation_id=actor.organisation_id,
            **{k: v for k, v in person_details.items() if k in PERSON_FIELDS},
        )
        session.add(person)
        if looked is not None:
            looked = replace(looked, created=True)
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
    outcomes = record_encounter(
        session, actor, encounter, created_person=not existing, looked=looked, in_force=in_force
    )
    return Recorded(encounter, outcomes, existing)
