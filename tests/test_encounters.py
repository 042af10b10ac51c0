"""The officer's journey: record an encounter, see the decision and why, record the offer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, Programme, Referral
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import form_fields, parse
from .factories import create_organisation, create_person


@pytest.fixture
def youth_scheme(db_session: Session, org: Any) -> Any:
    sync_definitions(db_session)
    yot = create_organisation(db_session, kind="yot")
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, youth, org.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    return yot


def _first_possession(**changes: Any) -> dict[str, Any]:
    """A 16-year-old's first possession of cannabis: ten required answers, the rest defaulted."""
    data = {
        "given_name": "Jordan",
        "family_name": "Reeve",
        "date_of_birth": ["14", "2", "2010"],
        "gender": "male",
        "self_defined_ethnicity": "M1",
        "setting": "street",
        "offence_category": "drug_possession",
        "personal_use": "yes",
        "supply_suspected": "no",
        "admission": "admitted",
    }
    data.update(changes)
    return data


def _submit(client: Any, data: dict[str, Any]) -> Any:
    page = parse(client.get("/encounters/new")).select_one("main form")
    prefilled = form_fields(page)  # date, time and the one-off submission key, as a browser sends them
    return client.post("/encounters/new", data={**prefilled, **data})


def test_a_youth_first_possession_is_routed_to_the_yot_with_reasons(
    client: Any, signed_in: Any, youth_scheme: Any
) -> None:
    signed_in("officer")
    response = _submit(client, _first_possession())
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    section = page.select_one("[data-testid=programme]")
    assert "Eligible" in section.h2.text
    assert section.select_one("[data-testid=route]").text == "Referral to the Youth Offending Team"
    reasons = [li.text for li in section.select("[data-testid=reasons] li")]
    assert any("No earlier possession on record" in r for r in reasons)

    form = section.select_one("form")
    answer = {**form_fields(form), "response": "accepted", "reason": ""}
    done = client.post(form["action"], data=answer)
    assert done.status_code == 302
    confirmation = parse(client.get(done.headers["Location"]))
    reference = confirmation.select_one("[data-testid=reference]").text
    assert reference.startswith("TYD-")
    assert "Referred to YOT" in confirmation.select_one(".govuk-panel").text


def test_the_common_case_needs_no_more_than_ten_required_answers(client: Any, signed_in: Any) -> None:
    signed_in("officer")
    response = client.post("/encounters/new", data={"csrf_token": client.csrf_token("/encounters/new")})
    errors = parse(response).select(".govuk-error-summary a")
    assert response.status_code == 400
    # The encounter's date and time come prefilled, so a blank form lacks only the person and the facts.
    assert len(errors) <= 12
    assert "Enter a first name" in [a.text.strip() for a in errors]


def test_bad_input_gives_specific_errors_and_saves_nothing(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session
) -> None:
    signed_in("officer")
    before = db_session.scalar(select(func.count()).select_from(Encounter))
    response = _submit(
        client,
        _first_possession(
            date_of_birth=["31", "2", "2010"], personal_use="", pnc_id="bad", occurred_time="25:00"
        ),
    )
    assert response.status_code == 400
    page = parse(response)
    assert page.title.text.startswith("Error:")
    errors = [a.text.strip() for a in page.select(".govuk-error-summary a")]
    assert "Date of birth must be a real date" in errors
    assert "Enter a PNC ID in the correct format, like 12/345678A" in errors
    assert "Enter a time in the 24-hour clock, like 14:30" in errors
    assert "Select whether the drugs were for personal use" in errors
    assert all(a["href"].startswith("#") for a in page.select(".govuk-error-summary a"))
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == before


