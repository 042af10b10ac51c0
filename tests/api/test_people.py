"""A person's encounters, and the subject access export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry

from ..factories import create_organisation
from ..pathways.helpers import open_case, refer, staff


def _referred(db_session: Session, colleague: Any) -> Any:
    officer = staff(db_session, "officer", colleague.organisation)
    return refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))


def test_a_persons_encounters_with_their_decisions(client: Any, token_for: Any, db_session: Session) -> None:
    user, headers = token_for("officer")
    case = _referred(db_session, user)
    response = client.get(f"/api/v1/people/{case.person_id}/encounters", headers=headers)
    assert response.status_code == 200
    (encounter,) = response.json["encounters"]
    assert encounter["id"] == case.encounter_id
    decision = next(d for d in encounter["decisions"] if d["programme"] == "tvp-adult-drugs")
    assert decision["eligible"] is True and decision["case_id"] == case.id
    assert db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "person", AuditEntry.object_id == str(case.person_id)
        )
    )


def test_people_elsewhere_are_404_and_analysts_403(client: Any, token_for: Any, db_session: Session) -> None:
    user, _ = token_for("officer")
    case = _referred(db_session, user)
    _, elsewhere = token_for("supervisor", organisation=create_organisation(db_session))
    assert client.get(f"/api/v1/people/{case.person_id}/encounters", headers=elsewhere).status_code == 404
    assert client.get(f"/api/v1/people/{case.person_id}/export", headers=elsewhere).status_code == 404
    _, analyst = token_for("analyst")
    assert client.get(f"/api/v1/people/{case.person_id}/encounters", headers=analyst).status_code == 403


def test_the_subject_access_export_holds_everything_and_is_audited(
    client: Any, token_for: Any, db_session: Session
) -> None:
    supervisor, headers = token_for("supervisor")
    case = _referred(db_session, supervisor)
    response = client.get(f"/api/v1/people/{case.person_id}/export", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["person"]["id"] == case.person_id
    assert body["person"]["given_name"] and "date_of_birth" in body["person"]
    assert [e["id"] for e in body["encounters"]] == [case.encounter_id]
    assert body["decisions"] and all("reasons" in d for d in body["decisions"])
    (referral,) = body["referrals"]
    assert referral["reference"] == case.reference
    assert {e["kind"] for e in referral["events"]} >= {"transition"}
    assert {"contacts", "needs_assessments", "flags", "contract"} <= set(referral)
    assert any(c["object_type"] == "encounter" for c in body["change_history"])
    assert body["merges"] == []
    # The access log in a second export lists the first export and itself.
    again = client.get(f"/api/v1/people/{case.person_id}/export", headers=headers).json
    assert [e["action"] for e in again["audit_log"]].count("export") == 2
    exports = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.object_id == str(case.person_id))
    ).all()
    assert len(exports) == 2 and exports[0].user_id == supervisor.id


def test_only_supervisors_and_admins_may_export(client: Any, token_for: Any, db_session: Session) -> None:
    officer, headers = token_for("officer")
    case = _referred(db_session, officer)
    assert client.get(f"/api/v1/people/{case.person_id}/export", headers=headers).status_code == 403
    _, admin = token_for("admin")
    assert client.get(f"/api/v1/people/{case.person_id}/export", headers=admin).status_code == 200
