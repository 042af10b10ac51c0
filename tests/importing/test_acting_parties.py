"""The bulk import makes party to a case every organisation that must act on it, as the form does.

A DIVERT custody encounter imported as eligible waits for a coach's offer, so the coaches are
party from the start, as when an officer records it; an accepted Checkpoint case has its
navigators. Every access test has a second organisation: coaches who do not run DIVERT here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, Programme, Referral
from divert.pathways.importing import import_file
from divert.pathways.programmes import assign_operator, sync_definitions

from ..client import PageClient, form_fields, parse
from ..factories import PASSWORD, create_agreement, create_organisation, create_user
from .helpers import row, to_csv

CUSTODY = {
    "programme": "divert",
    "setting": "custody",
    "offence": "theft",
    "drug_class": "",
    "personal_use": "",
    "date_of_birth": "2004-04-04",
    "occurred_at": "2026-11-10T02:30",
}


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _parties(case: Referral) -> set[tuple[int, str]]:
    return {(p.organisation_id, p.role) for p in case.parties}


def test_imported_cases_have_the_parties_that_act_on_them(app: Any, db_session: Session) -> None:
    sync_definitions(db_session)
    met = create_organisation(db_session, code="met", name="Metropolitan Police Service")
    coaches = create_organisation(db_session, kind="provider", name="DIVERT coaches")
    navigators = create_organisation(db_session, kind="provider", name="Navigators")
    programmes = {p.code: p for p in db_session.scalars(select(Programme))}
    for code in ("divert", "checkpoint"):
        assign_operator(db_session, programmes[code], met.id, "police")
    assign_operator(db_session, programmes["divert"], coaches.id, "receiving", "coach")
    assign_operator(db_session, programmes["checkpoint"], navigators.id, "receiving", "navigator")
    # An import writes its parties in bulk, past the factories' default agreements: the force's
    # agreements with the two services, as a real deployment has them (issue 17).
    create_agreement(db_session, met, coaches, [programmes["divert"]])
    create_agreement(db_session, met, navigators, [programmes["checkpoint"]])
    admin = create_user(db_session, "admin", met)
    rows = [
        row(encounter_ref="D-1", forenames="Kwame", surname="Mensah", **CUSTODY),
        row(
            encounter_ref="C-1",
            programme="checkpoint",
            forenames="Dana",
            surname="Hart",
            date_of_birth="1991-09-09",
            offence="theft",
            drug_class="",
            personal_use="",
            occurred_at="2026-11-12T10:00",
            eligible="true",
            offered="true",
            accepted="true",
        ),
    ]
    result = import_file(db_session, to_csv(rows), "history.csv", organisation_id=met.id, actor=admin)
    assert result.cases == 2
    cases = {
        e.external_ref: db_session.scalars(select(Referral).where(Referral.encounter_id == e.id)).one()
        for e in db_session.scalars(select(Encounter))
    }
    divert, checkpoint = cases["D-1"], cases["C-1"]
    assert divert.state == "eligible" and checkpoint.state == "needs_assessment"
    assert _parties(divert) == {(met.id, "police"), (coaches.id, "receiving")}
    assert _parties(checkpoint) == {(met.id, "police"), (navigators.id, "receiving")}

    # The coach finds the imported case and makes the offer from its page.
    coach = _client(app, create_user(db_session, "coach", coaches))
    assert (
        divert.reference in parse(coach.get("/worklist?view=new")).select_one("[data-testid=worklist]").text
    )
    form = parse(coach.get(f"/cases/{divert.id}")).select_one("[data-testid=step-form]")
    offered = coach.post(
        form["action"], data={**form_fields(form), "step-to_state": "offered", "step-reason": ""}
    )
    assert offered.status_code == 302, parse(offered).select_one(".govuk-error-summary")
    db_session.expire_all()
    assert db_session.get(Referral, divert.id).state == "offered"  # type: ignore[union-attr]

    # Coaches elsewhere, and the navigators, see nothing of the DIVERT case.
    elsewhere = create_organisation(db_session, kind="provider")
    for outsider in (
        create_user(db_session, "coach", elsewhere),
        create_user(db_session, "navigator", navigators),
    ):
        client = _client(app, outsider)
        assert client.get(f"/cases/{divert.id}").status_code == 404
        assert divert.reference not in parse(client.get("/worklist?view=new")).text


def test_each_case_has_the_receivers_assigned_on_its_own_day(db_session: Session) -> None:
    # The import asks for the receivers once per stretch of days between assignment dates, not once
    # per day: a file spanning a hand-over must still give each case the coaches of its own day.
    sync_definitions(db_session)
    met = create_organisation(db_session, code="met", name="Metropolitan Police Service")
    old = create_organisation(db_session, kind="provider", name="Coaches until May")
    new = create_organisation(db_session, kind="provider", name="Coaches from June")
    divert = db_session.scalars(select(Programme).where(Programme.code == "divert")).one()
    assign_operator(db_session, divert, met.id, "police")
    assign_operator(db_session, divert, old.id, "receiving", "coach", effective_to=date(2026, 5, 31))
    assign_operator(db_session, divert, new.id, "receiving", "coach", effective_from=date(2026, 6, 1))
    admin = create_user(db_session, "admin", met)
    days = {
        "D-1": "2026-05-30T12:00",
        "D-2": "2026-05-31T12:00",
        "D-3": "2026-06-01T12:00",
        "D-4": "2026-06-20T12:00",
    }
    rows = [
        row(encounter_ref=ref, forenames=f"Person{ref}", surname="Handover", **{**CUSTODY, "occurred_at": at})
        for ref, at in days.items()
    ]
    import_file(db_session, to_csv(rows), "handover.csv", organisation_id=met.id, actor=admin)
    receivers = {
        e.external_ref: {
            p.organisation_id
            for p in db_session.scalars(select(Referral).where(Referral.encounter_id == e.id)).one().parties
            if p.role == "receiving"
        }
        for e in db_session.scalars(select(Encounter).where(Encounter.organisation_id == met.id))
    }
    assert receivers == {"D-1": {old.id}, "D-2": {old.id}, "D-3": {new.id}, "D-4": {new.id}}
