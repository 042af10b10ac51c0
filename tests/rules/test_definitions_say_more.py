"""What a definition can say since issue 14: its own roles, lengths in days, weeks or months, outcome
codes at any state, a needs assessment without a contract, and what kind each condition is."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from divert.pathways.programmes import PROGRAMMES_DIR
from divert.rules import CaseFacts, DefinitionError, contract_end, deadline_due, definition_from_dict
from divert.rules.dates import add_duration
from divert.rules.definition import Deadline, Duration
from divert.rules.loader import load_definition


def _document(name: str) -> dict[str, Any]:
    definition = load_definition(PROGRAMMES_DIR / f"{name}.yaml")
    return dict(definition.document or {})


def _problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        definition_from_dict(document)
    return list(caught.value.problems)


def test_twelve_weeks_stays_twelve_weeks() -> None:
    caution = definition_from_dict(_document("conditional-caution"))
    assert caution.contract is not None and caution.contract.length == Duration(12, "weeks")
    assert caution.contract.length.text == "12 weeks" and caution.contract.length_months is None
    # From a Monday, 12 weeks end on a Monday (84 days), not on the same date three months on.
    assert contract_end(caution, CaseFacts(contract_start=date(2026, 12, 7))) == date(2027, 3, 1)
    assert add_duration(date(2026, 12, 7), 3, "months") == date(2027, 3, 7)
    assert add_duration(date(2026, 1, 31), 1, "months") == date(2026, 3, 1)
    assert add_duration(date(2026, 12, 7), 10, "days") == date(2026, 12, 17)


def test_a_contract_in_months_still_reads_as_before() -> None:
    checkpoint = load_definition(PROGRAMMES_DIR / "checkpoint-v3.yaml")
    assert checkpoint.contract is not None and checkpoint.contract.length_months == 4
    assert checkpoint.contract.length.text == "4 months"


def test_a_deadline_may_be_weeks_or_months() -> None:
    document = _document("womens-diversion")
    document["deadlines"] = [
        *document["deadlines"],
        {"id": "sessions_done", "label": "Sessions finished", "starts": "first_contact", "weeks": 12},
    ]
    due = definition_from_dict(document).deadline("sessions_done")
    assert due.duration == Duration(12, "weeks")
    assert deadline_due(due, date(2026, 12, 1)) == date(2027, 2, 23)
    monthly = Deadline("review", "Review", "referral", duration=Duration(1, "months"))
    assert deadline_due(monthly, date(2026, 1, 31)) == date(2026, 3, 1)


def test_a_contract_gives_one_length() -> None:
    document = _document("conditional-caution")
    both = {**document, "contract": {**document["contract"], "length_months": 3}}
    assert ("contract", "give exactly one of length (days, weeks or months) or length_months") in _problems(
        both
    )
    two_units = {**document, "contract": {**document["contract"], "length": {"weeks": 12, "days": 3}}}
    assert ("contract.length", "give exactly one of days, weeks, months") in _problems(two_units)


def test_an_outcome_code_at_a_state_that_does_not_end_the_case() -> None:
    caution = definition_from_dict(_document("conditional-caution"))
    given = caution.state("caution_given")
    assert (given.terminal, given.outcome_code) == (False, 3)


def test_conditions_say_what_kind_they_are() -> None:
    caution = definition_from_dict(_document("conditional-caution"))
    assert caution.contract is not None
    kinds = {group.id: group.kind for group in caution.contract.conditions}
    assert kinds == {
        "do_not_reoffend": "do_not_reoffend",
        "reparation": "reparation",
        "victim_awareness": "victim_awareness",
        "rehabilitative": "treatment",
        "unpaid_work": "unpaid_work",
    }
    # Older definitions name the kind by the group's id.
    checkpoint = load_definition(PROGRAMMES_DIR / "checkpoint-v3.yaml")
    assert checkpoint.contract is not None
    assert {g.id: g.kind for g in checkpoint.contract.conditions}["voluntary_work"] == "voluntary_work"
    document = _document("conditional-caution")
    document["contract"] = {
        **document["contract"],
        "conditions": [{**document["contract"]["conditions"][1], "kind": "flogging"}],
    }
    assert any(
        path == "contract.conditions[0].kind" and "unknown value 'flogging'" in message
        for path, message in _problems(document)
    )


def test_a_needs_assessment_without_a_contract() -> None:
    womens = definition_from_dict(_document("womens-diversion"))
    assert womens.contract is None and womens.needs_assessment is not None
    assert "domestic_abuse" in womens.needs_assessment.areas


def test_declared_roles_take_steps_and_unknown_ones_are_refused() -> None:
    womens = definition_from_dict(_document("womens-diversion"))
    keyworker = womens.declared_role("womens_centre_keyworker")
    assert keyworker is not None and keyworker.organisation_kinds == ("provider",)
    assert any("womens_centre_keyworker" in t.roles for t in womens.transitions)

    undeclared = _document("womens-diversion")
    undeclared["roles"] = []
    assert any("unknown role 'womens_centre_keyworker'" in message for _, message in _problems(undeclared))


@pytest.mark.parametrize(
    ("role", "field", "message"),
    [
        (
            {"id": "officer", "label": "Officer", "organisation_kinds": ["provider"]},
            "roles[0].id",
            "built-in",
        ),
        (
            {"id": "keyworker", "label": "Keyworker", "organisation_kinds": []},
            "roles[0].organisation_kinds",
            "at least one",
        ),
        (
            {"id": "keyworker", "label": "Keyworker", "organisation_kinds": ["charity"]},
            "roles[0].organisation_kinds[0]",
            "unknown kind 'charity'",
        ),
        (
            {"id": "Key Worker", "label": "Keyworker", "organisation_kinds": ["provider"]},
            "roles[0].id",
            "lower-case",
        ),
        ({"id": "keyworker", "organisation_kinds": ["provider"]}, "roles[0].label", "is required"),
    ],
)
def test_a_declared_role_is_checked(role: dict[str, Any], field: str, message: str) -> None:
    document = _document("womens-diversion")
    document["roles"] = [role]
    assert any(path == field and message in text for path, text in _problems(document)), _problems(document)


def test_a_new_version_shows_the_roles_it_declares() -> None:
    from divert.rules.diff import compare_definitions

    v2 = load_definition(PROGRAMMES_DIR / "tvp-adult-drugs-v2.yaml")
    v3 = load_definition(PROGRAMMES_DIR / "tvp-adult-drugs-v3.yaml")
    sections = {section.title: section for section in compare_definitions(v2, v3)}
    (added,) = sections["Roles"].items
    assert added.kind == "added" and "Drug service worker" in str(added)
    # The steps the new role may take show as changed steps.
    assert "Drug service worker" in str(sections["Transitions (who may move a case)"])
