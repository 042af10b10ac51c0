"""Reasons for "not offered", for drop-out, and overrides, by group; cases made by the real operations."""

from __future__ import annotations

from sqlalchemy.orm import Session

from divert.models import Decision, Person, Referral, User
from divert.monitoring.breakdowns import ALL_REASONS, FREE_TEXT, count_reasons, reason_rows
from divert.monitoring.points import ALL_GROUPS
from divert.monitoring.query import Scope
from divert.pathways.cases import offer, override_decision, respond
from tests.pathways.helpers import open_case, police_force, staff

from . import dataset

P = "tvp-youth-drugs"


def _case(session: Session, officer: User, code: str) -> Referral:
    referral = open_case(session, P, officer)
    person = session.get(Person, referral.person_id)
    assert person is not None
    person.self_defined_ethnicity = code
    session.flush()
    return referral


def test_not_offered_and_drop_out_reasons_by_group(db_session: Session) -> None:
    officer = staff(db_session, "officer", police_force(db_session))
    for code, reason in (
        ("W1", "Already under a YOT order"),
        ("B1", "Already under a YOT order"),
        ("B2", "Other"),
    ):
        offer(db_session, officer, _case(db_session, officer, code), False, reason)
    declined = _case(db_session, officer, "B1")
    offer(db_session, officer, declined, True)
    respond(db_session, officer, declined, False, "Did not want to", exit_reason="declined")
    typed = _case(db_session, officer, "W1")
    offer(db_session, officer, typed, True)
    respond(db_session, officer, typed, False, "Moving", exit_reason="Moving in with Aunt Jo, 4 Elm Rd")
    offer(db_session, officer, _case(db_session, officer, "W1"), True)

    scope = Scope("ethnicity_group", "quarter", P)
    got = {(c.group, c.reason): c.count for c in count_reasons(db_session, scope, "not_offered")}
    # Not-offered reasons are typed by the officer, so none is shown: they are counted together.
    assert got == {("White", FREE_TEXT): 1, ("Black", FREE_TEXT): 2}
    drop = {(c.group, c.reason): c.count for c in count_reasons(db_session, scope, "drop_out")}
    # "declined" is a code the pathway sets; the typed exit reason is free text.
    assert drop == {("Black", "declined"): 1, ("White", FREE_TEXT): 1}

    rows = reason_rows(
        scope, "not_offered", count_reasons(db_session, scope, "not_offered"), ["White", "Black"]
    )
    table = {(r.group, r.reason): r.count for r in rows}
    assert table[ALL_GROUPS, ALL_REASONS] == 3 and table["Black", ALL_REASONS] == 2
    published = reason_rows(
        scope,
        "not_offered",
        count_reasons(db_session, scope, "not_offered"),
        ["White", "Black", "Asian"],
        published=True,
    )
    # Every count is 1 or 2: all hidden; zeros stay 0.
    assert all(r.count in (None, 0) for r in published)
    assert any(r.count == 0 for r in published)


def test_overrides_by_direction_and_code(db_session: Session) -> None:
    dataset.load(db_session)
    scope = Scope("ethnicity_group", "year", P)
    got = {(c.group, c.reason): c.count for c in count_reasons(db_session, scope, "override")}
    # Typed with no code (version 1 lists none): counted as free text, never shown.
    assert got == {
        ("White", "Eligible → not eligible: Other (free text)"): 1,
        ("Black", "Not eligible → eligible: Other (free text)"): 1,
    }


def test_override_made_through_the_operation_is_counted(db_session: Session) -> None:
    officer = staff(db_session, "officer", police_force(db_session))
    supervisor = staff(db_session, "supervisor", officer.organisation)
    case = _case(db_session, officer, "A1")
    decision = db_session.get(Decision, case.decision_id)
    assert decision is not None
    override_decision(
        db_session, supervisor, decision, eligible=False, route=None, reason="Supply suspected after all"
    )
    got = count_reasons(db_session, Scope("ethnicity_group", "year"), "override")
    assert [(c.group, c.reason, c.count) for c in got] == [
        ("Asian", "Eligible → not eligible: Other (free text)", 1)
    ]
