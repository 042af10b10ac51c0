"""The two example schemes written as files (issue 14), run to each of their endings through the pages.

Neither scheme needed code: the women's diversion scheme declares a keyworker role held at a women's
centre (a provider) and a needs assessment without a contract; the conditional caution declares a
liaison and diversion practitioner, records its outcome when the caution is given, and runs its
conditions for 12 weeks. Each person signs in on their own browser and does their part on the case
page, so a role the policy did not reach, a case the acting organisation cannot see, or a form the
page does not offer fails the walk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.models import (
    CaseContact,
    Contract,
    Decision,
    Organisation,
    Programme,
    ProgrammeVersion,
    Referral,
    User,
)
from divert.pathways.cases import record_encounter
from divert.pathways.errors import OperationError
from divert.pathways.programmes import assign_operator, roles_for, sync_definitions
from divert.pathways.users import create_user as create_user_account

from ..client import PageClient, form_fields, parse
from ..factories import PASSWORD, create_encounter, create_organisation, create_person, create_user
from .helpers import days_ago, open_case

KEYWORKER = "womens_centre_keyworker"
PRACTITIONER = "liaison_diversion_practitioner"


class Scheme:
    """A programme's force and receiving provider, each with its people signed in on their own browser."""

    def __init__(self, app: Flask, session: Session, code: str, route: str, role: str) -> None:
        self.app, self.session, self.code = app, session, code
        sync_definitions(session)
        programme = session.scalars(select(Programme).where(Programme.code == code)).one()
        self.force = create_organisation(session, kind="police_force")
        self.provider = create_organisation(session, kind="provider")
        assign_operator(session, programme, self.provider.id, "receiving", route=route)
        self.people: dict[str, User] = {
            "officer": create_user(session, "officer", self.force),
            "police supervisor": create_user(session, "supervisor", self.force),
            "worker": create_user(session, role, self.provider),
            "provider supervisor": create_user(session, "supervisor", self.provider),
        }
        self.browsers: dict[str, PageClient] = {}

    def browser(self, who: str) -> PageClient:
        if who not in self.browsers:
            client: PageClient = self.app.test_client()  # type: ignore[assignment]
            response = client.sign_in(self.people[who].email, PASSWORD)
            assert response.status_code == 302, who
            self.browsers[who] = client
        return self.browsers[who]

    def case(self, **fields: Any) -> Referral:
        return open_case(self.session, self.code, self.people["officer"], occurred_at=days_ago(30), **fields)

    def page(self, who: str, case: Referral) -> Any:
        response = self.browser(who).get(f"/cases/{case.id}")
        assert response.status_code == 200, f"{who} cannot open the case in '{case.state}'"
        return parse(response)

    def post(self, who: str, case: Referral, selector: str, **values: Any) -> Any:
        form = self.page(who, case).select_one(selector)
        assert form is not None, f"{who} is not offered {selector} in '{case.state}'"
        response = self.browser(who).post(form["action"], data={**form_fields(form), **values})
        self.session.expire_all()
        return response

    def step(self, who: str, case: Referral, to_state: str, reason: str = "", exit_reason: str = "") -> None:
        values = {"step-to_state": to_state, "step-reason": reason}
        if exit_reason:
            values["step-exit_reason"] = exit_reason
        response = self.post(who, case, "[data-testid=step-form]", **values)
        assert response.status_code == 302, _error(response)
        assert case.state == to_state

    def refused_step(self, who: str, case: Referral, to_state: str) -> str:
        response = self.post(who, case, "[data-testid=step-form]", **{"step-to_state": to_state})
        assert response.status_code == 400
        return _error(response)

    def attend(self, who: str, case: Referral, days: int) -> None:
        when = days_ago(days)
        booked = self.post(
            who,
            case,
            "form[action$='/contacts']",
            **{
                "book-kind": "session",
                "book-day": [str(when.day), str(when.month), str(when.year)],
                "book-time": "10:00",
            },
        )
        assert booked.status_code == 302, _error(booked)
        contact = self.session.scalars(
            select(CaseContact)
            .where(CaseContact.referral_id == case.id, CaseContact.attendance == "scheduled")
            .order_by(CaseContact.id.desc())
        ).first()
        assert contact is not None
        attended = self.post(
            who,
            case,
            f"form[action$='/contacts/{contact.id}/attendance']",
            **{f"c{contact.id}-attendance": "attended"},
        )
        assert attended.status_code == 302, _error(attended)


