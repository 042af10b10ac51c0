"""Working a referred case: contacts and attendance, needs, the person's non-engagement decision, the end.

Each operation checks the programme definition, flushes, writes an event on the case's timeline and an audit
entry, and leaves the commit to the caller. Moves between states go through ``cases.transition`` so the
definition's roles and reasons are checked in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import today, uk_date
from divert.auth.policy import holds
from divert.models import (
    CaseContact,
    CaseFlag,
    CaseGoal,
    Contract,
    ContractCondition,
    NeedsAssessment,
    Referral,
    ReferralEvent,
    User,
    audit,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways import reminders
from divert.pathways.cases import transition
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.pathways.restriction import check_not_restricted
from divert.pathways.sweep import flag_at_once
from divert.rules import ProgrammeDefinition, allowed_transitions, limits
from divert.rules.codes import (
    ATTENDANCE,
    CONTACT_KINDS,
    EET_KINDS,
    GOAL_KINDS,
    GOAL_STATUSES,
    NEED_AREAS,
    NEED_LEVELS,
    VISIBILITIES,
    label,
    listed,
    phrase,
)
from divert.rules.completion import CompletionEvidence, Unmet, unmet_requirements
from divert.rules.engagement import ATTENDED_STATUSES
from divert.rules.pathway import case_roles

# Stages in which a case has been referred and is being worked: contacts and needs belong to these.
WORKED_STAGES = frozenset({"route", "engagement", "completion"})
ATTENDED = ATTENDED_STATUSES
EXIT_REASON_LENGTH = 60


def check_works_case(definition: ProgrammeDefinition, referral: Referral, actor: User, what: str) -> None:
    if referral.closed_at is not None:
        raise OperationError(f"This case is closed, so {what} cannot be recorded.")
    state = definition.state(referral.state)
    if state.stage not in WORKED_STAGES:
        raise OperationError(
            f"This case is '{state.name}' and has not been referred yet, so {what} cannot be recorded."
        )
    roles = case_roles(definition, referral.state)
    if actor.role not in roles:
        allowed = ", ".join(sorted(label(r) for r in roles))
        raise OperationError(
            f"Your role ({label(actor.role)}) does not work cases that are '{state.name}'. "
            f"Allowed: {allowed}."
        )


def add_event(
    session: Session,
    actor: User | None,
    referral: Referral,
    kind: str,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> ReferralEvent:
    """An event that records something on the case without moving it."""
    # Every reason on a timeline passes here: the widest limit, behind each operation's own.
    check_text("The reason", reason, limits.NOTE)
    if actor is not None:  # the system's own bookkeeping (the sweep) is not processing by a person
        check_not_restricted(referral.person)
    event = ReferralEvent(
        referral_id=referral.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        reason=reason,
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    return event


def add_note(
    session: Session, actor: User, referral: Referral, text: str, visibility: str = "team"
) -> ReferralEvent:
    """A case note: on the timeline for good, like every other event (a correction is a new note).

    A note is for the working team only unless its writer shares it with the referring force:
    DIVERT is voluntary and confidential, and what a person tells a coach is not police evidence.
    """
    definition = compiled(referral.programme_version)
    if actor.role not in case_roles(definition, referral.state) and not any(
        party.organisation_id == actor.organisation_id for party in referral.parties
    ):
        raise OperationError("Only people working this case can add notes to it.")
    text = (text or "").strip()
    if not text:
        raise OperationError("Enter the note")
    check_text("A note", text, limits.NOTE)
    if visibility not in VISIBILITIES:
        raise OperationError("Select who may read the note")
    event = add_event(session, actor, referral, "note", reason=text, data={"visibility": visibility})
    audit.record(session, actor, "update", "referral", referral.id, detail="note added")
    return event


def _aware_utc(moment: datetime | None) -> datetime:
    if moment is None:
        raise OperationError("Enter the date and time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time cannot be placed on the day, and attrition by time of day is reported.
        raise OperationError("The time must include a time zone")
    return moment.astimezone(UTC)


def schedule_contact(
    session: Session, actor: User, referral: Referral, *, kind: str, scheduled_at: datetime
) -> CaseContact:
    """Book a contact, session or meeting; its time is kept because drop-out by time of day is reported."""
    definition = compiled(referral.programme_version)
    if kind not in CONTACT_KINDS:
        raise OperationError(f"Select the kind of appointment: one of {', '.join(CONTACT_KINDS)}")
    when = _aware_utc(scheduled_at)
    check_works_case(definition, referral, actor, "a contact")
    clash = session.scalar(
        select(CaseContact.id).where(
            CaseContact.referral_id == referral.id,
            CaseContact.scheduled_at == when,
            CaseContact.attendance != "cancelled",
        )
    )
    if clash is not None:
        # Also what stops a form sent twice from booking the same appointment twice.
        raise OperationError("An appointment is already booked on this case at that time")
    contact = CaseContact(
        referral_id=referral.id, kind=kind, scheduled_at=when, attendance="scheduled", recorded_by_id=actor.id
    )
    session.add(contact)
    session.flush()
    add_event(
        session,
        actor,
        referral,
        "contact",
        data={"contact_id": contact.id, "contact_kind": kind, "scheduled_at": when.isoformat()},
    )
    audit.record(session, actor, "create", "case_contact", contact.id, detail=f"{kind} at {when.isoformat()}")
    reminders.write_for_contact(session, contact, moved=False)
    return contact


def move_contact(
    session: Session,
    actor: User,
    contact: CaseContact,
    *,
    scheduled_at: datetime,
    seen_version: int | None = None,
) -> CaseContact:
    """Move a booked appointment to another time: its queued reminders are replaced by the new time's."""
    if seen_version is not None and contact.version_id != seen_version:
        raise StaleEdit("appointment")
    referral = contact.referral
    when = _aware_utc(scheduled_at)
    check_works_case(compiled(referral.programme_version), referral, actor, "an appointment")
    if contact.attendance != "scheduled":
        raise OperationError(
            f"This {contact.kind} is already recorded as {contact.attendance}, so it cannot move"
        )
    if when == contact.scheduled_at:
        raise OperationError(f"The {contact.kind} is already booked at that time")
    if when <= utcnow():
        raise OperationError("Enter a time in the future to move the appointment to")
    clash = session.scalar(
        select(CaseContact.id).where(
            CaseContact.referral_id == referral.id,
            CaseContact.scheduled_at == when,
            CaseContact.attendance != "cancelled",
            CaseContact.id != contact.id,
        )
    )
    if clash is not None:
        raise OperationError("An appointment is already booked on this case at that time")
    previous = contact.scheduled_at
    contact.scheduled_at = when
    session.flush()
    add_event(
        session,
        actor,
        referral,
        "contact_moved",
        data={
            "contact_id": contact.id,
            "contact_kind": contact.kind,
            "from": previous.isoformat(),
            "scheduled_at": when.isoformat(),
        },
    )
    audit.record(session, actor, "update", "case_contact", contact.id, detail=f"moved to {when.isoformat()}")
    reminders.cancel_for_contact(session, contact, "appointment moved")
    reminders.write_for_contact(session, contact, moved=True)
    return contact


