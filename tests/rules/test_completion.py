"""What completion needs, as the definitions say it: the pure check the step and the case page share."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from divert.rules import DefinitionError, definition_from_dict
from divert.rules.completion import CompletionEvidence, sessions_progress, unmet_requirements

from .builders import programme

AFTER = date(2026, 11, 10)


def test_youth_version_3_needs_six_sessions_and_counts_one_acceptable_absence() -> None:
    youth = programme("tvp-youth-drugs", AFTER)
    assert youth.version == 3
    evidence = CompletionEvidence(on=AFTER, attended=2)
    [unmet] = unmet_requirements(youth, evidence)
    assert unmet.requirement == "sessions" and not unmet.waivable
    assert unmet.reason.startswith("2 of 6 drug awareness sessions attended; 4 more needed.")
    assert sessions_progress(youth, CompletionEvidence(on=AFTER, attended=5, acceptable_absences=3)).text == (
        "6 of 6"
    )
    assert unmet_requirements(youth, CompletionEvidence(on=AFTER, attended=5, acceptable_absences=1)) == []
    assert unmet_requirements(youth, CompletionEvidence(on=AFTER, attended=4, acceptable_absences=2)) != []


def test_earlier_versions_keep_their_rules() -> None:
    assert programme("tvp-youth-drugs", date(2026, 10, 31)).completion is None
    assert unmet_requirements(programme("checkpoint", date(2026, 10, 31)), CompletionEvidence(on=AFTER)) == []


def test_checkpoint_needs_conditions_met_and_the_contract_run() -> None:
    checkpoint = programme("checkpoint", AFTER)
    signed_today = CompletionEvidence(
        on=AFTER,
        conditions=(("Do not reoffend", True), ("Housing support", False)),
        contract_end=date(2027, 3, 10),
    )
    unmet = unmet_requirements(checkpoint, signed_today)
    assert [(u.requirement, u.waivable) for u in unmet] == [("conditions", False), ("time", True)]
    assert unmet[0].reason == "Contract conditions not yet met: Housing support."
    assert unmet[1].reason == "The contract runs until 10 March 2027."
    assert checkpoint.completion is not None and checkpoint.completion.early_by == ("supervisor",)
    no_contract = unmet_requirements(checkpoint, CompletionEvidence(on=AFTER))
    assert all(not u.waivable for u in no_contract)
    run = CompletionEvidence(on=AFTER, conditions=(("Do not reoffend", True),), contract_end=AFTER)
    assert unmet_requirements(checkpoint, run) == []


def _with(completion: Any, **extra: Any) -> dict[str, Any]:
    document = dict(programme("tvp-youth-drugs", AFTER).document or {})
    document.update(extra)
    document["completion"] = completion
    return document


@pytest.mark.parametrize(
    ("completion", "problem"),
    [
        ({"sessions": {"attended": 7}}, "completion.sessions.attended: is more than the 6 sessions"),
        ({"sessions": {"attended": 2, "acceptable_absences": 2}}, "must be fewer than the sessions attended"),
        ({"conditions_met": True}, "completion.conditions_met: needs a contract section"),
        ({"early_by": ["supervisor"]}, "completion.early_by: only applies with minimum_days"),
        ({"early_by": ["chief"]}, "unknown role 'chief'"),
        ({"minimum_days": 0}, "completion.minimum_days: must be at least 1"),
        ({"sessions": {"count": 6}}, "completion.sessions.count: unknown field"),
    ],
)
def test_a_completion_section_that_cannot_be_checked_is_refused(completion: Any, problem: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        definition_from_dict(_with(completion))
    assert problem in str(caught.value)


def test_minimum_days_counts_from_the_referral() -> None:
    definition = definition_from_dict(_with({"minimum_days": 28, "early_by": ["supervisor"]}))
    [unmet] = unmet_requirements(definition, CompletionEvidence(on=AFTER, referred_on=date(2026, 11, 1)))
    assert unmet.reason == "The programme runs for at least 28 days: completion from 29 November 2026."
    assert unmet.waivable
    assert (
        unmet_requirements(
            definition, CompletionEvidence(on=date(2026, 11, 29), referred_on=date(2026, 11, 1))
        )
        == []
    )