def _error(response: Any) -> str:
    summary = parse(response).select_one(".govuk-error-summary")
    return summary.get_text(" ", strip=True) if summary is not None else f"status {response.status_code}"


# --- Roles as data --------------------------------------------------------------------------------------


def test_a_declared_role_is_offered_to_the_organisations_of_its_kind(app: Flask, db_session: Session) -> None:
    sync_definitions(db_session)
    offered = roles_for(db_session, "provider")
    assert offered[KEYWORKER] == "Women's centre keyworker"
    assert offered[PRACTITIONER] == "Liaison and diversion practitioner"
    assert offered["drug_service_worker"] == "Drug service worker"
    assert KEYWORKER not in roles_for(db_session, "police_force")

    centre = create_organisation(db_session, kind="provider")
    admin = create_user(db_session, "admin", centre)
    browser: PageClient = app.test_client()  # type: ignore[assignment]
    assert browser.sign_in(admin.email, PASSWORD).status_code == 302
    page = parse(browser.get("/admin/users/new"))
    choices = {o["value"]: o.get_text(strip=True) for o in page.select("select[name=role] option")}
    assert choices[KEYWORKER] == "Women's centre keyworker"
    created = browser.submit(
        "/admin/users/new",
        {
            "name": "Kim Keyworker",
            "email": "kim@centre.example.org",
            "role": KEYWORKER,
            "password": "a-long-temporary-passphrase",
        },
        token_from="/admin/users/new",
    )
    assert created.status_code == 302, _error(created)
    kim = db_session.scalars(select(User).where(User.email == "kim@centre.example.org")).one()
    assert (kim.role, kim.role_label) == (KEYWORKER, "Women's centre keyworker")

    force = create_organisation(db_session, kind="police_force")
    with pytest.raises(OperationError, match="Role must be one of"):
        create_user_account(
            db_session,
            email="pc@force.example.org",
            name="A Constable",
            role=KEYWORKER,
            password="a-long-temporary-passphrase",
            organisation=force,
        )


# --- Women's diversion ----------------------------------------------------------------------------------


def _womens(app: Flask, db_session: Session) -> Scheme:
    return Scheme(app, db_session, "womens-diversion", "womens_centre", KEYWORKER)


def test_womens_diversion_is_not_for_men(app: Flask, db_session: Session) -> None:
    scheme = _womens(app, db_session)
    sync_definitions(db_session)
    person = create_person(db_session, gender="male", date_of_birth=today().replace(year=1990))
    officer = scheme.people["officer"]
    programme = db_session.scalars(select(Programme).where(Programme.code == "womens-diversion")).one()
    assign_operator(db_session, programme, scheme.force.id, "police")
    encounter = create_encounter(
        db_session, person, scheme.force, officer_id=officer.id, offence_category="theft", drug_class=None
    )
    (outcome,) = record_encounter(db_session, officer, encounter)
    assert outcome.referral is None and not outcome.decision.eligible
    decision = db_session.get(Decision, outcome.decision.id)
    assert decision is not None and "The scheme is for women." in [r["text"] for r in decision.reasons]


@pytest.mark.parametrize(
    ("ending", "path"),
    [
        ("not_offered", [("not_offered", "Not in the public interest")]),
        ("declined", [("offered", ""), ("declined", "Chose to go to court")]),
    ],
)
def test_womens_diversion_ends_before_referral(
    app: Flask, db_session: Session, ending: str, path: list[tuple[str, str]]
) -> None:
    scheme = _womens(app, db_session)
    case = scheme.case()
    for to_state, reason in path:
        scheme.step("officer", case, to_state, reason)
    assert case.state == ending and case.closed_at is not None and case.outcome_code is None


