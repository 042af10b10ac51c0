"""DIVERT as the scheme runs, through the pages, as the Met's officers and the provider's coaches.

Every access test has a second organisation in it: another force, and a provider that does not
run DIVERT.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import AuditEntry, Encounter, Person, Programme, Referral
from divert.pathways.cases import record_encounter
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, form_fields, parse
from .factories import PASSWORD, create_encounter, create_organisation, create_user

CUSTODY_THEFT = {
    "given_name": "Kwame",
    "family_name": "Mensah",
    "date_of_birth": ["3", "4", "2004"],
    "gender": "male",
    "self_defined_ethnicity": "B2",
    "setting": "custody",
    "offence_category": "theft",
    "supply_suspected": "no",
    "admission": "no_comment",
}


@pytest.fixture
def scheme(db_session: Session) -> dict[str, Any]:
    """The Met records custody encounters under DIVERT; the coaches' provider receives them."""
    sync_definitions(db_session)
    met = create_organisation(db_session, code="met", name="Metropolitan Police Service")
    coaches = create_organisation(db_session, code="met-divert", name="DIVERT coaches", kind="provider")
    other_force = create_organisation(db_session, code="surrey", name="Surrey Police")
    other_provider = create_organisation(db_session, code="nav", name="Navigators", kind="provider")
    divert = db_session.scalars(select(Programme).where(Programme.code == "divert")).one()
    assign_operator(db_session, divert, met.id, "police")
    assign_operator(db_session, divert, coaches.id, "receiving", "coach")
    return {
        "met": met,
        "coaches": coaches,
        "officer": create_user(db_session, "officer", met),
        "met_supervisor": create_user(db_session, "supervisor", met),
        "coach": create_user(db_session, "coach", coaches),
        "other_officer": create_user(db_session, "officer", other_force),
        "other_coach": create_user(db_session, "coach", other_provider),
    }


def _client(app: Flask, user: Any) -> PageClient:
    client: PageClient = app.test_client()  # type: ignore[assignment]
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _step(client: PageClient, case: Referral, to_state: str, reason: str = "") -> None:
    page = parse(client.get(f"/cases/{case.id}"))
    form = page.select_one("form[action$='/step']")
    assert form is not None, "no step form"
    offered = [i["value"] for i in form.select("input[name='step-to_state']")]
    assert to_state in offered, offered
    done = client.post(
        form["action"], data={**form_fields(form), "step-to_state": to_state, "step-reason": reason}
    )
    assert done.status_code == 302, parse(done).select_one(".govuk-error-summary")


def _record_custody(client: PageClient, db_session: Session) -> Referral:
    page = parse(client.get("/encounters/new")).select_one("main form")
    response = client.post("/encounters/new", data={**form_fields(page), **CUSTODY_THEFT})
    assert response.status_code == 302, parse(response).select_one(".govuk-error-summary")
    shown = parse(client.get(response.headers["Location"]))
    assert "Eligible" in shown.select_one("[data-testid=programme]").text
    return db_session.scalars(select(Referral).order_by(Referral.id.desc())).first()  # type: ignore[return-value]


