"""The sixth programme was added as a file only: these tests prove the engine needed no change for it."""

from divert.rules import decide, load_definition

from .builders import SEEDS, born_years_before, failed, possession, prior

DEP = load_definition(SEEDS / "avon-somerset-dep.yaml")
ADULT = born_years_before(30)


def test_first_time_is_eligible() -> None:
    decision = decide(DEP, possession(date_of_birth=ADULT))
    assert (decision.eligible, decision.route) == (True, "education")


def test_one_time_only() -> None:
    earlier = prior("drug_possession", programme="avon-somerset-dep", diverted=True)
    decision = decide(DEP, possession(date_of_birth=ADULT, history=(earlier,)))
    assert not decision.eligible
    assert failed(decision) == {
        "once-only": "Already diverted under this programme before; it can be used only once."
    }


def test_an_earlier_possession_not_diverted_here_does_not_count() -> None:
    others = (
        prior("drug_possession", programme="avon-somerset-dep", diverted=False),
        prior("drug_possession", programme="tvp-adult-drugs", diverted=True),
    )
    assert decide(DEP, possession(date_of_birth=ADULT, history=others)).eligible


def test_non_attenders_are_charged() -> None:
    assert DEP.state("charged").outcome_code == 1
    assert DEP.non_engagement[0].threshold == 1
