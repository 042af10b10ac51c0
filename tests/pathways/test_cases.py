"""Opening cases from encounters: decisions with reasons, versions, overrides, offers, corrections."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Decision, Programme, Referral, ReferralEvent
from divert.pathways.cases import (
    correct_last_step,
    offer,
    override_decision,
    record_encounter,
    replay,
    respond,
    transition,
)
from divert.pathways.errors import OperationError
from divert.pathways.programmes import assign_operator, sync_definitions

from ..factories import create_encounter, create_organisation, create_person, create_user


@pytest.fixture
def tvp(db_session: Session) -> Any:
    """Thames Valley: youth and adult drug diversion, with a YOT and a YJU receiving youth cases."""
    sync_definitions(db_session)
    force = create_organisation(db_session, code="tvp-test")
    yot = create_organisation(db_session, kind="yot")
    yju = create_organisation(db_session, kind="yju")
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    adult = db_session.scalars(select(Programme).where(Programme.code == "tvp-adult-drugs")).one()
    assign_operator(db_session, youth, force.id, "police")
    assign_operator(db_session, adult, force.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    assign_operator(db_session, youth, yju.id, "receiving", "yju")
    officer = create_user(db_session, "officer", force)
    return {"force": force, "yot": yot, "yju": yju, "officer": officer, "db": db_session}


def _encounter(tvp: Any, person: Any = None, when: datetime | None = None, **fields: Any) -> Any:
    person = person or create_person(tvp["db"], date_of_birth=date(2010, 1, 15))
    return create_encounter(
        tvp["db"],
        person,
        tvp["force"],
        occurred_at=when or datetime(2026, 3, 1, 14, 30, tzinfo=UTC),
        officer_id=tvp["officer"].id,
        **fields,
    )


def _by_programme(outcomes: list[Any]) -> dict[str, Any]:
    return {o.programme.code: o for o in outcomes}


def test_first_possession_goes_to_the_yot_with_reasons(tvp: Any) -> None:
    outcomes = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))
    youth, adult = outcomes["tvp-youth-drugs"], outcomes["tvp-adult-drugs"]
    assert youth.decision.eligible and youth.decision.route == "yot"
    assert youth.referral is not None and youth.referral.state == "eligible"
    assert any("No earlier possession" in r["text"] for r in youth.decision.reasons)
    assert not adult.decision.eligible and adult.referral is None
    assert any(not r["passed"] and "Aged 16" in r["text"] for r in adult.decision.reasons)
    assert youth.decision.programme_version.version == 1
    assert youth.referral.reference.startswith("TYD-")


def test_repeat_possession_goes_to_the_yju_and_history_is_as_at_the_encounter(tvp: Any) -> None:
    person = create_person(tvp["db"], date_of_birth=date(2010, 1, 15))
    later = _encounter(tvp, person, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    earlier = _encounter(tvp, person, datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
    first = _by_programme(record_encounter(tvp["db"], tvp["officer"], earlier))["tvp-youth-drugs"]
    second = _by_programme(record_encounter(tvp["db"], tvp["officer"], later))["tvp-youth-drugs"]
    assert first.decision.route == "yot"
    assert second.decision.route == "yju"
    assert second.decision.facts["history"][0]["offence_category"] == "drug_possession"


def test_a_repeat_recorded_in_the_same_minute_as_the_first_is_a_repeat(tvp: Any) -> None:
    person = create_person(tvp["db"], date_of_birth=date(2010, 1, 15))
    minute = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    first = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp, person, minute)))
    second = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp, person, minute)))
    assert first["tvp-youth-drugs"].decision.route == "yot"
    # Ordered by (time, id): the second recorded is the later, whatever the minute says.
    assert second["tvp-youth-drugs"].decision.route == "yju"
    assert len(second["tvp-youth-drugs"].decision.facts["history"]) == 1


def test_a_stored_decision_replays_to_the_same_result(tvp: Any) -> None:
    outcome = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))["tvp-youth-drugs"]
    again = replay(outcome.decision)
    assert (again.eligible, again.route) == (outcome.decision.eligible, outcome.decision.route)
    assert again.to_dict()["reasons"] == outcome.decision.reasons


def test_supply_is_not_eligible_and_opens_no_case(tvp: Any) -> None:
    encounter = _encounter(tvp, supply_suspected=True)
    youth = _by_programme(record_encounter(tvp["db"], tvp["officer"], encounter))["tvp-youth-drugs"]
    assert not youth.decision.eligible and youth.referral is None
    assert any("Supply is suspected" in r["text"] for r in youth.decision.reasons if not r["passed"])


def test_offer_accept_makes_the_yot_party_and_writes_the_timeline(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    offer(tvp["db"], tvp["officer"], case, True)
    respond(tvp["db"], tvp["officer"], case, True)
    assert case.state == "referred_yot"
    assert {(p.organisation_id, p.role) for p in case.parties} == {
        (tvp["force"].id, "police"),
        (tvp["yot"].id, "receiving"),
    }
    events = (
        tvp["db"]
        .scalars(select(ReferralEvent).where(ReferralEvent.referral_id == case.id).order_by(ReferralEvent.id))
        .all()
    )
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("decision", "recorded", "eligible"),
        ("transition", "eligible", "offered"),
        ("transition", "offered", "referred_yot"),
    ]
    assert all(e.actor_id == tvp["officer"].id for e in events)


def test_not_offering_needs_a_reason(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    with pytest.raises(OperationError, match="reason"):
        offer(tvp["db"], tvp["officer"], case, False, "")
    offer(tvp["db"], tvp["officer"], case, False, "Person was too intoxicated to understand the offer")
    assert case.state == "not_offered" and case.closed_at is not None


def test_declining_closes_with_an_exit_reason(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    offer(tvp["db"], tvp["officer"], case, True)
    respond(tvp["db"], tvp["officer"], case, False, "Parent refused", exit_reason="declined")
    assert (case.state, case.exit_reason) == ("declined", "declined")


def test_only_allowed_roles_move_a_case(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    caseworker = create_user(tvp["db"], "yot_caseworker", tvp["yot"])
    with pytest.raises(OperationError):
        transition(tvp["db"], caseworker, case, "offered")
    with pytest.raises(OperationError):
        transition(tvp["db"], tvp["officer"], case, "completed")
    assert case.state == "eligible"


def test_yju_decides_repeat_cases_with_a_reason(tvp: Any) -> None:
    person = create_person(tvp["db"], date_of_birth=date(2010, 1, 15))
    record_encounter(
        tvp["db"], tvp["officer"], _encounter(tvp, person, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    )
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp, person)))[
        "tvp-youth-drugs"
    ].referral
    offer(tvp["db"], tvp["officer"], case, True)
    respond(tvp["db"], tvp["officer"], case, True)
    assert case.state == "awaiting_yju"
    yju_user = create_user(tvp["db"], "yju_decision_maker", tvp["yju"])
    with pytest.raises(OperationError, match="reason"):
        transition(tvp["db"], yju_user, case, "referred_yot")
    transition(tvp["db"], yju_user, case, "referred_yot", "Second possession; engaging well at school")
    assert case.state == "referred_yot"
    assert tvp["yot"].id in {p.organisation_id for p in case.parties}


def test_override_keeps_both_decisions_and_opens_the_case(tvp: Any) -> None:
    encounter = _encounter(tvp, supply_suspected=True)
    youth = _by_programme(record_encounter(tvp["db"], tvp["officer"], encounter))["tvp-youth-drugs"]
    supervisor = create_user(tvp["db"], "supervisor", tvp["force"])
    with pytest.raises(OperationError, match="Only a supervisor"):
        override_decision(tvp["db"], tvp["officer"], youth.decision, eligible=True, route="yot", reason="x")
    with pytest.raises(OperationError, match="Enter a reason"):
        override_decision(tvp["db"], supervisor, youth.decision, eligible=True, route="yot", reason=" ")
    new = override_decision(
        tvp["db"],
        supervisor,
        youth.decision,
        eligible=True,
        route="yot",
        reason="Supply flag entered in error",
    )
    decisions = (
        tvp["db"]
        .scalars(
            select(Decision).where(
                Decision.encounter_id == encounter.id,
                Decision.programme_version_id == youth.decision.programme_version_id,
            )
        )
        .all()
    )
    assert {d.id for d in decisions} == {youth.decision.id, new.id}
    assert new.overrides_id == youth.decision.id and not youth.decision.eligible
    case = tvp["db"].scalars(select(Referral).where(Referral.decision_id == new.id)).one()
    assert case.state == "eligible" and case.route == "yot"
    with pytest.raises(OperationError, match="already been overridden"):
        override_decision(tvp["db"], supervisor, youth.decision, eligible=False, route=None, reason="again")


def test_override_to_ineligible_closes_an_open_case(tvp: Any) -> None:
    youth = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))["tvp-youth-drugs"]
    supervisor = create_user(tvp["db"], "supervisor", tvp["force"])
    override_decision(
        tvp["db"], supervisor, youth.decision, eligible=False, route=None, reason="Quantity was for supply"
    )
    assert youth.referral.state == "not_eligible" and youth.referral.closed_at is not None


def test_a_mistaken_step_is_corrected_on_the_record(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    offer(tvp["db"], tvp["officer"], case, False, "Wrong button")
    supervisor = create_user(tvp["db"], "supervisor", tvp["force"])
    with pytest.raises(OperationError, match="Only a supervisor"):
        correct_last_step(tvp["db"], tvp["officer"], case, "oops")
    correct_last_step(tvp["db"], supervisor, case, "Officer pressed 'not offered' by mistake")
    assert case.state == "eligible" and case.closed_at is None
    events = (
        tvp["db"]
        .scalars(select(ReferralEvent).where(ReferralEvent.referral_id == case.id).order_by(ReferralEvent.id))
        .all()
    )
    assert [e.kind for e in events] == ["decision", "transition", "correction"]
    assert events[-1].data["corrects_event"] == events[1].id
    assert (
        tvp["db"]
        .scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "referral", AuditEntry.object_id == str(case.id)
            )
        )
        .all()
    )


def test_decisions_use_the_version_in_force_on_the_encounter_date(db_session: Session) -> None:
    sync_definitions(db_session)
    durham = create_organisation(db_session)
    checkpoint = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    assign_operator(db_session, checkpoint, durham.id, "police")
    officer = create_user(db_session, "officer", durham)
    versions = sorted(checkpoint.versions, key=lambda v: v.effective_from)
    assert [v.version for v in versions] == [1, 2, 3]
    checks = [(versions[0].effective_from, 1)]
    for earlier, later in itertools.pairwise(versions):
        checks += [
            (later.effective_from - timedelta(days=1), earlier.version),
            (later.effective_from, later.version),
        ]
    for when, expected in checks:
        person = create_person(db_session, date_of_birth=date(1990, 1, 1))
        encounter = create_encounter(
            db_session,
            person,
            durham,
            occurred_at=datetime(when.year, when.month, when.day, 12, tzinfo=UTC),
            offence_category="theft",
            offence_date=when,
            lives_in_area=True,
            offended_in_area=True,
        )
        (outcome,) = record_encounter(db_session, officer, encounter)
        assert outcome.decision.programme_version.version == expected


def test_sync_refuses_a_changed_definition_with_the_same_version(db_session: Session, tmp_path: Any) -> None:
    from pathlib import Path

    from divert.pathways.programmes import PROGRAMMES_DIR

    source = Path(PROGRAMMES_DIR) / "divert.yaml"
    (tmp_path / "divert.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert [r.status for r in sync_definitions(db_session, tmp_path)] == ["added"]
    assert [r.status for r in sync_definitions(db_session, tmp_path)] == ["unchanged"]
    text = source.read_text(encoding="utf-8").replace("name: ", "name: Changed ", 1)
    (tmp_path / "divert.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(OperationError, match="new version number"):
        sync_definitions(db_session, tmp_path)


def test_milestones_record_when_each_decision_point_was_reached(tvp: Any) -> None:
    case = _by_programme(record_encounter(tvp["db"], tvp["officer"], _encounter(tvp)))[
        "tvp-youth-drugs"
    ].referral
    assert (case.offered_at, case.accepted_at) == (None, None)
    offer(tvp["db"], tvp["officer"], case, True)
    respond(tvp["db"], tvp["officer"], case, True)
    assert case.offered_at is not None and case.accepted_at is not None and case.engaged_at is None
    supervisor = create_user(tvp["db"], "supervisor", tvp["force"])
    correct_last_step(tvp["db"], supervisor, case, "Accepted on the wrong case")
    assert case.state == "offered" and case.accepted_at is None and case.offered_at is not None
