"""A programme definition: everything needed to decide and to drive a case, loaded from a versioned file.

Forces change their schemes by editing files, not code, so this module holds only the shapes and the
lookups; what each programme does lives in ``seeds/programmes/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from divert.rules.declared import DeclaredFact
from divert.rules.expressions import Condition
from divert.rules.messages import ReminderTimings
from divert.rules.retention import RetentionRule

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

# --- Definitions that can say more (issue 14): roles, durations, condition kinds, needs. ---
# The roles above are built in: the policy gives each its abilities by name. A definition may declare
# more (a women's-centre keyworker, a drug-service worker); a declared role works cases of the
# programmes that name it in their steps, and nothing else (see ``auth.policy``).
BUILT_IN_ROLES = ROLES
# A contract's length or a deadline, counted in these units ("12 weeks" stays 12 weeks).
DURATION_UNITS = ("days", "weeks", "months")
# What a contract condition is, whatever a programme calls it; an hours condition says its kind.
CONDITION_KINDS = (
    "do_not_reoffend",
    "pathway",
    "victim_restorative",
    "reparation",
    "victim_awareness",
    "unpaid_work",
    "voluntary_work",
    "treatment",
    "course",
    "other",
)


@dataclass(frozen=True, slots=True)
class RoleDeclaration:
    """A role a programme uses that is not built in, and the organisation kinds whose staff hold it."""

    id: str
    label: str
    organisation_kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: str

    @property
    def text(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {unit}"


@dataclass(frozen=True, slots=True)
class NeedsAssessmentTerms:
    """A programme that assesses needs says so, with the areas it assesses (none: the brief's areas)."""

    areas: tuple[str, ...] = ()


# --- end of issue 14's additions to the vocabulary. ---


@dataclass(frozen=True, slots=True)
class ConsentTerms:
    """What a programme asks of the participant before their referral goes on (issue 17).

    ``referral``: their consent to the referral itself, without which the case cannot move past the
    offer; ``sharing``: their consent to each organisation the case is shared with, whose
    withdrawal stops that sharing; ``notice``: what they are told (the privacy notice), shown to
    whoever records the consent.
    """

    referral: bool
    sharing: bool
    notice: str


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
    # Issue 13: whether this ending is a formal outcome (a charge, a caution, prosecution, back to
    # the officer for the original outcome). None: not said (versions written before the flag);
    # ``is_formal_outcome`` then works it out.
    formal_outcome: bool | None = None


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
    # Or a calendar length in weeks or months (issue 14).
    duration: Duration | None = None


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
    # What the condition is (unpaid work, reparation...); defaults to the group's id when that is a kind.
    kind: str = "other"


@dataclass(frozen=True, slots=True)
class Contract:
    length: Duration
    conditions: tuple[ConditionGroup, ...]

    @property
    def length_months(self) -> int | None:
        """The length in whole months, for a contract measured in months (older definitions)."""
        return self.length.amount if self.length.unit == "months" else None


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


# --- population (issue 13): who a programme is for, the base of its monitoring funnel ---------------
@dataclass(frozen=True, slots=True)
class Population:
    """Who the programme is for, before anyone's discretion: the encounters its funnel starts from.

    Separate from eligibility, which holds the rules where a decision is made about someone the
    programme is for (personal use, supply, admission). An encounter outside the population is still
    decided, so the officer sees why the programme does not apply, but it is not in the programme's
    monitoring base. A condition that needs a fact nobody recorded counts the encounter in: poor
    recording must not make someone vanish from the base (they show as not eligible, with the reason).
    That is judged condition by condition, so an unrecorded area does not let an adult into a youth
    scheme's base.
    """

    conditions: tuple[Condition, ...]
    description: str

    def includes(self, values: Mapping[str, Any]) -> bool:
        return all(
            any(values.get(name) is None for name in condition.facts) or condition.evaluate(values)
            for condition in self.conditions
        )


# --- end population ---------------------------------------------------------------------------


# --- reason codes (issue 13): why someone left the journey, as codes monitoring can group by ------
# The decision points whose reasons are reported. A drop-out is a case ending without completion.
REASON_KINDS = ("not_offered", "declined", "drop_out", "override")
# Always allowed, whatever a version lists: a reason nobody foresaw. The words typed with it stay on
# the case; monitoring counts it as "Other (free text)" and never shows them.
OTHER_REASON = "other"
OTHER_REASON_LABEL = "Other"
# An import's override (the file disagreed with the rules): set by the system, never chosen.
IMPORTED_OVERRIDE = "imported"
IMPORTED_OVERRIDE_LABEL = "Recorded so in an imported file"


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    label: str


def reason_codes(definition: ProgrammeDefinition, kind: str) -> tuple[ReasonCode, ...]:
    """The codes a person chooses from for ``kind``, "other" last.

    A version written before reason codes existed lists none; its drop-out reasons (slugs) are
    still codes, labelled by the vocabulary (``codes.label``) where the caller has one.
    """
    if kind not in REASON_KINDS:
        raise ValueError(f"Unknown kind of reason '{kind}'; choose one of {', '.join(REASON_KINDS)}")
    listed = definition.reasons.get(kind, ())
    if not listed and kind == "drop_out":
        listed = tuple(ReasonCode(code, code) for code in definition.drop_out_reasons)
    return (*(c for c in listed if c.code != OTHER_REASON), ReasonCode(OTHER_REASON, OTHER_REASON_LABEL))


def reason_kind(definition: ProgrammeDefinition, to_state: str) -> str | None:
    """Which kind of reason moving a case into ``to_state`` gives (None: not one monitoring reports)."""
    state = definition.state(to_state)
    if not state.terminal:
        return None
    if state.stage == "offer":
        return "not_offered"
    if state.stage == "acceptance":
        return "declined"
    return None


# --- end reason codes ----------------------------------------------------------------------------


# --- decision points after the offer (issue 13): the route, a decision maker's decision, formal ends ---
# Home Office outcome codes that are a formal outcome: charged/summonsed, youth or adult caution.
FORMAL_OUTCOME_CODES = (1, 2, 3)
# Milestones on a case (Referral columns), each reached when a step first gets there.
DECISION_ROUTE, DIVERTED_AGAIN, FORMAL_OUTCOME = "decision_route_at", "diverted_again_at", "formal_outcome_at"


def decision_route_entries(definition: ProgrammeDefinition) -> frozenset[str]:
    """The entry states of routes where someone decides again (the Youth Justice Unit's): a route
    whose entry is not an ending and leads on to another route's entry (divert again) as well as
    to endings. Worked out from the graph, so every version, old or new, answers the same way."""
    entries = {route.enters for route in definition.routes}
    found = set()
    for route in definition.routes:
        onward = {t.to_state for t in definition.transitions if t.from_state == route.enters}
        if not definition.state(route.enters).terminal and onward & (entries - {route.enters}):
            found.add(route.enters)
    return frozenset(found)


def is_formal_outcome(definition: ProgrammeDefinition, state: State) -> bool:
    """Whether ending in ``state`` is a formal outcome: the state's ``formal_outcome`` flag where the
    version gives one; otherwise an outcome code of 1-3, an escalation to the traditional pathway
    (result: escalated), or an ending a decision maker chose on a decision route (version 1's
    "formal outcome pursued by YJU", which recorded no code)."""
    if not state.terminal:
        return False
    if state.formal_outcome is not None:
        return state.formal_outcome
    if state.outcome_code in FORMAL_OUTCOME_CODES or state.result == "escalated":
        return True
    decided_from = decision_route_entries(definition)
    return state.stage == "route" and any(
        t.from_state in decided_from and t.to_state == state.id for t in definition.transitions
    )


def decision_milestones(definition: ProgrammeDefinition, from_state: str, to_state: str) -> tuple[str, ...]:
    """The milestones a step from ``from_state`` to ``to_state`` reaches (see the constants above)."""
    entries = decision_route_entries(definition)
    others = {route.enters for route in definition.routes} - entries
    reached = []
    if to_state in entries:
        reached.append(DECISION_ROUTE)
    if from_state in entries and to_state in others:
        reached.append(DIVERTED_AGAIN)
    if is_formal_outcome(definition, definition.state(to_state)):
        reached.append(FORMAL_OUTCOME)
    return tuple(reached)


# --- end decision points ------------------------------------------------------------------------------


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
    # Issue 14: the roles the programme declares, and whether (and on what) it assesses needs.
    roles: tuple[RoleDeclaration, ...] = ()
    needs_assessment: NeedsAssessmentTerms | None = None
    # None: a version written before populations existed; everyone decided under it is in its base.
    population: Population | None = None
    # Reason codes by kind (REASON_KINDS); empty for a version written before they existed.
    reasons: Mapping[str, tuple[ReasonCode, ...]] = field(default_factory=dict)
    # Facts the definition declares for itself, with their questions (``declared.py``).
    facts: tuple[DeclaredFact, ...] = ()
    # How long records are kept (rules/retention.py); None: the configured default.
    retention: RetentionRule | None = None
    # Consent the participant is asked for (issue 17); None: the programme records none.
    consent: ConsentTerms | None = None
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

    def declared_role(self, role_id: str) -> RoleDeclaration | None:
        return next((role for role in self.roles if role.id == role_id), None)

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
