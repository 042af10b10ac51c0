"""Deciding eligibility and route for one encounter under one programme version. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from divert.rules.declared import declared_values
from divert.rules.definition import EligibilityRule, ProgrammeDefinition
from divert.rules.facts import EncounterFacts
from divert.rules.questions import DERIVED
from divert.rules.sentences import render
from divert.rules.vocabulary import FACTS, FactValue, fact_values


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    text: str
    passed: bool
    # False for a rule whose question was never put to the officer (the programme was ruled out first):
    # the pages do not show it as a reason.
    asked: bool = True


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
            "reasons": [reason_dict(r) for r in self.reasons],
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
                Reason(str(r["rule_id"]), str(r["text"]), bool(r["passed"]), bool(r.get("asked", True)))
                for r in data["reasons"]
            ),
            in_population=bool(data.get("in_population", True)),
        )


NOT_ASKED = "Not asked: another rule already rules this programme out."


def reason_dict(reason: Reason) -> dict[str, Any]:
    stored: dict[str, Any] = {"rule_id": reason.rule_id, "text": reason.text, "passed": reason.passed}
    if not reason.asked:
        stored["asked"] = False  # only then, so decisions stored before it are unchanged
    return stored


def decide(definition: ProgrammeDefinition, facts: EncounterFacts) -> Decision:
    """Evaluates every eligibility rule, so the officer sees all the reasons, not only the first failure.

    A rule that needs the answer to a question nobody recorded is marked not asked when another rule already
    rules the programme out on what was recorded: the officer's form stops asking a programme's questions
    once it cannot apply (and asks drug questions only for a drug offence), so "not recorded whether the
    drugs were for personal use" would say nothing true about a theft. A missing core answer (the date of
    birth) is always reported: the form always asks it.
    """
    return decide_values(definition, fact_values(facts), facts)


def decide_values(
    definition: ProgrammeDefinition,
    catalogue: Mapping[str, FactValue],
    facts: EncounterFacts | None,
    *,
    explain: bool = True,
) -> Decision:
    """``decide`` with the catalogue facts already worked out (``fact_values``): a replay under two
    versions works them out once; each version adds the answers to the facts it declares.

    ``explain=False`` leaves each reason's sentence empty (the same rules, passed or failed alike):
    a replay of a million decisions counts outcomes and reads no sentence. ``facts`` may be None
    for a definition that declares no facts of its own: the catalogue is all it reads."""
    return _decide_on(definition, _with_declared(definition, catalogue, facts), explain)


_Decisions = dict[tuple[Any, ...], "Decision"]


def _with_declared(
    definition: ProgrammeDefinition, catalogue: Mapping[str, FactValue], facts: EncounterFacts | None
) -> Mapping[str, FactValue]:
    """The values a decision under ``definition`` reads: the catalogue's, and the facts it declares
    for itself (counted from the history or answered), which only the facts themselves give."""
    if not definition.facts:
        return catalogue
    if facts is None:
        raise ValueError(f"{definition.code} v{definition.version} declares facts: decide it from the facts")
    return {**catalogue, **declared_values(definition.facts, facts)}


class DecisionMemo:
    """Whole decisions for many encounters (a bulk import, a replay): each the decision ``decide``
    gives, but each distinct set of fact values decided once.

    A decision is a function of its definition and the fact values alone, and across a file or a
    history those values repeat: the same ages, offences and counts of earlier encounters. With
    sentences every value may appear in a reason, so all of them are the key; without
    (``explain=False``) only the facts the conditions read (``facts_read``), which take a few
    thousand combinations across a million encounters. Decisions are frozen, so sharing one is
    safe. Definitions are held by identity for as long as the memo lives, so an id is never reused.
    """

    LIMIT = 200_000  # decisions kept per definition before starting again: bounds memory

    def __init__(self, *, explain: bool = True) -> None:
        self.explain = explain
        self._held: dict[
            int, tuple[ProgrammeDefinition, tuple[str, ...], dict[tuple[Any, ...], Decision]]
        ] = {}

    def __len__(self) -> int:
        return sum(len(decisions) for _, _, decisions in self._held.values())

    def decide(self, definition: ProgrammeDefinition, facts: EncounterFacts) -> Decision:
        return self.decide_values(definition, fact_values(facts), facts)

    def decide_values(
        self,
        definition: ProgrammeDefinition,
        catalogue: Mapping[str, FactValue],
        facts: EncounterFacts | None,
    ) -> Decision:
        """``decide_values`` (``facts`` may be None when the definition declares no facts)."""
        held = self._held.get(id(definition))
        if held is None:
            reads = tuple(sorted(facts_read(definition)))
            held = self._held[id(definition)] = (definition, reads, {})
        _, reads, decisions = held
        values = _with_declared(definition, catalogue, facts)
        key = tuple(values.values()) if self.explain else tuple([values[name] for name in reads])
        found = decisions.get(key)
        if found is None:
            if len(decisions) >= self.LIMIT:
                decisions.clear()
            found = decisions[key] = _decide_on(definition, values, self.explain)
        return found


def _decide_on(
    definition: ProgrammeDefinition,
    values: Mapping[str, FactValue],
    explain: bool,
) -> Decision:
    reasons = [_eligibility_reason(definition, rule, values, explain) for rule in definition.eligibility]
    unrecorded = {
        rule.id
        for rule in definition.eligibility
        if (missing := _missing(rule.condition.facts, values)) is not None and missing not in DERIVED
    }
    if any(not reason.passed and reason.rule_id not in unrecorded for reason in reasons):
        reasons = [
            Reason(r.rule_id, NOT_ASKED, False, asked=False) if r.rule_id in unrecorded else r
            for r in reasons
        ]
    eligible = all(reason.passed for reason in reasons)
    route: str | None = None
    if eligible:
        for rule in definition.routing:
            if _missing(rule.condition.facts, values) is None and rule.condition.evaluate(values):
                route = rule.route
                reasons.append(Reason(rule.id, render(rule.reason, values) if explain else "", True))
                break
    population = definition.population
    in_population = population is None or population.includes(values)
    return Decision(definition.code, definition.version, eligible, route, tuple(reasons), in_population)


def facts_read(definition: ProgrammeDefinition) -> frozenset[str]:
    """The facts a decision under ``definition`` reads when it writes no sentence (``explain=False``):
    its eligibility, routing and population conditions'. Such a decision is a function of their
    values alone, so a replay decides each distinct combination of them once."""
    conditions = [rule.condition for rule in definition.eligibility]
    conditions.extend(rule.condition for rule in definition.routing)
    if definition.population is not None:
        conditions.extend(definition.population.conditions)
    return frozenset(name for condition in conditions for name in condition.facts)


def _eligibility_reason(
    definition: ProgrammeDefinition,
    rule: EligibilityRule,
    values: Mapping[str, FactValue],
    explain: bool = True,
) -> Reason:
    missing = _missing(rule.condition.facts, values)
    if missing is not None:
        # A rule cannot pass on a fact nobody recorded; saying which one tells the officer what to ask.
        return Reason(
            rule.id, (rule.unknown or _unknown_sentence(definition, missing)) if explain else "", False
        )
    if rule.condition.evaluate(values):
        return Reason(rule.id, render(rule.passed, values) if explain else "", True)
    return Reason(rule.id, render(rule.failed, values) if explain else "", False)


def _missing(needed: tuple[str, ...], values: Mapping[str, FactValue]) -> str | None:
    for name in needed:
        if values[name] is None:
            return name
    return None


def _unknown_sentence(definition: ProgrammeDefinition, fact: str) -> str:
    if fact in FACTS:
        return FACTS[fact].unknown or ""
    declared = next(d for d in definition.facts if d.name == fact)
    return declared.unknown or f"Not recorded: {declared.question}"
