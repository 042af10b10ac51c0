"""Every shipped programme's case run to each of its endings, by the people of the organisations that do it.

Each organisation has its own staff (the force's officers and supervisors, the YOT's caseworkers, the
navigators...), so a step only succeeds where the definition gives the step to the role and the case is
visible to that organisation: a dead end or a 404 on the way fails the walk. Encounters fall after the
versions of 1 November 2026, so completion needs its evidence (sessions, conditions, time).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.auth.visibility import visible_referrals
from divert.models import Programme, Referral, User
from divert.pathways.casework import record_attendance, record_needs_assessment, schedule_contact
from divert.pathways.contracts import draw_up_contract, record_condition_progress
from divert.pathways.errors import OperationError
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.pathways.steps import next_steps, take_step

from ..factories import create_organisation
from .helpers import days_ago, open_case, staff

AFTER_V3 = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)
RECEIVERS = {
    "tvp-youth-drugs": {"yot": ("yot", "yot_caseworker"), "yju": ("yju", "yju_decision_maker")},
    "checkpoint": {"navigator": ("provider", "navigator")},
    "checkpoint-plus": {"navigator": ("provider", "navigator")},
    "tvp-adult-drugs": {"drug_service": ("provider", None)},
    "avon-somerset-dep": {"education": ("provider", None)},
}
FIELDS: dict[str, dict[str, Any]] = {"checkpoint": {"offence_date": date(2026, 11, 5)}}


class Scheme:
    """One programme's organisations and their people."""

    def __init__(self, session: Session, code: str) -> None:
        self.session, self.code = session, code
        sync_definitions(session)
        programme = session.scalars(select(Programme).where(Programme.code == code)).one()
        force = create_organisation(session, kind="police_force")
        self.people: dict[tuple[str, str], User] = {
            ("police", "officer"): staff(session, "officer", force),
            ("police", "supervisor"): staff(session, "supervisor", force),
        }
        for route, (kind, role) in RECEIVERS[code].items():
            organisation = create_organisation(session, kind=kind)
            assign_operator(session, programme, organisation.id, "receiving", route=route)
            self.people[route, "supervisor"] = staff(session, "supervisor", organisation)
            if role is not None:
                self.people[route, role] = staff(session, role, organisation)

    def who(self, party: str, role: str) -> User:
        return self.people[party, role]

    def case(self, **fields: Any) -> Referral:
        officer = self.who("police", "officer")
        fields = {"occurred_at": AFTER_V3, **FIELDS.get(self.code, {}), **fields}
        return open_case(self.session, self.code, officer, **fields)

    def step(self, party: str, role: str, case: Referral, to_state: str, reason: str = "", **kw: Any) -> None:
        actor = self.who(party, role)
        # The case must be visible to the actor's organisation (no 404) and the step offered on its page.
        visible = self.session.scalars(visible_referrals(actor).where(Referral.id == case.id)).all()
        assert visible == [case], f"{party} {role} cannot see the case in '{case.state}'"
        assert to_state in [s.to_state for s in next_steps(case, actor.role)], (party, role, case.state)
        take_step(self.session, actor, case, to_state, reason, **kw)
        assert case.state == to_state

    def sessions(self, party: str, role: str, case: Referral, attended: int, first_day: int = 20) -> None:
        actor = self.who(party, role)
        for n in range(attended):
            contact = schedule_contact(
                self.session, actor, case, kind="session", scheduled_at=days_ago(first_day - n)
            )
            record_attendance(self.session, actor, contact, attendance="attended")


def refused(scheme: Scheme, party: str, role: str, case: Referral, to_state: str, reason: str = "") -> str:
    with pytest.raises(OperationError) as caught:
        take_step(scheme.session, scheme.who(party, role), case, to_state, reason)
    return str(caught.value)


# --- Thames Valley youth ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ending", "path"),
    [
        ("not_offered", [("police", "officer", "not_offered", "Not in the public interest")]),
        ("declined", [("police", "officer", "offered", ""), ("police", "officer", "declined", "Refused")]),
    ],
)
def test_youth_ends_before_referral(db_session: Session, ending: str, path: list[Any]) -> None:
    scheme = Scheme(db_session, "tvp-youth-drugs")
    case = scheme.case()
    for party, role, to_state, reason in path:
        scheme.step(party, role, case, to_state, reason)
    assert case.state == ending and case.closed_at is not None