def test_womens_diversion_completed_by_the_keyworker_after_six_sessions(
    app: Flask, db_session: Session
) -> None:
    scheme = _womens(app, db_session)
    case = scheme.case()
    scheme.step("officer", case, "offered")
    scheme.step("officer", case, "referred")
    # The women's centre is party from the referral: its keyworker sees and takes the case on.
    page = scheme.page("worker", case)
    assert page.select_one("[data-testid=step-form]") is not None
    # On the keyworker's home as a case for the team to take, and taken from its page.
    home = parse(scheme.browser("worker").get("/home"))
    assert case.reference in home.text
    taken = scheme.post("worker", case, "form[action$='/take']")
    assert taken.status_code == 302 and case.assigned_user_id == scheme.people["worker"].id
    waiting = scheme.page("officer", case).select_one("[data-testid=waiting-for]")
    assert waiting is not None and "Women's centre keyworker" in waiting.text
    scheme.attend("worker", case, 20)
    assert case.state == "engaged"
    # The needs assessment the definition declares, on the areas it names, without any contract.
    saved = scheme.post(
        "worker",
        case,
        "form[action$='/needs']",
        **{"need-domestic_abuse": "high", "need-housing": "medium", "summary": "Refuge place"},
    )
    assert saved.status_code == 302, _error(saved)
    assert "Domestic abuse" in scheme.page("worker", case).select_one("[data-testid=needs]").text
    assert "1 of 6 keyworker sessions attended" in scheme.refused_step("worker", case, "completed")
    for day in range(19, 14, -1):
        scheme.attend("worker", case, day)
    # The officer sees progress but does not complete the keyworker's case.
    officer_page = scheme.page("officer", case)
    assert officer_page.select_one("[data-testid=step-form]") is None
    scheme.step("worker", case, "completed", "All six sessions")
    assert (case.state, case.outcome_code) == ("completed", 22) and case.completed_at is not None


def test_womens_diversion_prosecuted_after_a_supervisors_review(app: Flask, db_session: Session) -> None:
    scheme = _womens(app, db_session)
    case = scheme.case()
    scheme.step("officer", case, "offered")
    scheme.step("officer", case, "referred")
    scheme.attend("worker", case, 10)
    scheme.step("worker", case, "non_engagement_review", "No contact for three weeks")
    # The keyworker cannot decide the review; the force's supervisor can.
    assert scheme.page("worker", case).select_one("[data-testid=step-form]") is None
    scheme.step("police supervisor", case, "engaged", "One more try")
    scheme.step("worker", case, "non_engagement_review", "Still no contact")
    scheme.step("police supervisor", case, "prosecuted", "Not engaging", exit_reason="not_contactable")
    assert (case.state, case.outcome_code) == ("prosecuted", 1) and case.escalated_at is not None
    assert case.exit_reason == "not_contactable"


# --- Conditional caution --------------------------------------------------------------------------------


def _caution(app: Flask, db_session: Session) -> Scheme:
    return Scheme(app, db_session, "conditional-caution", "conditions", PRACTITIONER)


def _given(scheme: Scheme) -> Referral:
    case = scheme.case()
    scheme.step("officer", case, "offered")
    scheme.step("officer", case, "caution_given")
    return case


@pytest.mark.parametrize(
    ("ending", "path"),
    [
        ("not_offered", [("not_offered", "A charge is needed")]),
        ("declined", [("offered", ""), ("declined", "Refused the conditions")]),
    ],
)
def test_conditional_caution_ends_before_it_is_given(
    app: Flask, db_session: Session, ending: str, path: list[tuple[str, str]]
) -> None:
    scheme = _caution(app, db_session)
    case = scheme.case()
    for to_state, reason in path:
        scheme.step("officer", case, to_state, reason)
    assert case.state == ending and case.outcome_code is None


def test_the_cautions_outcome_is_recorded_when_it_is_given_and_a_correction_takes_it_back(
    app: Flask, db_session: Session
) -> None:
    scheme = _caution(app, db_session)
    case = _given(scheme)
    assert (case.outcome_code, case.closed_at) == (3, None)
    shown = scheme.page("worker", case).select_one("[data-testid=outcome]")
    assert shown is not None and "Home Office outcome 3" in shown.text
    browser = scheme.browser("police supervisor")
    link = scheme.page("police supervisor", case).find("a", string="Correct the last step")
    assert link is not None
    form = parse(browser.get(link["href"])).select_one("form:has([name=reason])")
    assert form is not None
    corrected = browser.post(
        form.get("action") or link["href"], data={**form_fields(form), "reason": "Given to the wrong person"}
    )
    assert corrected.status_code == 302, _error(corrected)
    db_session.expire_all()
    assert (case.state, case.outcome_code) == ("offered", None)


