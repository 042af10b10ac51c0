"""Laying a row's milestones onto its programme's states: which state the case ends in, and the steps.

The file says what happened (offered, accepted, engaged, completed or escalated, with dates); the
programme definition says what those are called. A case is placed where the row says it got to,
without replaying every intermediate step: historical records rarely hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from divert.pathways.importing.columns import Problem
from divert.pathways.importing.validate import Row
from divert.rules import ProgrammeDefinition, State


@dataclass(frozen=True)
class Step:
    to_state: str
    at: datetime
    milestone: str | None
    reason: str = ""
    # The reason code monitoring groups by (not offered, declined); "other" for words without one.
    reason_code: str | None = None


@dataclass
class CasePlan:
    eligible_state: str
    initial_state: str
    steps: list[Step] = field(default_factory=list)
    closed_at: datetime | None = None
    outcome_code: int | None = None
    exit_reason: str | None = None

    @property
    def milestones(self) -> dict[str, datetime]:
        return {step.milestone: step.at for step in self.steps if step.milestone}

    @property
    def state(self) -> str:
        return self.steps[-1].to_state if self.steps else self.eligible_state


def at(day: date, not_before: datetime) -> datetime:
    """A date from the file as a timestamp: midnight UTC (the same day in UK time), unless that is
    earlier than the step before it on the same day, when it is that step's time, keeping the order."""
    return max(datetime.combine(day, time(0), tzinfo=UTC), not_before)


def _find(
    definition: ProgrammeDefinition,
    *,
    stage: str | None = None,
    terminal: bool = False,
    result: str | None = None,
) -> State | None:
    for state in definition.states:
        if result is not None and state.result == result:
            return state
        if result is None and state.stage == stage and state.terminal is terminal and state.result is None:
            return state
    return None


def plan_case(definition: ProgrammeDefinition, route: str | None, row: Row) -> CasePlan | Problem:
    """Where the case ends up and how it got there, or the one column the programme cannot follow."""
    plan = CasePlan(definition.on_decision["eligible"], definition.initial_state.id)
    if row.offered is None:
        return plan
    if row.offered is False:
        state = _find(definition, stage="offer", terminal=True)
        if state is None:
            return Problem(row.number, "offered", f"{definition.name} has no ‘not offered’ step")
        code = row.reason_code or ("other" if row.not_offered_reason else None)
        plan.steps.append(Step(state.id, row.occurred_at, None, row.not_offered_reason, code))
        plan.closed_at = at(row.closed_on, row.occurred_at) if row.closed_on else row.occurred_at
        return plan
    offered = _find(definition, stage="offer")
    if offered is None:
        return Problem(row.number, "offered", f"{definition.name} has no offer step")
    plan.steps.append(Step(offered.id, row.occurred_at, "offered_at"))
    if row.accepted is None:
        return plan
    if row.accepted is False:
        declined = _find(definition, stage="acceptance", terminal=True)
        if declined is None:
            return Problem(row.number, "accepted", f"{definition.name} has no ‘declined’ step")
        plan.steps.append(Step(declined.id, row.occurred_at, None, "Declined", row.reason_code))
        plan.closed_at = at(row.closed_on, row.occurred_at) if row.closed_on else row.occurred_at
        plan.exit_reason = "declined"
        return plan
    if route is None:
        return Problem(
            row.number, "accepted", f"{definition.name} gave this encounter no route to refer it on"
        )
    plan.steps.append(Step(definition.route(route).enters, row.occurred_at, "accepted_at"))
    return _later_steps(definition, row, plan)


def _later_steps(definition: ProgrammeDefinition, row: Row, plan: CasePlan) -> CasePlan | Problem:
    if row.engaged_on:
        engaged = _find(definition, stage="engagement")
        if engaged is None:
            return Problem(row.number, "engaged_on", f"{definition.name} has no engagement step")
        plan.steps.append(Step(engaged.id, at(row.engaged_on, plan.steps[-1].at), "engaged_at"))
    for column, result, day in (
        ("completed_on", "completed", row.completed_on),
        ("escalated_on", "escalated", row.escalated_on),
    ):
        if day is None:
            continue
        end = _find(definition, result=result)
        if end is None:
            return Problem(
                row.number, column, f"{definition.name} has no ‘{result}’ outcome; leave {column} blank"
            )
        ended = at(day, plan.steps[-1].at)
        plan.steps.append(Step(end.id, ended, f"{result}_at"))
        plan.closed_at = at(row.closed_on, ended) if row.closed_on else ended
        plan.outcome_code = row.outcome_code if row.outcome_code is not None else end.outcome_code
    return plan
