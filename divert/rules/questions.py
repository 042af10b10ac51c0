"""Which questions the officer is asked: only those the programmes in scope need, in the order they decide.

An officer's time is the scarcest resource in the scheme, so the form asks nothing no rule uses: a question
is asked when a rule of a programme that can still apply needs its fact, and when its own condition holds on
the answers given so far (drug questions only for a drug offence). As answers come in, programmes a rule has
already ruled out stop asking, and the questions an answer reveals appear. Pure: the pages call it with the
answers posted so far, so the form works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from divert.rules.codes import DRUG_OFFENCES
from divert.rules.dates import age_on, whole_months_between
from divert.rules.declared import DeclaredFact
from divert.rules.definition import ProgrammeDefinition
from divert.rules.expressions import Condition, compile_condition
from divert.rules.vocabulary import STORED_AS_IS, FactValue

# Form inputs every encounter has, whatever the programmes: who the person is and what happened.
CORE_INPUTS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "self_defined_ethnicity",
    "occurred_on",
    "occurred_time",
    "setting",
    "offence_category",
)
# Built-in facts worked out from the core answers or from history: never a question of their own.
DERIVED = frozenset(
    {
        "age",
        "gender",
        "setting",
        "offence_category",
        "prior_encounters",
        "prior_diversions",
        "prior_offence_categories",
        "prior_programmes",
        "prior_diverted_programmes",
    }
)
# Yes-or-no facts asked as one "does any of these apply" group of boxes (input ``facts``).
FLAG_INPUT = "facts"

_DRUGS = compile_condition(f"offence_category in {sorted(DRUG_OFFENCES)!r}")


@dataclass(frozen=True, slots=True)
class BuiltInQuestion:
    input: str
    required: bool = False
    asked_when: Condition | None = None


# The built-in facts' questions: the defaults every definition gets without declaring anything.
BUILT_IN: dict[str, BuiltInQuestion] = {
    "offence_age_days": BuiltInQuestion("offence_on"),
    "offence_age_months": BuiltInQuestion("offence_on"),
    "drug_class": BuiltInQuestion("drug_class", asked_when=_DRUGS),
    "personal_use": BuiltInQuestion("personal_use", required=True, asked_when=_DRUGS),
    "supply_suspected": BuiltInQuestion("supply_suspected", asked_when=_DRUGS),
    "admission": BuiltInQuestion("admission", required=True),
    "lives_in_area": BuiltInQuestion(FLAG_INPUT),
    "offended_in_area": BuiltInQuestion(FLAG_INPUT),
    "on_court_order": BuiltInQuestion(FLAG_INPUT),
    "co_accused": BuiltInQuestion(FLAG_INPUT),
    "hate_crime": BuiltInQuestion(FLAG_INPUT),
    "domestic_abuse": BuiltInQuestion(FLAG_INPUT),
    "vulnerabilities": BuiltInQuestion("vulnerabilities"),
}


@dataclass(frozen=True, slots=True)
class Question:
    """One question on the form: a built-in input, or a fact a definition declared (``declared``)."""

    fact: str
    input: str
    required: bool
    # The programme that first needs it: the form groups questions under the programme that asks them.
    programme: str
    declared: DeclaredFact | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    # Programme codes, the ones still able to apply first (fewest rules already failed), then as given.
    programmes: tuple[str, ...]
    # Programmes a rule has already ruled out on the answers given: they ask nothing more.
    ruled_out: frozenset[str]
    questions: tuple[Question, ...]
    # Whether an answer not yet given could still reveal a question (the form says "Continue").
    pending: bool

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.input for q in self.questions))

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(q.fact for q in self.questions if q.input == FLAG_INPUT)

    def asks(self, fact: str) -> bool:
        return any(q.fact == fact for q in self.questions)


def asked_when(definition: ProgrammeDefinition, fact: str) -> Condition | None:
    """The condition under which ``fact`` is asked at all (None: whenever a rule needs it)."""
    for declared in definition.facts:
        if declared.name == fact:
            return declared.asked_when
    built_in = BUILT_IN.get(fact)
    return built_in.asked_when if built_in else None


def holds(condition: Condition, values: Mapping[str, FactValue]) -> bool | None:
    """The condition's value on ``values``, or None while a fact it needs is unanswered."""
    if any(values.get(name) is None for name in condition.facts):
        return None
    return condition.evaluate(values)


