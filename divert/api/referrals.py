"""A referral's status, due dates and history, and the steps, contacts and attendance that change it."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from divert.api import bp
from divert.api.errors import FieldProblem, Invalid
from divert.api.schemas import (
    AttendanceIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    DueOut,
    EventOut,
    ReferralOut,
    StepIn,
    StepOut,
)
from divert.api.spec import operation
from divert.app.extensions import db
from divert.auth.refusal import not_found
from divert.auth.sharing import shown_categories
from divert.auth.visibility import hidden_from, visible_referrals
from divert.models import CaseContact, Contract, NeedsAssessment, Referral, ReferralEvent, audit
from divert.models.programme import compiled
from divert.pathways.casework import open_flags, record_attendance, schedule_contact
from divert.pathways.deadlines import due_dates
from divert.pathways.errors import StaleEdit
from divert.pathways.sharing import consents
from divert.pathways.steps import next_steps, take_step
from divert.rules.sharing import CATEGORIES


def referral_or_404(referral_id: int) -> Referral:
    referral = db.session.scalar(
        visible_referrals(current_user)
        # The person says who holds the case (what is shared with the reader): read with it.
        .options(joinedload(Referral.programme), joinedload(Referral.person))
        .where(Referral.id == referral_id)
    )
    if referral is None:
        not_found(db.session, Referral, referral_id, "referral")
    return referral


def contact_out(contact: CaseContact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        kind=contact.kind,
        scheduled_at=contact.scheduled_at,
        attendance=contact.attendance,
        version=contact.version_id,
    )


def referral_out(referral: Referral) -> ReferralOut:
    definition = compiled(referral.programme_version)
    events = db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
    ).all()
    contacts = db.session.scalars(
        select(CaseContact).where(CaseContact.referral_id == referral.id).order_by(CaseContact.scheduled_at)
    ).all()
    contract = db.session.scalar(select(Contract).where(Contract.referral_id == referral.id))
    needs = db.session.scalar(
        select(NeedsAssessment).where(NeedsAssessment.referral_id == referral.id).limit(1)
    )
    # The programme's deadlines (as on the case page), then any open flags with their dates.
    due = [
        DueOut(kind="deadline", detail=f"{d.label}: {d.status.lower()}", due_on=d.due_on)
        for d in (
            due_dates(referral, definition, contacts, needs, contract) if referral.closed_at is None else []
        )
    ]
    due += [DueOut(kind=f.kind, detail=f.detail, due_on=f.due_on) for f in open_flags(db.session, referral)]
    shown = shown_categories(current_user, referral)
    outcome = "outcome" in shown
    return ReferralOut(
        id=referral.id,
        reference=referral.reference,
        programme=referral.programme.code,
        person_id=referral.person_id if "identity" in shown else None,
        shared=[c for c in CATEGORIES if c in shown],
        consents=[
            ConsentOut(
                id=c.id,
                kind=c.kind,
                organisation_id=c.organisation_id,
                given_at=c.given_at,
                withdrawn_at=c.withdrawn_at,
            )
            for c in (consents(db.session, referral) if definition.consent else [])
        ],
        state=referral.state,
        state_name=definition.state(referral.state).name,
        route=referral.route,
        version=referral.version_id,
        opened_at=referral.opened_at,
        closed_at=referral.closed_at,
        exit_reason=referral.exit_reason if outcome else None,
        milestones={
            "offered_at": referral.offered_at,
            "accepted_at": referral.accepted_at,
            "engaged_at": referral.engaged_at,
            "completed_at": referral.completed_at if outcome else None,
            "escalated_at": referral.escalated_at if outcome else None,
            "into_eet_at": referral.into_eet_at if outcome else None,
            "rearrested_at": referral.rearrested_at if outcome else None,
        },
        due=due,
        next_steps=[
            StepOut(to_state=s.to_state, label=s.label, reason_required=s.reason_required)
            for s in next_steps(referral, current_user.role)
        ],
        contacts=[contact_out(c) for c in contacts],
        events=[
            EventOut(
                id=e.id,
                kind=e.kind,
                occurred_at=e.occurred_at,
                from_state=e.from_state,
                to_state=e.to_state,
                # The referring force sees that a note was written, not what it says.
                reason="" if hidden_from(current_user, referral, e.kind, e.data) else e.reason,
                reason_code=None if hidden_from(current_user, referral, e.kind, e.data) else e.reason_code,
                data={} if hidden_from(current_user, referral, e.kind, e.data) else e.data or {},
            )
            for e in events
        ],
    )


@operation(
    bp,
    "/referrals/<int:referral_id>",
    summary="A referral's status, milestones, due dates and timeline",
    ability="view_people",
    response=ReferralOut,
)
def get_referral(referral_id: int) -> ReferralOut:
    """Send ``version`` back with a step so that a stale read is refused (409)."""
    referral = referral_or_404(referral_id)
    audit.record(db.session, current_user, "view", "referral", referral.id, detail="api")
    return referral_out(referral)


@operation(
    bp,
    "/referrals/<int:referral_id>/steps",
    method="POST",
    summary="Take the next step on a referral",
    ability="work_case",
    body=StepIn,
    response=ReferralOut,
    errors=(409,),
    idempotent=True,
)
def take_referral_step(referral_id: int, body: StepIn) -> ReferralOut:
    """The same steps as the case page; ``to_state`` is one of the referral's ``next_steps``."""
    referral = referral_or_404(referral_id)
    states = {state.id for state in compiled(referral.programme_version).states}
    if body.to_state not in states:
        raise Invalid([FieldProblem("to_state", "Choose one of the referral's next steps")])
    try:
        take_step(
            db.session,
            current_user,
            referral,
            body.to_state,
            body.reason,
            exit_reason=body.exit_reason,
            seen_version=body.version,
            reason_code=body.reason_code,
        )
        # Flushed here so that a step committed meanwhile (the version column) is answered as
        # the conflict it is, with what changed, rather than at the request's commit.
        db.session.flush()
    except (StaleEdit, StaleDataError):
        raise _stale_case(referral_id) from None
    return referral_out(referral)