def test_submitting_twice_records_one_encounter(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session
) -> None:
    signed_in("officer")
    page = parse(client.get("/encounters/new")).select_one("main form")
    data = {**form_fields(page), **_first_possession()}
    first = client.post("/encounters/new", data=data)
    second = client.post("/encounters/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 1


def test_a_known_person_is_not_typed_twice_and_a_repeat_goes_to_the_yju(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session, org: Any
) -> None:
    officer = signed_in("officer")
    first = _submit(client, _first_possession(occurred_on=["1", "6", "2026"]))
    person = db_session.scalars(select(Person).where(Person.family_name == "Reeve")).one()
    prefilled = form_fields(parse(client.get(f"/encounters/new?person={person.id}")).select_one("main form"))
    assert prefilled["given_name"] == "Jordan" and prefilled["date_of_birth"] == ["14", "02", "2010"]
    second = _submit(client, _first_possession(family_name="REEVE"))
    assert first.headers["Location"] != second.headers["Location"]
    assert db_session.scalar(select(func.count()).select_from(Person)) == 1
    page = parse(client.get(second.headers["Location"]))
    assert page.select_one("[data-testid=route]").text == "Youth Justice Unit decision"
    assert officer.id is not None


def test_a_possible_match_is_shown_not_merged(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session, org: Any
) -> None:
    signed_in("officer")
    create_person(db_session, given_name="Jordan", family_name="Reeves", date_of_birth=date(2010, 2, 14))
    response = _submit(client, _first_possession())
    page = parse(client.get(response.headers["Location"]))
    matches = page.select_one("[data-testid=possible-matches]")
    assert matches is not None and "Jordan Reeves" in matches.text
    assert db_session.scalar(select(func.count()).select_from(Person)) == 2


def test_not_offered_needs_a_reason(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session
) -> None:
    signed_in("officer")
    response = _submit(client, _first_possession())
    page = parse(client.get(response.headers["Location"]))
    form = page.select_one("[data-testid=programme] form")
    bad = client.post(form["action"], data={**form_fields(form), "response": "not_offered", "reason": ""})
    assert bad.status_code == 400
    assert parse(bad).title.text.startswith("Error:")
    assert (
        "Enter the reason diversion was declined or not offered"
        in parse(bad).select_one(".govuk-error-summary").text
    )
    case = db_session.scalars(select(Referral)).one()
    assert case.state == "eligible"
    ok = client.post(
        form["action"], data={**form_fields(form), "response": "not_offered", "reason": "Intoxicated"}
    )
    assert ok.status_code == 302
    db_session.expire_all()
    assert db_session.scalars(select(Referral)).one().state == "not_offered"


def test_supply_is_not_eligible_and_says_why(client: Any, signed_in: Any, youth_scheme: Any) -> None:
    signed_in("officer")
    response = _submit(client, _first_possession(supply_suspected="yes"))
    section = parse(client.get(response.headers["Location"])).select_one("[data-testid=programme]")
    assert "Not eligible" in section.h2.text and section.select_one("form") is None
    assert [li.text for li in section.select("[data-testid=reasons] li")] == [
        "Supply is suspected, so the traditional pathway applies."
    ]


def test_another_forces_encounter_is_not_found(
    client: Any, signed_in: Any, youth_scheme: Any, db_session: Session
) -> None:
    signed_in("officer")
    response = _submit(client, _first_possession())
    location = response.headers["Location"]
    client.submit("/sign-out", {})
    signed_in("officer", organisation=create_organisation(db_session))
    assert client.get(location).status_code == 404


def test_the_offence_date_is_asked_where_a_programme_decides_by_it(
    client: Any, signed_in: Any, youth_scheme: Any, org: Any, db_session: Session
) -> None:
    signed_in("officer", organisation=org)
    # The youth scheme does not decide by the offence's age, so its officers are not asked.
    assert parse(client.get("/encounters/new")).select_one("#offence_on") is None
    durham = create_organisation(db_session, kind="police_force")
    checkpoint = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    assign_operator(db_session, checkpoint, durham.id, "police")
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("officer", organisation=durham)
    assert parse(client.get("/encounters/new")).select_one("[id^=offence_on]") is not None
    old = _first_possession(
        date_of_birth=["14", "2", "1990"],
        offence_category="theft",
        personal_use="",
        facts=["lives_in_area", "offended_in_area"],
        offence_on=["1", "1", "2026"],
    )
    response = _submit(client, old)
    assert response.status_code == 302, parse(response).select_one(".govuk-error-summary")
    decision = parse(client.get(response.headers["Location"])).text
    assert "Checkpoint needs an offence less than 3 months old" in decision
    encounter = db_session.scalars(select(Encounter).order_by(Encounter.id.desc())).first()
    assert encounter is not None and encounter.offence_date == date(2026, 1, 1)
