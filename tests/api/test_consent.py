"""A step past the offer of a referral that needs consent is refused with structured JSON (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from divert.auth.visibility import visible_referrals
from divert.models import Referral

from ..factories import create_organisation, create_user
from ..test_sharing_agreements import _adult_case

pytestmark = pytest.mark.usefixtures("no_default_agreements")


def test_the_api_refuses_acceptance_without_consent(
    client: Any, token_for: Any, org: Any, db_session: Session
) -> None:
    service = create_organisation(db_session, kind="provider")
    case, _ = _adult_case(db_session, org, service)
    _, headers = token_for("officer", organisation=org)
    response = client.post(
        f"/api/v1/referrals/{case.id}/steps",
        json={"to_state": "referred", "version": case.version_id},
        headers=headers,
    )
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == "consent_required" and "consent" in body["message"]
    # A provider with no part in the case cannot read it through the API either.
    stranger = create_user(
        db_session, "drug_service_worker", create_organisation(db_session, kind="provider")
    )
    assert db_session.scalar(visible_referrals(stranger).where(Referral.id == case.id)) is None


def test_the_api_shows_a_party_only_what_its_agreement_shares(
    client: Any, token_for: Any, org: Any, db_session: Session
) -> None:
    from ..factories import create_agreement
    from ..test_sharing_agreements import _youth_case

    yot, other = create_organisation(db_session, kind="yot"), create_organisation(db_session, kind="yot")
    case = _youth_case(db_session, org, yot)
    create_agreement(db_session, org, yot, [case.programme], to_second={"notes", "outcome"})
    create_agreement(db_session, org, other, [case.programme])
    _, headers = token_for("yot_caseworker", organisation=yot)
    body = client.get(f"/api/v1/referrals/{case.id}", headers=headers).get_json()
    assert body["person_id"] is None and body["shared"] == ["notes", "outcome"]
    assert all(e["reason"] == "" for e in body["events"] if e["kind"] == "decision")
    _, elsewhere = token_for("yot_caseworker", organisation=other)
    assert client.get(f"/api/v1/referrals/{case.id}", headers=elsewhere).status_code == 404
    _, force = token_for("officer", organisation=org)
    assert client.get(f"/api/v1/referrals/{case.id}", headers=force).get_json()["person_id"] == case.person_id
