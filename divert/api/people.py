"""A person's encounters, and the subject access export of everything held on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_login import current_user
from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from divert.api import bp
from divert.api.encounters import decision_out
from divert.api.schemas import EncounterList, EncounterOut, SubjectAccessExport
from divert.api.spec import operation
from divert.app.extensions import db
from divert.auth import CASEWORKING
from divert.auth.refusal import not_found
from divert.auth.visibility import visible_people, visible_referrals
from divert.models import (
    AuditEntry,
    CaseContact,
    CaseFlag,
    ChangeRecord,
    Contract,
    Decision,
    Encounter,
    NeedsAssessment,
    Person,
    PersonMerge,
    ProgrammeVersion,
    Referral,
    ReferralEvent,
    audit,
)

EXPORTERS = frozenset({"supervisor", "admin"})


def person_or_404(person_id: int) -> Person:
    person = db.session.scalar(visible_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    return person


def _decisions(encounter_ids: list[int]) -> list[Decision]:
    return list(
        db.session.scalars(
            select(Decision)
            .options(joinedload(Decision.programme_version).joinedload(ProgrammeVersion.programme))
            .where(Decision.encounter_id.in_(encounter_ids))
            .order_by(Decision.id)
        )
    )


@operation(
    bp,
    "/people/<int:person_id>/encounters",
    summary="A person's encounters and the decisions made on them",
    roles=CASEWORKING,
    response=EncounterList,
)
def person_encounters(person_id: int) -> EncounterList:
    person = person_or_404(person_id)
    encounters = db.session.scalars(
        select(Encounter).where(Encounter.person_id == person.id).order_by(Encounter.occurred_at.desc())
    ).all()
    cases = {
        (r.encounter_id, r.programme_version_id): r
        for r in db.session.scalars(visible_referrals(current_user).where(Referral.person_id == person.id))
    }
    by_encounter: dict[int, list[Decision]] = {}
    for decision in _decisions([e.id for e in encounters]):
        by_encounter.setdefault(decision.encounter_id, []).append(decision)
    audit.record(db.session, "view", "person", person.id, detail="api: encounters")

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


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row(record: Any) -> dict[str, Any]:
    """Every stored column of a record: a subject access answer leaves nothing out."""
    return {attr.key: _plain(getattr(record, attr.key)) for attr in inspect(record).mapper.column_attrs}


def _rows(model: Any, *where: Any) -> list[dict[str, Any]]:
    return [row(r) for r in db.session.scalars(select(model).where(*where).order_by(model.id))]


def _by_referral(model: Any, referral_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every case's records of one kind, from one query for all the cases rather than one per case."""
    grouped: dict[int, list[dict[str, Any]]] = {referral_id: [] for referral_id in referral_ids}
    for record in _rows(model, model.referral_id.in_(referral_ids)):
        grouped[record["referral_id"]].append(record)
    return grouped


def _history(object_type: str, ids: list[int]) -> list[dict[str, Any]]:
    return _rows(ChangeRecord, ChangeRecord.object_type == object_type, ChangeRecord.object_id.in_(ids))


@operation(
    bp,
    "/people/<int:person_id>/export",
    summary="Subject access export: everything held on one person",
    roles=EXPORTERS,
    response=SubjectAccessExport,
)
def export_person(person_id: int) -> SubjectAccessExport:
    """Everything your organisation may see on the person, as stored. Audited as an export."""
    person = person_or_404(person_id)
    encounters = list(db.session.scalars(select(Encounter).where(Encounter.person_id == person.id)))
    referrals = list(
        db.session.scalars(
            visible_referrals(current_user).where(Referral.person_id == person.id).order_by(Referral.id)
        )
    )
    # Each kind of case record is read once for all the person's cases, so the number of queries
    # does not grow with the number of cases.
    ids = [r.id for r in referrals]
    events = _by_referral(ReferralEvent, ids)
    contacts = _by_referral(CaseContact, ids)
    needs = _by_referral(NeedsAssessment, ids)
    flags = _by_referral(CaseFlag, ids)
    contracts = {
        c.referral_id: c
        for c in db.session.scalars(
            select(Contract).options(selectinload(Contract.conditions)).where(Contract.referral_id.in_(ids))
        )
    }
    cases = []
    for referral in referrals:
        contract = contracts.get(referral.id)
        cases.append(
            {
                **row(referral),
                "events": events[referral.id],
                "contacts": contacts[referral.id],
                "needs_assessments": needs[referral.id],
                "flags": flags[referral.id],
                "contract": None
                if contract is None
                else {**row(contract), "conditions": [row(c) for c in contract.conditions]},
            }
        )
    audit.record(db.session, "export", "person", person.id, detail="subject access export (api)")
    return SubjectAccessExport(
        person=row(person),
        encounters=[row(e) for e in sorted(encounters, key=lambda e: e.id)],
        decisions=[row(d) for d in _decisions([e.id for e in encounters])],
        referrals=cases,
        change_history=_history("person", [person.id])
        + _history("encounter", [e.id for e in encounters])
        + _history("referral", [r.id for r in referrals]),
        merges=_rows(
            PersonMerge, or_(PersonMerge.survivor_id == person.id, PersonMerge.merged_id == person.id)
        ),
        # Who viewed, changed or exported this person's record (DPA 2018 s.62): theirs to see too.
        audit_log=_rows(
            AuditEntry, AuditEntry.object_type == "person", AuditEntry.object_id == str(person.id)
        ),
    )
