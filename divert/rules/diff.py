"""What changes between two versions of a programme, in words an administrator can check.

Compared item by item (rules by id, transitions by the states they join), not line by line, so
reordering a file shows nothing and a changed condition shows its old and new text side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from divert.rules.codes import label
from divert.rules.declared import KIND_LABELS, DeclaredFact
from divert.rules.definition import (
    ConditionGroup,
    Deadline,
    EligibilityRule,
    NonEngagementCriterion,
    ProgrammeDefinition,
    RoleDeclaration,
    Route,
    RoutingRule,
    State,
    Transition,
)

T = TypeVar("T")
Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ItemChange:
    kind: Kind
    item: str  # which rule, state or transition, as the page names it
    fields: tuple[tuple[str, str], ...] = ()  # an added or removed item, described in full
    changes: tuple[FieldChange, ...] = ()  # a changed item: only what differs


@dataclass(frozen=True)
class SectionChanges:
    title: str
    items: tuple[ItemChange, ...]


Described = dict[str, str]


def compare_definitions(old: ProgrammeDefinition, new: ProgrammeDefinition) -> tuple[SectionChanges, ...]:
    """Every difference from ``old`` to ``new``, by section; sections without one are left out.
    The version number and effective date are not compared: they always differ."""
    sections = [
        ("Programme", _single(_programme(old), _programme(new), "Programme details")),
        ("Facts and questions", _keyed(old.facts, new.facts, lambda f: f.name, _declared_fact)),
        ("Eligibility rules", _keyed(old.eligibility, new.eligibility, lambda r: r.id, _eligibility)),
        ("Routes", _keyed(old.routes, new.routes, lambda r: r.id, lambda r: _route(r, new, old))),
        ("Routing rules", _keyed(old.routing, new.routing, lambda r: r.id, _routing)),
        ("States", _keyed(old.states, new.states, lambda s: s.id, _state)),
        (
            "Transitions (who may move a case)",
            _keyed(
                old.transitions,
                new.transitions,
                lambda t: f"{_state_name(t.from_state, new, old)} to {_state_name(t.to_state, new, old)}",
                _transition,
            ),
        ),
        ("After the decision", _single(dict(old.on_decision), dict(new.on_decision), "Case starts in")),
        ("Deadlines", _keyed(old.deadlines, new.deadlines, lambda d: d.label or d.id, _deadline)),
        (
            "Non-engagement",
            _keyed(old.non_engagement, new.non_engagement, lambda c: c.id, _criterion),
        ),
        ("Escalation", _single(_escalation(old), _escalation(new), "Escalation")),
        ("Contract terms", _contract(old, new)),
        ("Sessions", _single(_sessions(old), _sessions(new), "Sessions")),
        (
            "Drop-out reasons",
            _keyed(old.drop_out_reasons, new.drop_out_reasons, label, lambda r: {"Reason": label(r)}),
        ),
        # Issue 14: the roles a definition declares, and its needs assessment.
        ("Roles", _keyed(old.roles, new.roles, lambda r: r.id, _role)),
        ("Needs assessment", _single(_needs(old), _needs(new), "Needs assessment")),
    ]
    return tuple(SectionChanges(title, tuple(items)) for title, items in sections if items)


def _role(role: RoleDeclaration) -> Described:
    return {"Label": role.label, "Held by": ", ".join(label(kind) for kind in role.organisation_kinds)}


def _needs(d: ProgrammeDefinition) -> Described | None:
    if d.needs_assessment is None:
        return None
    return {"Areas": ", ".join(label(area) for area in d.needs_assessment.areas) or "The usual areas"}


def _keyed(
    old: Iterable[T], new: Iterable[T], key: Callable[[T], str], describe: Callable[[T], Described]
) -> list[ItemChange]:
    before = {key(item): describe(item) for item in old}
    after = {key(item): describe(item) for item in new}
    changes: list[ItemChange] = []
    for name, fields in after.items():
        if name not in before:
            changes.append(ItemChange("added", name, fields=tuple(fields.items())))
        elif differences := _differences(before[name], fields):
            changes.append(ItemChange("changed", name, changes=differences))
    for name, fields in before.items():
        if name not in after:
            changes.append(ItemChange("removed", name, fields=tuple(fields.items())))
    return changes


def _single(old: Described | None, new: Described | None, name: str) -> list[ItemChange]:
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [ItemChange("added", name, fields=tuple(new.items()))]
    if new is None:
        return [ItemChange("removed", name, fields=tuple(old.items()))]
    differences = _differences(old, new)
    return [ItemChange("changed", name, changes=differences)] if differences else []


def _differences(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(field, old.get(field, "None"), new.get(field, "None"))
        for field in dict.fromkeys([*old, *new])
        if old.get(field, "None") != new.get(field, "None")
    )


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _optional(value: object) -> str:
    return "None" if value is None else str(value)


def _state_name(state_id: str, *definitions: ProgrammeDefinition) -> str:
    for definition in definitions:
        for state in definition.states:
            if state.id == state_id:
                return state.name
    return state_id


def _programme(d: ProgrammeDefinition) -> Described:
    return {"Name": d.name, "Description": d.description.strip(), "Criminal case": label(d.criminal_case)}


def _eligibility(rule: EligibilityRule) -> Described:
    return {
        "Condition": rule.condition.text,
        "Reason when it passes": rule.passed,
        "Reason when it fails": rule.failed,
        "Reason when a fact is unknown": _optional(rule.unknown),
    }


def _route(route: Route, *definitions: ProgrammeDefinition) -> Described:
    return {"Name": route.name, "Case enters": _state_name(route.enters, *definitions)}


def _routing(rule: RoutingRule) -> Described:
    return {"Condition": rule.condition.text, "Route": rule.route, "Reason": rule.reason}


def _state(state: State) -> Described:
    return {
        "Name": state.name,
        "Stage": label(state.stage),
        "Ends the case": _yes(state.terminal),
        "Home Office outcome code": _optional(state.outcome_code),
        "Result": label(state.result) if state.result else "None",
        "Where a case starts": _yes(state.initial),
    }


def _transition(transition: Transition) -> Described:
    return {
        "Who may move the case": ", ".join(label(role) for role in transition.roles),
        "Reason needed": _yes(transition.reason_required),
    }


def _deadline(deadline: Deadline) -> Described:
    if deadline.duration is not None:
        length = deadline.duration.text
    elif deadline.days is not None:
        length = f"{deadline.days} days"
    else:
        length = f"{deadline.working_days} working days"
    return {"Counts from": label(deadline.starts), "Length": length}


def _criterion(criterion: NonEngagementCriterion) -> Described:
    return {
        "Signal": label(criterion.kind),
        "Text": criterion.text,
        "Threshold": _optional(criterion.threshold),
        "Deadline": _optional(criterion.deadline),
    }


def _escalation(d: ProgrammeDefinition) -> Described | None:
    if d.escalation is None:
        return None
    return {
        "From": _state_name(d.escalation.from_state, d),
        "Decided by": ", ".join(label(role) for role in d.escalation.decided_by),
        "Options": "; ".join(
            f"{option.label} (to {_state_name(option.to_state, d)})" for option in d.escalation.options
        ),
    }


def _contract(old: ProgrammeDefinition, new: ProgrammeDefinition) -> list[ItemChange]:
    def length(d: ProgrammeDefinition) -> Described | None:
        return None if d.contract is None else {"Length": d.contract.length.text}

    def group(g: ConditionGroup) -> Described:
        hours = "None" if g.hours_min is None else f"{g.hours_min} to {g.hours_max}"
        return {
            "Label": g.label,
            "Conditions to choose": f"{g.min} to {g.max}",
            "Options": ", ".join(label(option) for option in g.options) or "None",
            "Hours": hours,
            "Kind": label(g.kind),
        }

    changes = _single(length(old), length(new), "Contract")
    changes += _keyed(
        old.contract.conditions if old.contract else (),
        new.contract.conditions if new.contract else (),
        lambda g: f"Condition group {g.id}",
        group,
    )
    return changes


def _sessions(d: ProgrammeDefinition) -> Described | None:
    if d.sessions is None:
        return None
    return {
        "Number": str(d.sessions.count),
        "Label": d.sessions.label,
        "Times recorded": _yes(d.sessions.record_times),
    }


# ---- Declared facts (issue 14) ----------------------------------------------------------------------------


def _declared_fact(fact: DeclaredFact) -> Described:
    described = {
        "Type": KIND_LABELS[fact.kind],
        "Question": fact.question or "None (not asked)",
        "Hint": fact.hint or "None",
        "Asked when": fact.asked_when.text if fact.asked_when else "Whenever a rule needs it",
        "Sentence when not recorded": _optional(fact.unknown),
    }
    if fact.choices:
        described["Choices"] = ", ".join(f"{value} ({text})" for value, text in fact.choices)
    if fact.minimum is not None or fact.maximum is not None:
        described["Range"] = f"{_optional(fact.minimum)} to {_optional(fact.maximum)}"
    if fact.counted is not None:
        count = fact.counted
        described["Counts earlier encounters"] = "; ".join(
            part
            for part in (
                f"in the last {count.within_days} days" if count.within_days else "at any time",
                f"offences {', '.join(count.offences)}" if count.offences else "",
                f"programmes {', '.join(count.programmes)}" if count.programmes else "",
                f"ending {', '.join(count.outcomes)}" if count.outcomes else "",
                "diverted only" if count.diverted_only else "",
            )
            if part
        )
    return described
