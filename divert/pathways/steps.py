"""One entry point for "take the next step on this case", choosing the operation the step needs.

The case page offers every step the definition allows the user's role; some steps carry more than
a state change (an escalation decision resolves flags, completion records the outcome, a drop-out
records why), so each goes through the operation written for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from divert.models import Referral, ReferralEvent, User
from divert.models.programme import compiled
from divert.pathways.cases import transition
from divert.pathways.casework import complete, completion_states, escalation_decision, record_drop_out
from divert.pathways.errors import StaleEdit
from divert.rules import allowed_transitions


@dataclass(frozen=True)
class Step:
    to_state: str
    label: str
    reason_required: bool
    ends_without_completion: bool


def next_steps(referral: Referral, role: str) -> list[Step]:
    definition = compiled(referral.programme_version)
    done = completion_states(definition)
    escalation = definition.escalation
    # Leaving the review state is the escalation decision, which only its deciders may make.
    deciding = escalation is not None and referral.state == escalation.from_state
    steps = []
    for step in allowed_transitions(definition, referral.state, role):
        decision = (
            deciding and escalation is not None and step.to_state in {o.to_state for o in escalation.options}
        )
        if decision and escalation is not None and role not in escalation.decided_by:
            continue
        target = definition.state(step.to_state)
        ends_badly = target.terminal and step.to_state not in done
        steps.append(Step(step.to_state, target.name, step.reason_required, ends_badly))
    return steps


def take_step(
    session: Session,
    actor: User,
    referral: Referral,
    to_state: str,
    reason: str,
    *,
    exit_reason: str | None = None,
    seen_version: int | None = None,
    reason_code: str | None = None,
) -> ReferralEvent:
    if seen_version is not None and referral.version_id != seen_version:
        raise StaleEdit("case")
    definition = compiled(referral.programme_version)
    escalation = definition.escalation
    if escalation is not None and referral.state == escalation.from_state:
        option = next((o for o in escalation.options if o.to_state == to_state), None)
        if option is not None:
            return escalation_decision(session, actor, referral, option.id, reason, exit_reason=exit_reason)
    if to_state in completion_states(definition):
        return complete(session, actor, referral, reason)
    target = definition.state(to_state)
    if target.terminal and definition.drop_out_reasons and target.stage in {"completion", "outcome"}:
        return record_drop_out(
            session, actor, referral, exit_reason=exit_reason or "", to_state=to_state, note=reason
        )
    return transition(session, actor, referral, to_state, reason, reason_code=reason_code)
