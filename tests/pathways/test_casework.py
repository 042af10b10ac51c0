"""Working cases from encounter to outcome, for every shipped programme, through the real operations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import LONDON
from divert.models import AuditEntry, CaseContact, EncounterJourney, NeedsAssessment, User
from divert.monitoring.journeys import sync
from divert.pathways.cases import offer, respond, transition
from divert.pathways.casework import (
    complete,
    escalation_decision,
    record_attendance,
    record_drop_out,
    record_needs_assessment,
    schedule_contact,
)
from divert.pathways.contracts import draw_up_contract, vary_contract
from divert.pathways.errors import OperationError, StaleEdit
from divert.pathways.sweep import sweep
from divert.rules import add_working_days

from ..factories import create_encounter, create_person
from .helpers import (
    days_ago,
    flags,
    open_case,
    police_force,
    refer,
    referred_case,
    referred_on,
    repeat_possession,
    staff,
    steps,
    timeline,
)

TODAY = datetime.now(LONDON).date()
# tvp-youth-drugs version 2 is in force from 1 April 2026.
V2_ENCOUNTER = datetime(2026, 5, 1, 14, 30, tzinfo=UTC)


@pytest.fixture
def team(db_session: Session) -> dict[str, User]:
    force = police_force(db_session)
    return {
        role: staff(db_session, role, force)
        for role in ("officer", "yot_caseworker", "yju_decision_maker", "navigator", "coach", "supervisor")
    }


def attend(
    session: Session, actor: User, referral: Any, days: int, kind: str = "session", **outcome: Any
) -> Any:
    contact = schedule_contact(session, actor, referral, kind=kind, scheduled_at=days_ago(days))
    return record_attendance(session, actor, contact, **({"attendance": "attended"} | outcome))


def miss(session: Session, actor: User, referral: Any, days: int, acceptable: bool = False) -> Any:
    return attend(
        session,
        actor,
        referral,
        days,
        attendance="missed",
        missed_reason="Did not come",
        reason_acceptable=acceptable,
    )


def error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(OperationError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# --- Thames Valley youth: the YOT route ------------------------------------------------------------------


def test_youth_yot_route_from_encounter_to_outcome_22(db_session: Session, team: dict[str, User]) -> None:
    officer, yot, boss = team["officer"], team["yot_caseworker"], team["supervisor"]
    case = open_case(db_session, "tvp-youth-drugs", officer)
    assert (case.state, case.route) == ("eligible", "yot")

    assert error(offer, db_session, officer, case, False) == (
        "Enter a reason to move a case from 'Eligible' to 'Not offered'."
    )
    offer(db_session, officer, case, True)
    respond(db_session, officer, case, True)
    assert case.state == "referred_yot"

    # Contacts belong to the people who work the case now, not to the officer who referred it.
    assert "Your role (Police officer) does not work cases that are 'Referred to YOT'" in error(
        schedule_contact, db_session, officer, case, kind="session", scheduled_at=days_ago(9)
    )
    first = schedule_contact(db_session, yot, case, kind="session", scheduled_at=days_ago(9))
    assert (
        error(record_attendance, db_session, yot, first, attendance="missed")
        == "Enter why the session was missed"
    )
    assert (
        error(record_attendance, db_session, yot, first, attendance="missed", missed_reason="Ill")
        == "Select whether the reason is acceptable"
    )
    record_attendance(
        db_session, yot, first, attendance="missed", missed_reason="Ill", reason_acceptable=True
    )
    assert case.state == "referred_yot"
    attend(db_session, yot, case, 8)
    assert case.state == "engaged"  # the first attended session is engagement
    miss(db_session, yot, case, 6)
    miss(db_session, yot, case, 4)

    # The second miss raises the flag at once; the sweep finds it already raised.
    [flag] = flags(db_session, case)
    assert sweep(db_session, TODAY).by_kind == {}
    assert flag.key == f"missed-sessions:{(days_ago(4)).astimezone(LONDON).date().isoformat()}"
    assert case.state == "engaged"  # the sweep only flags

    assert (
        error(escalation_decision, db_session, yot, case, "revised_plan", "Try again")
        == "Your role (YOT caseworker) cannot make this decision. Allowed: Supervisor."
    )
    assert (
        error(escalation_decision, db_session, boss, case, "revised_plan", "  ")
        == "Enter a reason for the decision"
    )
    assert error(escalation_decision, db_session, boss, case, "ignore", "x") == (
        "Select what happens next: Escalate to the traditional pathway or Continue with a revised plan"
    )
    escalation_decision(db_session, boss, case, "revised_plan", "Sessions moved to after school")
    assert (case.state, case.closed_at) == ("engaged", None)
    db_session.refresh(flag)
    assert flag.resolved_at is not None and flag.resolved_by_id == boss.id
    assert flag.resolution == "Continue with a revised plan: Sessions moved to after school"

    attend(db_session, yot, case, 2)
    assert "cannot move a case from 'Engaged with YOT' to 'Completed drug education'" in error(
        complete, db_session, officer, case
    )
    complete(db_session, yot, case)
    assert (case.state, case.outcome_code, case.exit_reason) == ("completed", 22, None)
    assert case.closed_at is not None

    assert [s for s in steps(db_session, case) if s[0] not in {"contact", "attendance"}] == [
        ("decision", "recorded", "eligible"),
        ("transition", "eligible", "offered"),
        ("transition", "offered", "referred_yot"),
        ("engagement", "referred_yot", "engaged"),
        ("flag_raised", None, None),
        ("review", "engaged", "non_engagement_review"),
        ("escalation", "non_engagement_review", "engaged"),
        ("completion", "engaged", "completed"),
    ]
    events = timeline(db_session, case)
    decision = next(e for e in events if e.kind == "escalation")
    assert (decision.actor_id, decision.reason) == (boss.id, "Sessions moved to after school")
    assert decision.data["option"] == "revised_plan" and decision.data["flags"] == [flag.id]
    missed = [e for e in events if e.kind == "attendance" and e.data["attendance"] == "missed"]
    assert [(e.actor_id, e.reason, e.data["reason_acceptable"]) for e in missed] == [
        (yot.id, "Ill", True),
        (yot.id, "Did not come", False),
        (yot.id, "Did not come", False),
    ]
    # The closed case takes no more appointments.
    assert error(schedule_contact, db_session, yot, case, kind="session", scheduled_at=days_ago(1)) == (
        "This case is closed, so a contact cannot be recorded."
    )


def test_youth_escalation_to_the_traditional_pathway(db_session: Session, team: dict[str, User]) -> None:
    yot, boss = team["yot_caseworker"], team["supervisor"]
    case = referred_case(db_session, "tvp-youth-drugs", team["officer"])
    attend(db_session, yot, case, 9)
    miss(db_session, yot, case, 7)
    miss(db_session, yot, case, 5)
    sweep(db_session, TODAY)
    # The caseworker can put the case under review; only the supervisor decides it.
    transition(db_session, yot, case, "non_engagement_review", "Two sessions missed")
    escalation_decision(db_session, boss, case, "escalate", "No contact since the second missed session")
    assert (case.state, case.outcome_code, case.exit_reason) == ("escalated", None, "escalate")
    assert case.closed_at is not None
    assert all(f.resolved_at is not None for f in flags(db_session, case))
    assert steps(db_session, case)[-2:] == [
        ("transition", "engaged", "non_engagement_review"),
        ("escalation", "non_engagement_review", "escalated"),
    ]
    assert "This case is closed" in error(escalation_decision, db_session, boss, case, "escalate", "again")


def test_a_revised_plan_gives_a_fresh_start_and_new_misses_raise_a_new_flag(
    db_session: Session, team: dict[str, User]
) -> None:
    yot, boss = team["yot_caseworker"], team["supervisor"]
    case = referred_case(db_session, "tvp-youth-drugs", team["officer"])
    attend(db_session, yot, case, 9)
    miss(db_session, yot, case, 7)
    miss(db_session, yot, case, 5)
    assert len(flags(db_session, case)) == 1
    assert sweep(db_session, TODAY).flags_raised == 0
    escalation_decision(db_session, boss, case, "revised_plan", "New caseworker")
    assert sweep(db_session, TODAY).flags_raised == 0  # misses before the decision were decided on
    for _ in range(2):
        contact = schedule_contact(db_session, yot, case, kind="session", scheduled_at=datetime.now(UTC))
        record_attendance(
            db_session, yot, contact, attendance="missed", missed_reason="No", reason_acceptable=False
        )
    assert sweep(db_session, TODAY).flags_raised == 0  # the second new miss raised it at once
    assert [f.resolved_at is None for f in flags(db_session, case)] == [False, True]


# --- Thames Valley youth: the Youth Justice Unit route ---------------------------------------------------


def test_youth_yju_decides_to_divert_again_with_a_reason(db_session: Session, team: dict[str, User]) -> None:
    officer, yju, yot = team["officer"], team["yju_decision_maker"], team["yot_caseworker"]
    case = refer(db_session, officer, repeat_possession(db_session, officer))
    assert (case.route, case.state) == ("yju", "awaiting_yju")

    assert error(transition, db_session, officer, case, "referred_yot", "x") == (
        "Your role (Police officer) cannot move a case from 'Awaiting YJU decision' to 'Referred to YOT'. "
        "Allowed: Youth Justice Unit decision maker."
    )
    assert error(transition, db_session, yju, case, "referred_yot") == (
        "Enter a reason to move a case from 'Awaiting YJU decision' to 'Referred to YOT'."
    )
    assert "cannot move from 'Awaiting YJU decision' to 'Completed drug education'" in error(
        transition, db_session, yju, case, "completed"
    )
    transition(db_session, yju, case, "referred_yot", "Struggling at home; worth another try")
    attend(db_session, yot, case, 3)
    complete(db_session, yot, case, "All six sessions")
    assert (case.state, case.outcome_code) == ("completed", 22)

    events = timeline(db_session, case)
    yju_step = next(e for e in events if e.from_state == "awaiting_yju")
    assert (yju_step.actor_id, yju_step.to_state, yju_step.reason) == (
        yju.id,
        "referred_yot",
        "Struggling at home; worth another try",
    )
    assert events[-1].reason == "All six sessions"


def test_youth_yju_pursues_a_formal_outcome(db_session: Session, team: dict[str, User]) -> None:
    officer, yju = team["officer"], team["yju_decision_maker"]
    case = refer(db_session, officer, repeat_possession(db_session, officer))
    transition(db_session, yju, case, "formal_outcome", "Third possession in six months")
    assert (case.state, case.outcome_code) == ("formal_outcome", None)
    assert case.closed_at is not None
    assert case.programme_version.version == 1


@pytest.mark.parametrize(("state", "code"), [("charged", 1), ("youth_caution", 2)])
def test_youth_yju_formal_outcome_records_which_from_version_2(
    db_session: Session, team: dict[str, User], state: str, code: int
) -> None:
    officer, yju = team["officer"], team["yju_decision_maker"]
    person = create_person(db_session, date_of_birth=date(2010, 5, 1))
    create_encounter(db_session, person, officer.organisation, occurred_at=datetime(2026, 1, 10, tzinfo=UTC))
    case = open_case(db_session, "tvp-youth-drugs", officer, person=person, occurred_at=V2_ENCOUNTER)
    refer(db_session, officer, case)
    assert (case.programme_version.version, case.state) == (2, "awaiting_yju")
    transition(db_session, yju, case, state, "Third possession in six months")
    assert (case.state, case.outcome_code) == (state, code)
    sync(db_session)
    journey = db_session.get(EncounterJourney, case.encounter_id)
    assert journey is not None
    db_session.refresh(journey)
    assert journey.formal_outcome == 1


def test_youth_declined_needs_a_reason_and_records_an_exit_reason(
    db_session: Session, team: dict[str, User]
) -> None:
    officer = team["officer"]
    case = open_case(db_session, "tvp-youth-drugs", officer)
    offer(db_session, officer, case, True)
    assert "Enter a reason" in error(respond, db_session, officer, case, False)
    respond(db_session, officer, case, False, "Wants to go to court")
    assert (case.state, case.exit_reason) == ("declined", "declined")

    other = open_case(db_session, "tvp-youth-drugs", officer)
    offer(db_session, officer, other, False, "Already working with the YOT on another matter")
    assert (other.state, other.outcome_code) == ("not_offered", None) and other.closed_at is not None
    last = timeline(db_session, other)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor_id, last.reason) == (
        "transition",
        "eligible",
        "not_offered",
        officer.id,
        "Already working with the YOT on another matter",
    )


# --- Thames Valley adult ---------------------------------------------------------------------------------


def test_adult_first_appointment_overdue_then_prosecution_needs_a_drop_out_reason(
    db_session: Session, team: dict[str, User]
) -> None:
    officer, boss = team["officer"], team["supervisor"]
    case = referred_case(db_session, "tvp-adult-drugs", officer)
    due = add_working_days(referred_on(db_session, case), 10)
    assert sweep(db_session, due).flags_raised == 0
    assert sweep(db_session, due + timedelta(days=1)).by_kind == {"first_contact_overdue": 1}

    assert error(escalation_decision, db_session, boss, case, "prosecute", "No contact at all") == (
        "Select why the person dropped out: no out of hours service, work commitments, "
        "caring responsibilities, transport, health, moved away, not contactable, chose to stop, other"
    )
    escalation_decision(
        db_session, boss, case, "prosecute", "No contact at all", exit_reason="no_out_of_hours_service"
    )
    assert (case.state, case.outcome_code, case.exit_reason) == ("prosecuted", 1, "no_out_of_hours_service")
    assert case.closed_at is not None
    assert steps(db_session, case)[-2:] == [
        ("review", "referred", "non_engagement_review"),
        ("escalation", "non_engagement_review", "prosecuted"),
    ]
    [flag] = flags(db_session, case)
    assert flag.kind == "first_contact_overdue" and flag.resolution == (
        "Prosecute (summons no longer deferred): No contact at all"
    )


def test_adult_drop_out_reason_before_the_decision(db_session: Session, team: dict[str, User]) -> None:
    officer, boss = team["officer"], team["supervisor"]
    case = referred_case(db_session, "tvp-adult-drugs", officer)
    assert error(record_drop_out, db_session, officer, case, exit_reason="bored").startswith(
        "Select why the person dropped out: no out of hours service"
    )
    record_drop_out(db_session, officer, case, exit_reason="work_commitments", note="Works nights")
    assert (case.state, case.exit_reason, case.closed_at) == ("referred", "work_commitments", None)
    # The supervisor's decision keeps the reason already recorded.
    escalation_decision(db_session, boss, case, "prosecute", "Would not rearrange")
    assert (case.state, case.exit_reason) == ("prosecuted", "work_commitments")
    drop_out = next(e for e in timeline(db_session, case) if e.kind == "drop_out")
    assert (drop_out.actor_id, drop_out.reason, drop_out.data) == (
        officer.id,
        "Works nights",
        {"exit_reason": "work_commitments"},
    )


def test_adult_completion_is_a_community_resolution(db_session: Session, team: dict[str, User]) -> None:
    officer, boss = team["officer"], team["supervisor"]
    case = referred_case(db_session, "tvp-adult-drugs", officer)
    evening = datetime(2026, 6, 2, 18, 30, tzinfo=LONDON)
    contact = schedule_contact(db_session, officer, case, kind="session", scheduled_at=evening)
    db_session.expire(contact)
    # Stored as UTC, so attrition by time of day can be reported in any zone.
    assert contact.scheduled_at == datetime(2026, 6, 2, 17, 30, tzinfo=UTC)
    record_attendance(db_session, officer, contact, attendance="late", notes="Came from work")
    assert case.state == "engaged"
    miss(db_session, officer, case, 10)
    miss(db_session, officer, case, 8)
    sweep(db_session, TODAY)
    escalation_decision(db_session, boss, case, "revised_plan", "Evening appointments booked")
    assert case.state == "engaged" and case.exit_reason is None
    complete(db_session, officer, case)
    assert (case.state, case.outcome_code) == ("completed", 8)


def test_times_without_a_zone_are_refused(db_session: Session, team: dict[str, User]) -> None:
    case = referred_case(db_session, "tvp-adult-drugs", team["officer"])
    assert error(
        schedule_contact,
        db_session,
        team["officer"],
        case,
        kind="session",
        scheduled_at=datetime(2026, 6, 2, 18, 30),
    ) == ("The time must include a time zone")
    assert "Select the kind of appointment" in error(
        schedule_contact, db_session, team["officer"], case, kind="phone", scheduled_at=days_ago(1)
    )
    future = schedule_contact(
        db_session, team["officer"], case, kind="session", scheduled_at=datetime.now(UTC) + timedelta(days=3)
    )
    assert error(record_attendance, db_session, team["officer"], future, attendance="attended") == (
        "The session has not happened yet, so attendance cannot be recorded"
    )
    record_attendance(db_session, team["officer"], future, attendance="cancelled")
    assert future.attendance == "cancelled"


def test_attendance_refuses_a_stale_edit(db_session: Session, team: dict[str, User]) -> None:
    case = referred_case(db_session, "tvp-adult-drugs", team["officer"])
    contact = schedule_contact(db_session, team["officer"], case, kind="session", scheduled_at=days_ago(2))
    seen = contact.version_id
    record_attendance(db_session, team["officer"], contact, attendance="attended", seen_version=seen)
    with pytest.raises(StaleEdit):
        record_attendance(db_session, team["officer"], contact, attendance="missed", seen_version=seen)


def test_every_step_is_audited(db_session: Session, team: dict[str, User]) -> None:
    case = referred_case(db_session, "tvp-adult-drugs", team["officer"])
    contact = attend(db_session, team["officer"], case, 2)
    details = db_session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.object_type == "case_contact", AuditEntry.object_id == str(contact.id)
        )
    ).all()
    assert details[0].startswith("session at ") and details[1] == "attendance: attended"


# --- DIVERT ------------------------------------------------------------------------------------------------


def test_divert_meeting_outside_custody_then_placement(db_session: Session, team: dict[str, User]) -> None:
    coach, officer = team["coach"], team["officer"]
    case = open_case(db_session, "divert", officer)
    assert "Allowed: Custody intervention coach" in error(offer, db_session, officer, case, True)
    refer(db_session, coach, case)
    assert case.state == "contacted"

    custody = referred_on(db_session, case)
    assert sweep(db_session, custody + timedelta(days=7)).flags_raised == 0
    assert sweep(db_session, custody + timedelta(days=8)).by_kind == {"first_contact_overdue": 1}
    assert error(escalation_decision, db_session, team["supervisor"], case, "escalate", "x") == (
        "DIVERT (Metropolitan Police custody programme) has no non-engagement decision to make."
    )

    attend(db_session, coach, case, 1, kind="meeting")
    assert case.state == "met_outside"
    transition(db_session, coach, case, "goals_set")
    assert "cannot be completed" in error(complete, db_session, coach, case)
    transition(db_session, coach, case, "placed")
    complete(db_session, coach, case)
    # DIVERT runs beside the criminal case, so its end records no Home Office outcome.
    assert (case.state, case.outcome_code) == ("closed_placed", None)
    assert case.closed_at is not None
    assert all(f.resolved_at is not None for f in flags(db_session, case))
    assert "This case was completed" in error(record_drop_out, db_session, coach, case, exit_reason="moved")


def test_divert_drop_out_records_why(db_session: Session, team: dict[str, User]) -> None:
    coach = team["coach"]
    case = refer(db_session, coach, open_case(db_session, "divert", team["officer"]))
    assert error(record_drop_out, db_session, coach, case, exit_reason=" ", to_state="closed_disengaged") == (
        "Enter why the case ended"
    )
    assert "Enter a reason" in error(
        record_drop_out, db_session, coach, case, exit_reason="moved_away", to_state="closed_disengaged"
    )
    assert error(record_drop_out, db_session, coach, case, exit_reason="moved_away", to_state="placed") == (
        "Select a state that ends the case without completion."
    )
    record_drop_out(
        db_session, coach, case, exit_reason="moved_away", to_state="closed_disengaged", note="Moved to Leeds"
    )
    assert (case.state, case.exit_reason, case.outcome_code) == ("closed_disengaged", "moved_away", None)
    last = timeline(db_session, case)[-1]
    assert (last.kind, last.reason, last.data) == (
        "drop_out",
        "Moved to Leeds",
        {"exit_reason": "moved_away"},
    )


# --- Checkpoint ------------------------------------------------------------------------------------------


def test_checkpoint_contract_variation_and_completion(db_session: Session, team: dict[str, User]) -> None:
    officer, nav, boss = team["officer"], team["navigator"], team["supervisor"]
    case = referred_case(db_session, "checkpoint", officer)
    assert case.state == "needs_assessment"
    assert case.programme_version.version == 2

    record_needs_assessment(
        db_session,
        nav,
        case,
        assessed_on=TODAY,
        needs=[
            {"area": "drugs", "level": "high"},
            {"area": "housing", "level": "medium", "notes": "Sofa surfing"},
        ],
        summary="Cannabis use daily; no fixed address.",
    )
    starts = TODAY - timedelta(days=30)
    contract = draw_up_contract(
        db_session,
        nav,
        case,
        starts_on=starts,
        conditions=[
            {"group": "pathway", "pathway": "drugs", "description": "Attend the drug service weekly"},
            {"group": "victim_restorative", "description": "Letter of apology"},
        ],
        voluntary_hours=24,
    )
    assert case.state == "in_contract"
    for days in (20, 15):
        miss(db_session, nav, case, days)
    assert [f.kind for f in flags(db_session, case)] == ["non_engagement"]
    assert sweep(db_session, TODAY).by_kind == {}

    escalation_decision(db_session, boss, case, "revised_plan", "Start again with housing support")
    drugs = next(c for c in contract.conditions if c.pathway == "drugs")
    vary_contract(
        db_session,
        nav,
        contract,
        remove_condition_ids=[drugs.id],
        add_conditions=[
            {"group": "pathway", "pathway": "housing", "description": "Keep housing appointments"}
        ],
        new_end=contract.ends_on + timedelta(days=28),
        reason="Housing first; drug service later",
    )
    complete(db_session, nav, case)
    assert (case.state, case.outcome_code) == ("completed", 22)
    kinds = [s[0] for s in steps(db_session, case)]
    assert kinds.index("needs_assessment") < kinds.index("contract") < kinds.index("contract_varied")
    assert [
        s for s in steps(db_session, case) if s[0] in {"contract", "review", "escalation", "completion"}
    ] == [
        ("contract", "needs_assessment", "in_contract"),
        ("review", "in_contract", "non_compliance_review"),
        ("escalation", "non_compliance_review", "in_contract"),
        ("completion", "in_contract", "completed"),
    ]


def test_checkpoint_contract_expiry_and_prosecution(db_session: Session, team: dict[str, User]) -> None:
    nav, boss = team["navigator"], team["supervisor"]
    case = referred_case(db_session, "checkpoint", team["officer"])
    record_needs_assessment(
        db_session, nav, case, assessed_on=TODAY, needs=[{"area": "alcohol", "level": "high"}], summary=""
    )
    contract = draw_up_contract(
        db_session,
        nav,
        case,
        starts_on=date(2026, 3, 10),
        conditions=[{"group": "pathway", "pathway": "alcohol"}],
    )
    assert contract.ends_on == date(2026, 7, 10)
    assert sweep(db_session, date(2026, 7, 10)).flags_raised == 0
    assert sweep(db_session, date(2026, 7, 11)).by_kind == {"contract_expired": 1}
    transition(db_session, nav, case, "non_compliance_review", "Alcohol service never attended")
    assert "Allowed: Supervisor" in error(transition, db_session, nav, case, "prosecuted", "x")
    escalation_decision(db_session, boss, case, "prosecute", "Contract failed; court told why")
    assert (case.state, case.outcome_code, case.exit_reason) == ("prosecuted", 1, "prosecute")
    [flag] = flags(db_session, case)
    assert flag.kind == "contract_expired" and flag.resolution.startswith("Prosecute (the court is told why)")


def test_needs_assessment_checks_areas_and_levels(db_session: Session, team: dict[str, User]) -> None:
    nav = team["navigator"]
    case = referred_case(db_session, "checkpoint", team["officer"])

    def assess(needs: list[dict[str, Any]], summary: str = "", **kw: Any) -> str:
        return error(
            record_needs_assessment,
            db_session,
            kw.get("actor", nav),
            case,
            assessed_on=TODAY,
            needs=needs,
            summary=summary,
        )

    assert assess([{"area": "gambling", "level": "high"}]).startswith("Choose each need from: alcohol, drugs")
    assert assess([{"area": "housing", "level": "severe"}]) == (
        "Select the level of the housing need: low, medium or high"
    )
    assert assess([{"area": "housing", "level": "low"}, {"area": "housing", "level": "high"}]) == (
        "Enter the housing need only once"
    )
    assert assess([]) == "Enter at least one need or a summary of the assessment"
    assert "Your role (YOT caseworker) does not work cases" in assess(
        [{"area": "housing", "level": "low"}], actor=team["yot_caseworker"]
    )
    assert "today or in the past" in error(
        record_needs_assessment,
        db_session,
        nav,
        case,
        assessed_on=TODAY + timedelta(days=2),
        needs=[{"area": "housing", "level": "low"}],
        summary="",
    )
    done = record_needs_assessment(
        db_session, nav, case, assessed_on=TODAY, needs=[{"area": "housing", "level": "low"}], summary="Fine"
    )
    stored = db_session.get(NeedsAssessment, done.id)
    assert stored is not None and stored.needs == [{"area": "housing", "level": "low", "notes": ""}]
    assert stored.assessed_by_id == nav.id


def test_needs_areas_default_to_the_pathway_areas(db_session: Session, team: dict[str, User]) -> None:
    case = referred_case(db_session, "tvp-youth-drugs", team["officer"])
    yot = team["yot_caseworker"]
    record_needs_assessment(
        db_session,
        yot,
        case,
        assessed_on=TODAY,
        needs=[{"area": "relationships", "level": "medium"}],
        summary="",
    )
    assert "exploitation" in error(
        record_needs_assessment,
        db_session,
        yot,
        case,
        assessed_on=TODAY,
        needs=[{"area": "x", "level": "low"}],
        summary="",
    )


# --- Checkpoint Plus -------------------------------------------------------------------------------------


def test_checkpoint_plus_completion_is_a_community_resolution(
    db_session: Session, team: dict[str, User]
) -> None:
    nav = team["navigator"]
    case = referred_case(db_session, "checkpoint-plus", team["officer"])
    record_needs_assessment(
        db_session,
        nav,
        case,
        assessed_on=TODAY,
        needs=[{"area": "mental_health", "level": "high"}, {"area": "finances", "level": "medium"}],
        summary="Care leaver",
    )
    draw_up_contract(
        db_session,
        nav,
        case,
        starts_on=TODAY,
        conditions=[
            {"group": "interventions", "pathway": "mental_health"},
            {"group": "interventions", "pathway": "finances"},
        ],
    )
    assert case.state == "in_contract"
    # No meeting counts as engagement here: the contract is what engages.
    attend(db_session, nav, case, 3, kind="meeting")
    complete(db_session, nav, case)
    assert (case.state, case.outcome_code) == ("completed", 8)


def test_checkpoint_plus_returned_to_the_officer(db_session: Session, team: dict[str, User]) -> None:
    nav, boss = team["navigator"], team["supervisor"]
    case = referred_case(db_session, "checkpoint-plus", team["officer"])
    record_needs_assessment(db_session, nav, case, assessed_on=TODAY, needs=[], summary="Declined to discuss")
    draw_up_contract(
        db_session, nav, case, starts_on=TODAY, conditions=[{"group": "interventions", "pathway": "housing"}]
    )
    miss(db_session, nav, case, 5)
    miss(db_session, nav, case, 3)
    assert [f.kind for f in flags(db_session, case)] == ["non_engagement"]
    assert sweep(db_session, TODAY).by_kind == {}
    assert "Enter a reason" in error(escalation_decision, db_session, boss, case, "return_to_officer", "")
    escalation_decision(db_session, boss, case, "return_to_officer", "Not engaging with the navigator")
    assert (case.state, case.outcome_code, case.exit_reason) == (
        "returned_to_officer",
        None,
        "return_to_officer",
    )


# --- Avon & Somerset Drug Education Programme ------------------------------------------------------------


def test_avon_somerset_attended_session_then_outcome_22(db_session: Session, team: dict[str, User]) -> None:
    officer = team["officer"]
    case = referred_case(db_session, "avon-somerset-dep", officer)
    assert case.state == "referred"
    attend(db_session, officer, case, 2)
    assert case.state == "attended"
    complete(db_session, officer, case)
    assert (case.state, case.outcome_code) == ("completed", 22)


def test_avon_somerset_non_attender_is_charged(db_session: Session, team: dict[str, User]) -> None:
    officer, boss = team["officer"], team["supervisor"]
    case = referred_case(db_session, "avon-somerset-dep", officer)
    miss(db_session, officer, case, 2)
    assert [f.kind for f in flags(db_session, case)] == ["non_engagement"]
    assert sweep(db_session, TODAY).by_kind == {}
    assert "has no non-engagement decision" in error(
        escalation_decision, db_session, boss, case, "charge", "x"
    )
    assert "Allowed: Supervisor" in error(transition, db_session, officer, case, "charged", "No show")
    transition(db_session, boss, case, "charged", "Did not attend the session")
    assert (case.state, case.outcome_code) == ("charged", 1)
    # The reason can be recorded after the case closed, for attrition reports.
    record_drop_out(db_session, boss, case, exit_reason="did_not_attend", note="No reply to letters")
    assert case.exit_reason == "did_not_attend"
    assert "cannot record why this case ended" in error(
        record_drop_out, db_session, team["yot_caseworker"], case, exit_reason="x"
    )
    assert timeline(db_session, case)[-1].kind == "drop_out"


def test_contacts_wait_for_the_referral(db_session: Session, team: dict[str, User]) -> None:
    case = open_case(db_session, "avon-somerset-dep", team["officer"])
    assert error(
        schedule_contact, db_session, team["officer"], case, kind="session", scheduled_at=days_ago(1)
    ) == ("This case is 'Eligible' and has not been referred yet, so a contact cannot be recorded.")
    assert db_session.scalars(select(CaseContact).where(CaseContact.referral_id == case.id)).all() == []
