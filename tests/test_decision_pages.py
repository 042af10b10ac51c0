from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Decision, Programme, Referral
from divert.pathways.cases import offer, record_encounter
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import form_fields, parse
from .factories import create_encounter, create_person, create_user


def _decided(db_session: Session, org: Any, **fields: Any) -> Any:
    sync_definitions(db_session)
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, youth, org.id, "police")
    officer = create_user(db_session, "officer", org)
    person = create_person(db_session, date_of_birth=date(2010, 4, 4))
    encounter = create_encounter(
        db_session, person, org, occurred_at=datetime(2026, 5, 1, 9, tzinfo=UTC), **fields
    )
    (outcome,) = record_encounter(db_session, officer, encounter)
    return outcome, officer


def test_a_supervisor_overrides_with_a_reason_and_both_decisions_stay(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    outcome, _ = _decided(db_session, org, supply_suspected=True)
    signed_in("supervisor")
    path = f"/decisions/{outcome.decision.id}/override"
    page = parse(client.get(path))
    assert "Supply is suspected" in page.text
    bad = client.submit(path, {"outcome": "route:yot", "reason": ""})
    assert bad.status_code == 400
    assert "Enter a reason for overriding the decision" in parse(bad).select_one(".govuk-error-summary").text
    ok = client.submit(path, {"outcome": "route:yot", "reason": "Supply flag entered in error"})
    assert ok.status_code == 302
    decisions = db_session.scalars(
        select(Decision).where(Decision.encounter_id == outcome.decision.encounter_id)
    ).all()
    assert len(decisions) == 2
    shown = parse(client.get(ok.headers["Location"]))
    assert "Eligible" in shown.select_one("[data-testid=programme] h2").text
    assert "Overridden by" in shown.select_one("[data-testid=reasons]").text


def test_officers_cannot_override(client: Any, signed_in: Any, org: Any, db_session: Session) -> None:
    outcome, _ = _decided(db_session, org)
    signed_in("officer")
    assert client.get(f"/decisions/{outcome.decision.id}/override").status_code == 403


def test_a_supervisor_corrects_a_mistaken_step(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    outcome, officer = _decided(db_session, org)
    offer(db_session, officer, outcome.referral, False, "Pressed the wrong option")
    signed_in("supervisor")
    path = f"/cases/{outcome.referral.id}/correct"
    page = parse(client.get(path))
    assert "Not offered" in page.text
    data = {**form_fields(page.select_one("main form")), "reason": "Officer chose 'not offered' by mistake"}
    response = client.post(path, data=data)
    assert response.status_code == 302
    # The same correction sent again must not undo the step before it too.
    again = client.post(path, data=data)
    assert again.status_code == 400
    assert "Someone else changed this case" in parse(again).text
    db_session.expire_all()
    assert db_session.get(Referral, outcome.referral.id).state == "eligible"
    timeline = parse(client.get(f"/cases/{outcome.referral.id}")).select_one("[data-testid=timeline]").text
    assert "Correction of an earlier step" in timeline and "Pressed the wrong option" in timeline
