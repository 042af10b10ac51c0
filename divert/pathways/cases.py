"""Opening cases from encounters, deciding, overriding, and moving a case along its pathway.

Every operation checks the programme definition (allowed transitions, roles, reasons), flushes,
writes an event on the case's timeline and an audit entry, and leaves the commit to the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date
from divert.auth.policy import can, holds, roles_with
from divert.models import (
    Decision,
    Encounter,
    Programme,
    Referral,
    ReferralEvent,
    ReferralParty,
    User,
    audit,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways import notices, reminders
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.pathways.facts import encounter_facts, facts_from_dict, facts_to_dict
from divert.pathways.programmes import programmes_run_by, receiving_organisation, version_in_force
from divert.rules import Decision as RuleDecision
from divert.rules import EncounterFacts, State, TransitionError, check_transition, decide, limits
from divert.rules.codes import label
from divert.rules.pathway import acting_roles

# Who may set a rule decision aside. A force can widen this; the rules themselves never change.


@dataclass(frozen=True)
class Outcome:
    """What recording an encounter produced for one programme."""

    programme: Programme
    decision: Decision
    referral: Referral | None


def reference_for(programme_code: str, encounter_id: int) -> str:
    initials = "".join(part[0] for part in programme_code.split("-")).upper()
    return f"{initials}-{encounter_id:07d}"


def record_encounter(
    session: Session, actor: User, encounter: Encounter, *, opened_at: datetime | None = None
) -> list[Outcome]:
    """Store an encounter and decide it against every programme the officer's force runs.

    Every encounter is kept, eligible or not, because monitoring asks who was *not* offered
    diversion. A case is opened for each programme the person is eligible for (``opened_at``:
    when, if not now, for history recorded afterwards such as the demo's).
    """
    session.add(encounter)  # no-op when the caller already added it
    session.flush()
    audit.record(session, actor, "create", "encounter", encounter.id)
    _note_rearrest(session, actor, encounter)
    programmes = programmes_run_by(session, encounter.organisation_id, uk_date(encounter.occurred_at))
    # The facts depend only on the encounter and earlier history, so every programme shares them.
    facts = encounter_facts(session, encounter) if programmes else None
    return [
        decide_for(session, actor, encounter, programme, facts, opened_at=opened_at)
        for programme in programmes
    ]


def _note_rearrest(session: Session, actor: User | None, encounter: Encounter) -> None:
    """A new encounter while the person's case is open is a re-arrest for that case: DIVERT reports
    it as an outcome, and it never changes the case's state (the scheme runs beside the criminal case)."""
    live = session.scalars(
        select(Referral)
        .join(Encounter, Encounter.id == Referral.encounter_id)
        .where(
            Referral.person_id == encounter.person_id,
            Referral.closed_at.is_(None),
            Referral.encounter_id != encounter.id,
            Encounter.occurred_at <= encounter.occurred_at,
        )
    ).all()
    for referral in live:
        if referral.rearrested_at is None:
            referral.rearrested_at = encounter.occurred_at
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                actor_id=actor.id if actor else None,
                kind="rearrest",
                reason="A new encounter was recorded for the person while this case was open.",
                data={"encounter_id": encounter.id},
            )
        )
    session.flush()


def decide_for(
    session: Session,
    actor: User | None,
    encounter: Encounter,
    programme: Programme,
    facts: EncounterFacts | None = None,
    *,
    opened_at: datetime | None = None,
) -> Outcome:
    version = version_in_force(session, programme, encounter.occurred_at.date())
    facts = facts or encounter_facts(session, encounter)
    result = decide(compiled(version), facts)
    decision = Decision(
        encounter_id=encounter.id,
        programme_version_id=version.id,
        eligible=result.eligible,
        route=result.route,
        reasons=result.to_dict()["reasons"],
        facts=facts_to_dict(facts),
        decided_by_id=actor.id if actor else None,
    )
    session.add(decision)
    session.flush()
    referral = (
        _open_case(session, actor, encounter, programme, decision, opened_at) if result.eligible else None
    )
    return Outcome(programme, decision, referral)


def replay(decision: Decision) -> RuleDecision:
    """Decide again from the stored facts with the stored version: must equal what was recorded."""
    return decide(compiled(decision.programme_version), facts_from_dict(decision.facts))