def _stale_case(referral_id: int) -> StaleEdit:
    """The conflict, saying what the case is now: read again after the failed change is undone."""
    db.session.rollback()
    referral = referral_or_404(referral_id)
    state = compiled(referral.programme_version).state(referral.state).name
    latest = db.session.scalar(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id.desc())
        .limit(1)
    )
    changed = f"The case is now '{state}' at version {referral.version_id}."
    if latest is not None:
        what = latest.kind.replace("_", " ")
        changed += f" The latest change was a {what} at {latest.occurred_at.isoformat()}."
    return StaleEdit("case", changed)


@operation(
    bp,
    "/referrals/<int:referral_id>/contacts",
    method="POST",
    status=201,
    summary="Book a contact, session or meeting",
    ability="work_case",
    body=ContactIn,
    response=ContactOut,
    idempotent=True,
)
def book_contact(referral_id: int, body: ContactIn) -> ContactOut:
    referral = referral_or_404(referral_id)
    contact = schedule_contact(
        db.session, current_user, referral, kind=body.kind, scheduled_at=body.scheduled_at
    )
    return contact_out(contact)


@operation(
    bp,
    "/contacts/<int:contact_id>/attendance",
    method="POST",
    summary="Record whether the person attended",
    ability="work_case",
    body=AttendanceIn,
    response=ContactOut,
    errors=(409,),
    idempotent=True,
)
def record_contact_attendance(contact_id: int, body: AttendanceIn) -> ContactOut:
    contact = db.session.get(CaseContact, contact_id)
    if contact is None:
        abort(404)
    referral_or_404(contact.referral_id)  # the contact is visible only through its case
    try:
        record_attendance(
            db.session,
            current_user,
            contact,
            attendance=body.attendance,
            missed_reason=body.missed_reason,
            reason_acceptable=body.reason_acceptable,
            notes=body.notes,
            seen_version=body.version,
        )
        db.session.flush()
    except (StaleEdit, StaleDataError):
        db.session.rollback()
        fresh = db.session.get_one(CaseContact, contact_id)
        raise StaleEdit(
            "appointment",
            f"Its attendance is now '{fresh.attendance or 'not recorded'}' at version {fresh.version_id}.",
        ) from None
    return contact_out(contact)