def test_conditional_caution_kept_within_twelve_weeks(app: Flask, db_session: Session) -> None:
    scheme = _caution(app, db_session)
    case = _given(scheme)
    assessed = scheme.post("worker", case, "form[action$='/needs']", **{"need-alcohol": "high"})
    assert assessed.status_code == 302, _error(assessed)
    page = scheme.page("worker", case)
    form = page.select_one("[data-testid=contract-form]")
    assert "runs 12 weeks from today" in form.text
    drawn = scheme.post(
        "worker",
        case,
        "[data-testid=contract-form]",
        **{
            "group-rehabilitative": "alcohol",
            "group-reparation": "Repaint the bus shelter",
            "group-victim_awareness": "Attend the victim awareness course",
            "group-unpaid_work": "10",
        },
    )
    assert drawn.status_code == 302, _error(drawn)
    assert case.state == "keeping_conditions" and case.outcome_code == 3
    contract = db_session.scalars(select(Contract).where(Contract.referral_id == case.id)).one()
    # 12 weeks stays 12 weeks: 84 days, not three months.
    assert contract.ends_on - contract.starts_on == timedelta(weeks=12)
    shown = scheme.page("worker", case)
    assert "with 10 hours of unpaid work" in shown.text
    assert "10 hours of unpaid work" in shown.select_one("[data-testid=conditions]").text
    assert "condition" in scheme.refused_step("worker", case, "completed").lower()
    for condition in contract.conditions:
        met = scheme.post(
            "worker",
            case,
            f"form[action$='/conditions/{condition.id}/progress']",
            note="Done",
            met="yes",
        )
        assert met.status_code == 302, _error(met)
    scheme.step("worker", case, "completed", "Every condition kept")
    assert (case.state, case.outcome_code) == ("completed", 3) and case.closed_at is not None


def test_conditional_caution_breached_and_prosecuted(app: Flask, db_session: Session) -> None:
    scheme = _caution(app, db_session)
    case = _given(scheme)
    scheme.step("worker", case, "breach_review", "Did not attend the course")
    scheme.step("provider supervisor", case, "keeping_conditions", "New course date")
    scheme.step("worker", case, "breach_review", "Missed the new date")
    scheme.step("police supervisor", case, "prosecuted", "Conditions not kept")
    assert (case.state, case.outcome_code) == ("prosecuted", 1)


def test_the_providers_practitioner_cannot_see_another_providers_case(
    app: Flask, db_session: Session
) -> None:
    scheme = _caution(app, db_session)
    case = _given(scheme)
    elsewhere: Organisation = create_organisation(db_session, kind="provider")
    outsider = create_user(db_session, PRACTITIONER, elsewhere)
    browser: PageClient = app.test_client()  # type: ignore[assignment]
    assert browser.sign_in(outsider.email, PASSWORD).status_code == 302
    assert browser.get(f"/cases/{case.id}").status_code == 404


# --- Thames Valley adult, version 3: the drug service's own staff ---------------------------------------


def test_the_drug_service_worker_takes_an_adult_case_on_and_completes_it(
    app: Flask, db_session: Session
) -> None:
    scheme = Scheme(app, db_session, "tvp-adult-drugs", "drug_service", "drug_service_worker")
    case = scheme.case()
    # Version 3 takes effect in January 2027; the case is moved onto it to walk its steps now.
    version = db_session.scalars(
        select(ProgrammeVersion)
        .join(Programme)
        .where(Programme.code == "tvp-adult-drugs", ProgrammeVersion.version == 3)
    ).one()
    case.programme_version_id = version.id
    db_session.flush()
    db_session.refresh(case)
    scheme.step("officer", case, "offered")
    scheme.step("officer", case, "referred")
    # The drug service is made party on referral, because its worker's role acts on the case there.
    assert scheme.provider.id in {party.organisation_id for party in case.parties}
    scheme.attend("worker", case, 5)
    assert case.state == "engaged"
    scheme.step("worker", case, "completed", "Attended the session")
    assert (case.state, case.outcome_code) == ("completed", 8)
