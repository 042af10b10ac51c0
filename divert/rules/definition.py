"""A programme definition: everything needed to decide and to drive a case, loaded from a versioned file.

Forces change their schemes by editing files, not code, so this module holds only the shapes and the
lookups; what each programme does lives in ``seeds/programmes/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from divert.rules.expressions import Condition
from divert.rules.messages import ReminderTimings

ROLES = (
    "officer",
    "yot_caseworker",
    "yju_decision_maker",
    "navigator",
    "coach",
    "supervisor",
    "analyst",
    "admin",
)
# The monitoring decision points in the product brief, in journey order.
STAGES = ("encounter", "eligibility", "offer", "acceptance", "route", "engagement", "completion", "outcome")
# What a terminal state means for monitoring: the programme was completed, or non-engagement was
# escalated to the traditional pathway. Other endings (declined, not offered, ...) need no label.
RESULTS = ("completed", "escalated")
# How the programme relates to the criminal case: DIVERT runs beside it and never changes it.
CRIMINAL_CASE = ("replaced", "deferred", "parallel")
DEADLINE_STARTS = ("encounter", "referral", "custody_contact", "first_contact", "contract_start")
SIGNAL_KINDS = ("missed_sessions", "late_sessions", "no_first_contact", "contract_expired")
HOME_OFFICE_OUTCOMES = range(0, 23)


class DefinitionError(ValueError):
    """A definition file that cannot be used. ``problems`` holds (field path, what is wrong) pairs."""

    def __init__(self, source: str, problems: Iterable[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [
            f"{source}: {path}: {problem}" if path else f"{source}: {problem}"
            for path, problem in self.problems
        ]
        super().__init__("\n".join(lines))


class NoVersionInForce(LookupError):
    """No version of a programme had taken effect on the date asked about."""


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    id: str
    condition: Condition
    passed: str
    failed: str
    # Overrides the catalogue's "not recorded" sentence when this rule needs a missing fact.
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingRule:
    id: str
    condition: Condition
    route: str
    reason: str


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    name: str
    enters: str


@dataclass(frozen=True, slots=True)
class State:
    id: str
    name: str
    stage: str
    terminal: bool = False
    # None on a terminal state means the programme records no Home Office outcome (the criminal case does).
    outcome_code: int | None = None
    initial: bool = False
    result: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: str
    to_state: str
    roles: tuple[str, ...]
    reason_required: bool = False


@dataclass(frozen=True, slots=True)
class Deadline:
    id: str
    label: str
    starts: str
    days: int | None = None
    working_days: int | None = None


@dataclass(frozen=True, slots=True)
class NonEngagementCriterion:
    id: str
    kind: str
    text: str
    threshold: int | None = None
    deadline: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationOption:
    id: str
    label: str
    to_state: str


@dataclass(frozen=True, slots=True)
class Escalation:
    from_state: str
    decided_by: tuple[str, ...]
    options: tuple[EscalationOption, ...]


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    id: str
    label: str
    min: int
    max: int
    options: tuple[str, ...] = ()
    hours_min: int | None = None
    hours_max: int | None = None


@dataclass(frozen=True, slots=True)
class Contract:
    length_months: int
    conditions: tuple[ConditionGroup, ...]


@dataclass(frozen=True, slots=True)
class Sessions:
    count: int
    label: str
    record_times: bool = False


@dataclass(frozen=True, slots=True)
class CompletionRequirements:
    """What a case needs before it may be recorded as completed; the step is refused otherwise."""

    # Sessions attended; up to ``acceptable_absences`` missed with an acceptable reason count towards them.
    sessions_attended: int | None = None
    acceptable_absences: int = 0
    # Every current contract condition recorded as met.
    conditions_met: bool = False
    # Days since the case entered its route, and/or the contract's end date reached.
    minimum_days: int | None = None
    until_contract_end: bool = False
    # Who may complete before the time is up (with a reason); sessions and conditions are never waived.
    early_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProgrammeDefinition:
    code: str
    name: str
    version: int
    effective_from: date
    description: str
    criminal_case: str
    eligibility: tuple[EligibilityRule, ...]
    routes: tuple[Route, ...]
    routing: tuple[RoutingRule, ...]
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    on_decision: Mapping[str, str]
    deadlines: tuple[Deadline, ...] = ()
    non_engagement: tuple[NonEngagementCriterion, ...] = ()
    escalation: Escalation | None = None
    contract: Contract | None = None
    sessions: Sessions | None = None
    drop_out_reasons: tuple[str, ...] = ()
    completion: CompletionRequirements | None = None
    # When participants are reminded of appointments; None: the defaults (rules/messages.py).
    reminders: ReminderTimings | None = None
    # The raw, validated document: what is stored, hashed and shown to administrators.
    document: Mapping[str, Any] | None = None
    source: str = "<memory>"

    def state(self, state_id: str) -> State:
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)

    @property
    def initial_state(self) -> State:
        return next(state for state in self.states if state.initial)

    def deadline(self, deadline_id: str) -> Deadline:
        for deadline in self.deadlines:
            if deadline.id == deadline_id:
                return deadline
        raise KeyError(deadline_id)

    def route(self, route_id: str) -> Route:
        for route in self.routes:
            if route.id == route_id:
                return route
        raise KeyError(route_id)


def definition_to_dict(definition: ProgrammeDefinition) -> dict[str, Any]:
    """The definition as JSON-able data; ``definition_from_dict`` turns it back into the same definition."""
    if definition.document is None:
        raise ValueError("definition was not built from a document, so it has nothing to store")
    stored: dict[str, Any] = json.loads(
        json.dumps(definition.document, default=_json_default, sort_keys=True)
    )
    return stored


def content_hash(definition: ProgrammeDefinition) -> str:
    """A stable SHA-256 of the content, so the database can tell an edited file from an unchanged one."""
    canonical = json.dumps(definition_to_dict(definition), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def select_version(
    definitions: Iterable[ProgrammeDefinition], code: str, on_date: date
) -> ProgrammeDefinition:
    """The version of ``code`` in force on ``on_date``: the latest to take effect on or before it."""
    in_force = [d for d in definitions if d.code == code and d.effective_from <= on_date]
    if not in_force:
        raise NoVersionInForce(f"No version of programme '{code}' was in force on {on_date.isoformat()}.")
    return max(in_force, key=lambda d: (d.effective_from, d.version))


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a definition")
