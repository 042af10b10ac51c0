"""Deciding eligibility and route for one encounter under one programme version. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from divert.rules.definition import EligibilityRule, ProgrammeDefinition
from divert.rules.facts import EncounterFacts
from divert.rules.sentences import render
from divert.rules.vocabulary import FACTS, FactValue, fact_values


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    text: str
    passed: bool


@dataclass(frozen=True, slots=True)
class Decision:
    programme: str
    version: int
    eligible: bool
    route: str | None
    reasons: tuple[Reason, ...]
    # Whether the encounter is one the programme is for (its population): monitoring's base.
    in_population: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "version": self.version,
            "eligible": self.eligible,
            "route": self.route,
            "reasons": [{"rule_id": r.rule_id, "text": r.text, "passed": r.passed} for r in self.reasons],
            "in_population": self.in_population,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            programme=str(data["programme"]),
            version=int(data["version"]),
            eligible=bool(data["eligible"]),
            route=None if data["route"] is None else str(data["route"]),
            reasons=tuple(
                Reason(str(r["rule_id"]), str(r["text"]), bool(r["passed"])) for r in data["reasons"]
            ),
            in_population=bool(data.get("in_population", True)),
        )


def decide(definition: ProgrammeDefinition, facts: EncounterFacts) -> Decision:
    """Evaluates every eligibility rule, so the officer sees all the reasons, not only the first failure."""
    return decide_values(definition, fact_values(facts))


def decide_values(definition: ProgrammeDefinition, values: Mapping[str, FactValue]) -> Decision:
    """``decide`` over facts already worked out (``fact_values``): a replay under two versions
    works them out once."""
    reasons = [_eligibility_reason(rule, values) for rule in definition.eligibility]
    eligible = all(reason.passed for reason in reasons)
    route: str | None = None
    if eligible:
        for rule in definition.routing:
            if _missing(rule.condition.facts, values) is None and rule.condition.evaluate(values):
                route = rule.route
                reasons.append(Reason(rule.id, render(rule.reason, values), True))
                break
    population = definition.population
    in_population = population is None or population.includes(values)
    return Decision(definition.code, definition.version, eligible, route, tuple(reasons), in_population)


def _eligibility_reason(rule: EligibilityRule, values: Mapping[str, FactValue]) -> Reason:
    missing = _missing(rule.condition.facts, values)
    if missing is not None:
        # A rule cannot pass on a fact nobody recorded; saying which one tells the officer what to ask.
        return Reason(rule.id, rule.unknown or FACTS[missing].unknown or "", False)
    if rule.condition.evaluate(values):
        return Reason(rule.id, render(rule.passed, values), True)
    return Reason(rule.id, render(rule.failed, values), False)


def _missing(needed: tuple[str, ...], values: Mapping[str, FactValue]) -> str | None:
    for name in needed:
        if values[name] is None:
            return name
    return None
