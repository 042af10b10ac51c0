"""Opening cases from encounters, deciding, overriding, and moving a case along its pathway.

Every operation checks the programme definition (allowed transitions, roles, reasons), flushes,
writes an event on the case's timeline and an audit entry, and leaves the commit to the request.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from divert.app.clock import uk_date
from divert.auth.policy import can, holds, roles_with
from divert.models import (
    CaseFlag,
    Decision,
    Encounter,
    Programme,
    ProgrammeVersion,
    Referral,
    ReferralEvent,
    ReferralParty,
    User,
    audit,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways import notices, reminders, sharing
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.pathways.facts import encounter_facts, facts_from_dict, facts_to_dict
from divert.pathways.matching import Looked
from divert.pathways.programmes import (
    no_version_in_force,
    receiving_organisation,
    version_in_force,
    versions_in_force,
)
from divert.pathways.restriction import check_not_restricted
from divert.rules import Decision as RuleDecision
from divert.rules import (
    EncounterFacts,
    ProgrammeDefinition,
    State,
    TransitionError,
    check_transition,
    decide,
    limits,
)
from divert.rules.codes import label
from divert.rules.definition import (
    OTHER_REASON,
    REASON_KINDS,
    decision_milestones,
    reason_codes,
    reason_kind,
)
from divert.rules.pathway import acting_roles

# Who may set a rule decision aside. A force can widen this; the rules themselves never change.


@dataclass(frozen=True)
class Outcome:
    """What recording an encounter produced for one programme."""

    programme: Programme
    decision: Decision
    referral: Referral | None
    # The person's case of this programme that was already live: no second one is opened beside it.
    live_case: Referral | None = None


def reference_for(programme_code: str, encounter_id: int) -> str:
    initials = "".join(part[0] for part in programme_code.split("-")).upper()
    return f"{initials}-{encounter_id:07d}"


def record_encounter(
    session: Session,
    actor: User,
    encounter: Encounter,
    *,
    opened_at: datetime | None = None,
    created_person: bool = False,
    looked: Looked | None = None,
    in_force: list[tuple[Programme, ProgrammeVersion | None]] | None = None,
) -> list[Outcome]:
    """Store an encounter and decide it against every programme the officer's force runs.

    Every encounter is kept, eligible or not, because monitoring asks who was *not* offered
    diversion. A case is opened for each programme the person is eligible for (``opened_at``:
    when, if not now, for history recorded afterwards such as the demo's).

    ``created_person``: the encounter's person is added in this unit of work (so has no cases, and
    is audited here); ``looked``: what finding their record read (``encounters.find_record``);
    ``in_force``: the force's programmes and versions on the day, if the caller has them.

    The rows go in a few flushes, each table's in one statement: the encounter (and person), then
    every decision, then every case; the timeline events, parties and audit entries with the
    commit's flush. Nothing is read back after a flush.
    """
    session.add(encounter)  # no-op when the caller already added it
    session.flush()
    day = uk_date(encounter.occurred_at)
    # A person first recorded now has no cases to be open.
    live = [] if created_person else live_cases(session, encounter)
    if in_force is None:
        in_force = versions_in_force(session, encounter.organisation_id, day)
    # The facts depend only on the encounter and earlier history, so every programme shares them.
    facts = encounter_facts(session, encounter, looked) if in_force else None
    _note_rearrest(session, actor, encounter, live)
    created = [("person", encounter.person_id)] if created_person else []
    return _decide(
        session, actor, encounter, in_force, facts, live, opened_at, [*created, ("encounter", encounter.id)]
    )


def live_cases(session: Session, encounter: Encounter) -> list[Referral]:
    """The person's open cases, other than any of this encounter's, oldest first."""
    return list(
        session.scalars(
            select(Referral)
            .join(Encounter, Encounter.id == Referral.encounter_id)
            # Each case's encounter is read in the same statement: a re-arrest compares their times.
            .options(contains_eager(Referral.encounter))
            .where(
                Referral.person_id == encounter.person_id,
                Referral.closed_at.is_(None),
                Referral.encounter_id != encounter.id,
            )
            .order_by(Encounter.occurred_at, Encounter.id)
        )
    )


def _note_rearrest(
    session: Session, actor: User | None, encounter: Encounter, live: Sequence[Referral]
) -> None:
    """A new encounter while the person's case is open is a re-arrest for that case: DIVERT reports
    it as an outcome, and it never changes the case's state (the scheme runs beside the criminal case).

    Once the person is on the programme (they accepted), it is also for the case's team to know at
    once, not at the next review: a Checkpoint contract says "do not reoffend", and a caseworker
    would want to talk to the person. So the case gets a reoffending review flag, resolved like any
    other by a person's decision. An encounter from before the case began (recorded late) is neither.
    """
    for referral in live:
        if (referral.encounter.occurred_at, referral.encounter_id) > (encounter.occurred_at, encounter.id):
            continue
        if referral.accepted_at is not None:
            raise_reoffending_flag(session, actor, referral, encounter)
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


def reoffending_detail(occurred_on: date, offence: str | None) -> str:
    what = f"({label(offence).lower()}) " if offence else ""
    return (
        f"A new encounter {what}on {occurred_on.day} {occurred_on:%B %Y} was recorded for the person while "
        "this case is open: review what it means for the case."
    )


def raise_reoffending_flag(
    session: Session, actor: User | None, referral: Referral, encounter: Encounter
) -> None:
    """The reoffending review flag for ``encounter`` on ``referral``, once (its key is the encounter)."""
    key = f"reoffending:{encounter.id}"
    if session.scalar(select(CaseFlag.id).where(CaseFlag.referral_id == referral.id, CaseFlag.key == key)):
        return
    detail = reoffending_detail(uk_date(encounter.occurred_at), encounter.offence_category)
    flag = CaseFlag(
        referral_id=referral.id,
        kind="reoffending_review",
        key=key,
        detail=detail,
        due_on=uk_date(utcnow()),
        # Unassigned flags land on the supervisors' list, as the sweep's do.
        assigned_to_id=referral.assigned_user_id,
    )
    session.add(flag)
    session.flush()
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            actor_id=actor.id if actor else None,
            kind="flag_raised",
            reason=detail,
            data={"flag_id": flag.id, "flag_kind": flag.kind, "encounter_id": encounter.id},
        )
    )
    audit.record(
        session, actor, "create", "case_flag", flag.id, detail=f"{flag.kind} on referral {referral.id}"
    )


def decide_for(
    session: Session,
    actor: User | None,
    encounter: Encounter,
    programme: Programme,
    facts: EncounterFacts | None = None,
    *,
    opened_at: datetime | None = None,
    live: Sequence[Referral] | None = None,
) -> Outcome:
    """Decide ``encounter`` for ``programme`` and open a case if it is eligible, unless the person
    is already on the programme: a live case of it they accepted (``live``: their open cases, if
    the caller has them):
    then the decision is kept, eligible, and says so, and the live case is the one worked (its team
    has been asked to review it)."""
    version = version_in_force(session, programme, uk_date(encounter.occurred_at))
    facts = facts or encounter_facts(session, encounter)
    if live is None:
        live = live_cases(session, encounter)
    return _decide(session, actor, encounter, [(programme, version)], facts, live, opened_at)[0]


def _decide(
    session: Session,
    actor: User | None,
    encounter: Encounter,
    in_force: Sequence[tuple[Programme, ProgrammeVersion | None]],
    facts: EncounterFacts | None,
    live: Sequence[Referral],
    opened_at: datetime | None,
    created: Sequence[tuple[str, int]] = (),
) -> list[Outcome]:
    """Decide ``encounter`` under each programme's version (see ``decide_for``): the decisions in
    one flush, then the cases for the eligible ones. ``created``: records the caller added, audited
    (as created by ``actor``) before the cases, so that every audit entry goes in one statement."""
    if not in_force:
        _audit_created(session, actor, created)
        return []
    assert facts is not None
    stored_facts = facts_to_dict(facts)
    decided: list[tuple[Programme, ProgrammeVersion, Decision, Referral | None]] = []
    for programme, version in in_force:
        if version is None:
            raise no_version_in_force(programme, uk_date(encounter.occurred_at))
        result = decide(compiled(version), facts)
        reasons = result.to_dict()["reasons"]
        # A case still awaiting its offer is no place on the programme yet: the new encounter's
        # case stands beside it, as one recorded after a case closed would.
        current = (
            next((r for r in live if r.programme_id == programme.id and r.accepted_at is not None), None)
            if result.eligible
            else None
        )
        if current is not None:
            reasons.append(
                {
                    "rule_id": "live_case",
                    "text": f"Already in {programme.name} (case {current.reference}, still open): no "
                    "second case is opened, and that case's team is asked to review it.",
                    "passed": True,
                }
            )
        decision = Decision(
            encounter_id=encounter.id,
            programme_version_id=version.id,
            eligible=result.eligible,
            route=result.route,
            reasons=reasons,
            # Each decision keeps its own copy: JSON columns are mutable values.
            facts=copy.deepcopy(stored_facts),
            decided_by_id=actor.id if actor else None,
            in_population=result.in_population,
        )
        session.add(decision)
        decided.append((programme, version, decision, current))
    session.flush()
    opening = [(p, v, d) for p, v, d, current in decided if d.eligible and current is None]
    opened = _open_cases(session, actor, encounter, opening, opened_at, created)
    cases = dict(zip((id(d) for _, _, d in opening), opened, strict=True))
    return [Outcome(p, d, cases.get(id(d)), current) for p, _, d, current in decided]


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
    return _open_cases(
        session, actor, encounter, [(programme, decision.programme_version, decision)], opened_at
    )[0]


def _open_cases(
    session: Session,
    actor: User | None,
    encounter: Encounter,
    opening: Sequence[tuple[Programme, ProgrammeVersion, Decision]],
    opened_at: datetime | None = None,
    created: Sequence[tuple[str, int]] = (),
) -> list[Referral]:
    """A case for each (programme, version, eligible decision): the cases in one flush (their ids
    name the timeline events), then their parties, events and audit entries (after those of
    ``created``, see ``_decide``), left for the next."""
    if not opening:
        _audit_created(session, actor, created)
        return []
    opened_at = opened_at or utcnow()
    recorder = "receiving" if encounter.referral_source else "police"
    referrals = []
    for programme, version, decision in opening:
        definition = compiled(version)
        referral = Referral(
            reference=reference_for(programme.code, encounter.id),
            person_id=encounter.person_id,
            encounter_id=encounter.id,
            programme_id=programme.id,
            programme_version_id=decision.programme_version_id,
            state=definition.on_decision["eligible"],
            route=decision.route,
            decision_id=decision.id,
            assigned_user_id=None,
            opened_at=opened_at,
            # What the case is of, as loaded already: nothing is read again to work its parties.
            encounter=encounter,
            programme=programme,
            programme_version=version,
            # The organisation that recorded the encounter: the force, or for a referral that came
            # without an officer (``referral_source``), the team that took the person in.
            parties=[ReferralParty(organisation_id=encounter.organisation_id, role=recorder)],
        )
        session.add(referral)
        referrals.append(referral)
    session.flush()
    _audit_created(session, actor, created)
    for (_, version, decision), referral in zip(opening, referrals, strict=True):
        definition = compiled(version)
        _add_acting_parties(session, referral, referral.state)
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                actor_id=actor.id if actor else None,
                kind="decision",
                occurred_at=opened_at,
                from_state=definition.initial_state.id,
                to_state=referral.state,
                reason=" ".join(r["text"] for r in decision.reasons if r["passed"]),
                data={"decision_id": decision.id, "route": decision.route},
            )
        )
        audit.record(session, actor, "create", "referral", referral.id)
    return referrals


def _audit_created(session: Session, actor: User | None, created: Sequence[tuple[str, int]]) -> None:
    for object_type, object_id in created:
        audit.record(session, actor, "create", object_type, object_id)


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
    reason_code: str | None = None,
) -> ReferralEvent:
    """Move a case to ``to_state`` if its programme allows it, for this role, with any reason it needs.

    Into a not-offered or declined state the reason is a code from the definition (``reason_code``),
    with any words kept on the case only; words without a code are coded "other".
    """
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    definition = compiled(referral.programme_version)
    reason = (reason or "").strip()
    check_text("Reason", reason, limits.REASON)
    kind_of_reason = reason_kind(definition, to_state)
    code = coded_reason(definition, kind_of_reason, reason_code, reason)
    try:
        given = reason or (code and kind_of_reason and reason_label(definition, kind_of_reason, code))
        check_transition(definition, referral.state, to_state, actor.role, given or None)
    except TransitionError as error:
        raise OperationError(str(error)) from None
    sharing.check_consent_for(session, referral, definition, to_state)
    return _move(
        session,
        actor,
        referral,
        to_state,
        reason,
        kind=kind,
        occurred_at=occurred_at,
        data=data,
        reason_code=code,
    )


# --- reason codes (issue 13) ---------------------------------------------------------------------
def coded_reason(
    definition: ProgrammeDefinition, kind: str | None, code: str | None, words: str
) -> str | None:
    """The reason code to store: the one chosen (which must be the definition's), "other" for words
    without a code, None when neither was given or the step is not one whose reasons are reported."""
    code = (code or "").strip() or None
    if kind is None:
        if code is not None:
            raise OperationError("This step takes no reason code; say why in the reason instead.")
        return None
    choices = reason_codes(definition, kind)
    if code is None:
        return OTHER_REASON if words else None
    if code not in {c.code for c in choices}:
        raise OperationError("Select a reason: " + ", ".join(c.label for c in choices))
    return code


def reason_label(definition: ProgrammeDefinition, kind: str, code: str) -> str:
    for choice in reason_codes(definition, kind) if kind in REASON_KINDS else ():
        if choice.code == code:
            return choice.label
    return code


# --- end reason codes ----------------------------------------------------------------------------


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
    corrects: ReferralEvent | None = None,
    reason_code: str | None = None,
) -> ReferralEvent:
    if actor is not None:  # the system's own bookkeeping (the sweep) is not processing by a person
        check_not_restricted(referral.person)
    definition = compiled(referral.programme_version)
    target = definition.state(to_state)
    outcome_before = referral.outcome_code
    event = ReferralEvent(
        reason_code=reason_code,
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
    # The route to a decision maker, its decision, a formal outcome (issue 13): kept apart from
    # "milestone" so a correction undoes each.
    reached = [
        m
        for m in decision_milestones(definition, event.from_state or "", to_state)
        if getattr(referral, m) is None
    ]
    for later in reached:
        setattr(referral, later, event.occurred_at)
    if reached:
        event.data = {**event.data, "decision_milestones": reached}
    referral.closed_at = event.occurred_at if target.terminal else None
    if target.terminal:
        reminders.cancel_for_case(session, referral.id, "case closed")
    referral.outcome_code = _outcome_after(target, outcome_before, corrects)
    # Kept so a correction of this step gives the case back the outcome it had (issue 14): where the
    # step changed it, or ended the case with one (see ``_outcome_after`` for steps without it).
    if referral.outcome_code != outcome_before or (target.terminal and referral.outcome_code is not None):
        event.data = {**event.data, "outcome_code_before": outcome_before}
    session.add(event)
    session.flush()
    audit.record(
        session, actor, "update", "referral", referral.id, detail=f"{kind}: {event.from_state} -> {to_state}"
    )
    return event


def _outcome_after(target: State, before: int | None, corrects: ReferralEvent | None) -> int | None:
    """The case's Home Office outcome once it enters ``target``.

    Any state may record one (a conditional caution's outcome is known when it is given); a state
    that records none keeps the one given earlier, unless it ends the case with none. A correction
    gives back what the case had before the undone step.
    """
    if corrects is not None and "outcome_code_before" in corrects.data:
        before_step: int | None = corrects.data["outcome_code_before"]
        return before_step
    if corrects is not None and corrects.to_state is not None:
        undone = compiled(corrects.referral.programme_version).state(corrects.to_state)
        if not undone.terminal:
            return before  # the undone step changed no outcome
        # Ended with no outcome, or a step from before outcomes were kept on the timeline, when
        # only terminal states had one.
        return target.outcome_code if target.terminal else None
    if target.outcome_code is not None or target.terminal:
        return target.outcome_code
    return before


def milestone_for(state: State) -> str | None:
    """The monitoring decision point that entering ``state`` reaches, if any."""
    if state.result is not None:
        return f"{state.result}_at"
    if state.terminal:
        return None
    return {"offer": "offered_at", "route": "accepted_at", "engagement": "engaged_at"}.get(state.stage)


def _add_acting_parties(session: Session, referral: Referral, state: str) -> None:
    """Make party to the case every organisation whose role must act on ``state``, so no one is
    asked to act on a case they cannot see."""
    definition = compiled(referral.programme_version)
    on = uk_date(referral.encounter.occurred_at)
    present = {p.organisation_id for p in referral.parties}
    for receiver in acting_organisations(session, referral.programme, definition, state, referral.route, on):
        if receiver not in present:
            referral.parties.append(ReferralParty(organisation_id=receiver, role="receiving"))
            notices.new_referral(session, referral, receiver, cause=f"org{receiver}")
            present.add(receiver)


def acting_organisations(
    session: Session,
    programme: Programme,
    definition: ProgrammeDefinition,
    state: str,
    route: str | None,
    on: date,
) -> list[int]:
    """The organisations, besides the recording force, whose roles act on ``state`` of a case.

    The definition names the roles that move a case on from each state; the programme's operators
    name the organisations: the recording force holds the roles that record encounters, and the
    route's receiving organisation holds the rest (a DIVERT coach offers at "eligible", before any
    referral, so the coaches' organisation is party from the start). The bulk import asks the same.
    """
    if not acting_roles(definition, state) - roles_with("record_encounter"):
        return []
    routes: list[str | None] = [r.id for r in definition.routes if r.enters == state]
    found: list[int] = []
    for route_id in routes or [route]:
        receiver = receiving_organisation(session, programme, route_id, on)
        if receiver is not None and receiver not in found:
            found.append(receiver)
    return found


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
    reason_code: str | None = None,
) -> ReferralEvent:
    """The officer's decision: offer diversion, or not (which needs a reason, a code)."""
    state = _state_in_stage(referral, "offer", positive=offered)
    return transition(
        session, actor, referral, state, reason, occurred_at=occurred_at, reason_code=reason_code
    )


def respond(
    session: Session,
    actor: User,
    referral: Referral,
    accepted: bool,
    reason: str = "",
    exit_reason: str | None = None,
    *,
    occurred_at: datetime | None = None,
    reason_code: str | None = None,
) -> ReferralEvent:
    """The person's answer. Accepting is the referral: the case enters its route's first state."""
    if accepted:
        if referral.route is None:
            raise OperationError("This case has no route, so it cannot be referred.")
        entry = compiled(referral.programme_version).route(referral.route).enters
        return transition(session, actor, referral, entry, reason, occurred_at=occurred_at)
    state = _state_in_stage(referral, "acceptance", positive=False)
    event = transition(
        session, actor, referral, state, reason, occurred_at=occurred_at, reason_code=reason_code
    )
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
    session: Session,
    actor: User,
    decision: Decision,
    *,
    eligible: bool,
    route: str | None,
    reason: str,
    reason_code: str | None = None,
) -> Decision:
    """Set a rule decision aside with a reason; the original stays, and the case follows the new one."""
    if not holds(actor, "override_decision"):
        raise OperationError("Only a supervisor can override a decision.")
    reason = (reason or "").strip()
    definition = compiled(decision.programme_version)
    code = coded_reason(definition, "override", reason_code, reason)
    if code is None:
        raise OperationError("Enter a reason for overriding the decision, or select one")
    check_text("Reason", reason, limits.REASON)
    # What the decision's reasons say (shown to officers): the words if any, else the code's label.
    why = reason or reason_label(definition, "override", code)
    if eligible and route not in {r.id for r in definition.routes}:
        raise OperationError(f"Select a route: one of {', '.join(r.id for r in definition.routes)}")
    encounter = session.get(Encounter, decision.encounter_id)
    assert encounter is not None
    programme = decision.programme_version.programme
    opened = session.scalar(select(Referral.id).where(Referral.decision_id == decision.id))
    live = next(
        (
            r
            for r in live_cases(session, encounter)
            if r.programme_id == programme.id and r.accepted_at is not None
        ),
        None,
    )
    if eligible and opened is None and live is not None:
        # An override may send a case another way, not open a second beside the live one.
        raise OperationError(
            f"The person's case {live.reference} of this programme is still open: work that case instead."
        )
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
            {"rule_id": "override", "text": f"Overridden by {actor.name}: {why}", "passed": eligible},
        ],
        facts=decision.facts,
        decided_by_id=actor.id,
        overrides_id=decision.id,
        override_reason=reason,
        override_reason_code=code,
        in_population=decision.in_population,
    )
    session.add(replacement)
    session.flush()
    audit.record(
        session, actor, "update", "decision", decision.id, detail=f"overridden by decision {replacement.id}"
    )
    case = session.scalar(select(Referral).where(Referral.decision_id == decision.id))
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
    for later in last.data.get("decision_milestones", ()):
        setattr(referral, later, None)
    return _move(
        session,
        actor,
        referral,
        last.from_state,
        reason,
        kind="correction",
        data={"corrects_event": last.id},
        corrects=last,
    )