def test_a_met_custody_case_runs_to_placement_as_the_officer_and_coach_do_it(
    app: Flask, scheme: dict[str, Any], db_session: Session
) -> None:
    officer = _client(app, scheme["officer"])
    case = _record_custody(officer, db_session)
    assert case.state == "eligible"

    coach = _client(app, scheme["coach"])
    worklist = parse(coach.get("/worklist?view=new"))
    assert case.reference in worklist.select_one("[data-testid=worklist]").text
    for to_state in ("offered", "contacted", "met_outside", "goals_set"):
        _step(coach, case, to_state)
    page = parse(coach.get(f"/cases/{case.id}"))
    goal = page.select_one("[data-testid=goal-form]")
    added = coach.post(
        goal["action"],
        data={
            **form_fields(goal),
            "kind": "employment",
            "placement": "Hackney Builders Ltd",
            "starts_on": "2026-11-02",
            "status": "planned",
        },
    )
    assert added.status_code == 302
    page = parse(coach.get(f"/cases/{case.id}"))
    assert "Hackney Builders Ltd" in page.select_one("[data-testid=goals]").text
    assert page.select_one("[data-testid=into-eet]") is None  # planned is not placed
    status = page.select_one("form[action*='/goals/']")
    assert coach.post(status["action"], data={**form_fields(status), "status": "started"}).status_code == 302
    page = parse(coach.get(f"/cases/{case.id}"))
    assert "Into education, training or employment" in page.select_one("[data-testid=into-eet]").text
    _step(coach, case, "placed")
    _step(coach, case, "closed_placed")

    db_session.expire_all()
    closed = db_session.get(Referral, case.id)
    assert closed is not None and closed.state == "closed_placed"
    assert closed.into_eet_at is not None and closed.completed_at is not None

    # Feedback to the police: the Met sees its referral's progress and outcome.
    listing = parse(officer.get("/referrals/from-this-force"))
    row = next(
        tr for tr in listing.select("[data-testid=force-referrals] tbody tr") if case.reference in tr.text
    )
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1] == "Kwame Mensah"
    assert cells[3] == "Closed after placement"
    assert cells[5].startswith("Completed") and "into education, training or employment" in cells[5]
    shown = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "referral_list", AuditEntry.user_id == scheme["officer"].id
        )
    ).all()
    assert any(case.reference in entry.detail for entry in shown)

    # Another force's officer and a provider that does not run DIVERT see none of it.
    elsewhere = _client(app, scheme["other_officer"])
    assert case.reference not in elsewhere.get("/referrals/from-this-force").get_data(as_text=True)
    assert elsewhere.get(f"/cases/{case.id}").status_code == 404
    other_coach = _client(app, scheme["other_coach"])
    assert other_coach.get(f"/cases/{case.id}").status_code == 404
    assert case.reference not in other_coach.get("/worklist?view=team").get_data(as_text=True)


def test_the_coach_sees_a_custody_case_at_once_and_may_offer_it(
    app: Flask, scheme: dict[str, Any], db_session: Session
) -> None:
    case = _record_custody(_client(app, scheme["officer"]), db_session)
    coach = _client(app, scheme["coach"])
    assert coach.get(f"/cases/{case.id}").status_code == 200
    headers = {"Authorization": f"Bearer {tokens.create(db_session, scheme['coach'], 'app', None).secret}"}
    body = coach.get(f"/api/v1/referrals/{case.id}", headers=headers).get_json()
    assert "offered" in [s["to_state"] for s in body["next_steps"]]
    other = {
        "Authorization": f"Bearer {tokens.create(db_session, scheme['other_coach'], 'app', None).secret}"
    }
    assert coach.get(f"/api/v1/referrals/{case.id}", headers=other).status_code == 404


def test_the_met_officer_cannot_read_what_the_person_told_the_coach(
    app: Flask, scheme: dict[str, Any], db_session: Session
) -> None:
    case = _record_custody(_client(app, scheme["officer"]), db_session)
    coach = _client(app, scheme["coach"])
    for to_state in ("offered", "contacted", "met_outside"):
        _step(coach, case, to_state)
    page = parse(coach.get(f"/cases/{case.id}"))
    note = page.select_one("form[action$='/notes']")
    secret = "Disclosed daily cannabis use and a fight at home"
    assert coach.post(note["action"], data={**form_fields(note), "note-text": secret}).status_code == 302
    shared = "Came to the first meeting on time"
    assert (
        coach.post(
            note["action"], data={**form_fields(note), "note-text": shared, "note-visibility": "shared"}
        ).status_code
        == 302
    )
    assert secret in coach.get(f"/cases/{case.id}").get_data(as_text=True)

    officer = _client(app, scheme["officer"])
    seen = officer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert secret not in seen
    assert shared in seen
    assert "Met outside custody" in seen  # status and progress still shown
    assert parse(officer.get(f"/cases/{case.id}")).select("[data-testid=withheld]")

    def bearer(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.create(db_session, user, 'sys', None).secret}"}

    api = officer.get(f"/api/v1/referrals/{case.id}", headers=bearer(scheme["officer"]))
    assert api.status_code == 200
    assert secret not in api.get_data(as_text=True)
    assert shared in api.get_data(as_text=True)
    assert secret in officer.get(f"/api/v1/referrals/{case.id}", headers=bearer(scheme["coach"])).get_data(
        as_text=True
    )
    export = officer.get(f"/api/v1/people/{case.person_id}/export", headers=bearer(scheme["met_supervisor"]))
    assert export.status_code == 200
    assert secret not in export.get_data(as_text=True)
    assert shared in export.get_data(as_text=True)


