"""Supervisors find the encounters the rules found not eligible, and override from the list.

Every access test has a second organisation: another force's supervisor sees none of ours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Decision, Programme, Referral
from divert.pathways.cases import record_encounter
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, parse
from .factories import PASSWORD, create_encounter, create_organisation, create_person, create_user


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _youth_encounter(db_session: Session, officer: Any, name: str, **fields: Any) -> Decision:
    person = create_person(db_session, officer.organisation, family_name=name, date_of_birth=date(2010, 3, 3))
    encounter = create_encounter(
        db_session, person, officer.organisation, occurred_at=datetime(2026, 11, 20, 16, tzinfo=UTC), **fields
    )
    (outcome,) = record_encounter(db_session, officer, encounter)
    return outcome.decision


def test_a_supervisor_finds_the_not_eligible_encounters_and_overrides_one(
    app: Any, db_session: Session, org: Any
) -> None:
    sync_definitions(db_session)
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    yot = create_organisation(db_session, kind="yot")
    surrey = create_organisation(db_session, name="Surrey Police")
    for force in (org, surrey):
        assign_operator(db_session, youth, force.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", org)
    refused = _youth_encounter(db_session, officer, "Supplyish", supply_suspected=True)
    eligible = _youth_encounter(db_session, officer, "Eligibleson")
    theirs = _youth_encounter(
        db_session, create_user(db_session, "officer", surrey), "Surreyman", supply_suspected=True
    )
    assert not refused.eligible and eligible.eligible and not theirs.eligible

    supervisor = _client(app, create_user(db_session, "supervisor", org))
    home = parse(supervisor.get("/home"))
    link = home.find("a", string="Encounters found not eligible")
    assert link is not None
    page = parse(supervisor.get(link["href"]))
    rows = page.select("[data-testid=not-eligible] > li")
    assert len(rows) == 1
    assert "Supplyish" in rows[0].select_one("h2").text
    assert "Supply is suspected" in rows[0].select_one("dl").text
    assert "Surreyman" not in page.text and "Eligibleson" not in page.text
    listed = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "encounter", AuditEntry.detail.like("not-eligible%")
        )
    ).one()
    assert listed.detail is not None and listed.detail.endswith(f"1 shown: {refused.encounter_id}")

    override = rows[0].select_one("a[href$='/override']")
    assert override.get_text(" ", strip=True).startswith("Override the Thames Valley")
    assert override["href"] == f"/decisions/{refused.id}/override"
    done = supervisor.submit(
        override["href"], {"outcome": "route:yot", "reason": "Supply flag entered in error"}
    )
    assert done.status_code == 302
    # Decided again: the list holds only decisions still in force.
    again = parse(supervisor.get(link["href"]))
    assert again.select_one("[data-testid=not-eligible]") is None
    assert "no encounters found not eligible" in again.text
    assert (
        db_session.scalar(select(Referral).where(Referral.encounter_id == refused.encounter_id)) is not None
    )

    # The other force's supervisor sees only theirs, and cannot reach ours.
    other = _client(app, create_user(db_session, "supervisor", surrey))
    theirs_page = parse(other.get("/decisions/not-eligible"))
    assert "Surreyman" in theirs_page.text and "Supplyish" not in theirs_page.text
    assert other.get(f"/decisions/{refused.id}/override").status_code == 404
    # A YOT records no encounters; an officer cannot override.
    assert (
        "no encounters"
        in parse(_client(app, create_user(db_session, "supervisor", yot)).get("/decisions/not-eligible")).text
    )
    assert _client(app, officer).get("/decisions/not-eligible").status_code == 403