def record_attendance(
    session: Session,
    actor: User,
    contact: CaseContact,
    *,
    attendance: str,
    missed_reason: str = "",
    reason_acceptable: bool | None = None,
    notes: str = "",
    seen_version: int | None = None,
) -> CaseContact:
    """Record whether the person came. The first attendance moves a newly referred case into engagement."""
    if seen_version is not None and contact.version_id != seen_version:
        raise StaleEdit("appointment")
    referral = contact.referral
    definition = compiled(referral.programme_version)
    if attendance not in ATTENDANCE or attendance == "scheduled":
        raise OperationError("Select whether the person attended, was late, missed it or it was cancelled")
    missed_reason = (missed_reason or "").strip()
    check_text("Why it was missed", missed_reason, limits.SHORT_REASON)
    check_text("Notes", notes, limits.NOTES)
    if attendance == "missed":
        if not missed_reason:
            raise OperationError(f"Enter why the {contact.kind} was missed")
        if reason_acceptable is None:
            raise OperationError("Select whether the reason is acceptable")
    else:
        missed_reason, reason_acceptable = "", None
    if attendance != "cancelled" and contact.scheduled_at > utcnow():
        raise OperationError(f"The {contact.kind} has not happened yet, so attendance cannot be recorded")
    check_works_case(definition, referral, actor, "attendance")
    contact.attendance = attendance
    contact.missed_reason = missed_reason
    contact.reason_acceptable = reason_acceptable
    contact.notes = (notes or "").strip()
    contact.recorded_by_id = actor.id
    session.flush()
    # Whatever happened, reminders of it are no longer wanted (a cancellation above all).
    reminders.cancel_for_contact(session, contact, f"attendance: {attendance}")
    add_event(
        session,
        actor,
        referral,
        "attendance",
        reason=missed_reason,
        data={
            "contact_id": contact.id,
            "contact_kind": contact.kind,
            "scheduled_at": contact.scheduled_at.isoformat(),
            "attendance": attendance,
            "reason_acceptable": reason_acceptable,
        },
    )
    audit.record(session, actor, "update", "case_contact", contact.id, detail=f"attendance: {attendance}")
    if attendance in ATTENDED:
        _engage(session, actor, referral, definition, contact)
    else:
        # The second unacceptable miss is a flag now, not after tonight's sweep (same criteria, same key).
        flag_at_once(session, referral.id, today())
    return contact


