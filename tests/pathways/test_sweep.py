"""The sweep: each flag raised once, for a person to act on; no case moved; a bounded number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.app.clock import LONDON
from divert.cli.sweep import register_sweep_command
from divert.models import AuditEntry, CaseFlag, Referral, ReferralEvent, User
from divert.pathways.cases import transition
from divert.pathways.casework import (
    complete,
    record_attendance,
    record_needs_assessment,
    schedule_contact,
)
from divert.pathways.contracts import draw_up_contract
from divert.pathways.sweep import sweep
from divert.rules import add_working_days

from .helpers import (
    counting_queries,
    days_ago,
    flags,
    police_force,
    refer,
    referred_case,
    referred_on,
    repeat_possession,
    staff,
    timeline,
)

TODAY = datetime.now(LONDON).date()


@pytest.fixture
def people(db_session: Session) -> dict[str, User]:
    force = police_force(db_session)
    return {
        role: staff(db_session, role, force)
        for role in ("officer", "yot_caseworker", "yju_decision_maker", "navigator", "supervisor")
    }


def youth_case(db_session: Session, people: dict[str, User]) -> Referral:
    return referred_case(db_session, "tvp-youth-drugs", people["officer"])


def session_on(
    db_session: Session, actor: User, case: Referral, days: int, attendance: str, **more: Any
) -> None:
    contact = schedule_contact(db_session, actor, case, kind="session", scheduled_at=days_ago(days))
    record_attendance(db_session, actor, contact, attendance=attendance, **more)


def test_first_contact_is_overdue_only_after_ten_working_days(
    db_session: Session, people: dict[str, User]
) -> None:
    case = youth_case(db_session, people)
    due = add_working_days(referred_on(db_session, case), 10)
    assert sweep(db_session, due).flags_raised == 0
    report = sweep(db_session, due + timedelta(days=1))
    assert (report.cases_checked, report.flags_raised, report.by_kind) == (1, 1, {"first_contact_overdue": 1})
    [flag] = flags(db_session, case)
    assert flag.key == f"no-first-contact:{(due + timedelta(days=1)).isoformat()}"
    assert flag.detail == "The YOT has not made contact within 10 working days of the referral."
    assert flag.assigned_to_id is None and flag.resolved_at is None


def test_a_yju_case_counts_from_its_referral_to_the_yot(db_session: Session, people: dict[str, User]) -> None:
    case = refer(db_session, people["officer"], repeat_possession(db_session, people["officer"]))
    assert case.state == "awaiting_yju"
    arrived = referred_on(db_session, case)
    # The unit decides a week after the case reached it; the YOT's ten days start then, not on arrival.
    decided = datetime.now(UTC) + timedelta(days=7)
    yju = people["yju_decision_maker"]
    transition(db_session, yju, case, "referred_yot", "Divert again", occurred_at=decided)
    due = add_working_days(decided.astimezone(LONDON).date(), 10)
    assert add_working_days(arrived, 10) < due
    assert sweep(db_session, due).flags_raised == 0
    assert sweep(db_session, due + timedelta(days=1)).by_kind == {"first_contact_overdue": 1}


def test_bank_holidays_push_the_deadline_back(db_session: Session, people: dict[str, User]) -> None:
    case = youth_case(db_session, people)
    start = referred_on(db_session, case)
    due = add_working_days(start, 10)
    holiday = add_working_days(start, 3)
    assert sweep(db_session, due + timedelta(days=1), holidays={holiday}).flags_raised == 0
    assert add_working_days(start, 10, {holiday}) > due


def test_a_contact_in_time_means_no_flag(db_session: Session, people: dict[str, User]) -> None:
    case = youth_case(db_session, people)
    session_on(db_session, people["yot_caseworker"], case, 0, "attended")
    assert sweep(db_session, TODAY + timedelta(days=60)).flags_raised == 0


@pytest.mark.parametrize(
    ("acceptable", "flagged"),
    [((False, False), True), ((True, True), False), ((True, False), False)],
)
def test_two_missed_sessions_without_an_acceptable_reason(
    db_session: Session, people: dict[str, User], acceptable: tuple[bool, bool], flagged: bool
) -> None:
    yot = people["yot_caseworker"]
    case = youth_case(db_session, people)
    session_on(db_session, yot, case, 9, "attended")
    for days, ok in zip((6, 3), acceptable, strict=True):
        session_on(db_session, yot, case, days, "missed", missed_reason="Said ill", reason_acceptable=ok)
    # Raised by recording the second miss, not by the sweep, which then finds it raised (same key).
    assert [f.kind for f in flags(db_session, case)] == (["non_engagement"] if flagged else [])
    assert sweep(db_session, TODAY).by_kind == {}
    assert [f.kind for f in flags(db_session, case)] == (["non_engagement"] if flagged else [])


def test_an_expired_contract_is_flagged(db_session: Session, people: dict[str, User]) -> None:
    nav = people["navigator"]
    case = referred_case(db_session, "checkpoint", people["officer"])
    record_needs_assessment(
        db_session, nav, case, assessed_on=TODAY, needs=[{"area": "housing", "level": "high"}], summary=""
    )
    contract = draw_up_contract(
        db_session,
        nav,
        case,
        starts_on=date(2026, 3, 9),
        conditions=[{"group": "pathway", "pathway": "housing"}],
    )
    assert sweep(db_session, contract.ends_on).flags_raised == 0
    assert sweep(db_session, contract.ends_on + timedelta(days=1)).by_kind == {"contract_expired": 1}
    assert flags(db_session, case)[0].key == "contract-expired:2026-07-10"


def test_running_again_raises_nothing_new_and_never_moves_a_case(
    db_session: Session, people: dict[str, User]
) -> None:
    yot = people["yot_caseworker"]
    cases = [youth_case(db_session, people) for _ in range(3)]
    cases[0].assigned_user_id = yot.id
    session_on(db_session, yot, cases[1], 9, "attended")
    for days in (6, 3):
        session_on(db_session, yot, cases[1], days, "missed", missed_reason="No", reason_acceptable=False)
    db_session.flush()
    before = [(c.state, c.version_id, c.closed_at) for c in cases]
    as_of = TODAY + timedelta(days=30)

    first = sweep(db_session, as_of)
    # The missed sessions' flag was raised when the second miss was recorded.
    assert len(flags(db_session, cases[1])) == 1
    assert (first.cases_checked, first.flags_raised) == (3, 2)
    assert first.by_kind == {"first_contact_overdue": 2}
    again = sweep(db_session, as_of)
    assert (again.cases_checked, again.flags_raised, again.by_kind) == (3, 0, {})

    db_session.expire_all()
    assert [(c.state, c.version_id, c.closed_at) for c in cases] == before
    assert db_session.scalar(select(func.count()).select_from(CaseFlag)) == 3
    assigned = {f.referral_id: f.assigned_to_id for f in flags(db_session)}
    assert assigned == {cases[0].id: yot.id, cases[1].id: None, cases[2].id: None}
    raised = [e for e in timeline(db_session, cases[0]) if e.kind == "flag_raised"]
    assert len(raised) == 1 and raised[0].actor_id is None and raised[0].to_state is None
    assert raised[0].data["criterion"] == "no-first-contact"
    flag_ids = {str(f.id) for f in flags(db_session)}
    audited = db_session.scalars(
        select(AuditEntry.object_id).where(
            AuditEntry.object_type == "case_flag", AuditEntry.action == "create"
        )
    ).all()
    assert set(audited) == flag_ids and len(audited) == len(flag_ids)


def test_closed_cases_are_not_checked(db_session: Session, people: dict[str, User]) -> None:
    yot = people["yot_caseworker"]
    case = youth_case(db_session, people)
    session_on(db_session, yot, case, 5, "attended")
    complete(db_session, yot, case)
    assert sweep(db_session, TODAY + timedelta(days=365)).cases_checked == 0


def _sweep_queries(db_session: Session, as_of: date) -> tuple[int, int]:
    with counting_queries(db_session) as statements:
        report = sweep(db_session, as_of)
    return report.flags_raised, len(statements)


def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(
    db_session: Session, people: dict[str, User]
) -> None:
    yot = people["yot_caseworker"]
    as_of = TODAY + timedelta(days=30)

    def cases(n: int) -> None:
        for i in range(n):
            case = youth_case(db_session, people)
            # Contacts and events on every case, so a per-case load would show.
            session_on(
                db_session, yot, case, 3 + i % 5, "missed", missed_reason="No", reason_acceptable=False
            )

    cases(3)
    few = _sweep_queries(db_session, as_of)
    cases(30)
    many = _sweep_queries(db_session, as_of)
    assert few[0] == 3 and many[0] == 30
    assert many[1] == few[1], (few, many)
    assert few[1] <= 16  # 12, and the staff notices of the flags: two reads and two writes a batch
    # A smaller batch size costs a fixed number of queries per batch, still not per case.
    with counting_queries(db_session) as statements:
        assert sweep(db_session, as_of, batch_size=10).cases_checked == 33
    assert len(statements) <= 4 * 6


def test_the_command_sweeps_and_commits(app: Flask, db_session: Session, people: dict[str, User]) -> None:
    if "sweep" not in app.cli.commands:
        register_sweep_command(app)
    case = youth_case(db_session, people)
    runner = app.test_cli_runner()
    as_of = (TODAY + timedelta(days=30)).isoformat()
    result = runner.invoke(args=["sweep", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Open cases checked as of {as_of}: 1",
        "Flags raised: 1 (first_contact_overdue 1).",
    ]
    again = runner.invoke(args=["sweep", "--as-of", as_of])
    assert "Flags raised: 0 (none)." in again.output
    assert [f.kind for f in flags(db_session, case)] == ["first_contact_overdue"]
    assert runner.invoke(args=["sweep", "--as-of", "24/11/2026"]).exit_code != 0
    events = db_session.scalars(select(ReferralEvent.kind).where(ReferralEvent.referral_id == case.id)).all()
    assert events.count("flag_raised") == 1