def test_youth_completion_needs_the_six_sessions(db_session: Session) -> None:
    scheme = Scheme(db_session, "tvp-youth-drugs")
    case = scheme.case()
    assert case.programme_version.version == 3
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "referred_yot")
    scheme.sessions("yot", "yot_caseworker", case, 2)
    assert case.state == "engaged"
    message = refused(scheme, "yot", "yot_caseworker", case, "completed")
    assert "2 of 6 drug awareness sessions attended; 4 more needed." in message
    # One missed with an acceptable reason counts; a second does not.
    worker = scheme.who("yot", "yot_caseworker")
    for day in (12, 11):
        contact = schedule_contact(db_session, worker, case, kind="session", scheduled_at=days_ago(day))
        record_attendance(
            db_session, worker, contact, attendance="missed", missed_reason="Ill", reason_acceptable=True
        )
    assert "3 of 6" in refused(scheme, "yot", "yot_caseworker", case, "completed")
    scheme.sessions("yot", "yot_caseworker", case, 3, first_day=8)
    scheme.step("yot", "yot_caseworker", case, "completed")
    assert (case.outcome_code, case.closed_at is not None) == (22, True)


def test_youth_non_engagement_is_decided_by_the_yot_supervisor(db_session: Session) -> None:
    scheme = Scheme(db_session, "tvp-youth-drugs")
    case = scheme.case()
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "referred_yot")
    scheme.step("yot", "yot_caseworker", case, "non_engagement_review", "No contact after three visits")
    # The caseworker has no step now: the decision is the supervisor's (or the YJU's, which is not party).
    assert next_steps(case, "yot_caseworker") == []
    scheme.step("yot", "supervisor", case, "escalated", "Refused every appointment")
    assert case.closed_at is not None


@pytest.mark.parametrize("ending", ["charged", "youth_caution", "escalated"])
def test_youth_repeat_possession_is_decided_by_the_yju(db_session: Session, ending: str) -> None:
    scheme = Scheme(db_session, "tvp-youth-drugs")
    first = scheme.case()
    second = scheme.case(person=first.person, occurred_at=AFTER_V3 + timedelta(days=1))
    assert second.route == "yju"
    scheme.step("police", "officer", second, "offered")
    scheme.step("police", "officer", second, "awaiting_yju")
    if ending != "escalated":
        scheme.step("yju", "yju_decision_maker", second, ending, "Second possession in a month")
    else:
        scheme.step("yju", "yju_decision_maker", second, "referred_yot", "One more chance")
        scheme.step("yot", "supervisor", second, "non_engagement_review", "Not seen")
        # The YJU, party to this case, may now make the non-engagement decision itself (version 3).
        scheme.step("yju", "yju_decision_maker", second, "escalated", "No engagement at all")
    assert second.closed_at is not None


# --- Checkpoint ------------------------------------------------------------------------------------------


def _contract(scheme: Scheme, case: Referral, starts_on: date) -> Any:
    navigator = scheme.who("navigator", "navigator")
    record_needs_assessment(
        scheme.session,
        navigator,
        case,
        assessed_on=today(),
        needs=[{"area": "housing", "level": "high"}],
        summary="",
    )
    group = "pathway" if scheme.code == "checkpoint" else "interventions"
    return draw_up_contract(
        scheme.session,
        navigator,
        case,
        starts_on=starts_on,
        conditions=[{"group": group, "pathway": "housing", "description": "Housing support"}],
    )


def _meet_all(scheme: Scheme, contract: Any) -> None:
    for condition in contract.conditions:
        record_condition_progress(
            scheme.session, scheme.who("navigator", "navigator"), condition, note="Done", met=True
        )