def _engage(
    session: Session, actor: User, referral: Referral, definition: ProgrammeDefinition, contact: CaseContact
) -> ReferralEvent | None:
    # Where a programme has a contract, signing it is what engages the person, not the first meeting.
    if definition.contract is not None or definition.state(referral.state).stage != "route":
        return None
    for option in allowed_transitions(definition, referral.state, actor.role):
        if definition.state(option.to_state).stage == "engagement" and not option.reason_required:
            return transition(
                session, actor, referral, option.to_state, kind="engagement", data={"contact_id": contact.id}
            )
    return None


def need_areas(definition: ProgrammeDefinition) -> tuple[str, ...]:
    # A programme that declares its needs assessment names the areas it assesses (issue 14).
    if definition.needs_assessment is not None and definition.needs_assessment.areas:
        return definition.needs_assessment.areas
    if definition.contract is not None:
        for group in definition.contract.conditions:
            if group.options:
                return group.options
    # A programme without contract options works the pathway areas of the product brief.
    return NEED_AREAS


def record_needs_assessment(
    session: Session,
    actor: User,
    referral: Referral,
    *,
    assessed_on: date,
    needs: Sequence[Mapping[str, Any]],
    summary: str,
    visibility: str = "team",
) -> NeedsAssessment:
    """A needs assessment: each need is an area of the programme's pathways with a level."""
    definition = compiled(referral.programme_version)
    check_works_case(definition, referral, actor, "a needs assessment")
    if assessed_on is None:
        raise OperationError("Enter the date of the assessment")
    if assessed_on > today():
        raise OperationError("The date of the assessment must be today or in the past")
    areas = need_areas(definition)
    cleaned: list[dict[str, Any]] = []
    for need in needs:
        area = str(need.get("area") or "")
        level = str(need.get("level") or "")
        if area not in areas:
            raise OperationError(f"Choose each need from: {', '.join(phrase(a) for a in areas)}")
        if level not in NEED_LEVELS:
            raise OperationError(f"Select the level of the {phrase(area)} need: {listed(NEED_LEVELS)}")
        if any(existing["area"] == area for existing in cleaned):
            raise OperationError(f"Enter the {phrase(area)} need only once")
        cleaned.append({"area": area, "level": level, "notes": str(need.get("notes") or "").strip()})
    summary = (summary or "").strip()
    check_text("Summary", summary, limits.SUMMARY)
    if visibility not in VISIBILITIES:
        raise OperationError("Select who may read the assessment")
    if not cleaned and not summary:
        raise OperationError("Enter at least one need or a summary of the assessment")
    latest = session.scalar(
        select(NeedsAssessment)
        .where(NeedsAssessment.referral_id == referral.id)
        .order_by(NeedsAssessment.id.desc())
        .limit(1)
    )
    if latest is not None and (latest.assessed_on, latest.needs, latest.summary, latest.visibility) == (
        assessed_on,
        cleaned,
        summary,
        visibility,
    ):
        # The same form sent twice (a double click, a retry): one assessment, not two.
        return latest
    assessment = NeedsAssessment(
        referral_id=referral.id,
        assessed_on=assessed_on,
        needs=cleaned,
        summary=summary,
        assessed_by_id=actor.id,
        visibility=visibility,
    )
    session.add(assessment)
    session.flush()
    add_event(
        session,
        actor,
        referral,
        "needs_assessment",
        data={
            "needs_assessment_id": assessment.id,
            "areas": [n["area"] for n in cleaned],
            "visibility": visibility,
        },
    )
    audit.record(session, actor, "create", "needs_assessment", assessment.id)
    return assessment


