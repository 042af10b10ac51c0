"""Contracts (Checkpoint, Checkpoint Plus): drawing one up, and varying it with a reason.

A variation never edits a condition: it marks the old one removed (when and why) and adds a new one, so the
contract as it stood on any day can be shown to a court. The contract row itself carries field history.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.auth.policy import can, holds, role_holds
from divert.models import (
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
from divert.pathways.cases import transition
from divert.pathways.casework import add_event
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.rules import CaseFacts, ProgrammeDefinition, contract_end, limits
from divert.rules.codes import label, phrase
from divert.rules.definition import ConditionGroup
from divert.rules.definition import Contract as ContractTerms
from divert.rules.pathway import case_roles

# The brief gives drafting and monitoring the contract to the navigator.
# Checkpoint's one fixed term: it is added to every contract and can never be varied away.
ALWAYS = "do_not_reoffend"


@dataclass(frozen=True)
class Term:
    """A condition as asked for, matched to the definition's group it counts towards."""

    group: ConditionGroup
    description: str
    pathway: str | None = None
    hours: int | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "group": self.group.id,
            "pathway": self.pathway,
            "description": self.description,
            "hours": self.hours,
        }


def _group_of(terms: ContractTerms, condition: ContractCondition) -> ConditionGroup:
    for group in terms.conditions:
        if group.id == condition.condition_group:
            return group
    raise OperationError(
        f"Condition {condition.id} does not belong to any group of this programme's contract."
    )


def _terms_of(referral: Referral) -> tuple[ProgrammeDefinition, ContractTerms]:
    definition = compiled(referral.programme_version)
    if definition.contract is None:
        raise OperationError(f"{definition.name} does not use contracts.")
    return definition, definition.contract


def _check_role(actor: User, what: str, referral: Referral) -> None:
    # A closed case is refused for being closed (the caller says so), not for its final state.
    allowed = holds(actor, "draw_contract") if referral.closed_at else can(actor, "draw_contract", referral)
    if not allowed:
        definition = compiled(referral.programme_version)
        who = [
            label(role)
            for role in case_roles(definition, referral.state)
            if role_holds(role, "draw_contract")
        ]
        raise OperationError(f"Only a {' or '.join(who) or 'person working this case'} can {what}.")


def _term(terms: ContractTerms, item: Mapping[str, Any]) -> Term:
    group_id = str(item.get("group") or "")
    group = next((g for g in terms.conditions if g.id == group_id), None)
    if group is None:
        labels = ", ".join(g.label.lower() for g in terms.conditions)
        raise OperationError(f"Select the type of condition: {labels}")
    description = str(item.get("description") or "").strip()
    check_text(f"The {group.label.lower()}", description, limits.CONDITION)
    pathway = None
    if group.options:
        pathway = str(item.get("pathway") or "")
        if pathway not in group.options:
            options = ", ".join(phrase(o) for o in group.options)
            raise OperationError(f"Select a pathway for the condition: {options}")
        description = description or label(pathway)
    hours = None
    if group.hours_min is not None or group.hours_max is not None:
        hours = _hours(group, item.get("hours"))
        # The condition's own words (unpaid work, reparation): not every hours condition is voluntary work.
        description = description or f"{hours} hours of {group.label.lower()}"
    if not description:
        if group.id != ALWAYS:
            raise OperationError(f"Enter what the {group.label.lower()} is")
        description = group.label
    return Term(group, description, pathway, hours)


def _hours(group: ConditionGroup, value: object) -> int:
    low, high = group.hours_min or 0, group.hours_max
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise OperationError(f"Enter {span} hours of {group.label.lower()}")
    return value


def _check_groups(terms: ContractTerms, chosen: Sequence[Term]) -> None:
    for group in terms.conditions:
        mine = [t for t in chosen if t.group.id == group.id]
        if len(mine) < group.min:
            raise OperationError(f"Add at least {group.min} of: {group.label.lower()}")
        if len(mine) > group.max:
            raise OperationError(f"Choose no more than {group.max} of: {group.label.lower()}")
        pathways = [t.pathway for t in mine if t.pathway]
        if len(set(pathways)) != len(pathways):
            raise OperationError("Choose each pathway only once")


def draw_up_contract(
    session: Session,
    actor: User,
    referral: Referral,
    *,
    starts_on: date,
    conditions: Sequence[Mapping[str, Any]],
    voluntary_hours: int | None = None,
) -> Contract:
    """Draw up and sign the contract after the needs assessment; the case moves into its engagement state.

    Each condition is ``{"group": id, "pathway": ..., "description": ..., "hours": ...}`` naming a group of
    the programme's contract; "do not reoffend" is always added. ``voluntary_hours`` adds voluntary work.
    """
    definition, terms = _terms_of(referral)
    _check_role(actor, "draw up a contract", referral)
    if referral.closed_at is not None:
        raise OperationError("This case is closed, so a contract cannot be drawn up.")
    state = definition.state(referral.state)
    if state.stage != "route":
        raise OperationError(
            f"A contract is drawn up after the needs assessment, not when a case is '{state.name}'."
        )
    if session.scalar(select(Contract.id).where(Contract.referral_id == referral.id)) is not None:
        raise OperationError("This case already has a contract; vary it instead.")
    if session.scalar(select(NeedsAssessment.id).where(NeedsAssessment.referral_id == referral.id)) is None:
        raise OperationError("Record the needs assessment before drawing up the contract.")
    if starts_on is None:
        raise OperationError("Enter the date the contract starts")
    chosen = [_term(terms, item) for item in conditions if item.get("group") != ALWAYS]
    always = next((g for g in terms.conditions if g.id == ALWAYS), None)
    if always is not None:
        chosen.insert(0, Term(always, always.label))
    if voluntary_hours is not None:
        group = next(
            (g for g in terms.conditions if g.hours_min is not None or g.hours_max is not None), None
        )
        if group is None:
            raise OperationError(f"{definition.name} contracts have no condition counted in hours.")
        chosen.append(_term(terms, {"group": group.id, "hours": voluntary_hours}))
    _check_groups(terms, chosen)
    ends_on = contract_end(definition, CaseFacts(contract_start=starts_on))
    assert ends_on is not None  # the definition has a contract, so it has a length
    contract = Contract(
        referral=referral,
        starts_on=starts_on,
        ends_on=ends_on,
        voluntary_hours=next((t.hours for t in chosen if t.hours is not None), None),
        # Signed at the meeting where it is agreed; the contract runs from the day it starts.
        signed_on=starts_on,
    )
    session.add(contract)
    for term in chosen:
        contract.conditions.append(_condition(term))
    session.flush()
    audit.record(session, actor, "create", "contract", contract.id, detail=f"{starts_on} to {ends_on}")
    data = {
        "contract_id": contract.id,
        "conditions": [t.as_data() for t in chosen],
        "ends_on": ends_on.isoformat(),
    }
    engage = [t.to_state for t in definition.transitions if t.from_state == referral.state]
    target = next((s for s in engage if definition.state(s).stage == "engagement"), None)
    if target is None:
        add_event(session, actor, referral, "contract", data=data)
    else:
        transition(session, actor, referral, target, kind="contract", data=data)
    return contract