@pytest.mark.parametrize("code", ["checkpoint", "checkpoint-plus"])
def test_a_contract_is_completed_when_kept_and_run(db_session: Session, code: str) -> None:
    scheme = Scheme(db_session, code)
    case = scheme.case()
    assert case.programme_version.version == (3 if code == "checkpoint" else 2)
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "needs_assessment")
    contract = _contract(scheme, case, starts_on=today())
    message = refused(scheme, "navigator", "navigator", case, "completed")
    assert "Contract conditions not yet met" in message and "The contract runs until" in message
    _meet_all(scheme, contract)
    # Signed today: only a supervisor may complete early, and only with a reason.
    assert "Only Supervisor can complete a case early" in refused(
        scheme, "navigator", "navigator", case, "completed"
    )
    assert "Enter a reason to complete the case early" in refused(
        scheme, "navigator", "supervisor", case, "completed"
    )
    scheme.step("navigator", "supervisor", case, "completed", "Every condition met; moving away")
    assert case.closed_at is not None and case.outcome_code in (22, 8)


def test_a_checkpoint_contract_that_has_run_is_completed_by_the_navigator(db_session: Session) -> None:
    scheme = Scheme(db_session, "checkpoint")
    case = scheme.case()
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "needs_assessment")
    contract = _contract(scheme, case, starts_on=date(2026, 7, 1))
    _meet_all(scheme, contract)
    scheme.step("navigator", "navigator", case, "completed")
    assert case.outcome_code == 22


def test_checkpoint_non_compliance_is_decided_by_a_supervisor(db_session: Session) -> None:
    scheme = Scheme(db_session, "checkpoint")
    case = scheme.case()
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "needs_assessment")
    _contract(scheme, case, starts_on=today())
    scheme.step("navigator", "navigator", case, "non_compliance_review", "Missed two sessions")
    # The decision is a supervisor's: the navigators' own, or the force's (party to the case from the start).
    assert next_steps(case, "navigator") == []
    scheme.step("navigator", "supervisor", case, "in_contract", "Revised contract")
    scheme.step("navigator", "navigator", case, "non_compliance_review", "Reoffended")
    scheme.step("police", "supervisor", case, "prosecuted", "Reoffended during the contract")
    assert (case.outcome_code, case.closed_at is not None) == (1, True)


@pytest.mark.parametrize("ending", ["charged", "cautioned"])
def test_checkpoint_plus_returned_to_the_officer_who_records_the_outcome(
    db_session: Session, ending: str
) -> None:
    scheme = Scheme(db_session, "checkpoint-plus")
    case = scheme.case()
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "needs_assessment")
    _contract(scheme, case, starts_on=today())
    scheme.step("navigator", "navigator", case, "non_completion_review", "Stopped coming")
    scheme.step("navigator", "supervisor", case, "returned_to_officer", "Not engaging")
    assert case.closed_at is None  # the officer's outcome is still to come
    scheme.step("police", "officer", case, ending, "Outcome decided")
    assert case.closed_at is not None and case.outcome_code == {"charged": 1, "cautioned": 3}[ending]


# --- Thames Valley adult and Avon and Somerset -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "before"), [("tvp-adult-drugs", "engaged"), ("avon-somerset-dep", "attended")]
)
def test_one_session_scheme_completes_only_once_attended(db_session: Session, code: str, before: str) -> None:
    scheme = Scheme(db_session, code)
    case = scheme.case()
    assert case.programme_version.version == 2
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "referred")
    scheme.step("police", "officer", case, before)
    assert "0 of 1" in refused(scheme, "police", "officer", case, "completed")
    scheme.sessions("police", "officer", case, 1)
    scheme.step("police", "officer", case, "completed")
    assert case.closed_at is not None


@pytest.mark.parametrize(
    ("code", "ending"), [("tvp-adult-drugs", "prosecuted"), ("avon-somerset-dep", "charged")]
)
def test_one_session_scheme_non_attender(db_session: Session, code: str, ending: str) -> None:
    scheme = Scheme(db_session, code)
    case = scheme.case()
    scheme.step("police", "officer", case, "offered")
    scheme.step("police", "officer", case, "referred")
    if code == "tvp-adult-drugs":
        scheme.step("police", "officer", case, "non_engagement_review", "Did not go")
    scheme.step("police", "supervisor", case, ending, "Did not attend", exit_reason="not_contactable")
    assert case.closed_at is not None
