"""A person's encounters, and the subject access export of everything held on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from divert.api import bp
from divert.api.encounters import decision_out
from divert.api.schemas import EncounterList, EncounterOut, SubjectAccessExport
from divert.api.spec import operation
from divert.app.extensions import db
from divert.auth.visibility import (
    colleagues,
    hidden_from,
    holds_person,
    visible_encounters,
    visible_people,
    visible_referrals,
    works_with_team,
)
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


def person_or_404(person_id: int) -> Person:
    person = db.session.scalar(visible_people(current_user).where(Person.id == person_id))
    if person is None:
        abort(404)
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
    for decision in _decisions([e.id for e in encounters]):
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


def _history(object_type: str, ids: list[int], author: Any = None) -> list[dict[str, Any]]:
    """Change records of these objects; with ``author`` (a user id column), only those written by
    the user's organisation."""
    where = [ChangeRecord.object_type == object_type, ChangeRecord.object_id.in_(ids)]
    if author is not None:
        where.append(author.in_(colleagues(current_user)))
    return _rows(ChangeRecord, *where)


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
    held = holds_person(current_user, person)
    encounters = list(
        db.session.scalars(visible_encounters(current_user).where(Encounter.person_id == person.id))
    )
    referrals = list(
        db.session.scalars(
            visible_referrals(current_user)
            # The parties say whether the reader works each case (notes withheld): one query for all.
            .options(selectinload(Referral.parties))
            .where(Referral.person_id == person.id)
            .order_by(Referral.id)
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
        if not works_with_team(current_user, referral):
            # The referring force answers for what it holds: status, progress and outcome, not the
            # content of notes and needs assessments kept to the working team.
            for event in events[referral.id]:
                if hidden_from(current_user, referral, event["kind"], event["data"]):
                    event["reason"], event["data"] = "", {}
            needs[referral.id] = [n for n in needs[referral.id] if n["visibility"] == "shared"]
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
    audit.record(
        db.session, current_user, "export", "person", person.id, detail="subject access export (api)"
    )
    return SubjectAccessExport(
        person=row(person),
        encounters=[row(e) for e in sorted(encounters, key=lambda e: e.id)],
        decisions=[row(d) for d in _decisions([e.id for e in encounters])],
        referrals=cases,
        change_history=_history("person", [person.id], None if held else ChangeRecord.user_id)
        + _history("encounter", [e.id for e in encounters])
        + _history("referral", [r.id for r in referrals]),
        # Merges are the holder's: only it merges its records.
        merges=_rows(
            PersonMerge, or_(PersonMerge.survivor_id == person.id, PersonMerge.merged_id == person.id)
        )
        if held
        else [],
        # Who in this organisation viewed, changed or exported this person's record (DPA 2018
        # s.62): theirs to see too. Entries divert itself wrote (no user) go with the record.
        audit_log=_rows(
            AuditEntry,
            AuditEntry.object_type == "person",
            AuditEntry.object_id == str(person.id),
            or_(AuditEntry.user_id.in_(colleagues(current_user)), AuditEntry.user_id.is_(None))
            if held
            else AuditEntry.user_id.in_(colleagues(current_user)),
        ),
    )
