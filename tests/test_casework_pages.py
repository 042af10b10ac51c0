"""Working a case through its page, as a caseworker, navigator and supervisor would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme, Referral
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.pathways.sweep import sweep

from .client import form_fields, parse
from .factories import create_organisation
from .pathways.helpers import days_ago, open_case, refer, staff


def _receiving(db_session: Session, code: str, route: str, kind: str = "yot") -> Any:
    sync_definitions(db_session)
    team = create_organisation(db_session, kind=kind)
    programme = db_session.scalars(select(Programme).where(Programme.code == code)).one()
    assign_operator(db_session, programme, team.id, "receiving", route)
    return team


def _post(client: Any, page: Any, selector: str, **values: Any) -> Any:
    form = page.select_one(selector)
    assert form is not None, selector
    return client.post(form["action"], data={**form_fields(form), **values})


def _case_page(client: Any, case: Any) -> Any:
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    return parse(response)


def test_a_yot_books_a_session_records_attendance_and_completes(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    signed_in("yot_caseworker", organisation=yot)

    page = _case_page(client, case)
    when = days_ago(1)
    booked = _post(
        client,
        page,
        "form[action$='/contacts']",
        **{
            "book-kind": "session",
            "book-day": [str(when.day), str(when.month), str(when.year)],
            "book-time": "10:00",
        },
    )
    assert booked.status_code == 302, parse(booked).select_one(".govuk-error-summary")
    page = _case_page(client, case)
    assert "Scheduled" in page.select_one("[data-testid=contacts]").text
    attended = _post(
        client, page, "form[action$='/attendance']", **{f"c{_only_contact(page)}-attendance": "attended"}
    )
    assert attended.status_code == 302
    page = _case_page(client, case)
    assert "Engaged with YOT" in page.select_one("[data-testid=status]").text

    done = _post(
        client,
        page,
        "[data-testid=step-form]",
        **{"step-to_state": "completed", "step-reason": "All six sessions"},
    )
    assert done.status_code == 302
    db_session.expire_all()
    finished = db_session.get(Referral, case.id)
    assert (finished.state, finished.outcome_code) == ("completed", 22)
    assert finished.completed_at is not None


def _only_contact(page: Any) -> str:
    form = page.select_one("form[action$='/attendance']")
    return form["action"].split("/")[2]


def test_a_missed_session_needs_a_reason_and_nothing_is_saved(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    signed_in("yot_caseworker", organisation=yot)
    page = _case_page(client, case)
    when = days_ago(2)
    _post(
        client,
        page,
        "form[action$='/contacts']",
        **{
            "book-kind": "session",
            "book-day": [str(when.day), str(when.month), str(when.year)],
            "book-time": "16:00",
        },
    )
    page = _case_page(client, case)
    contact = _only_contact(page)
    bad = _post(client, page, "form[action$='/attendance']", **{f"c{contact}-attendance": "missed"})
    assert bad.status_code == 400
    assert "Enter why the session was missed" in parse(bad).select_one(".govuk-error-summary").text
    assert "Scheduled" in _case_page(client, case).select_one("[data-testid=contacts]").text


def test_missed_sessions_raise_a_flag_and_a_supervisor_decides(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    worker = staff(db_session, "yot_caseworker", yot)
    from divert.pathways.casework import record_attendance, schedule_contact

    for days in (20, 10, 5):
        contact = schedule_contact(db_session, worker, case, kind="session", scheduled_at=days_ago(days))
        attendance = "attended" if days == 20 else "missed"
        record_attendance(
            db_session,
            worker,
            contact,
            attendance=attendance,
            missed_reason="No show" if attendance == "missed" else "",
            reason_acceptable=False if attendance == "missed" else None,
        )
    # Recording the second miss raised the flag; the sweep adds nothing for it.
    report = sweep(db_session, (days_ago(0) + timedelta(days=1)).date())
    assert "non_engagement" not in report.by_kind
    signed_in("supervisor", organisation=yot)
    page = _case_page(client, case)
    assert "missed" in page.select_one("[data-testid=flags]").text.lower()
    escalate = _post(
        client,
        page,
        "[data-testid=step-form]",
        **{"step-to_state": "non_engagement_review", "step-reason": "Two missed sessions"},
    )
    assert escalate.status_code == 302
    page = _case_page(client, case)
    decided = _post(
        client,
        page,
        "[data-testid=step-form]",
        **{"step-to_state": "engaged", "step-reason": "Exams this month; sessions moved to Saturdays"},
    )
    assert decided.status_code == 302, parse(decided).select_one(".govuk-error-summary")
    page = _case_page(client, case)
    assert page.select_one("[data-testid=flags]") is None
    assert "Exams this month" in page.select_one("[data-testid=timeline]").text


def test_a_navigator_assesses_needs_draws_up_and_varies_a_contract(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    navigators = _receiving(db_session, "checkpoint", "navigator", kind="provider")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    signed_in("navigator", organisation=navigators)
    page = _case_page(client, case)
    form = page.select_one("form[action$='/needs']")
    levels = [(o["value"], o.text) for o in form.select("#need-mental_health option")]
    assert levels == [("", "No need"), ("low", "Low"), ("medium", "Medium"), ("high", "High")]
    assert form.select_one("label[for=need-mental_health]").text == "Mental health"
    assessed = client.post(
        form["action"],
        data={**form_fields(form), "need-drugs": "high", "need-housing": "medium", "summary": "Sofa surfing"},
    )
    assert assessed.status_code == 302
    page = _case_page(client, case)
    assert "High" in page.select_one("[data-testid=needs]").text

    contract_form = page.select_one("[data-testid=contract-form]")
    too_many = client.post(
        contract_form["action"],
        data={**form_fields(contract_form), "group-pathway": ["drugs", "housing", "finances"]},
    )
    assert too_many.status_code == 400
    assert "Choose no more than 2" in parse(too_many).select_one(".govuk-error-summary").text
    signed = client.post(
        contract_form["action"],
        data={
            **form_fields(contract_form),
            "group-pathway": ["drugs", "housing"],
            "group-voluntary_work": "24",
        },
    )
    assert signed.status_code == 302, parse(signed).select_one(".govuk-error-summary")
    page = _case_page(client, case)
    conditions = page.select_one("[data-testid=conditions]").text
    assert "Do not reoffend" in conditions and "Drugs" in conditions

    vary = page.select_one("form[action$='/vary']")
    housing = next(
        i["value"] for i in vary.select("input[name=remove]") if "Housing" in i.find_next("label").text
    )
    varied = client.post(
        vary["action"],
        data={
            **form_fields(vary),
            "remove": housing,
            "add_pathway": "employment",
            "reason": "Housed now; needs work",
        },
    )
    assert varied.status_code == 302, parse(varied).select_one(".govuk-error-summary")
    conditions = _case_page(client, case).select_one("[data-testid=conditions]")
    assert conditions.select_one("s").text == "Housing" and "Employment" in conditions.text


def test_forms_sent_twice_do_not_book_or_assess_twice(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    from divert.models import CaseContact, NeedsAssessment

    navigators = _receiving(db_session, "checkpoint", "navigator", kind="provider")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    signed_in("navigator", organisation=navigators)
    page = _case_page(client, case)
    needs = page.select_one("form[action$='/needs']")
    data = {**form_fields(needs), "need-drugs": "high", "summary": "Same form twice"}
    assert client.post(needs["action"], data=data).status_code == 302
    assert client.post(needs["action"], data=data).status_code == 302
    assert (
        len(db_session.scalars(select(NeedsAssessment).where(NeedsAssessment.referral_id == case.id)).all())
        == 1
    )

    when = days_ago(1)
    book = page.select_one("form[action$='/contacts']")
    booking = {
        **form_fields(book),
        "book-kind": "meeting",
        "book-day": [str(when.day), str(when.month), str(when.year)],
        "book-time": "09:30",
    }
    assert client.post(book["action"], data=booking).status_code == 302
    second = client.post(book["action"], data=booking)
    assert second.status_code == 400
    assert "already booked" in parse(second).select_one(".govuk-error-summary").text
    assert len(db_session.scalars(select(CaseContact).where(CaseContact.referral_id == case.id)).all()) == 1


def test_notes_and_stale_steps_say_what_changed(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    signed_in("yot_caseworker", organisation=yot)
    page = _case_page(client, case)
    empty = _post(client, page, "form[action$='/notes']", **{"note-text": ""})
    assert empty.status_code == 400
    assert parse(empty).title.text.startswith("Error:")
    assert "Enter the note" in parse(empty).select_one(".govuk-error-summary").text
    added = _post(client, page, "form[action$='/notes']", **{"note-text": "Mum asked for evening sessions"})
    assert added.status_code == 302
    assert (
        "Mum asked for evening sessions" in _case_page(client, case).select_one("[data-testid=timeline]").text
    )

    stale_page = _case_page(client, case)
    from divert.pathways.cases import transition

    worker = staff(db_session, "yot_caseworker", yot)
    transition(
        db_session, worker, db_session.get(Referral, case.id), "non_engagement_review", "Not answering calls"
    )
    db_session.commit()
    stale = _post(
        client, stale_page, "[data-testid=step-form]", **{"step-to_state": "engaged", "step-reason": ""}
    )
    assert stale.status_code == 409
    summary = parse(stale).select_one(".govuk-error-summary").text
    assert "Someone else changed this case" in summary
    assert "The case is now 'Non-engagement under review'" in summary and worker.name in summary


def test_only_the_escalation_deciders_are_offered_the_decision(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    from divert.pathways.cases import transition
    from divert.pathways.steps import next_steps

    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    worker = staff(db_session, "yot_caseworker", yot)
    transition(db_session, worker, case, "non_engagement_review", "Not answering calls")
    assert next_steps(case, "yot_caseworker") == []
    assert {s.to_state for s in next_steps(case, "supervisor")} == {"escalated", "engaged"}


def test_due_dates_and_condition_progress(client: Any, signed_in: Any, org: Any, db_session: Session) -> None:
    from divert.app.clock import LONDON
    from divert.pathways.casework import record_needs_assessment
    from divert.pathways.contracts import draw_up_contract
    from divert.rules import BANK_HOLIDAYS, add_working_days

    navigators = _receiving(db_session, "checkpoint", "navigator", kind="provider")
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    signed_in("navigator", organisation=navigators)
    due = _case_page(client, case).select_one("[data-testid=due]").text
    expected = add_working_days(case.accepted_at.astimezone(LONDON).date(), 10, BANK_HOLIDAYS)
    assert "Needs assessment with a navigator" in due and f"{expected.day} {expected:%B %Y}" in due

    navigator = staff(db_session, "navigator", navigators)
    record_needs_assessment(
        db_session,
        navigator,
        case,
        assessed_on=case.accepted_at.date(),
        needs=[{"area": "drugs", "level": "high"}],
        summary="",
    )
    contract = draw_up_contract(
        db_session,
        navigator,
        case,
        starts_on=case.accepted_at.date(),
        conditions=[{"group": "pathway", "pathway": "drugs"}],
    )
    db_session.commit()
    page = _case_page(client, case)
    assert (
        "Done" in page.select_one("[data-testid=due]").text
        and "Contract ends" in page.select_one("[data-testid=due]").text
    )
    drugs = next(c for c in contract.conditions if c.pathway == "drugs")
    form = page.select_one(f"form[action='/conditions/{drugs.id}/progress']")
    empty = client.post(form["action"], data={**form_fields(form), "note": ""})
    assert "Enter the progress on this condition" in parse(empty).select_one(".govuk-error-summary").text
    done = client.post(
        form["action"],
        data={**form_fields(form), "note": "Six weeks clean; keyworker confirms", "met": "yes"},
    )
    assert done.status_code == 302
    page = _case_page(client, case)
    assert "Six weeks clean" in page.select_one(f"[data-testid=progress-{drugs.id}]").text
    assert "Met" in page.select_one("[data-testid=conditions]").text


def test_the_case_page_shows_sessions_attended_refuses_completion_and_says_who_acts_next(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    officer = staff(db_session, "officer", org)
    # After 1 November 2026, so version 3: completion needs the six sessions.
    case = refer(
        db_session,
        officer,
        open_case(db_session, "tvp-youth-drugs", officer, occurred_at=datetime(2026, 11, 10, 11, tzinfo=UTC)),
    )
    worker = staff(db_session, "yot_caseworker", yot)
    from divert.pathways.casework import record_attendance, schedule_contact

    for day in (9, 8):
        contact = schedule_contact(db_session, worker, case, kind="session", scheduled_at=days_ago(day))
        record_attendance(db_session, worker, contact, attendance="attended")
    signed_in("yot_caseworker", organisation=yot)

    page = _case_page(client, case)
    panel = page.select_one("[data-testid=completion]").text
    assert "Sessions attended" in panel and "2 of 6" in panel
    assert "4 more needed" in panel
    refused = _post(
        client, page, "[data-testid=step-form]", **{"step-to_state": "completed", "step-reason": ""}
    )
    assert refused.status_code in (200, 400)
    summary = parse(refused).select_one(".govuk-error-summary").text
    assert "2 of 6 drug awareness sessions attended; 4 more needed." in summary
    assert case.state == "engaged"

    moved = _post(
        client,
        _case_page(client, case),
        "[data-testid=step-form]",
        **{"step-to_state": "non_engagement_review", "step-reason": "Stopped coming"},
    )
    assert moved.status_code == 302
    page = _case_page(client, case)
    # No step for the caseworker now; the page says whose decision it is instead of going blank.
    assert page.select_one("[data-testid=step-form]") is None
    assert page.select_one("[data-testid=waiting-for]").text.strip() == (
        "Awaiting a Youth Justice Unit decision maker or a Supervisor: they take the next step on this case."
    )
    # A second organisation's caseworker sees none of it.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("yot_caseworker", organisation=create_organisation(db_session, kind="yot"))
    assert client.get(f"/cases/{case.id}").status_code == 404