def _open_case(
    session: Session,
    actor: User | None,
    encounter: Encounter,
    programme: Programme,
    decision: Decision,
    opened_at: datetime | None = None,
) -> Referral:
    opened_at = opened_at or utcnow()
    definition = compiled(decision.programme_version)
    initial = definition.initial_state.id
    eligible_state = definition.on_decision["eligible"]
    referral = Referral(
        reference=reference_for(programme.code, encounter.id),
        person_id=encounter.person_id,
        encounter_id=encounter.id,
        programme_id=programme.id,
        programme_version_id=decision.programme_version_id,
        state=eligible_state,
        route=decision.route,
        decision_id=decision.id,
        assigned_user_id=None,
        opened_at=opened_at,
    )
    # The organisation that recorded the encounter: the force, or for a referral that came without
    # an officer (``referral_source``), the team that took the person in.
    recorder = "receiving" if encounter.referral_source else "police"
    referral.parties.append(ReferralParty(organisation_id=encounter.organisation_id, role=recorder))
    session.add(referral)
    session.flush()
    _add_acting_parties(session, referral, eligible_state)
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            actor_id=actor.id if actor else None,
            kind="decision",
            occurred_at=opened_at,
            from_state=initial,
            to_state=eligible_state,
            reason=" ".join(r["text"] for r in decision.reasons if r["passed"]),
            data={"decision_id": decision.id, "route": decision.route},
        )
    )
    session.flush()
    audit.record(session, actor, "create", "referral", referral.id)
    return referral


def transition(
    session: Session,
    actor: User,
    referral: Referral,
    to_state: str,
    reason: str = "",
    *,
    seen_version: int | None = None,
    occurred_at: datetime | None = None,
    kind: str = "transition",
    data: dict[str, Any] | None = None,
) -> ReferralEvent:
    """Move a case to ``to_state`` if its programme allows it, for this role, with any reason it needs."""
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    definition = compiled(referral.programme_version)
    reason = (reason or "").strip()
    check_text("Reason", reason, limits.REASON)
    try:
        check_transition(definition, referral.state, to_state, actor.role, reason or None)
    except TransitionError as error:
        raise OperationError(str(error)) from None
    return _move(session, actor, referral, to_state, reason, kind=kind, occurred_at=occurred_at, data=data)


