"""Which questions the officer is asked, per programme and offence: pure, from the definitions in scope."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import yaml

from divert.rules import DefinitionError, decide, definition_from_dict
from divert.rules.questions import answered_values, select_questions

from .builders import ENCOUNTER_DAY, SEEDS, born_years_before, possession, prior, programme

YOUTH = programme("tvp-youth-drugs")
ADULT = programme("tvp-adult-drugs")
CHECKPOINT = programme("checkpoint")
TVP = [ADULT, YOUTH]  # as the database lists them: by code, the adult scheme first


def answered(**answers: Any) -> dict[str, Any]:
    return answered_values({"occurred_on": ENCOUNTER_DAY, **answers})


def inputs(definitions: list[Any], **answers: Any) -> tuple[str, ...]:
    return select_questions(definitions, answered(**answers)).inputs


def test_before_any_answer_the_drug_questions_wait_for_the_offence() -> None:
    selection = select_questions(TVP, answered())
    assert selection.inputs == ()
    assert selection.pending, "the offence may still reveal questions, so the form says Continue"


def test_a_youth_possession_asks_the_youth_schemes_questions_with_the_youth_scheme_first() -> None:
    selection = select_questions(
        TVP, answered(date_of_birth=born_years_before(15), offence_category="drug_possession")
    )
    assert selection.programmes == ("tvp-youth-drugs", "tvp-adult-drugs")
    assert selection.ruled_out == {"tvp-adult-drugs"}
    assert selection.inputs == ("personal_use", "supply_suspected")
    assert all(q.programme == "tvp-youth-drugs" for q in selection.questions)
    assert not selection.pending


def test_an_adult_possession_asks_the_adult_schemes_questions() -> None:
    selection = select_questions(
        TVP, answered(date_of_birth=born_years_before(30), offence_category="drug_possession")
    )
    assert selection.programmes[0] == "tvp-adult-drugs"
    assert selection.ruled_out == {"tvp-youth-drugs"}
    assert selection.inputs == ("personal_use", "supply_suspected")


@pytest.mark.parametrize("age", [15, 30])
def test_a_theft_asks_no_drug_questions(age: int) -> None:
    selection = select_questions(
        TVP, answered(date_of_birth=born_years_before(age), offence_category="theft")
    )
    assert selection.inputs == ()
    assert not selection.pending
    assert selection.ruled_out == {"tvp-youth-drugs", "tvp-adult-drugs"}


def test_drug_class_is_asked_only_where_a_rule_uses_it() -> None:
    assert "drug_class" not in inputs(TVP, offence_category="drug_possession")


def test_checkpoint_asks_its_questions_in_the_order_its_rules_decide() -> None:
    selection = select_questions([CHECKPOINT], answered(offence_category="theft"))
    assert [q.fact for q in selection.questions] == [
        "lives_in_area",
        "offended_in_area",
        "offence_age_months",
        "admission",
        "hate_crime",
        "on_court_order",
        "co_accused",
    ]
    assert selection.inputs == ("facts", "offence_on", "admission")
    assert selection.flags == (
        "lives_in_area",
        "offended_in_area",
        "hate_crime",
        "on_court_order",
        "co_accused",
    )
    assert [q.required for q in selection.questions if q.input == "admission"] == [True]


def test_a_programme_ruled_out_asks_nothing_more_but_keeps_the_answer_that_ruled_it_out() -> None:
    selection = select_questions(
        [YOUTH],
        answered(
            date_of_birth=born_years_before(15), offence_category="drug_possession", supply_suspected=True
        ),
    )
    assert selection.ruled_out == {"tvp-youth-drugs"}
    assert selection.inputs == ("supply_suspected",)


def test_a_youth_officer_at_a_force_running_checkpoint_too_is_asked_only_the_youth_questions() -> None:
    youth_first = select_questions(
        [CHECKPOINT, YOUTH], answered(date_of_birth=born_years_before(15), offence_category="drug_possession")
    )
    assert youth_first.programmes == ("tvp-youth-drugs", "checkpoint")
    assert youth_first.inputs == ("personal_use", "supply_suspected")


def test_answered_values_leave_unanswered_questions_unknown() -> None:
    values = answered(offence_date=date(2024, 1, 1), date_of_birth=born_years_before(16), admission="")
    assert values["age"] == 16
    assert values["offence_age_months"] == 5
    assert values["admission"] is None and values["offence_category"] is None
    assert values["prior_offence_categories"] is None


def test_a_theft_decision_does_not_say_the_drugs_personal_use_was_not_recorded() -> None:
    decision = decide(YOUTH, possession(offence_category="theft", personal_use=None, drug_class=None))
    shown = [r.text for r in decision.reasons if not r.passed and r.asked]
    assert shown == ["The offence is theft, not drug possession, so the traditional pathway applies."]
    assert not decision.eligible
    assert [r.rule_id for r in decision.reasons if not r.asked] == ["personal-use"]


def test_a_missing_answer_is_still_said_when_it_is_all_that_stands_in_the_way() -> None:
    decision = decide(YOUTH, possession(personal_use=None))
    assert [r.text for r in decision.reasons if not r.passed] == [
        "Not recorded whether the drugs were for personal use, so this cannot be checked."
    ]


# ---- facts a definition declares for itself -------------------------------------------------------------

CAUTION_FACTS = [
    {
        "name": "victim_consents",
        "type": "yes_no",
        "question": "Does the victim agree to a conditional caution?",
        "hint": "Ask the victim, or the officer in the case",
        "asked_when": "offence_category in ['theft', 'criminal_damage', 'common_assault']",
        "unknown": "Not recorded whether the victim agrees, so a conditional caution cannot be checked.",
    },
    {"name": "gravity_score", "type": "number", "question": "Gravity score", "min": 1, "max": 5},
    {
        "name": "cautions_two_years",
        "type": "counted",
        "counted": {"within_days": 730, "outcomes": ["youth_caution", "adult_caution"]},
    },
    {"name": "on_bail", "type": "flag", "question": "On bail for another offence"},
]
CAUTION_RULES = [
    {"id": "adult", "when": "age >= 18", "pass": "Aged {age}.", "fail": "Aged {age}: adults only."},
    {
        "id": "victim",
        "when": "victim_consents",
        "pass": "The victim agrees.",
        "fail": "The victim does not agree.",
    },
    {
        "id": "gravity",
        "when": "gravity_score <= 3",
        "pass": "Gravity score {gravity_score}.",
        "fail": "Gravity score {gravity_score} is above 3.",
    },
    {
        "id": "no-recent-caution",
        "when": "cautions_two_years == 0",
        "pass": "No caution in the last two years.",
        "fail": "{cautions_two_years} cautions in the last two years.",
    },
    {"id": "not-on-bail", "when": "not on_bail", "pass": "Not on bail.", "fail": "On bail."},
]


def caution_document(**changes: Any) -> dict[str, Any]:
    document = yaml.safe_load((SEEDS / "tvp-adult-drugs-v2.yaml").read_text())
    document = copy.deepcopy(document)
    document.update(code="example-caution", name="Conditional caution (example)", version=1)
    document["effective_from"] = "2020-01-01"
    document["facts"] = copy.deepcopy(CAUTION_FACTS)
    document["eligibility"] = copy.deepcopy(CAUTION_RULES)
    document.update(changes)
    return document


CAUTION = definition_from_dict(caution_document())


def adult(**overrides: Any) -> Any:
    return replace(possession(date_of_birth=born_years_before(30), offence_category="theft"), **overrides)


def test_declared_facts_load_with_their_questions() -> None:
    by_name = {fact.name: fact for fact in CAUTION.facts}
    assert by_name["victim_consents"].question == "Does the victim agree to a conditional caution?"
    assert by_name["victim_consents"].hint == "Ask the victim, or the officer in the case"
    assert by_name["gravity_score"].minimum == 1 and by_name["gravity_score"].maximum == 5
    assert not by_name["cautions_two_years"].asked


def test_declared_questions_are_asked_only_when_their_condition_holds() -> None:
    theft = select_questions(
        [CAUTION], answered(date_of_birth=born_years_before(30), offence_category="theft")
    )
    assert theft.inputs == ("fact_victim_consents", "fact_gravity_score", "facts")
    assert theft.flags == ("on_bail",)
    assert [q.required for q in theft.questions] == [True, True, False]
    fraud = select_questions(
        [CAUTION], answered(date_of_birth=born_years_before(30), offence_category="fraud")
    )
    assert "fact_victim_consents" not in fraud.inputs
    assert select_questions([CAUTION], answered(date_of_birth=born_years_before(30))).pending


def test_rules_decide_by_declared_answers_and_counts() -> None:
    yes = (("gravity_score", 2), ("victim_consents", True))
    assert decide(CAUTION, adult(answers=yes)).eligible
    refused = decide(CAUTION, adult(answers=(("gravity_score", 4), ("victim_consents", True))))
    assert [r.text for r in refused.reasons if not r.passed] == ["Gravity score 4 is above 3."]
    unknown = decide(CAUTION, adult(answers=(("gravity_score", 2),)))
    assert [r.text for r in unknown.reasons if not r.passed] == [
        "Not recorded whether the victim agrees, so a conditional caution cannot be checked."
    ]
    on_bail = decide(CAUTION, adult(answers=(*yes, ("on_bail", True))))
    assert [r.rule_id for r in on_bail.reasons if not r.passed] == ["not-on-bail"]


def test_cautions_are_counted_in_their_window_from_the_persons_history() -> None:
    yes = (("gravity_score", 2), ("victim_consents", True))
    recent = prior("theft", on=date(2023, 1, 10), outcome="adult_caution")
    old = prior("theft", on=date(2021, 1, 10), outcome="adult_caution")
    other = prior("theft", on=date(2024, 1, 10), outcome="completed")
    later = prior("theft", on=date(2024, 7, 1), outcome="adult_caution")  # after the encounter: not counted
    assert decide(CAUTION, adult(answers=yes, history=(old, other, later))).eligible
    refused = decide(CAUTION, adult(answers=yes, history=(recent, old)))
    assert [r.text for r in refused.reasons if not r.passed] == ["1 cautions in the last two years."]


def _problems(**changes: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as error:
        definition_from_dict(caution_document(**changes))
    return list(error.value.problems)


@pytest.mark.parametrize(
    ("fact", "path", "message"),
    [
        ({"name": "personal_use", "type": "yes_no", "question": "?"}, "facts[4].name", "is a built-in fact"),
        ({"name": "gravity_score", "type": "number", "question": "?"}, "facts[4].name", "declared twice"),
        ({"name": "x_ray", "type": "colour", "question": "?"}, "facts[4].type", "unknown value 'colour'"),
        ({"name": "Bad-Name", "type": "flag", "question": "?"}, "facts[4].name", "must be lower-case"),
        ({"name": "seen", "type": "counted"}, "facts[4].counted", "is required for a counted fact"),
        ({"name": "seen", "type": "yes_no"}, "facts[4].question", "is required"),
        (
            {"name": "seen", "type": "yes_no", "question": "?", "asked_when": "colour == 'red'"},
            "facts[4].asked_when",
            "names unknown fact 'colour'",
        ),
        (
            {"name": "seen", "type": "yes_no", "question": "?", "asked_when": "seen"},
            "facts[4].asked_when",
            "cannot depend on the fact's own answer",
        ),
        (
            {"name": "level", "type": "choice", "question": "?", "choices": []},
            "facts[4].choices",
            "at least one",
        ),
        (
            {"name": "level", "type": "number", "question": "?", "min": 5, "max": 1},
            "facts[4]",
            "min (5) is more",
        ),
    ],
)
def test_a_bad_declared_fact_is_refused_with_its_path(fact: dict[str, Any], path: str, message: str) -> None:
    problems = _problems(facts=[*CAUTION_FACTS, fact])
    assert any(p == path and message in m for p, m in problems), problems


def test_a_rule_naming_an_undeclared_fact_is_refused() -> None:
    rules = [*CAUTION_RULES, {"id": "x", "when": "victim_consent", "pass": "a", "fail": "b"}]
    problems = _problems(eligibility=rules)
    assert any("names unknown fact 'victim_consent'" in m and "victim_consents" in m for _, m in problems)


def test_definitions_without_facts_are_unchanged() -> None:
    for definition in (YOUTH, ADULT, CHECKPOINT):
        assert definition.facts == ()


def test_a_new_version_shows_its_declared_facts_changes() -> None:
    from divert.rules.diff import compare_definitions

    facts = [{**CAUTION_FACTS[0], "asked_when": "offence_category == 'theft'"}, *CAUTION_FACTS[2:]]
    newer = definition_from_dict(caution_document(version=2, facts=facts, eligibility=CAUTION_RULES[:1]))
    [section] = [s for s in compare_definitions(CAUTION, newer) if s.title == "Facts and questions"]
    kinds = {item.item: item.kind for item in section.items}
    assert kinds == {"victim_consents": "changed", "gravity_score": "removed"}
    [changed] = [item for item in section.items if item.kind == "changed"]
    assert [(c.field, c.after) for c in changed.changes] == [("Asked when", "offence_category == 'theft'")]
