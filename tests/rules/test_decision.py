import json

from divert.rules import Decision, decide

from .builders import adult_offence, possession, programme


def test_decision_round_trips_through_json() -> None:
    decision = decide(programme("checkpoint"), adult_offence(admission="denied", date_of_birth=None))
    stored = json.loads(json.dumps(decision.to_dict()))
    assert Decision.from_dict(stored) == decision
    assert stored["reasons"][0] == {
        "rule_id": "age-18-plus",
        "text": "Date of birth not recorded, so age cannot be checked.",
        "passed": False,
    }


def test_eligible_decision_shape() -> None:
    stored = decide(programme("tvp-youth-drugs"), possession()).to_dict()
    assert {key: stored[key] for key in ("programme", "version", "eligible", "route")} == {
        "programme": "tvp-youth-drugs",
        "version": 1,
        "eligible": True,
        "route": "yot",
    }