def test_a_coach_takes_in_a_self_referral_without_an_offence(
    app: Flask, scheme: dict[str, Any], db_session: Session
) -> None:
    coach = _client(app, scheme["coach"])
    form = parse(coach.get("/divert/intake")).select_one("main form")
    base = {
        **form_fields(form),
        "given_name": "Leah",
        "family_name": "Okafor",
        "dob-day": "9",
        "dob-month": "9",
        "dob-year": "2003",
        "met-day": "20",
        "met-month": "11",
        "met-year": "2026",
        "met-time": "15:30",
    }
    missing = coach.post("/divert/intake", data=base)
    assert missing.status_code == 400
    assert "Select who referred them" in parse(missing).select_one(".govuk-error-summary").text
    too_old = coach.post("/divert/intake", data={**base, "source": "self", "dob-year": "1990"})
    assert too_old.status_code == 400
    assert "DIVERT is for ages 18 to 25" in parse(too_old).select_one(".govuk-error-summary").text
    assert db_session.scalars(select(Person).where(Person.family_name == "Okafor")).all() == []

    done = coach.post("/divert/intake", data={**base, "source": "friend_family"})
    assert done.status_code == 302
    case_page = parse(coach.get(done.headers["Location"]))
    assert "Met outside custody" in case_page.get_text()
    db_session.expire_all()
    person = db_session.scalars(select(Person).where(Person.family_name == "Okafor")).one()
    assert person.organisation_id == scheme["coaches"].id
    encounter = db_session.scalars(select(Encounter).where(Encounter.person_id == person.id)).one()
    assert (encounter.offence_category, encounter.referral_source) == (None, "friend_family")
    case = db_session.scalars(select(Referral).where(Referral.person_id == person.id)).one()
    assert case.state == "met_outside"
    assert None not in (case.offered_at, case.accepted_at, case.engaged_at)
    # The police were not involved, so no force sees the case; nor does another provider.
    assert _client(app, scheme["officer"]).get(f"/cases/{case.id}").status_code == 404
    assert _client(app, scheme["other_coach"]).get("/divert/intake").status_code in {403, 404}
    assert _client(app, scheme["officer"]).get("/divert/intake").status_code == 403


def test_a_new_encounter_during_the_case_is_a_rearrest(
    app: Flask, scheme: dict[str, Any], db_session: Session
) -> None:
    officer = _client(app, scheme["officer"])
    case = _record_custody(officer, db_session)
    later = create_encounter(
        db_session,
        case.person,
        scheme["met"],
        officer_id=scheme["officer"].id,
        setting="custody",
        offence_category="theft",
        occurred_at=case.encounter.occurred_at + timedelta(hours=2),
    )
    record_encounter(db_session, scheme["officer"], later)
    headers = {"Authorization": f"Bearer {tokens.create(db_session, scheme['coach'], 'app', None).secret}"}
    body = officer.get(f"/api/v1/referrals/{case.id}", headers=headers).get_json()
    assert body["milestones"]["rearrested_at"] is not None
    assert body["state"] == "eligible"  # it runs beside the criminal case and is not changed by it
    assert "rearrest" in [e["kind"] for e in body["events"]]
