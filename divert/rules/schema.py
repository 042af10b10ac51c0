"""Turns a definition document into a ProgrammeDefinition, collecting every problem it can find first.

An administrator fixing a file wants the whole list at once, each with the field path to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any, TypeVar

from divert.rules.codes import ORGANISATION_KINDS
from divert.rules.declared import FACT_TYPES, DeclaredFact, HistoryCount
from divert.rules.declared import KINDS as FACT_KINDS
from divert.rules.definition import (
    CONDITION_KINDS,
    CRIMINAL_CASE,
    DEADLINE_STARTS,
    DURATION_UNITS,
    HOME_OFFICE_OUTCOMES,
    OTHER_REASON,
    REASON_KINDS,
    RESULTS,
    ROLES,
    SIGNAL_KINDS,
    STAGES,
    CompletionRequirements,
    ConditionGroup,
    ConsentTerms,
    Contract,
    Deadline,
    DefinitionError,
    Duration,
    EligibilityRule,
    Escalation,
    EscalationOption,
    NeedsAssessmentTerms,
    NonEngagementCriterion,
    Population,
    ProgrammeDefinition,
    ReasonCode,
    RoleDeclaration,
    Route,
    RoutingRule,
    Sessions,
    State,
    Transition,
)
from divert.rules.expressions import Condition, ConditionError, compile_condition
from divert.rules.graph import check_graph
from divert.rules.messages import BeforeReminder, ReminderTimings
from divert.rules.retention import ACTIONS as RETENTION_ACTIONS
from divert.rules.retention import PeriodError, RetentionRule, parse_period
from divert.rules.sentences import placeholder_problem
from divert.rules.vocabulary import FACTS, FactType

SLUG = re.compile(r"^[a-z0-9]+([_-][a-z0-9]+)*$")
_TOP_LEVEL = {
    "code",
    "name",
    "version",
    "effective_from",
    "description",
    "criminal_case",
    "eligibility",
    "routes",
    "routing",
    "states",
    "transitions",
    "on_decision",
    "deadlines",
    "non_engagement",
    "escalation",
    "contract",
    "sessions",
    "drop_out_reasons",
    "completion",
    "reminders",
    # Issue 14: definitions that can say more.
    "roles",
    "needs_assessment",
    "facts",
    # issue 13: who the programme is for (monitoring's base), and reason codes by decision point
    "population",
    "reason_codes",
    "retention",
    # issue 17: consent to the referral and to each sharing, and the notice given
    "consent",
}
T = TypeVar("T")


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        # The document's own declared facts (see the block at the end), which its conditions and
        # sentences may name as well as the built-in catalogue's.
        self.declared: dict[str, FactType] = {}

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))


class _Reader:
    """Typed access to one mapping in the document, recording a problem instead of raising."""

    def __init__(self, data: Any, path: str, problems: _Problems, allowed: set[str]) -> None:
        self.path = path
        self.problems = problems
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not self.ok:
            problems.add(path, f"must be a mapping of fields, not {_kind(data)}")
            return
        for key in self.data:
            if key not in allowed:
                problems.add(self.at(str(key)), f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type[T], default: T | None = None, required: bool = True) -> T | None:
        if key not in self.data:
            if required and self.ok:
                self.problems.add(self.at(key), "is required")
            return default
        value = self.data[key]
        # bool is an int in Python, but `version: true` is a mistake, not version 1.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.add(self.at(key), f"must be {_describe(kind)}, not {_kind(value)}")
            return default
        return value

    def text(self, key: str, required: bool = True, placeholders: bool = False) -> str:
        value = self.get(key, str, required=required)
        if value is None:
            return ""
        if not value.strip():
            self.problems.add(self.at(key), "must not be empty")
        elif placeholders and (problem := placeholder_problem(value, self.problems.declared)):
            self.problems.add(self.at(key), problem)
        return value

    def slug(self, key: str) -> str:
        value = self.text(key)
        if value and not SLUG.match(value):
            self.problems.add(self.at(key), f"'{value}' must be lower-case letters, digits, '-' or '_'")
        return value

    def one_of(self, key: str, allowed: tuple[str, ...], required: bool = True) -> str:
        value = self.text(key, required=required)
        if value and value not in allowed:
            self.problems.add(self.at(key), f"unknown value '{value}' (allowed: {', '.join(allowed)})")
        return value

    def whole(self, key: str, minimum: int = 0, required: bool = True) -> int | None:
        value = self.get(key, int, required=required)
        if value is not None and value < minimum:
            self.problems.add(self.at(key), f"must be at least {minimum}, not {value}")
            return None
        return value

    def flag(self, key: str) -> bool:
        return bool(self.get(key, bool, default=False, required=False))

    def condition(self, key: str) -> Condition | None:
        value = self.text(key)
        if not value:
            return None
        try:
            return compile_condition(value, self.problems.declared)
        except ConditionError as error:
            self.problems.add(self.at(key), f"condition {error}")
            return None

    def items(self, key: str, required: bool = True) -> list[tuple[str, Any]]:
        values = self.get(key, list, default=[], required=required) or []
        return [(f"{self.at(key)}[{index}]", item) for index, item in enumerate(values)]


def definition_from_dict(data: Any, source: str = "<memory>") -> ProgrammeDefinition:
    """Validate a definition document (parsed YAML, or the JSON the database stored) and build it."""
    problems = _Problems()
    top = _Reader(data, "", problems, _TOP_LEVEL)
    if not top.ok:
        raise DefinitionError(source, problems.items)
    code = top.slug("code")
    name = top.text("name")
    version = top.whole("version", minimum=1)
    effective_from = _date(top, "effective_from")
    description = top.text("description")
    criminal_case = top.one_of("criminal_case", CRIMINAL_CASE)
    declared_facts = _declared_facts(top, problems)  # first: the rules below may name them
    declared = _declared_roles(top, problems)
    known = (*ROLES, *(role.id for role in declared))
    states = _states(top, problems)
    state_ids = {state.id for state in states}
    transitions = _transitions(top, problems, state_ids, known)
    routes = _routes(top, problems, state_ids)
    eligibility = _eligibility(top, problems)
    routing = _routing(top, problems, {route.id for route in routes})
    _unique_ids(problems, _ids(top, "eligibility") + _ids(top, "routing"))
    on_decision = _on_decision(top, problems, state_ids)
    deadlines = _deadlines(top, problems)
    non_engagement = _non_engagement(top, problems, {deadline.id for deadline in deadlines})
    escalation = _escalation(top, problems, transitions, known)
    contract = _contract(top, problems)
    needs_assessment = _needs_assessment(top, problems)
    sessions = _sessions(top, problems)
    drop_out_reasons = _slug_list(top, problems, "drop_out_reasons")
    completion = _completion(top, problems, sessions, contract)
    reminders = _reminders(top, problems)
    completion = _completion(top, problems, sessions, contract, known)
    population = _population(top, problems)
    reasons = _reason_codes(top, problems)
    for index, choice in enumerate(reasons.get("drop_out", ())):
        # A drop-out's exit reason is checked against drop_out_reasons when a case ends.
        if choice.code not in drop_out_reasons:
            problems.add(
                f"reason_codes.drop_out[{index}].code", f"'{choice.code}' is not in drop_out_reasons"
            )
    retention = _retention(top, problems)
    consent = _consent(top, problems)
    if states and len(state_ids) == len(states):
        for path, message in check_graph(states, transitions):
            problems.add(path, message)
    if problems.items:
        raise DefinitionError(source, problems.items)
    assert version is not None and effective_from is not None  # guaranteed: a problem was recorded otherwise
    return ProgrammeDefinition(
        code=code,
        name=name,
        version=version,
        effective_from=effective_from,
        description=description,
        criminal_case=criminal_case,
        eligibility=tuple(eligibility),
        routes=tuple(routes),
        routing=tuple(routing),
        states=tuple(states),
        transitions=tuple(transitions),
        on_decision=on_decision,
        deadlines=tuple(deadlines),
        non_engagement=tuple(non_engagement),
        escalation=escalation,
        contract=contract,
        sessions=sessions,
        drop_out_reasons=tuple(drop_out_reasons),
        completion=completion,
        reminders=reminders,
        roles=tuple(declared),
        needs_assessment=needs_assessment,
        population=population,
        reasons=reasons,
        facts=tuple(declared_facts),
        retention=retention,
        consent=consent,
        document=dict(data),
        source=source,
    )


def _date(reader: _Reader, key: str) -> date | None:
    value = reader.data.get(key)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    if key in reader.data:
        reader.problems.add(reader.at(key), f"must be a date written YYYY-MM-DD, not {value!r}")
    else:
        reader.problems.add(reader.at(key), "is required")
    return None


def _each(
    top: _Reader,
    problems: _Problems,
    key: str,
    allowed: set[str],
    build: Callable[[_Reader], T | None],
    *,
    required: bool = True,
) -> list[T]:
    built: list[T] = []
    for path, item in top.items(key, required=required):
        reader = _Reader(item, path, problems, allowed)
        if reader.ok and (result := build(reader)) is not None:
            built.append(result)
    return built


def _states(top: _Reader, problems: _Problems) -> list[State]:
    def build(r: _Reader) -> State:
        terminal = r.flag("terminal")
        outcome: int | None = None
        if terminal and not r.has("outcome_code"):
            problems.add(
                r.at("outcome_code"),
                "is required on a terminal state (use null if the programme records none)",
            )
        elif r.has("outcome_code") and r.data["outcome_code"] is not None:
            # Any state may record an outcome (a conditional caution's is known when it is given);
            # a terminal state must say, even if only that the programme records none.
            outcome = r.whole("outcome_code")
            if outcome is not None and outcome not in HOME_OFFICE_OUTCOMES:
                problems.add(r.at("outcome_code"), f"{outcome} is not a Home Office outcome code (0-22)")
        result = r.one_of("result", RESULTS, required=False) or None
        if result and not terminal:
            problems.add(r.at("result"), "is only allowed on a terminal state")
        # issue 13: a formal outcome is an ending, said in the definition rather than only by code
        formal = r.get("formal_outcome", bool, required=False)
        if formal is not None and not terminal:
            problems.add(r.at("formal_outcome"), "is only allowed on a terminal state")
        return State(
            result=result,
            id=r.slug("id"),
            name=r.text("name"),
            stage=r.one_of("stage", STAGES),
            terminal=terminal,
            outcome_code=outcome,
            initial=r.flag("initial"),
            formal_outcome=formal,
        )

    states = _each(
        top,
        problems,
        "states",
        {"id", "name", "stage", "terminal", "outcome_code", "initial", "result", "formal_outcome"},
        build,
    )
    _unique_ids(problems, _ids(top, "states"))
    initial = [state.id for state in states if state.initial]
    if states and len(initial) != 1:
        problems.add("states", f"exactly one state must be marked initial, found {len(initial)}")
    return states


def _transitions(
    top: _Reader, problems: _Problems, state_ids: set[str], known: tuple[str, ...]
) -> list[Transition]:
    seen: set[tuple[str, str]] = set()

    def build(r: _Reader) -> Transition:
        ends = [r.text(key) for key in ("from", "to")]
        for key, value in zip(("from", "to"), ends, strict=True):
            if value and value not in state_ids:
                problems.add(r.at(key), f"'{value}' is not a state defined in this file")
        if (ends[0], ends[1]) in seen:
            problems.add(r.path, f"duplicate transition from '{ends[0]}' to '{ends[1]}'")
        seen.add((ends[0], ends[1]))
        return Transition(ends[0], ends[1], tuple(_roles(r, "roles", known)), r.flag("reason_required"))

    return _each(top, problems, "transitions", {"from", "to", "roles", "reason_required"}, build)


def _roles(r: _Reader, key: str, known: tuple[str, ...] = ROLES) -> list[str]:
    roles: list[str] = []
    entries = r.items(key)
    if not entries and r.has(key):
        r.problems.add(r.at(key), "must name at least one role")
    for path, role in entries:
        if role not in known:
            r.problems.add(
                path, f"unknown role {role!r} (roles are: {', '.join(known)}, or one declared under roles)"
            )
        else:
            roles.append(role)
    return roles


def _routes(top: _Reader, problems: _Problems, state_ids: set[str]) -> list[Route]:
    def build(r: _Reader) -> Route:
        enters = r.text("enters")
        if enters and enters not in state_ids:
            problems.add(r.at("enters"), f"'{enters}' is not a state defined in this file")
        return Route(r.slug("id"), r.text("name"), enters)

    routes = _each(top, problems, "routes", {"id", "name", "enters"}, build)
    _unique_ids(problems, _ids(top, "routes"))
    return routes


def _eligibility(top: _Reader, problems: _Problems) -> list[EligibilityRule]:
    def build(r: _Reader) -> EligibilityRule | None:
        # Every field is read before giving up, so all of a rule's problems are reported together.
        rule_id, condition = r.slug("id"), r.condition("when")
        passed, failed = r.text("pass", placeholders=True), r.text("fail", placeholders=True)
        unknown = r.text("unknown", required=False, placeholders=True) or None
        if condition is None:
            return None
        return EligibilityRule(rule_id, condition, passed, failed, unknown)

    return _each(
        top, problems, "eligibility", {"id", "when", "pass", "fail", "unknown"}, build, required=False
    )


def _routing(top: _Reader, problems: _Problems, route_ids: set[str]) -> list[RoutingRule]:
    def build(r: _Reader) -> RoutingRule | None:
        condition = r.condition("when")
        route = r.text("route")
        if route and route not in route_ids:
            problems.add(r.at("route"), f"'{route}' is not a route defined under routes")
        rule_id, reason = r.slug("id"), r.text("reason", placeholders=True)
        if condition is None:
            return None
        return RoutingRule(rule_id, condition, route, reason)

    entries = top.items("routing")
    rules = _each(top, problems, "routing", {"id", "when", "route", "reason"}, build)
    if rules and len(rules) == len(entries):
        last = rules[-1].condition
        # Eligible must always mean routed, so the last rule has to catch everyone the others did not.
        if last.facts or not last.evaluate({}):
            problems.add(
                f"routing[{len(rules) - 1}].when",
                "the last routing rule must be 'true' so every eligible person gets a route",
            )
    elif top.has("routing") and not entries:
        problems.add("routing", "must have at least one rule")
    return rules


def _on_decision(top: _Reader, problems: _Problems, state_ids: set[str]) -> dict[str, str]:
    r = _Reader(top.data.get("on_decision"), "on_decision", problems, {"eligible", "not_eligible"})
    result: dict[str, str] = {}
    for key in ("eligible", "not_eligible"):
        value = r.text(key)
        if value and value not in state_ids:
            problems.add(r.at(key), f"'{value}' is not a state defined in this file")
        result[key] = value
    return result


def _deadlines(top: _Reader, problems: _Problems) -> list[Deadline]:
    def build(r: _Reader) -> Deadline:
        days = r.whole("days", minimum=1, required=False)
        working_days = r.whole("working_days", minimum=1, required=False)
        weeks = r.whole("weeks", minimum=1, required=False)
        months = r.whole("months", minimum=1, required=False)
        given = [key for key in ("days", "working_days", "weeks", "months") if r.has(key)]
        if len(given) != 1:
            problems.add(r.path, "give exactly one of days, working_days, weeks or months")
        duration = None
        if weeks is not None:
            duration = Duration(weeks, "weeks")
        elif months is not None:
            duration = Duration(months, "months")
        return Deadline(
            r.slug("id"), r.text("label"), r.one_of("starts", DEADLINE_STARTS), days, working_days, duration
        )

    allowed = {"id", "label", "starts", "days", "working_days", "weeks", "months"}
    deadlines = _each(top, problems, "deadlines", allowed, build, required=False)
    _unique_ids(problems, _ids(top, "deadlines"))
    return deadlines


def _non_engagement(
    top: _Reader, problems: _Problems, deadline_ids: set[str]
) -> list[NonEngagementCriterion]:
    def build(r: _Reader) -> NonEngagementCriterion:
        kind = r.one_of("kind", SIGNAL_KINDS)
        needs_threshold = kind in ("missed_sessions", "late_sessions")
        threshold = r.whole("threshold", minimum=1, required=needs_threshold)
        deadline = r.text("deadline", required=kind == "no_first_contact") or None
        if deadline is not None and deadline not in deadline_ids:
            problems.add(r.at("deadline"), f"'{deadline}' is not a deadline defined under deadlines")
        return NonEngagementCriterion(r.slug("id"), kind, r.text("text"), threshold, deadline)

    allowed = {"id", "kind", "text", "threshold", "deadline"}
    criteria = _each(top, problems, "non_engagement", allowed, build, required=False)
    _unique_ids(problems, _ids(top, "non_engagement"))
    return criteria


def _escalation(
    top: _Reader, problems: _Problems, transitions: list[Transition], known: tuple[str, ...]
) -> Escalation | None:
    if not top.has("escalation"):
        return None
    r = _Reader(top.data["escalation"], "escalation", problems, {"from", "decided_by", "options"})
    source = r.text("from")
    deciders = _roles(r, "decided_by", known)
    allowed = {(t.from_state, t.to_state): t.roles for t in transitions}

    def build(option: _Reader) -> EscalationOption:
        target = option.text("to")
        if source and target and (source, target) not in allowed:
            problems.add(option.at("to"), f"no transition from '{source}' to '{target}' is defined")
        elif source and target:
            # Whoever may make the escalation decision must be allowed to carry out every option.
            for role in deciders:
                if role not in allowed[(source, target)]:
                    problems.add(
                        option.at("to"),
                        f"role '{role}' decides escalation but may not move a case to '{target}'",
                    )
        return EscalationOption(option.slug("id"), option.text("label"), target)

    options = _each(r, problems, "options", {"id", "label", "to"}, build)
    return Escalation(source, tuple(deciders), tuple(options))


def _contract(top: _Reader, problems: _Problems) -> Contract | None:
    if not top.has("contract"):
        return None
    r = _Reader(top.data["contract"], "contract", problems, {"length_months", "length", "conditions"})

    def build(g: _Reader) -> ConditionGroup:
        low, high = g.whole("min"), g.whole("max", minimum=1)
        if low is not None and high is not None and low > high:
            problems.add(g.path, f"min ({low}) is more than max ({high})")
        hours_min = hours_max = None
        if g.has("hours"):
            h = _Reader(g.data["hours"], g.at("hours"), problems, {"min", "max"})
            hours_min, hours_max = h.whole("min", minimum=1), h.whole("max", minimum=1)
            if hours_min is not None and hours_max is not None and hours_min > hours_max:
                problems.add(h.path, f"min ({hours_min}) is more than max ({hours_max})")
        options = tuple(_slug_list(g, problems, "options"))
        group_id = g.slug("id")
        # Older definitions name the kind by the group's id (voluntary_work); newer ones say it.
        kind = g.one_of("kind", CONDITION_KINDS, required=False) or (
            group_id if group_id in CONDITION_KINDS else "other"
        )
        return ConditionGroup(
            group_id, g.text("label"), low or 0, high or 0, options, hours_min, hours_max, kind
        )

    allowed = {"id", "label", "min", "max", "options", "hours", "kind"}
    groups = _each(r, problems, "conditions", allowed, build)
    _unique_ids(problems, _ids(r, "conditions"))
    if r.has("length") == r.has("length_months"):
        problems.add(r.path, "give exactly one of length (days, weeks or months) or length_months")
    if r.has("length"):
        length = _duration(r, "length")
    else:
        length = Duration(r.whole("length_months", minimum=1, required=False) or 0, "months")
    return Contract(length, tuple(groups))


def _duration(parent: _Reader, key: str) -> Duration:
    """A length written ``{weeks: 12}``: one unit, a whole number of them."""
    r = _Reader(parent.data.get(key), parent.at(key), parent.problems, set(DURATION_UNITS))
    given = [unit for unit in DURATION_UNITS if r.has(unit)]
    if r.ok and len(given) != 1:
        r.problems.add(r.path, f"give exactly one of {', '.join(DURATION_UNITS)}")
    unit = given[0] if given else "days"
    return Duration(r.whole(unit, minimum=1, required=False) or 0, unit)


def _declared_roles(top: _Reader, problems: _Problems) -> list[RoleDeclaration]:
    """Roles the programme uses beyond the built-in ones, each held by organisations of some kinds."""

    def build(r: _Reader) -> RoleDeclaration:
        role_id = r.slug("id")
        if role_id in ROLES:
            problems.add(r.at("id"), f"'{role_id}' is a built-in role: name it in steps without declaring it")
        kinds = _slug_list(r, problems, "organisation_kinds")
        if not kinds and r.ok:
            problems.add(r.at("organisation_kinds"), "must name at least one kind of organisation")
        for index, kind in enumerate(kinds):
            if kind not in ORGANISATION_KINDS:
                problems.add(
                    f"{r.at('organisation_kinds')}[{index}]",
                    f"unknown kind '{kind}' (allowed: {', '.join(ORGANISATION_KINDS)})",
                )
        return RoleDeclaration(role_id, r.text("label"), tuple(kinds))

    declared = _each(top, problems, "roles", {"id", "label", "organisation_kinds"}, build, required=False)
    _unique_ids(problems, _ids(top, "roles"))
    return declared


def _needs_assessment(top: _Reader, problems: _Problems) -> NeedsAssessmentTerms | None:
    if not top.has("needs_assessment"):
        return None
    r = _Reader(top.data["needs_assessment"], "needs_assessment", problems, {"areas"})
    return NeedsAssessmentTerms(tuple(_slug_list(r, problems, "areas")))


def _consent(top: _Reader, problems: _Problems) -> ConsentTerms | None:
    if not top.has("consent"):
        return None
    r = _Reader(top.data["consent"], "consent", problems, {"referral", "sharing", "notice"})
    terms = ConsentTerms(r.flag("referral"), r.flag("sharing"), r.text("notice").strip())
    if r.ok and not (terms.referral or terms.sharing):
        problems.add("consent", "must ask for consent to the referral, to sharing, or both")
    return terms


def _sessions(top: _Reader, problems: _Problems) -> Sessions | None:
    if not top.has("sessions"):
        return None
    r = _Reader(top.data["sessions"], "sessions", problems, {"count", "label", "record_times"})
    return Sessions(r.whole("count", minimum=1) or 0, r.text("label"), r.flag("record_times"))


def _completion(
    top: _Reader,
    problems: _Problems,
    sessions: Sessions | None,
    contract: Contract | None,
    known: tuple[str, ...] = ROLES,
) -> CompletionRequirements | None:
    """What completion needs; each requirement must be one the programme can record evidence for."""
    if not top.has("completion"):
        return None
    allowed = {"sessions", "conditions_met", "minimum_days", "until_contract_end", "early_by"}
    r = _Reader(top.data["completion"], "completion", problems, allowed)
    attended: int | None = None
    absences = 0
    if r.has("sessions"):
        s = _Reader(r.data["sessions"], r.at("sessions"), problems, {"attended", "acceptable_absences"})
        attended = s.whole("attended", minimum=1)
        absences = s.whole("acceptable_absences", minimum=0, required=False) or 0
        if attended is not None and absences >= attended:
            problems.add(
                s.at("acceptable_absences"), f"must be fewer than the sessions attended ({attended})"
            )
        if sessions is not None and attended is not None and attended > sessions.count:
            problems.add(s.at("attended"), f"is more than the {sessions.count} sessions the programme offers")
    conditions_met = r.flag("conditions_met")
    until_end = r.flag("until_contract_end")
    if contract is None:
        for key in ("conditions_met", "until_contract_end"):
            if r.data.get(key):
                problems.add(r.at(key), "needs a contract section: the programme has no contract")
    minimum_days = r.whole("minimum_days", minimum=1, required=False)
    early_by = tuple(_roles(r, "early_by", known)) if r.has("early_by") else ()
    if early_by and minimum_days is None and not until_end:
        problems.add(r.at("early_by"), "only applies with minimum_days or until_contract_end")
    return CompletionRequirements(attended, absences, conditions_met, minimum_days, until_end, early_by)


# --- population (issue 13) ------------------------------------------------------------------------
def _population(top: _Reader, problems: _Problems) -> Population | None:
    """Who the programme is for: conditions (all must hold) over the eligibility facts, and a sentence."""
    if not top.has("population"):
        return None
    r = _Reader(top.data["population"], "population", problems, {"all", "description"})
    description = r.text("description")
    conditions = []
    entries = r.items("all")
    if r.has("all") and not entries:
        problems.add(r.at("all"), "must list at least one condition")
    for path, text in entries:
        if not isinstance(text, str) or not text.strip():
            problems.add(path, "must be a condition written as text")
            continue
        try:
            conditions.append(compile_condition(text))
        except ConditionError as error:
            problems.add(path, f"condition {error}")
    if len(conditions) != len(entries) or not conditions:
        return None
    return Population(tuple(conditions), description)


# --- end population -------------------------------------------------------------------------------


# --- reason codes (issue 13) ---------------------------------------------------------------------
def _reason_codes(top: _Reader, problems: _Problems) -> dict[str, tuple[ReasonCode, ...]]:
    """Per kind of reason, the codes and labels a person chooses from ("other" is always added)."""
    if not top.has("reason_codes"):
        return {}
    r = _Reader(top.data["reason_codes"], "reason_codes", problems, set(REASON_KINDS))
    found: dict[str, tuple[ReasonCode, ...]] = {}
    for kind in REASON_KINDS:
        if not r.has(kind):
            continue

        def build(c: _Reader) -> ReasonCode:
            code = c.slug("code")
            if code == OTHER_REASON:
                problems.add(c.at("code"), f"'{OTHER_REASON}' is always offered; do not list it")
            return ReasonCode(code, c.text("label"))

        found[kind] = tuple(_each(r, problems, kind, {"code", "label"}, build))
        seen: set[str] = set()
        for path, item in r.items(kind):
            code = item.get("code") if isinstance(item, Mapping) else None
            if isinstance(code, str) and code in seen:
                problems.add(f"{path}.code", f"'{code}' is listed twice")
            elif isinstance(code, str):
                seen.add(code)
    return found


# --- end reason codes ------------------------------------------------------------------------------
# --- retention (issue 17): how long the programme's records are kept, and what is done then ---


def _retention(top: _Reader, problems: _Problems) -> RetentionRule | None:
    """``retention: {review_after_closed: 6 years, not_eligible: 2 years, action: anonymise}``."""
    if not top.has("retention"):
        return None
    r = _Reader(
        top.data["retention"], "retention", problems, {"review_after_closed", "not_eligible", "action"}
    )
    months: dict[str, int] = {}
    for key in ("review_after_closed", "not_eligible"):
        text = r.text(key)
        if text:
            try:
                months[key] = parse_period(text)
            except PeriodError as error:
                problems.add(r.at(key), str(error))
    action = r.one_of("action", RETENTION_ACTIONS, required=False) or "anonymise"
    if len(months) < 2:
        return None
    return RetentionRule(months["review_after_closed"], months["not_eligible"], action)


# --- end of retention ---


def _slug_list(r: _Reader, problems: _Problems, key: str) -> list[str]:
    values: list[str] = []
    for path, value in r.items(key, required=False):
        if not isinstance(value, str) or not SLUG.match(value):
            problems.add(path, f"{value!r} must be a lower-case slug")
        elif value in values:
            problems.add(path, f"'{value}' is listed twice")
        else:
            values.append(value)
    return values


def _ids(r: _Reader, key: str) -> list[tuple[str, object]]:
    return [
        (path, item.get("id")) for path, item in r.items(key, required=False) if isinstance(item, Mapping)
    ]


def _unique_ids(problems: _Problems, entries: list[tuple[str, object]]) -> None:
    first_seen: dict[object, str] = {}
    for path, identifier in entries:
        if not isinstance(identifier, str) or not identifier:
            continue
        if identifier in first_seen:
            problems.add(
                f"{path}.id", f"duplicate id '{identifier}' (already used at {first_seen[identifier]})"
            )
        else:
            first_seen[identifier] = path


def _kind(value: object) -> str:
    return {
        type(None): "nothing",
        bool: "true/false",
        int: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _describe(kind: type) -> str:
    return {int: "a whole number", str: "text", list: "a list", bool: "true or false", dict: "a mapping"}.get(
        kind, kind.__name__
    )


# --- Reminders to participants (issue 18): when they are sent; absent means the defaults --------------


def _reminders(top: _Reader, problems: _Problems) -> ReminderTimings | None:
    if not top.has("reminders"):
        return None
    r = _Reader(top.data["reminders"], "reminders", problems, {"on_booking", "on_move", "before"})

    def build(b: _Reader) -> BeforeReminder:
        days, hours = b.whole("days", minimum=1, required=False), b.whole("hours", minimum=1, required=False)
        at = None
        if b.has("at"):
            raw = b.text("at")
            match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", raw)
            if match is None:
                problems.add(b.at("at"), f"'{raw}' must be a 24-hour time such as 10:00")
            else:
                at = time(int(match.group(1)), int(match.group(2)))
        if (days is None) == (hours is None):
            problems.add(b.path, "give either days (with at) or hours before the appointment")
        elif days is not None and at is None:
            problems.add(b.at("at"), "is required with days: the UK time the reminder goes")
        elif hours is not None and b.has("at"):
            problems.add(b.at("at"), "only applies with days")
        return BeforeReminder(b.slug("id"), days, at if days is not None else None, hours)

    before = _each(r, problems, "before", {"id", "days", "at", "hours"}, build) if r.has("before") else None
    _unique_ids(problems, _ids(r, "before"))
    return ReminderTimings(
        bool(r.get("on_booking", bool, default=True, required=False)),
        bool(r.get("on_move", bool, default=True, required=False)),
        tuple(before) if before is not None else ReminderTimings().before,
    )


# ---- Declared facts (issue 14): the facts and questions a definition adds to the built-in catalogue -------

_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DECLARED_FIELDS = {
    "name",
    "type",
    "question",
    "hint",
    "asked_when",
    "unknown",
    "choices",
    "min",
    "max",
    "counted",
    "optional",
}


def _declared_facts(top: _Reader, problems: _Problems) -> list[DeclaredFact]:
    entries = [(path, item) for path, item in top.items("facts", required=False) if isinstance(item, Mapping)]
    # Every name is known before any condition is compiled, so one fact's asked_when may name another.
    for path, item in entries:
        name = item.get("name")
        if not isinstance(name, str) or not _FACT_NAME.match(name):
            continue
        if name in FACTS:
            problems.add(f"{path}.name", f"'{name}' is a built-in fact: declare only new ones")
        elif name in problems.declared:
            problems.add(f"{path}.name", f"'{name}' is declared twice")
        elif (kind := item.get("type")) in FACT_KINDS:
            problems.declared[name] = FACT_TYPES[kind]

    def build(r: _Reader) -> DeclaredFact | None:
        name = r.text("name")
        if name and not _FACT_NAME.match(name):
            problems.add(
                r.at("name"), f"'{name}' must be lower-case letters, digits or '_', starting with a letter"
            )
        kind = r.one_of("type", FACT_KINDS)
        counted = _counted(r) if kind == "counted" else None
        if kind == "counted" and counted is None and not r.has("counted"):
            problems.add(r.at("counted"), "is required for a counted fact")
        elif kind != "counted" and r.has("counted"):
            problems.add(r.at("counted"), "is only allowed on a counted fact")
        question = r.text("question", required=kind != "counted")
        asked_when = r.condition("asked_when") if r.has("asked_when") else None
        if asked_when is not None and name in asked_when.facts:
            problems.add(r.at("asked_when"), "cannot depend on the fact's own answer")
        choices = _choices(r) if kind == "choice" else ()
        if kind != "choice" and r.has("choices"):
            problems.add(r.at("choices"), "is only allowed on a choice fact")
        low = r.whole("min", required=False)
        high = r.whole("max", required=False)
        if low is not None and high is not None and low > high:
            problems.add(r.path, f"min ({low}) is more than max ({high})")
        unknown = r.text("unknown", required=False, placeholders=True) or None
        if not name or not kind:
            return None
        return DeclaredFact(
            name=name,
            kind=kind,
            question=question,
            hint=r.text("hint", required=False),
            asked_when=asked_when,
            unknown=unknown,
            choices=choices,
            minimum=low,
            maximum=high,
            counted=counted,
            optional=r.flag("optional"),
        )

    return _each(top, problems, "facts", _DECLARED_FIELDS, build, required=False)


def _choices(r: _Reader) -> tuple[tuple[str, str], ...]:
    chosen: list[tuple[str, str]] = []
    for path, item in r.items("choices"):
        c = _Reader(item, path, r.problems, {"value", "label"})
        if c.ok:
            chosen.append((c.slug("value"), c.text("label")))
    if r.has("choices") and not chosen:
        r.problems.add(r.at("choices"), "must list at least one choice")
    return tuple(chosen)


def _counted(r: _Reader) -> HistoryCount | None:
    if not r.has("counted"):
        return None
    allowed = {"within_days", "offences", "programmes", "outcomes", "diverted_only"}
    c = _Reader(r.data["counted"], r.at("counted"), r.problems, allowed)
    return HistoryCount(
        within_days=c.whole("within_days", minimum=1, required=False),
        offences=tuple(_slug_list(c, r.problems, "offences")),
        programmes=tuple(_slug_list(c, r.problems, "programmes")),
        outcomes=tuple(_slug_list(c, r.problems, "outcomes")),
        diverted_only=c.flag("diverted_only"),
    )
