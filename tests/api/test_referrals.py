"""Reading a referral and working it through the API: steps, contacts, attendance, conflicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, CaseContact, Referral

from ..pathways.helpers import days_ago, open_case, refer, staff


def _case(db_session: Session, colleague: Any, referred: bool = True) -> Referral:
    """A case recorded by an officer of ``colleague``'s force (only officers may offer diversion)."""
    officer = staff(db_session, "officer", colleague.organisation)
    case = open_case(db_session, "tvp-adult-drugs", officer)
    return refer(db_session, officer, case) if referred else case


def test_a_referral_shows_status_milestones_steps_and_timeline(
    client: Any, token_for: Any, db_session: Session
) -> None:
    officer, headers = token_for("supervisor")
    case = _case(db_session, officer)
    response = client.get(f"/api/v1/referrals/{case.id}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["reference"] == case.reference and body["state"] == case.state
    assert body["version"] == case.version_id
    assert body["milestones"]["offered_at"] and body["milestones"]["accepted_at"]
    assert [e["kind"] for e in body["events"]][:1] and body["next_steps"]
    deadlines = [d for d in body["due"] if d["kind"] == "deadline"]
    assert deadlines and deadlines[0]["due_on"] and "due" in deadlines[0]["detail"].lower()
    audited = db_session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "referral", AuditEntry.object_id == str(case.id))
    ).all()
    assert any(a.action == "view" for a in audited)


def test_another_organisations_referral_is_404(
    client: Any, token_for: Any, db_session: Session, make_user: Any
) -> None:
    from ..factories import create_organisation

    officer, _ = token_for("supervisor")
    case = _case(db_session, officer)
    _, elsewhere = token_for("supervisor", organisation=create_organisation(db_session))
    assert client.get(f"/api/v1/referrals/{case.id}", headers=elsewhere).status_code == 404
    assert client.get("/api/v1/referrals/999999", headers=elsewhere).status_code == 404
    assert client.get(f"/api/v1/referrals/{2**40}", headers=elsewhere).status_code == 404
    response = client.post(
        f"/api/v1/referrals/{case.id}/steps",
        json={"to_state": "x", "version": case.version_id},
        headers=elsewhere,
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_analysts_may_not_read_referrals(client: Any, token_for: Any) -> None:
    _, headers = token_for("analyst")
    response = client.get("/api/v1/referrals/1", headers=headers)
    assert response.status_code == 403


def test_taking_a_step_moves_the_case_and_a_stale_version_is_409(
    client: Any, token_for: Any, db_session: Session
) -> None:
    supervisor, headers = token_for("supervisor")
    case = _case(db_session, supervisor)
    before = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json
    step = before["next_steps"][0]
    body = {
        "to_state": step["to_state"],
        "reason": "Moving on",
        "version": before["version"],
        "exit_reason": None,
    }
    if step["to_state"] not in {"completed"}:
        response = client.post(f"/api/v1/referrals/{case.id}/steps", json=body, headers=headers)
        assert response.status_code == 200, response.json
        assert response.json["state"] == step["to_state"]
    stale = client.post(
        f"/api/v1/referrals/{case.id}/steps", json={**body, "version": before["version"] - 1}, headers=headers
    )
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"


def test_a_step_the_programme_does_not_allow_is_422_with_its_message(
    client: Any, token_for: Any, db_session: Session
) -> None:
    supervisor, headers = token_for("supervisor")
    case = _case(db_session, supervisor, referred=False)
    version = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json["version"]
    unknown = client.post(
        f"/api/v1/referrals/{case.id}/steps",
        json={"to_state": "nowhere", "version": version},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json["error"]["fields"][0]["field"] == "to_state"
    refused = client.post(
        f"/api/v1/referrals/{case.id}/steps",
        json={"to_state": "completed", "version": version},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "refused" and refused.json["error"]["message"]


def test_booking_a_contact_and_recording_attendance(client: Any, token_for: Any, db_session: Session) -> None:
    supervisor, headers = token_for("supervisor")
    case = _case(db_session, supervisor)
    when = days_ago(1)
    booked = client.post(
        f"/api/v1/referrals/{case.id}/contacts",
        json={"kind": "session", "scheduled_at": when.isoformat()},
        headers=headers,
    )
    assert booked.status_code == 201, booked.json
    contact = booked.json
    assert contact["attendance"] == "scheduled"
    twice = client.post(
        f"/api/v1/referrals/{case.id}/contacts",
        json={"kind": "session", "scheduled_at": when.isoformat()},
        headers=headers,
    )
    assert twice.status_code == 422 and "already booked" in twice.json["error"]["message"]
    stale = client.post(
        f"/api/v1/contacts/{contact['id']}/attendance",
        json={"attendance": "attended", "version": contact["version"] + 5},
        headers=headers,
    )
    assert stale.status_code == 409
    attended = client.post(
        f"/api/v1/contacts/{contact['id']}/attendance",
        json={"attendance": "attended", "version": contact["version"]},
        headers=headers,
    )
    assert attended.status_code == 200, attended.json
    assert attended.json["attendance"] == "attended"
    stored = db_session.get(CaseContact, contact["id"])
    db_session.refresh(stored)
    assert stored is not None and stored.attendance == "attended"
    missing_reason = client.post(
        f"/api/v1/contacts/{contact['id']}/attendance",
        json={"attendance": "missed", "version": attended.json["version"]},
        headers=headers,
    )
    assert missing_reason.status_code == 422


def test_a_contact_needs_a_time_zone(client: Any, token_for: Any, db_session: Session) -> None:
    supervisor, headers = token_for("supervisor")
    case = _case(db_session, supervisor)
    response = client.post(
        f"/api/v1/referrals/{case.id}/contacts",
        json={"kind": "session", "scheduled_at": "2026-03-01T10:00:00"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"][0]["field"] == "scheduled_at"


def test_another_organisations_contact_is_404(client: Any, token_for: Any, db_session: Session) -> None:
    from ..factories import create_organisation

    supervisor, headers = token_for("supervisor")
    case = _case(db_session, supervisor)
    booked = client.post(
        f"/api/v1/referrals/{case.id}/contacts",
        json={"kind": "meeting", "scheduled_at": days_ago(2).isoformat()},
        headers=headers,
    ).json
    _, elsewhere = token_for("supervisor", organisation=create_organisation(db_session))
    response = client.post(
        f"/api/v1/contacts/{booked['id']}/attendance",
        json={"attendance": "attended", "version": booked["version"]},
        headers=elsewhere,
    )
    assert response.status_code == 404
    assert (
        client.post(
            "/api/v1/contacts/999999/attendance",
            json={"attendance": "attended", "version": 1},
            headers=headers,
        ).status_code
        == 404
    )
