"""Every kind of broken definition is refused with the file, the field path and the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from divert.rules import (
    DefinitionError,
    content_hash,
    decide,
    definition_from_dict,
    definition_to_dict,
    load_definition,
    load_directory,
)

from .builders import SEEDS, possession, shipped

MINIMAL: dict[str, Any] = {
    "code": "tiny",
    "name": "Tiny programme",
    "version": 1,
    "effective_from": "2024-01-01",
    "description": "Smallest valid definition.",
    "criminal_case": "replaced",
    "eligibility": [{"id": "adult", "when": "age >= 18", "pass": "Adult.", "fail": "Not an adult."}],
    "routes": [{"id": "only", "name": "Only route", "enters": "referred"}],
    "routing": [{"id": "everyone", "when": "true", "route": "only", "reason": "Everyone goes here."}],
    "on_decision": {"eligible": "start", "not_eligible": "done"},
    "states": [
        {"id": "start", "name": "Start", "stage": "encounter", "initial": True},
        {"id": "referred", "name": "Referred", "stage": "route"},
        {"id": "done", "name": "Done", "stage": "outcome", "terminal": True, "outcome_code": 22},
    ],
    "transitions": [
        {"from": "start", "to": "referred", "roles": ["officer"]},
        {"from": "referred", "to": "done", "roles": ["navigator"], "reason_required": True},
        {"from": "start", "to": "done", "roles": ["officer"]},
    ],
}


def write(tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    data = copy.deepcopy(MINIMAL)
    change(data)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def problems(tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> tuple[str, DefinitionError]:
    path = write(tmp_path, change)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    return str(path), caught.value


def test_the_minimal_definition_is_valid(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, lambda d: None))
    assert definition.code == "tiny"
    assert definition.initial_state.id == "start"


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _append(key: str, item: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data[key].append(item)


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD = [
    (_set(["transitions", 1, "roles", 0], "sergeant"), "transitions[1].roles[0]", "unknown role 'sergeant'"),
    (
        _set(["transitions", 0, "to"], "limbo"),
        "transitions[0].to",
        "'limbo' is not a state defined in this file",
    ),
    (_delete(["states", 2, "outcome_code"]), "states[2].outcome_code", "is required on a terminal state"),
    (
        _set(["states", 2, "outcome_code"], 99),
        "states[2].outcome_code",
        "99 is not a Home Office outcome code",
    ),
    # Any state may record an outcome (a conditional caution's, when it is given), but a real one.
    (
        _set(["states", 1, "outcome_code"], 30),
        "states[1].outcome_code",
        "30 is not a Home Office outcome code",
    ),
    (_set(["eligibility", 0, "when"], "age >= "), "eligibility[0].when", "condition does not parse"),
    (
        _set(["eligibility", 0, "when"], "agee >= 18"),
        "eligibility[0].when",
        "unknown fact 'agee' (did you mean 'age'?)",
    ),
    (
        _set(["eligibility", 0, "when"], "$today == $today and age > 1"),
        "eligibility[0].when",
        "unknown fact 'today'",
    ),
    (_set(["eligibility", 0, "when"], "age > 'ten'"), "eligibility[0].when", "data type mismatch"),
    (
        _set(["routing", 0, "id"], "adult"),
        "routing[0].id",
        "duplicate id 'adult' (already used at eligibility[0])",
    ),
    (
        _append("transitions", {"from": "done", "to": "start", "roles": ["admin"]}),
        "transitions[3].from",
        "terminal",
    ),
    (
        _append("states", {"id": "island", "name": "Island", "stage": "engagement"}),
        "states[3]",
        "'island' cannot be reached from the initial state",
    ),
    (_set(["states", 1, "stage"], "limbo"), "states[1].stage", "unknown value 'limbo'"),
    (_set(["version"], "one"), "version", "must be a whole number, not text"),
    (_set(["version"], True), "version", "must be a whole number, not true/false"),
    (_set(["effective_from"], "1 April 2024"), "effective_from", "must be a date written YYYY-MM-DD"),
    (_set(["eligibilty"], []), "eligibilty", "unknown field"),
    (_delete(["code"]), "code", "is required"),
    (_set(["code"], "Tiny Programme"), "code", "must be lower-case"),
    (_set(["routing", 0, "when"], "age > 20"), "routing[0].when", "the last routing rule must be 'true'"),
    (
        _set(["routing", 0, "route"], "nowhere"),
        "routing[0].route",
        "'nowhere' is not a route defined under routes",
    ),
    (_set(["routes", 0, "enters"], "limbo"), "routes[0].enters", "'limbo' is not a state"),
    (
        _set(["eligibility", 0, "pass"], "Aged {agee}."),
        "eligibility[0].pass",
        "'{agee}', which is not a known fact",
    ),
    (_set(["eligibility", 0, "pass"], "{age.__class__}"), "eligibility[0].pass", "not a known fact"),
    (_set(["eligibility", 0, "fail"], "Aged {age!r}."), "eligibility[0].fail", "must be a bare fact name"),
    (_set(["on_decision", "eligible"], "limbo"), "on_decision.eligible", "'limbo' is not a state"),
    (_set(["transitions", 0, "roles"], []), "transitions[0].roles", "at least one role"),
    (
        _append("transitions", {"from": "start", "to": "done", "roles": ["admin"]}),
        "transitions[3]",
        "duplicate",
    ),
    (_set(["states", 0, "initial"], False), "states", "exactly one state must be marked initial, found 0"),
    (_delete(["transitions", 1]), "states[1]", "'referred' is not terminal but has no way out"),
    (_set(["states", 1, "id"], "start"), "states[1].id", "duplicate id 'start'"),
    (
        _set(["deadlines"], [{"id": "x", "label": "X", "starts": "referral", "days": 3, "working_days": 2}]),
        "deadlines[0]",
        "exactly one of days, working_days, weeks or months",
    ),
    (
        _set(["non_engagement"], [{"id": "n", "kind": "no_first_contact", "deadline": "nope", "text": "T"}]),
        "non_engagement[0].deadline",
        "'nope' is not a deadline",
    ),
    (
        _set(["non_engagement"], [{"id": "n", "kind": "missed_sessions", "text": "T"}]),
        "non_engagement[0].threshold",
        "is required",
    ),
    (
        _set(
            ["escalation"],
            {
                "from": "referred",
                "decided_by": ["supervisor"],
                "options": [{"id": "o", "label": "O", "to": "start"}],
            },
        ),
        "escalation.options[0].to",
        "no transition from 'referred' to 'start'",
    ),
    (
        _set(
            ["escalation"],
            {
                "from": "referred",
                "decided_by": ["supervisor"],
                "options": [{"id": "o", "label": "O", "to": "done"}],
            },
        ),
        "escalation.options[0].to",
        "role 'supervisor' decides escalation but may not move a case to 'done'",
    ),
    (
        _set(
            ["contract"],
            {
                "length_months": 4,
                "conditions": [
                    {"id": "w", "label": "W", "min": 2, "max": 1, "hours": {"min": 36, "max": 18}}
                ],
            },
        ),
        "contract.conditions[0]",
        "min (2) is more than max (1)",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "problem"), BAD, ids=[f"{field}:{problem[:30]}" for _, field, problem in BAD]
)
def test_bad_definition_names_file_field_and_problem(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], field: str, problem: str
) -> None:
    source, error = problems(tmp_path, change)
    assert any(path == field and problem in message for path, message in error.problems), error.problems
    line = next(line for line in str(error).splitlines() if problem in line)
    assert line.startswith(f"{source}: {field}: ")


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    def break_three_things(data: dict[str, Any]) -> None:
        data["transitions"][0]["roles"] = ["sergeant"]
        data["eligibility"][0]["when"] = "agee > 1"
        data["states"][2].pop("outcome_code")

    _, error = problems(tmp_path, break_three_things)
    fields = {path for path, _ in error.problems}
    assert {"transitions[0].roles[0]", "eligibility[0].when", "states[2].outcome_code"} <= fields


def test_not_a_mapping_and_not_yaml(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"list\.yaml: must be a mapping of fields, not a list"):
        load_definition(listed)
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"broken\.yaml: is not valid YAML at line 2"):
        load_definition(broken)
    with pytest.raises(DefinitionError, match="cannot be read"):
        load_definition(tmp_path / "missing.yaml")


def _copy_version(tmp_path: Path, name: str, **changes: Any) -> None:
    data = {**copy.deepcopy(MINIMAL), **changes}
    (tmp_path / name).write_text(yaml.safe_dump(data), encoding="utf-8")


def test_directory_allows_distinct_versions(tmp_path: Path) -> None:
    _copy_version(tmp_path, "a.yaml")
    _copy_version(tmp_path, "b.yaml", version=2, effective_from="2025-01-01")
    assert [(d.code, d.version) for d in load_directory(tmp_path)] == [("tiny", 1), ("tiny", 2)]


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        ({"effective_from": "2025-01-01"}, "'tiny' version 1 is in both"),
        ({"version": 2}, "'tiny' effective_from 2024-01-01 is in both"),
        ({"version": 2, "effective_from": "2023-01-01"}, "version 2 ("),
    ],
)
def test_directory_refuses_contradictory_versions(
    tmp_path: Path, second: dict[str, Any], problem: str
) -> None:
    _copy_version(tmp_path, "a.yaml")
    _copy_version(tmp_path, "b.yaml", **second)
    with pytest.raises(DefinitionError, match=problem.replace("(", r"\(")):
        load_directory(tmp_path)


def test_stored_dict_round_trips_to_the_same_definition() -> None:
    for definition in shipped():
        stored = definition_to_dict(definition)
        again = definition_from_dict(stored, source="database")
        assert definition_to_dict(again) == stored
        assert content_hash(again) == content_hash(definition)
        facts = possession()
        assert decide(again, facts) == decide(definition, facts)


def test_hash_is_stable_and_changes_with_content(tmp_path: Path) -> None:
    first = load_definition(write(tmp_path, lambda d: None))
    assert content_hash(first) == content_hash(load_definition(write(tmp_path, lambda d: None)))
    edited = load_definition(write(tmp_path, _set(["eligibility", 0, "fail"], "Under 18.")))
    assert content_hash(edited) != content_hash(first)
    assert len(content_hash(first)) == 64


def test_every_shipped_file_loads() -> None:
    codes = {d.code for d in load_directory(SEEDS)}
    assert codes == {
        "tvp-youth-drugs",
        "tvp-adult-drugs",
        "divert",
        "checkpoint",
        "checkpoint-plus",
        "avon-somerset-dep",
    }
