import pytest

from divert.rules import (
    ReasonRequired,
    RoleNotAllowed,
    TransitionNotAllowed,
    allowed_transitions,
    check_transition,
)

from .builders import programme

YOUTH = programme("tvp-youth-drugs")


@pytest.mark.parametrize(
    ("from_state", "to_state", "role", "reason"),
    [
        ("recorded", "eligible", "officer", None),
        ("awaiting_yju", "referred_yot", "yju_decision_maker", "Struggling at school; one more try."),
        ("awaiting_yju", "formal_outcome", "yju_decision_maker", "Third possession this year."),
        ("non_engagement_review", "engaged", "supervisor", "Sessions moved to evenings."),
        ("engaged", "completed", "yot_caseworker", None),
    ],
)
def test_allowed_moves(from_state: str, to_state: str, role: str, reason: str | None) -> None:
    transition = check_transition(YOUTH, from_state, to_state, role, reason)
    assert (transition.from_state, transition.to_state) == (from_state, to_state)


def test_yju_decision_needs_a_reason() -> None:
    with pytest.raises(ReasonRequired, match="Enter a reason to move a case from 'Awaiting YJU decision' to"):
        check_transition(YOUTH, "awaiting_yju", "formal_outcome", "yju_decision_maker", "   ")


def test_wrong_role() -> None:
    with pytest.raises(
        RoleNotAllowed,
        match=r"Your role \(Police officer\) cannot move .* Allowed: Youth Justice Unit decision maker\.",
    ):
        check_transition(YOUTH, "awaiting_yju", "referred_yot", "officer", "reason")


def test_move_not_in_the_definition_lists_the_options() -> None:
    with pytest.raises(
        TransitionNotAllowed, match="From there a case can go to: Engaged with YOT, Non-engagement"
    ):
        check_transition(YOUTH, "referred_yot", "completed", "yot_caseworker")


def test_nothing_leaves_a_terminal_state() -> None:
    with pytest.raises(TransitionNotAllowed, match="That state is final"):
        check_transition(YOUTH, "completed", "engaged", "admin", "reason")


def test_unknown_state() -> None:
    with pytest.raises(TransitionNotAllowed, match="'limbo' is not a state of Thames Valley"):
        check_transition(YOUTH, "limbo", "completed", "admin")


def test_escalation_is_never_automatic_and_needs_a_person() -> None:
    review = "non_engagement_review"
    assert YOUTH.escalation is not None
    for option in YOUTH.escalation.options:
        transition = check_transition(YOUTH, review, option.to_state, "supervisor", "Decided at review.")
        assert transition.reason_required


def test_allowed_transitions_for_a_role() -> None:
    moves = allowed_transitions(YOUTH, "awaiting_yju", "yju_decision_maker")
    assert {t.to_state for t in moves} == {"referred_yot", "formal_outcome"}
    assert allowed_transitions(YOUTH, "awaiting_yju", "officer") == []
