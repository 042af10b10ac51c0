from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme
from divert.pathways.cases import offer, record_encounter, respond
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import parse
from .factories import create_encounter, create_organisation, create_person, create_user


def _referred_case(db_session: Session, force: Any, yot: Any) -> Any:
    sync_definitions(db_session)
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, youth, force.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", force, name="Pat Officer")
    person = create_person(db_session, given_name="Robin", family_name="Case", date_of_birth=date(2010, 4, 4))
    encounter = create_encounter(db_session, person, force, occurred_at=datetime(2026, 5, 1, 9, tzinfo=UTC))
    (outcome,) = record_encounter(db_session, officer, encounter)
    offer(db_session, officer, outcome.referral, True)
    respond(db_session, officer, outcome.referral, True)
    return outcome.referral


def test_the_receiving_yot_sees_the_case_timeline_and_reasons(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = create_organisation(db_session, kind="yot")
    case = _referred_case(db_session, org, yot)
    signed_in("yot_caseworker", organisation=yot)
    page = parse(client.get(f"/cases/{case.id}"))
    assert page.h1.text == f"Case {case.reference}"
    assert "Referred to YOT" in page.select_one("[data-testid=status]").text
    titles = [t.text for t in page.select("[data-testid=timeline] .moj-timeline__title")]
    assert titles == ["Referred to YOT", "Diversion offered", "Eligible"]
    assert "Pat Officer" in page.select_one("[data-testid=timeline]").text
    assert "No earlier possession on record" in page.select_one("[data-testid=decision]").text
    home = parse(client.get("/home"))
    assert case.reference in home.text


def test_an_organisation_not_party_to_the_case_cannot_see_it(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    case = _referred_case(db_session, org, create_organisation(db_session, kind="yot"))
    signed_in("yot_caseworker", organisation=create_organisation(db_session, kind="yot"))
    assert client.get(f"/cases/{case.id}").status_code == 404
