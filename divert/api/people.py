"""A person's encounters, and the subject access export of everything held on them."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from divert.api import bp
from divert.api.encounters import decision_out
from divert.api.schemas import EncounterList, EncounterOut, SubjectAccessExport
from divert.api.spec import operation
from divert.app.extensions import db
from divert.auth.refusal import not_found
from divert.auth.visibility import (
    visible_encounters,
    visible_people,
    visible_referrals,
)
from divert.models import (
    Decision,
    Encounter,
    Person,
    Referral,
    audit,
)
from divert.queries.subject_access import decisions_of, subject_access


def person_or_404(person_id: int) -> Person:
    person = db.session.scalar(visible_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    return person


@operation(
    bp,
    "/people/<int:person_id>/encounters",
    summary="A person's encounters and the decisions made on them",
    ability="view_people",
    response=EncounterList,
)
def person_encounters(person_id: int) -> EncounterList:
    person = person_or_404(person_id)
    # Only what this organisation recorded or is party to; another force's record is its own.
    encounters = db.session.scalars(
        visible_encounters(current_user)
        .where(Encounter.person_id == person.id)
        .order_by(Encounter.occurred_at.desc())
    ).all()
    cases = {
        (r.encounter_id, r.programme_version_id): r
        for r in db.session.scalars(visible_referrals(current_user).where(Referral.person_id == person.id))
    }
    by_encounter: dict[int, list[Decision]] = {}
    for decision in decisions_of(db.session, [e.id for e in encounters]):
        by_encounter.setdefault(decision.encounter_id, []).append(decision)
    audit.record(db.session, current_user, "view", "person", person.id, detail="api: encounters")

    def out(decision: Decision) -> Any:
        case = cases.get((decision.encounter_id, decision.programme_version_id))
        return decision_out(
            decision.programme_version.programme,
            decision,
            case.id if case else None,
            case.reference if case else None,
        )

    return EncounterList(
        person_id=person.id,
        encounters=[
            EncounterOut(
                id=e.id,
                occurred_at=e.occurred_at,
                setting=e.setting,
                offence_category=e.offence_category,
                area=e.area,
                decisions=[out(d) for d in by_encounter.get(e.id, [])],
            )
            for e in encounters
        ],
    )


@operation(
    bp,
    "/people/<int:person_id>/export",
    summary="Subject access export: everything held on one person",
    ability="export_person",
    response=SubjectAccessExport,
)
def export_person(person_id: int) -> SubjectAccessExport:
    """Everything your organisation holds on the person, as stored: the encounters it recorded or
    is party to, its cases, and the changes and audit entries its own users made (another
    organisation answers for its own). Audited as an export."""
    person = person_or_404(person_id)
    # Recorded first, so the export's own access log lists it.
    audit.record(
        db.session, current_user, "export", "person", person.id, detail="subject access export (api)"
    )
    return SubjectAccessExport(**subject_access(db.session, current_user, person))
