"""Checks on moving a case between states. They only answer "may this happen?"; the pathway layer acts."""

from __future__ import annotations

from divert.rules.codes import label
from divert.rules.definition import ProgrammeDefinition, Transition


class TransitionError(ValueError):
    """A move the definition does not allow; the message is written for the person who tried it."""


class TransitionNotAllowed(TransitionError):
    pass


class RoleNotAllowed(TransitionError):
    pass


class ReasonRequired(TransitionError):
    pass


def check_transition(
    definition: ProgrammeDefinition, from_state: str, to_state: str, role: str, reason: str | None = None
) -> Transition:
    names = {state.id: state.name for state in definition.states}
    for state_id in (from_state, to_state):
        if state_id not in names:
            raise TransitionNotAllowed(f"'{state_id}' is not a state of {_label(definition)}.")
    transition = next(
        (t for t in definition.transitions if t.from_state == from_state and t.to_state == to_state), None
    )
    move = f"from '{names[from_state]}' to '{names[to_state]}'"
    if transition is None:
        onward = [names[t.to_state] for t in definition.transitions if t.from_state == from_state]
        options = f" From there a case can go to: {', '.join(onward)}." if onward else " That state is final."
        raise TransitionNotAllowed(f"A case cannot move {move} in {_label(definition)}.{options}")
    if role not in transition.roles:
        allowed = ", ".join(label(r) for r in transition.roles)
        raise RoleNotAllowed(f"Your role ({label(role)}) cannot move a case {move}. Allowed: {allowed}.")
    if transition.reason_required and not (reason and reason.strip()):
        raise ReasonRequired(f"Enter a reason to move a case {move}.")
    return transition


def allowed_transitions(definition: ProgrammeDefinition, from_state: str, role: str) -> list[Transition]:
    """The moves this role may make from a state, for offering only valid choices."""
    return [t for t in definition.transitions if t.from_state == from_state and role in t.roles]


def case_roles(definition: ProgrammeDefinition, state_id: str) -> frozenset[str]:
    """Who works a case in this state: whoever may move it on within its stage, and supervisors."""
    stage = definition.state(state_id).stage
    in_stage = {state.id for state in definition.states if state.stage == stage}
    movers = {role for t in definition.transitions if t.from_state in in_stage for role in t.roles}
    return frozenset({"supervisor", *movers})


def acting_roles(definition: ProgrammeDefinition, state_id: str) -> frozenset[str]:
    """The roles that may move a case on from ``state_id`` itself (supervisors aside)."""
    return frozenset(role for t in definition.transitions if t.from_state == state_id for role in t.roles) - {
        "supervisor"
    }


def roles_to_act(definition: ProgrammeDefinition, state_id: str) -> tuple[str, ...]:
    """The roles that can move a case on from this state (only the deciders, where a decision is due)."""
    movers = {role for t in definition.transitions if t.from_state == state_id for role in t.roles}
    escalation = definition.escalation
    if escalation is not None and escalation.from_state == state_id:
        decided = {o.to_state for o in escalation.options}
        others = {
            role
            for t in definition.transitions
            if t.from_state == state_id and t.to_state not in decided
            for role in t.roles
        }
        movers = set(escalation.decided_by) | others
    return tuple(role for role in definition_roles(definition) if role in movers)


def definition_roles(definition: ProgrammeDefinition) -> tuple[str, ...]:
    """The roles a definition names, in the order they first appear."""
    seen: dict[str, None] = {}
    for t in definition.transitions:
        for role in t.roles:
            seen.setdefault(role, None)
    if definition.escalation is not None:
        for role in definition.escalation.decided_by:
            seen.setdefault(role, None)
    return tuple(seen)


def _label(definition: ProgrammeDefinition) -> str:
    return f"{definition.name} (version {definition.version})"