def open_flags(session: Session, referral: Referral) -> list[CaseFlag]:
    return list(
        session.scalars(
            select(CaseFlag)
            .where(CaseFlag.referral_id == referral.id, CaseFlag.resolved_at.is_(None))
            .order_by(CaseFlag.id)
        )
    )


def _resolve(session: Session, actor: User, flags: Sequence[CaseFlag], resolution: str) -> None:
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.resolution = now, actor.id, resolution
    if flags:
        session.flush()
        for flag in flags:
            audit.record(session, actor, "update", "case_flag", flag.id, detail=f"resolved: {resolution}")


def escalation_decision(
    session: Session,
    actor: User,
    referral: Referral,
    option_id: str,
    reason: str,
    *,
    exit_reason: str | None = None,
    seen_version: int | None = None,
) -> ReferralEvent:
    """A person's decision on non-engagement: escalate, or try again with a revised plan. Never automatic.

    A case still being worked is first put under review (a separate event), so the timeline shows both the
    review and the decision; the open non-engagement flags are resolved with the decision's reason.
    """
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    definition = compiled(referral.programme_version)
    escalation = definition.escalation
    if escalation is None:
        raise OperationError(f"{definition.name} has no non-engagement decision to make.")
    option = next((o for o in escalation.options if o.id == option_id), None)
    if option is None:
        raise OperationError(f"Select what happens next: {' or '.join(o.label for o in escalation.options)}")
    if actor.role not in escalation.decided_by:
        allowed = ", ".join(label(r) for r in escalation.decided_by)
        raise OperationError(
            f"Your role ({label(actor.role)}) cannot make this decision. Allowed: {allowed}."
        )
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter a reason for the decision")
    check_text("Reason", reason, limits.REASON)
    if referral.closed_at is not None:
        raise OperationError("This case is closed, so no decision can be made on it.")
    target = definition.state(option.to_state)
    # A drop-out reason recorded earlier (when the person stopped coming) stands unless another is given.
    given = exit_reason or referral.exit_reason
    ending = _valid_exit_reason(definition, given, default=option.id) if target.terminal else None
    if referral.state != escalation.from_state:
        review = definition.state(escalation.from_state)
        if not any(
            t.from_state == referral.state and t.to_state == escalation.from_state
            for t in definition.transitions
        ):
            current = definition.state(referral.state).name
            raise OperationError(f"A case that is '{current}' cannot be put under review ('{review.name}').")
        transition(session, actor, referral, escalation.from_state, reason, kind="review")
    flags = open_flags(session, referral)
    event = transition(
        session,
        actor,
        referral,
        option.to_state,
        reason,
        kind="escalation",
        data={"option": option.id, "label": option.label, "flags": [f.id for f in flags]},
    )
    _resolve(session, actor, flags, f"{option.label}: {reason}")
    if ending is not None:
        _set_exit_reason(session, actor, referral, ending)
    return event


def completion_states(definition: ProgrammeDefinition) -> frozenset[str]:
    """The states that mean 'completed': terminal outcomes reached without a reason or an escalation.

    Failing a programme is always a reasoned move or an escalation option, so what is left is completion.
    """
    escalated = {o.to_state for o in definition.escalation.options} if definition.escalation else set()
    return frozenset(
        t.to_state
        for t in definition.transitions
        if not t.reason_required
        and t.to_state not in escalated
        and definition.state(t.to_state).terminal
        and definition.state(t.to_state).stage == "outcome"
    )


