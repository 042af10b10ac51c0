"""Each role's home page shows that role's real work."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from .client import parse
from .factories import create_encounter, create_person

HEADINGS = {
    "officer": "Your encounters",
    "yot_caseworker": "Your cases",
    "yju_decision_maker": "Your cases",
    "navigator": "Your cases",
    "coach": "Your cases",
    "supervisor": "Caseload overview",
    "analyst": "Overview",
    "admin": "Administration",
}


@pytest.mark.parametrize(("role", "heading"), HEADINGS.items())
def test_home_page_per_role(client: Any, signed_in: Any, role: str, heading: str) -> None:
    signed_in(role)
    page = parse(client.get("/home"))
    assert page.h1.text.strip() == heading
    links = [a.text.strip() for a in page.select(".govuk-service-navigation__link")]
    assert ("People" in links) is (role != "analyst")
    assert ("Users" in links) is (role == "admin")


def test_officer_sees_their_own_encounters(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    officer = signed_in("officer")
    person = create_person(db_session, given_name="Kai", family_name="Walker")
    create_encounter(db_session, person, org, officer_id=officer.id)
    create_encounter(db_session, create_person(db_session, family_name="Other"), org)
    page = parse(client.get("/home"))
    assert [a.text for a in page.select("main table a[href^='/people/']")] == ["Kai Walker"]


def test_analyst_sees_aggregates_only_with_small_numbers_hidden(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    signed_in("analyst")
    for n in range(3):
        create_encounter(db_session, create_person(db_session, family_name=f"Hidden{n}"), org)
    page = parse(client.get("/home"))
    assert [d.text for d in page.select("[data-testid=figure]")] == ["Fewer than 5"]
    assert "Hidden" not in page.text
    for n in range(3):
        create_encounter(db_session, create_person(db_session, family_name=f"More{n}"), org)
    assert [d.text for d in parse(client.get("/home")).select("[data-testid=figure]")] == ["6"]


def test_admin_creates_a_user(client: Any, signed_in: Any) -> None:
    signed_in("admin")
    bad = client.submit(
        "/admin/users/new", {"name": "", "email": "not-an-email", "role": "coach", "password": "short"}
    )
    assert bad.status_code == 400
    assert [a.text.strip() for a in parse(bad).select(".govuk-error-summary a")] == [
        "Enter the user's full name",
        "Enter an email address in the correct format, like name@example.org",
        "Password must be 12 characters or more",
    ]
    ok = client.submit(
        "/admin/users/new",
        {"name": "Cara Coach", "email": "cara@example.org", "role": "coach", "password": "long-enough-pass"},
    )
    assert ok.status_code == 302
    assert "cara@example.org" in parse(client.get("/admin/users")).text
    reference = parse(client.get("/admin/reference")).text
    assert (
        "Black – African" in reference and "Diversionary, educational or intervention activity" in reference
    )


def test_admin_sees_programmes_versions_and_who_runs_them(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    from sqlalchemy import select

    from divert.models import Programme
    from divert.pathways.programmes import assign_operator, sync_definitions

    sync_definitions(db_session)
    checkpoint = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    assign_operator(db_session, checkpoint, org.id, "police")
    signed_in("admin")
    page = parse(client.get("/admin/programmes"))
    card = next(c for c in page.select("[data-testid=programme-card]") if "(checkpoint)" in c.text)
    assert "Version 1" in card.text and "Version 2" in card.text and "records encounters" in card.text
    version = parse(client.get(card.select_one("table a")["href"]))
    assert "Checkpoint needs an admission or a 'no comment' interview" in version.text
