"""The subject access export: everything an organisation holds on one person, as stored.

Built here so the API (JSON) and the page (JSON and PDF) give the same answer. The caller has
already checked the person is one the actor may see, and audits the export with its reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from divert.app.clock import uk_date
from divert.auth.visibility import (
    colleagues,
    hidden_from,
    holds_person,
    visible_encounters,
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
    PersonShare,
    ProgrammeVersion,
    Referral,
    ReferralConsent,
    ReferralEvent,
    User,
)

SECTIONS = (
    "person",
    "encounters",
    "decisions",
    "referrals",
    "change_history",
    "merges",
    "shared_with",
    "audit_log",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row(record: Any) -> dict[str, Any]:
    """Every stored column of a record: a subject access answer leaves nothing out."""
    return {attr.key: _plain(getattr(record, attr.key)) for attr in inspect(record).mapper.column_attrs}


def decisions_of(session: Session, encounter_ids: list[int]) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .options(joinedload(Decision.programme_version).joinedload(ProgrammeVersion.programme))
            .where(Decision.encounter_id.in_(encounter_ids))
            .order_by(Decision.id)
        )
    )


def _status(person: Person) -> dict[str, str]:
    """Said in words on an anonymised or restricted record (issue 17), so a reader of the export
    knows why names and free text are missing, or why nothing has moved on."""
    notes = []
    if person.anonymised_at is not None:
        notes.append(
            f"This record was anonymised on {uk_date(person.anonymised_at).isoformat()} under the retention "
            "rules: names, date of birth (now an age band), PNC ID, postcode district (now its area) and "
            "free text were removed."
        )
    if person.restricted_at is not None:
        notes.append(
            "Processing of this record has been restricted since "
            f"{uk_date(person.restricted_at).isoformat()}."
        )
    return {"note": " ".join(notes)} if notes else {}


def subject_access(session: Session, actor: User, person: Person) -> dict[str, Any]:
    """Everything ``actor``'s organisation holds on ``person``: the encounters it recorded or is
    party to, its cases, and the changes and audit entries its own users made (another
    organisation answers for its own)."""

    def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
        return [row(r) for r in session.scalars(select(model).where(*where).order_by(model.id))]

    def by_referral(model: Any, referral_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        # One query for all the cases rather than one per case.
        grouped: dict[int, list[dict[str, Any]]] = {referral_id: [] for referral_id in referral_ids}
        for record in rows(model, model.referral_id.in_(referral_ids)):
            grouped[record["referral_id"]].append(record)
        return grouped

    def history(object_type: str, ids: list[int], author: Any = None) -> list[dict[str, Any]]:
        where = [ChangeRecord.object_type == object_type, ChangeRecord.object_id.in_(ids)]
        if author is not None:
            where.append(author.in_(colleagues(actor)))
        return rows(ChangeRecord, *where)

    held = holds_person(actor, person)
    encounters = list(session.scalars(visible_encounters(actor).where(Encounter.person_id == person.id)))
    referrals = list(
        session.scalars(
            visible_referrals(actor)
            # The parties say whether the reader works each case (notes withheld): one query for all.
            .options(selectinload(Referral.parties))
            .where(Referral.person_id == person.id)
            .order_by(Referral.id)
        )
    )
    ids = [r.id for r in referrals]
    events = by_referral(ReferralEvent, ids)
    contacts = by_referral(CaseContact, ids)
    needs = by_referral(NeedsAssessment, ids)
    flags = by_referral(CaseFlag, ids)
    # The person's consent to each referral and sharing, and its withdrawal (issue 17).
    consents = by_referral(ReferralConsent, ids)
    contracts = {
        c.referral_id: c
        for c in session.scalars(
            select(Contract).options(selectinload(Contract.conditions)).where(Contract.referral_id.in_(ids))
        )
    }
    cases = []
    for referral in referrals:
        contract = contracts.get(referral.id)
        if not works_with_team(actor, referral):
            # The referring force answers for what it holds: status, progress and outcome, not the
            # content of notes and needs assessments kept to the working team.
            for event in events[referral.id]:
                if hidden_from(actor, referral, event["kind"], event["data"]):
                    event["reason"], event["data"] = "", {}
            needs[referral.id] = [n for n in needs[referral.id] if n["visibility"] == "shared"]
        cases.append(
            {
                **row(referral),
                "events": events[referral.id],
                "contacts": contacts[referral.id],
                "needs_assessments": needs[referral.id],
                "flags": flags[referral.id],
                "consents": consents[referral.id],
                "contract": None
                if contract is None
                else {**row(contract), "conditions": [row(c) for c in contract.conditions]},
            }
        )
    return {
        "person": {**row(person), **_status(person)},
        "encounters": [row(e) for e in sorted(encounters, key=lambda e: e.id)],
        "decisions": [row(d) for d in decisions_of(session, [e.id for e in encounters])],
        "referrals": cases,
        "change_history": history("person", [person.id], None if held else ChangeRecord.user_id)
        + history("encounter", [e.id for e in encounters])
        + history("referral", [r.id for r in referrals]),
        # Other forces the holder shared the record with, when and under which agreement (issue 17).
        "shared_with": rows(PersonShare, PersonShare.person_id == person.id) if held else [],
        # Merges are the holder's: only it merges its records.
        "merges": rows(
            PersonMerge, or_(PersonMerge.survivor_id == person.id, PersonMerge.merged_id == person.id)
        )
        if held
        else [],
        # Who in this organisation viewed, changed or exported this person's record (DPA 2018
        # s.62): theirs to see too. Entries divert itself wrote (no user) go with the record.
        "audit_log": rows(
            AuditEntry,
            AuditEntry.object_type == "person",
            AuditEntry.object_id == str(person.id),
            or_(AuditEntry.user_id.in_(colleagues(actor)), AuditEntry.user_id.is_(None))
            if held
            else AuditEntry.user_id.in_(colleagues(actor)),
        ),
    }