def completion_evidence(session: Session, referral: Referral) -> CompletionEvidence:
    """What the case has recorded towards completion: attendance, conditions met, the dates it runs by."""
    contacts = session.execute(
        select(CaseContact.attendance, CaseContact.reason_acceptable).where(
            CaseContact.referral_id == referral.id
        )
    ).all()
    attended = sum(1 for attendance, _ in contacts if attendance in ATTENDED)
    excused = sum(1 for attendance, acceptable in contacts if attendance == "missed" and acceptable)
    contract = session.scalar(select(Contract).where(Contract.referral_id == referral.id))
    conditions: tuple[tuple[str, bool], ...] = ()
    if contract is not None:
        met = {
            (event.data or {}).get("condition_id")
            for event in session.scalars(
                select(ReferralEvent).where(
                    ReferralEvent.referral_id == referral.id, ReferralEvent.kind == "condition_met"
                )
            )
        }
        current = session.scalars(
            select(ContractCondition)
            .where(ContractCondition.contract_id == contract.id, ContractCondition.removed_at.is_(None))
            .order_by(ContractCondition.id)
        )
        conditions = tuple((c.description, c.id in met) for c in current)
    definition = compiled(referral.programme_version)
    route_states = [s.id for s in definition.states if s.stage == "route"]
    referred_at = session.scalar(
        select(ReferralEvent.occurred_at)
        .where(
            ReferralEvent.referral_id == referral.id,
            ReferralEvent.to_state.in_(route_states),
            ReferralEvent.kind != "correction",
        )
        .order_by(ReferralEvent.occurred_at.desc(), ReferralEvent.id.desc())
        .limit(1)
    )
    return CompletionEvidence(
        on=today(),
        attended=attended,
        acceptable_absences=excused,
        conditions=conditions,
        referred_on=uk_date(referred_at) if referred_at is not None else None,
        contract_end=contract.ends_on if contract is not None else None,
    )


def completion_unmet(session: Session, referral: Referral) -> list[Unmet]:
    return unmet_requirements(compiled(referral.programme_version), completion_evidence(session, referral))


def _check_completion(
    session: Session, actor: User, referral: Referral, definition: ProgrammeDefinition, reason: str
) -> bool:
    """Refuse completion without its evidence; returns whether it is an early completion (time waived)."""
    unmet = completion_unmet(session, referral)
    if not unmet:
        return False
    blocking = [u for u in unmet if not u.waivable]
    early_by = definition.completion.early_by if definition.completion else ()
    if not blocking and actor.role in early_by:
        if not reason.strip():
            raise OperationError(
                f"{' '.join(u.reason for u in unmet)} Enter a reason to complete the case early."
            )
        return True
    text = " ".join(u.reason for u in unmet)
    if not blocking and early_by:
        allowed = ", ".join(label(r) for r in early_by)
        text += f" Only {allowed} can complete a case early, with a reason."
    raise OperationError(f"The case cannot be completed yet. {text}")


def complete(
    session: Session, actor: User, referral: Referral, reason: str = "", *, seen_version: int | None = None
) -> ReferralEvent:
    """Record completion; ``transition`` puts the state's Home Office outcome code on the referral.

    The programme's completion section is checked first: an Outcome 22 says the activity was done.
    """
    definition = compiled(referral.programme_version)
    done = completion_states(definition)
    targets = sorted({t.to_state for t in definition.transitions if t.from_state == referral.state} & done)
    if len(targets) != 1:
        current = definition.state(referral.state).name
        raise OperationError(f"A case that is '{current}' cannot be completed.")
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    early = _check_completion(session, actor, referral, definition, reason or "")
    flags = open_flags(session, referral)
    event = transition(
        session,
        actor,
        referral,
        targets[0],
        reason,
        seen_version=seen_version,
        kind="completion",
        data={"early": True} if early else None,
    )
    _resolve(session, actor, flags, "Completed")
    return event


def _valid_exit_reason(
    definition: ProgrammeDefinition, exit_reason: str | None, *, default: str | None
) -> str:
    exit_reason = (exit_reason or "").strip()
    if definition.drop_out_reasons:
        # Programmes that list reasons do so to report attrition by them, so one must be chosen.
        if exit_reason not in definition.drop_out_reasons:
            choices = ", ".join(phrase(r) for r in definition.drop_out_reasons)
            raise OperationError(f"Select why the person dropped out: {choices}")
        return exit_reason
    exit_reason = exit_reason or (default or "")
    if not exit_reason:
        raise OperationError("Enter why the case ended")
    if len(exit_reason) > EXIT_REASON_LENGTH:
        raise OperationError(f"Why the case ended must be {EXIT_REASON_LENGTH} characters or fewer")
    return exit_reason


def _set_exit_reason(session: Session, actor: User, referral: Referral, exit_reason: str) -> None:
    referral.exit_reason = exit_reason
    session.flush()
    audit.record(session, actor, "update", "referral", referral.id, detail=f"exit reason: {exit_reason}")