def _condition(term: Term) -> ContractCondition:
    return ContractCondition(
        condition_group=term.group.id, pathway=term.pathway, description=term.description, added_at=utcnow()
    )


def vary_contract(
    session: Session,
    actor: User,
    contract: Contract,
    *,
    remove_condition_ids: Collection[int] = (),
    add_conditions: Sequence[Mapping[str, Any]] = (),
    new_end: date | None = None,
    reason: str,
    seen_version: int | None = None,
) -> ReferralEvent:
    """Vary a contract with a reason; the result must still satisfy every group of the programme's terms."""
    if seen_version is not None and contract.version_id != seen_version:
        raise StaleEdit("contract")
    referral = contract.referral
    _, terms = _terms_of(referral)
    _check_role(actor, "vary a contract", referral)
    if referral.closed_at is not None:
        raise OperationError("This case is closed, so its contract cannot be varied.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter a reason for varying the contract")
    check_text("Reason", reason, limits.REASON)
    active = {c.id: c for c in contract.conditions if c.removed_at is None}
    removing = []
    for condition_id in remove_condition_ids:
        if condition_id not in active:
            raise OperationError(f"Condition {condition_id} is not a current condition of this contract")
        condition = active[condition_id]
        if _group_of(terms, condition).id == ALWAYS:
            raise OperationError("'Do not reoffend' is part of every contract and cannot be removed")
        removing.append(condition)
    adding = [_term(terms, item) for item in add_conditions]
    if new_end is not None and new_end <= contract.starts_on:
        raise OperationError("The new end date must be after the contract starts")
    if not removing and not adding and (new_end is None or new_end == contract.ends_on):
        raise OperationError("Select a condition to remove, add a condition or change the end date")
    kept = []
    for condition in active.values():
        if condition in removing:
            continue
        group = _group_of(terms, condition)
        counts_hours = group.hours_min is not None or group.hours_max is not None
        kept.append(
            Term(
                group,
                condition.description,
                condition.pathway,
                contract.voluntary_hours if counts_hours else None,
            )
        )
    _check_groups(terms, kept + adding)

    now = utcnow()
    for condition in removing:
        condition.removed_at, condition.removed_reason = now, reason
    for term in adding:
        contract.conditions.append(_condition(term))
    hours = [t.hours for t in kept + adding if t.hours is not None]
    contract.voluntary_hours = hours[0] if hours else None
    old_end = contract.ends_on
    if new_end is not None:
        contract.ends_on = new_end
    # Touching the row bumps its version even when only conditions changed, so a stale form is caught.
    contract.updated_at = now
    session.flush()
    data: dict[str, Any] = {
        "contract_id": contract.id,
        "removed": [
            {
                "condition_id": c.id,
                "group": c.condition_group,
                "pathway": c.pathway,
                "description": c.description,
            }
            for c in removing
        ],
        "added": [t.as_data() for t in adding],
    }
    if contract.ends_on != old_end:
        data["ends_on"] = {"from": old_end.isoformat(), "to": contract.ends_on.isoformat()}
    event = add_event(session, actor, referral, "contract_varied", reason=reason, data=data)
    audit.record(session, actor, "update", "contract", contract.id, detail=f"varied: {reason}")
    return event


def record_condition_progress(
    session: Session, actor: User, condition: ContractCondition, *, note: str, met: bool
) -> ReferralEvent:
    """Progress on one condition (a session attended, hours done) or that it is met; kept on the timeline."""
    contract = condition.contract
    referral = contract.referral
    _check_role(actor, "record progress on a contract", referral)
    if referral.closed_at is not None:
        raise OperationError("This case is closed, so progress cannot be recorded.")
    if condition.removed_at is not None:
        raise OperationError("This condition was removed from the contract.")
    note = (note or "").strip()
    if not note:
        raise OperationError("Enter the progress on this condition")
    check_text("Progress note", note, limits.NOTES)
    kind = "condition_met" if met else "condition_progress"
    data = {"condition_id": condition.id, "condition": condition.description}
    event = add_event(session, actor, referral, kind, reason=note, data=data)
    audit.record(
        session, actor, "update", "contract", contract.id, detail=f"condition {condition.id} progress"
    )
    return event
