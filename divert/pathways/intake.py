"""Taking someone in without an officer: a self-referral, a friend's or family member's referral,
or one from the DIVERT app's on-call youth worker.

The scheme has no strict criteria and takes people who were never arrested, so nothing here asks
for an offence: the encounter records who referred the person instead, and the coach's
organisation holds the person's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.auth.policy import check, roles_with
from divert.models import Encounter, Person, Programme, ProgrammeOperator, Referral, User, audit
from divert.models.programme import compiled
from divert.pathways.cases import decide_for, take_in
from divert.pathways.encounters import PERSON_FIELDS, existing_record
from divert.pathways.errors import OperationError
from divert.pathways.identity import hold_identity
from divert.rules.codes import REFERRAL_SOURCES, label
from divert.rules.pathway import acting_roles


@dataclass(frozen=True)
class Intake:
    person: Person
    encounter: Encounter
    referral: Referral


def intake_programmes(session: Session, user: User) -> list[Programme]:
    """Programmes the user's organisation receives whose own workers make the offer (DIVERT's
    coaches do, an officer does for the others): only those take people in without an officer."""
    received = session.scalars(
        select(Programme)
        .join(ProgrammeOperator, ProgrammeOperator.programme_id == Programme.id)
        .where(
            ProgrammeOperator.organisation_id == user.organisation_id,
            ProgrammeOperator.role == "receiving",
            Programme.active.is_(True),
        )
        .order_by(Programme.name)
    ).all()
    police = roles_with("record_encounter")
    chosen = []
    for programme in received:
        definition = compiled(programme.versions[-1])
        offering = {
            role
            for t in definition.transitions
            if definition.state(t.to_state).stage == "offer"
            for role in t.roles
        }
        if user.role in offering - police and any(
            acting_roles(definition, s.id) for s in definition.states if s.stage == "engagement"
        ):
            chosen.append(programme)
    return chosen


def record_intake(
    session: Session,
    actor: User,
    programme: Programme,
    person_details: dict[str, Any],
    *,
    source: str,
    met_at: datetime,
    notes: str = "",
) -> Intake:
    check(actor, "record_intake")
    if programme not in intake_programmes(session, actor):
        raise OperationError(f"Your organisation does not take people in directly for {programme.name}.")
    if source not in REFERRAL_SOURCES:
        raise OperationError(
            "Select who referred the person: " + ", ".join(label(s).lower() for s in REFERRAL_SOURCES)
        )
    if met_at.tzinfo is None:
        raise OperationError("The time must include a time zone")
    hold_identity(
        session,
        actor.organisation_id,
        pnc_id=person_details.get("pnc_id"),
        given_name=person_details["given_name"],
        family_name=person_details["family_name"],
        date_of_birth=person_details.get("date_of_birth"),
    )
    person = existing_record(session, actor.organisation_id, person_details)
    with session.begin_nested():
        if person is None:
            person = Person(
                organisation_id=actor.organisation_id,
                **{k: v for k, v in person_details.items() if k in PERSON_FIELDS},
            )
            session.add(person)
            session.flush()
            audit.record(session, actor, "create", "person", person.id)
        encounter = Encounter(
            person=person,
            organisation_id=actor.organisation_id,
            officer_id=None,
            occurred_at=met_at,
            setting="community",
            offence_category=None,
            referral_source=source,
            area=person.postcode_district,
            notes=(notes or "").strip(),
        )
        session.add(encounter)
        session.flush()
        audit.record(session, actor, "create", "encounter", encounter.id, detail=f"intake: {source}")
        outcome = decide_for(session, actor, encounter, programme)
        if outcome.live_case is not None:
            # Not a second case beside the live one: the coach works that one (undone like below).
            raise OperationError(
                f"{person.full_name} already has an open {programme.name} case "
                f"({outcome.live_case.reference}): record this on that case."
            )
        if outcome.referral is None:
            # Raising here undoes the savepoint: nothing is kept, and the coach is told why.
            reasons = " ".join(
                r["text"] for r in outcome.decision.reasons if not r["passed"] and r.get("asked", True)
            )
            raise OperationError(reasons or f"The person cannot take part in {programme.name}.")
    referral = outcome.referral
    take_in(session, actor, referral, source)
    return Intake(person, encounter, referral)