def record_drop_out(
    session: Session,
    actor: User,
    referral: Referral,
    *,
    exit_reason: str,
    to_state: str | None = None,
    note: str = "",
    seen_version: int | None = None,
) -> ReferralEvent:
    """Record why a case ended (or is ending) without completion, for attrition by reason.

    With ``to_state`` the case is also closed there (e.g. DIVERT's 'Closed, no longer engaging'); without it
    the reason is recorded on a case that is still open or already closed by another decision.
    """
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    definition = compiled(referral.programme_version)
    if referral.state in completion_states(definition):
        raise OperationError("This case was completed, so it has no drop-out reason.")
    exit_reason = _valid_exit_reason(definition, exit_reason, default=None)
    note = (note or "").strip()
    if to_state is not None:
        if to_state not in {s.id for s in definition.states if s.terminal} or to_state in completion_states(
            definition
        ):
            raise OperationError("Select a state that ends the case without completion.")
        flags = open_flags(session, referral)
        event = transition(
            session, actor, referral, to_state, note, kind="drop_out", data={"exit_reason": exit_reason}
        )
        _resolve(session, actor, flags, f"Case ended: {label(exit_reason)}")
    else:
        if referral.closed_at is None:
            check_works_case(definition, referral, actor, "a drop-out reason")
        else:
            closers = {r for t in definition.transitions if t.to_state == referral.state for r in t.roles}
            if actor.role not in closers and not holds(actor, "supervise_cases"):
                raise OperationError(f"Your role ({label(actor.role)}) cannot record why this case ended.")
        event = add_event(
            session, actor, referral, "drop_out", reason=note, data={"exit_reason": exit_reason}
        )
    _set_exit_reason(session, actor, referral, exit_reason)
    return event


def record_goal(
    session: Session,
    actor: User,
    referral: Referral,
    *,
    kind: str,
    placement: str,
    starts_on: date | None,
    status: str = "planned",
) -> CaseGoal:
    """A goal with its placement (provider, course or employer), so "into education, training or
    employment" is counted from what was recorded, not read out of a step's reason."""
    definition = compiled(referral.programme_version)
    check_works_case(definition, referral, actor, "a goal")
    if kind not in GOAL_KINDS:
        raise OperationError(f"Select the kind of goal: {listed(GOAL_KINDS)}")
    placement = (placement or "").strip()
    if not placement:
        raise OperationError("Enter the provider, course or employer")
    if len(placement) > 200:
        raise OperationError("The provider, course or employer must be 200 characters or fewer")
    goal = CaseGoal(
        referral_id=referral.id, kind=kind, placement=placement, starts_on=starts_on, recorded_by_id=actor.id
    )
    session.add(goal)
    session.flush()
    audit.record(session, actor, "create", "case_goal", goal.id)
    _goal_status(session, actor, referral, goal, status, new=True)
    return goal


def update_goal(
    session: Session, actor: User, goal: CaseGoal, status: str, *, seen_version: int | None = None
) -> CaseGoal:
    if seen_version is not None and goal.version_id != seen_version:
        raise StaleEdit("goal")
    referral = goal.referral
    check_works_case(compiled(referral.programme_version), referral, actor, "a goal")
    _goal_status(session, actor, referral, goal, status, new=False)
    return goal


def _goal_status(
    session: Session, actor: User, referral: Referral, goal: CaseGoal, status: str, *, new: bool
) -> None:
    if status not in GOAL_STATUSES:
        raise OperationError(f"Select how the placement stands: {listed(GOAL_STATUSES)}")
    if not new and status == goal.status:
        return
    goal.status = status
    if status in {"started", "completed"} and goal.started_at is None:
        goal.started_at = utcnow()
        if goal.kind in EET_KINDS and referral.into_eet_at is None:
            # The outcome the reports count: the first placement started in education, training
            # or employment. It stays reached if the placement later falls through.
            referral.into_eet_at = goal.started_at
    session.flush()
    add_event(
        session,
        actor,
        referral,
        "goal",
        reason=f"{label(goal.kind)}: {goal.placement} ({label(status).lower()})",
        data={"goal_id": goal.id, "kind": goal.kind, "status": status},
    )
    if not new:
        audit.record(session, actor, "update", "case_goal", goal.id, detail=f"status: {status}")
