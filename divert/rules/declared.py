"""Facts a programme definition declares for itself, beyond the built-in catalogue (``vocabulary.py``).

A new scheme written as a file often needs a fact no other scheme asks (does the victim agree, the gravity
score, cautions in the last two years). Declaring it in the file gives it a type for the rules, the question
and hint the officer sees, and when it is asked, so such a scheme needs no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from divert.rules.expressions import Condition
from divert.rules.facts import EncounterFacts
from divert.rules.vocabulary import FactType, FactValue

# How the officer answers: yes/no radios (unanswered is "not recorded"), a box ticked in the "does any of
# these apply" group (unticked is no), a whole number, one of a list; or not asked at all but counted from
# the person's earlier encounters.
KINDS = ("yes_no", "flag", "number", "choice", "counted")
KIND_LABELS = {
    "yes_no": "Yes or no",
    "flag": "A box to tick if it applies",
    "number": "A whole number",
    "choice": "One of a list",
    "counted": "Counted from earlier encounters",
}
FACT_TYPES = {
    "yes_no": FactType.BOOLEAN,
    "flag": FactType.BOOLEAN,
    "number": FactType.NUMBER,
    "choice": FactType.STRING,
    "counted": FactType.NUMBER,
}


@dataclass(frozen=True, slots=True)
class HistoryCount:
    """Earlier encounters of the same person that count, looked back from the encounter's date."""

    within_days: int | None = None
    offences: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    # Case states (a youth caution, a charge): the outcome each earlier case reached.
    outcomes: tuple[str, ...] = ()
    diverted_only: bool = False

    def count(self, facts: EncounterFacts) -> int:
        on = facts.occurred_on
        since = on - timedelta(days=self.within_days) if self.within_days is not None else date.min
        return sum(
            1
            for prior in facts.history
            if since <= prior.occurred_on <= on
            and (not self.offences or prior.offence_category in self.offences)
            and (not self.programmes or prior.programme in self.programmes)
            and (not self.outcomes or prior.outcome in self.outcomes)
            and (not self.diverted_only or prior.diverted)
        )


@dataclass(frozen=True, slots=True)
class DeclaredFact:
    name: str
    kind: str
    question: str
    hint: str = ""
    # Asked only when this holds on the answers given so far (None: always asked when a rule needs it).
    asked_when: Condition | None = None
    # The sentence a rule gives when it needs this fact and nobody recorded it.
    unknown: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    counted: HistoryCount | None = None
    # A yes/no, number or choice question the officer may leave unanswered.
    optional: bool = False

    @property
    def type(self) -> FactType:
        return FACT_TYPES[self.kind]

    @property
    def asked(self) -> bool:
        return self.kind != "counted"


def declared_values(declared: tuple[DeclaredFact, ...], facts: EncounterFacts) -> dict[str, FactValue]:
    """The declared facts' values for one encounter: counted from history, or the officer's answers."""
    if not declared:
        return {}
    answers: Mapping[str, FactValue] = dict(facts.answers)
    values: dict[str, FactValue] = {}
    for fact in declared:
        if fact.counted is not None:
            values[fact.name] = fact.counted.count(facts)
        elif fact.kind == "flag":
            values[fact.name] = bool(answers.get(fact.name, False))
        else:
            values[fact.name] = answers.get(fact.name)
    return values


def answer_problem(fact: DeclaredFact | None, value: object) -> str | None:
    """What is wrong with ``value`` as an answer to ``fact`` (None: no programme in scope declares it),
    for callers that send answers directly (the API); None when it will do."""
    if fact is None:
        return "no programme your organisation runs asks this"
    if fact.kind == "counted":
        return "is counted from the person's earlier encounters, not answered"
    if fact.kind in ("yes_no", "flag"):
        return None if isinstance(value, bool) else "must be true or false"
    if fact.kind == "number":
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be a whole number"
        if (fact.minimum is not None and value < fact.minimum) or (
            fact.maximum is not None and value > fact.maximum
        ):
            return f"must be from {fact.minimum} to {fact.maximum}"
        return None
    allowed = [choice for choice, _label in fact.choices]
    return None if value in allowed else f"must be one of: {', '.join(allowed)}"