def failed_rules(definition: ProgrammeDefinition, values: Mapping[str, FactValue]) -> int:
    """How many eligibility rules already fail on the answers given (unanswered rules fail none)."""
    return sum(1 for rule in definition.eligibility if holds(rule.condition, values) is False)


def select_questions(
    definitions: Sequence[ProgrammeDefinition], values: Mapping[str, FactValue]
) -> Selection:
    """The questions to show, given the answers so far (``values``: fact -> value, None if unanswered)."""
    ranked = sorted(enumerate(definitions), key=lambda item: (failed_rules(item[1], values) > 0, item[0]))
    ordered = [definition for _, definition in ranked]
    ruled_out = frozenset(d.code for d in ordered if failed_rules(d, values) > 0)
    questions: dict[str, Question] = {}
    pending = False
    for definition in ordered:
        out = definition.code in ruled_out
        for fact in _needed(definition):
            if fact in questions or fact in DERIVED:
                continue
            # A programme already ruled out asks nothing new, but keeps the answers that ruled it out
            # on the form, so the officer can still see and change them.
            if out and values.get(fact) is None:
                continue
            question = _question(definition, fact)
            if question is None:
                continue
            condition = asked_when(definition, fact)
            shown = True if condition is None else holds(condition, {**_defaults(definition), **values})
            if shown is None:
                pending = pending or not out
            elif shown:
                questions[fact] = question
    return Selection(
        programmes=tuple(d.code for d in ordered),
        ruled_out=ruled_out,
        questions=tuple(questions.values()),
        pending=pending,
    )


def _needed(definition: ProgrammeDefinition) -> Iterable[str]:
    """The facts the definition decides by, in the order its rules decide."""
    for rule in definition.eligibility:
        yield from _in_text_order(rule.condition)
    for routing in definition.routing:
        yield from _in_text_order(routing.condition)


def _in_text_order(condition: Condition) -> list[str]:
    # ``facts`` is sorted; the officer reads the questions in the order the rule is written.
    return sorted(condition.facts, key=lambda name: _first_use(condition.text, name))


def _first_use(text: str, name: str) -> int:
    at = text.find(name)
    return at if at >= 0 else len(text)


def _question(definition: ProgrammeDefinition, fact: str) -> Question | None:
    for declared in definition.facts:
        if declared.name == fact:
            if not declared.asked:
                return None  # counted from history, not asked
            required = declared.kind not in ("flag",) and not declared.optional
            field = FLAG_INPUT if declared.kind == "flag" else f"fact_{fact}"
            return Question(fact, field, required, definition.code, declared)
    built_in = BUILT_IN.get(fact)
    if built_in is None:
        return None
    return Question(fact, built_in.input, built_in.required, definition.code)


def _defaults(definition: ProgrammeDefinition) -> dict[str, FactValue]:
    # Counted facts are known only when the encounter is decided; a question asked "when there are no
    # earlier cautions" is shown until then rather than hidden for want of an answer nobody gives.
    return {fact.name: 0 for fact in definition.facts if fact.counted is not None}


def answered_values(
    answers: Mapping[str, object], declared: Iterable[DeclaredFact] = ()
) -> dict[str, FactValue]:
    """Fact values from a partly filled form; a question not answered yet is None.

    ``answers`` holds the form's parsed inputs: ``occurred_on``, ``date_of_birth``, ``offence_date`` (dates or
    None), the built-in facts by name, and declared facts by name; anything missing is unanswered.
    """
    on = answers.get("occurred_on")
    born = answers.get("date_of_birth")
    # Blank means the day of the encounter when it is recorded, but here it is only not answered yet.
    offence_on = answers.get("offence_date")
    values: dict[str, FactValue] = {}
    for name in (*STORED_AS_IS, "vulnerabilities"):
        value = answers.get(name)
        values[name] = value if isinstance(value, int | str | bool | frozenset) and value != "" else None
    values["age"] = age_on(born, on) if isinstance(born, date) and isinstance(on, date) else None
    values["offence_age_days"] = values["offence_age_months"] = None
    if isinstance(offence_on, date) and isinstance(on, date) and offence_on <= on:
        values["offence_age_days"] = (on - offence_on).days
        values["offence_age_months"] = whole_months_between(offence_on, on)
    for history in DERIVED - {"age", "gender", "setting", "offence_category"}:
        values[history] = None  # the person's history is looked up when the encounter is decided
    for fact in declared:
        value = answers.get(fact.name)
        values[fact.name] = value if isinstance(value, int | str | bool) and value != "" else None
    return values