def _move(
    session: Session,
    actor: User | None,
    referral: Referral,
    to_state: str,
    reason: str,
    *,
    kind: str,
    occurred_at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> ReferralEvent:
    target = compiled(referral.programme_version).state(to_state)
    event = ReferralEvent(
        referral_id=referral.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        from_state=referral.state,
        to_state=to_state,
        reason=reason,
        occurred_at=occurred_at or utcnow(),
        data=data or {},
    )
    referral.state = to_state
    _add_acting_parties(session, referral, to_state)
    milestone = milestone_for(target)
    if milestone and getattr(referral, milestone) is None:
        setattr(referral, milestone, event.occurred_at)
        event.data = {**event.data, "milestone": milestone}
    if target.terminal:
        referral.closed_at = event.occurred_at
        referral.outcome_code = target.outcome_code
        reminders.cancel_for_case(session, referral.id, "case closed")
    else:
        referral.closed_at = None
        referral.outcome_code = None
    session.add(event)
    session.flush()
    audit.record(
        session, actor, "update", "referral", referral.id, detail=f"{kind}: {event.from_state} -> {to_state}"
    )
    return event


def milestone_for(state: State) -> str | None:
    """The monitoring decision point that entering ``state`` reaches, if any."""
    if state.result is not None:
        return f"{state.result}_at"
    if state.terminal:
        return None
    return {"offer": "offered_at", "route": "accepted_at", "engagement": "engaged_at"}.get(state.stage)


def _add_acting_parties(session: Session, referral: Referral, state: str) -> None:
    """Make party to the case every organisation whose role must act on ``state``, so no one is
    asked to act on a case they cannot see.

    The definition names the roles that move a case on from each state; the programme's operators
    name the organisations: the recording force holds the roles that record encounters, and the
    route's receiving organisation holds the rest (a DIVERT coach offers at "eligible", before any
    referral, so the coaches' organisation is party from the start).
    """
    definition = compiled(referral.programme_version)
    if not acting_roles(definition, state) - roles_with("record_encounter"):
        return
    routes: list[str | None] = [route.id for route in definition.routes if route.enters == state]
    on = uk_date(referral.encounter.occurred_at)
    for route in routes or [referral.route]:
        receiver = receiving_organisation(session, referral.programme, route, on)
        if receiver is not None and receiver not in {p.organisation_id for p in referral.parties}:
            referral.parties.append(ReferralParty(organisation_id=receiver, role="receiving"))
            notices.new_referral(session, referral, receiver, cause=f"org{receiver}")


def take_in(session: Session, actor: User, referral: Referral, source: str) -> ReferralEvent:
    """A referral without an officer (the person came forward, or someone referred them): the
    offer and the acceptance happened before the coach recorded it, so the case starts at the
    programme's first engagement state, with those decision points reached now."""
    definition = compiled(referral.programme_version)
    target = next((s for s in definition.states if s.stage == "engagement"), None)
    if target is None:
        raise OperationError(f"{definition.name} has no engagement stage to take people in at.")
    event = _move(
        session, actor, referral, target.id, label_for_source(source), kind="intake", data={"source": source}
    )
    for milestone in ("offered_at", "accepted_at", "engaged_at"):
        if getattr(referral, milestone) is None:
            setattr(referral, milestone, event.occurred_at)
    session.flush()
    return event


def label_for_source(source: str) -> str:
    return f"Taken in directly: {label(source)}."


def offer(
    session: Session,
    actor: User,
    referral: Referral,
    offered: bool,
    reason: str = "",
    *,
    occurred_at: datetime | None = None,
) -> ReferralEvent:
    """The officer's decision: offer diversion, or not (which needs a reason)."""
    state = _state_in_stage(referral, "offer", positive=offered)
    return transition(session, actor, referral, state, reason, occurred_at=occurred_at)


def respond(
    session: Session,
    actor: User,
    referral: Referral,
    accepted: bool,
    reason: str = "",
    exit_reason: str | None = None,
    *,
    occurred_at: datetime | None = None,
) -> ReferralEvent:
    """The person's answer. Accepting is the referral: the case enters its route's first state."""
    if accepted:
        if referral.route is None:
            raise OperationError("This case has no route, so it cannot be referred.")
        entry = compiled(referral.programme_version).route(referral.route).enters
        return transition(session, actor, referral, entry, reason, occurred_at=occurred_at)
    state = _state_in_stage(referral, "acceptance", positive=False)
    event = transition(session, actor, referral, state, reason, occurred_at=occurred_at)
    referral.exit_reason = exit_reason or "declined"
    session.flush()
    return event


def _state_in_stage(referral: Referral, stage: str, *, positive: bool) -> str:
    """The state reachable from here in ``stage``: the terminal one for a 'no', the other for a 'yes'."""
    definition = compiled(referral.programme_version)
    for transition_ in definition.transitions:
        if transition_.from_state != referral.state:
            continue
        state = definition.state(transition_.to_state)
        if state.stage == stage and state.terminal is not positive:
            return state.id
    raise OperationError(
        f"A case that is '{definition.state(referral.state).name}' cannot be changed this way."
    )


def override_decision(
    session: Session, actor: User, decision: Decision, *, eligible: bool, route: str | None, reason: str
) -> Decision:
    """Set a rule decision aside with a reason; the original stays, and the case follows the new one."""
    if not holds(actor, "override_decision"):
        raise OperationError("Only a supervisor can override a decision.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter a reason for overriding the decision")
    definition = compiled(decision.programme_version)
    if eligible and route not in {r.id for r in definition.routes}:
        raise OperationError(f"Select a route: one of {', '.join(r.id for r in definition.routes)}")
    current = session.scalar(
        select(Decision).where(Decision.overrides_id == decision.id).order_by(Decision.id.desc()).limit(1)
    )
    if current is not None:
        raise OperationError(
            "This decision has already been overridden; override the latest decision instead."
        )
    replacement = Decision(
        encounter_id=decision.encounter_id,
        programme_version_id=decision.programme_version_id,
        eligible=eligible,
        route=route if eligible else None,
        reasons=[
            *decision.reasons,
            {"rule_id": "override", "text": f"Overridden by {actor.name}: {reason}", "passed": eligible},
        ],
        facts=decision.facts,
        decided_by_id=actor.id,
        overrides_id=decision.id,
        override_reason=reason,
    )
    session.add(replacement)
    session.flush()
    audit.record(
        session, actor, "update", "decision", decision.id, detail=f"overridden by decision {replacement.id}"
    )
    case = session.scalar(select(Referral).where(Referral.decision_id == decision.id))
    encounter = session.get(Encounter, decision.encounter_id)
    assert encounter is not None
    programme = decision.programme_version.programme
    if case is None:
        if eligible:
            _open_case(session, actor, encounter, programme, replacement)
        return replacement
    if compiled(case.programme_version).state(case.state).stage not in {"encounter", "eligibility"}:
        raise OperationError("The case has moved on since this decision. Correct its later steps first.")
    case.decision_id = replacement.id
    case.route = replacement.route
    target = definition.on_decision["eligible" if eligible else "not_eligible"]
    if target != case.state:
        _move(session, actor, case, target, reason, kind="override", data={"decision_id": replacement.id})
    else:
        session.flush()
    return replacement


def correct_last_step(
    session: Session, actor: User, referral: Referral, reason: str, *, seen_version: int | None = None
) -> ReferralEvent:
    """Undo a mistaken step by recording its reversal; nothing on the timeline is removed.

    ``seen_version`` matters here: a correction sent twice must not undo the step before too.
    """
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    if not can(actor, "correct_step", referral):
        raise OperationError("Only a supervisor or administrator can correct a case.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter a reason for the correction")
    last = session.scalar(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id, ReferralEvent.to_state.is_not(None))
        .order_by(ReferralEvent.id.desc())
        .limit(1)
    )
    if last is None or last.from_state is None or last.kind == "decision":
        raise OperationError("There is no step to correct on this case.")
    if last.to_state != referral.state:
        raise OperationError(
            "The case's state does not match its last step; it cannot be corrected automatically."
        )
    undone = last.data.get("milestone")
    if undone:
        # The mistaken step is the one that reached this decision point, so it was never reached.
        setattr(referral, undone, None)
    return _move(
        session, actor, referral, last.from_state, reason, kind="correction", data={"corrects_event": last.id}
    )
