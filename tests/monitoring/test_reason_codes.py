"""Reasons are codes from the programme definition: the pages, the API and the import take a code
with optional words, the words stay on the case, and monitoring groups by the code's label."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Decision, Programme, Referral, ReferralEvent
from divert.monitoring import journeys
from divert.monitoring.breakdowns import FREE_TEXT, count_reasons
from divert.monitoring.query import Scope
from divert.pathways.cases import offer, override_decision, record_encounter, respond
from divert.pathways.errors import OperationError
from divert.pathways.importing import import_file
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions
from divert.rules import definition_from_dict, load_directory
from divert.rules.definition import DefinitionError, reason_codes

from ..factories import create_encounter, create_person, create_user
from ..importing.helpers import row, to_csv

YOUTH = "tvp-youth-drugs"
MAY_2027 = datetime(2027, 5, 10, 14, 0, tzinfo=UTC)  # version 4, the first with reason codes
MARK = "Jo Bloggs, 1 Elm Rd"


@pytest.fixture
def force(db_session: Session, org: Any) -> Any:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == YOUTH)).one()
    assign_operator(db_session, programme, org.id, "police")
    return org


def _case(session: Session, org: Any, when: datetime = MAY_2027, **person: Any) -> tuple[Any, Referral]:
    officer = create_user(session, "officer", org)
    someone = create_person(session, org, date_of_birth=date(2012, 1, 1), **person)
    [outcome] = record_encounter(session, officer, create_encounter(session, someone, org, occurred_at=when))
    assert outcome.referral is not None
    return officer, outcome.referral


def _reasons(session: Session, kind: str) -> dict[str, int]:
    counted: dict[str, int] = {}
    for c in count_reasons(session, Scope("gender", "year", YOUTH), kind):
        counted[c.reason] = counted.get(c.reason, 0) + c.count
    return counted


def test_a_not_offered_code_is_counted_by_its_label_and_the_words_stay_on_the_case(
    db_session: Session, force: Any
) -> None:
    officer, first = _case(db_session, force)
    offer(db_session, officer, first, False, MARK, reason_code="unable_to_understand")
    _, second = _case(db_session, force, given_name="Sam")
    offer(db_session, officer, second, False, MARK)  # words, no code: "other"
    _, third = _case(db_session, force, given_name="Kim")
    offer(db_session, officer, third, True)
    respond(db_session, officer, third, False, reason_code="wants_court")
    event = db_session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == first.id)).all()[-1]
    assert (event.reason_code, event.reason) == ("unable_to_understand", MARK)
    assert _reasons(db_session, "not_offered") == {
        "Unable to understand the offer (for example intoxicated)": 1,
        FREE_TEXT: 1,
    }
    assert _reasons(db_session, "declined") == {"Wants the case to go to court": 1}
    assert all(
        MARK not in reason for kind in ("not_offered", "declined") for reason in _reasons(db_session, kind)
    )


def test_a_code_the_definition_does_not_list_is_refused(db_session: Session, force: Any) -> None:
    officer, case = _case(db_session, force)
    with pytest.raises(OperationError, match="Select a reason"):
        offer(db_session, officer, case, False, reason_code=MARK)
    with pytest.raises(OperationError, match="takes no reason code"):
        offer(db_session, officer, case, True, reason_code="wants_court")


def test_an_override_code_is_counted_by_direction_and_label(db_session: Session, force: Any) -> None:
    _, case = _case(db_session, force)
    supervisor = create_user(db_session, "supervisor", force)
    decision = db_session.get(Decision, case.decision_id)
    assert decision is not None
    override_decision(
        db_session, supervisor, decision, eligible=False, route=None, reason=MARK, reason_code="safeguarding"
    )
    assert _reasons(db_session, "override") == {"Eligible → not eligible: Safeguarding needs": 1}


def test_the_page_form_takes_a_code(client: Any, signed_in: Any, db_session: Session, force: Any) -> None:
    from ..client import form_fields, parse

    _, case = _case(db_session, force, when=datetime.now(UTC))
    journeys.sync(db_session)
    signed_in("officer")
    # Today's encounter is decided under version 3, which lists no codes: only "other" is offered.
    page = parse(client.get(f"/encounters/{case.encounter_id}"))
    form = page.select_one("[data-testid=programme] form")
    options = [o["value"] for o in form.select("select[name=not_offered_code] option")]
    assert options == ["", "other"]
    sent = client.post(
        form["action"], data={**form_fields(form), "response": "not_offered", "not_offered_code": "other"}
    )
    assert sent.status_code == 302
    assert (
        db_session.scalars(
            select(ReferralEvent.reason_code).where(ReferralEvent.referral_id == case.id)
        ).all()[-1]
        == "other"
    )


def test_the_api_step_takes_a_code(client: Any, db_session: Session, force: Any) -> None:
    from divert.api import tokens

    officer, case = _case(db_session, force)
    # Written now, as the request that recorded it would at its commit: the API's requests then
    # find the encounter's rows in place instead of taking it for one created in their transaction.
    journeys.sync(db_session)
    headers = {"Authorization": f"Bearer {tokens.create(db_session, officer, 'case system', None).secret}"}
    version = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json["version"]
    body = {"to_state": "not_offered", "reason_code": "victim_views", "version": version}
    response = client.post(f"/api/v1/referrals/{case.id}/steps", json=body, headers=headers)
    assert response.status_code == 200, response.json
    assert _reasons(db_session, "not_offered") == {"The victim's views": 1}
    assert response.json["events"][-1]["reason_code"] == "victim_views"
    bad = {**body, "reason_code": "not_a_code", "version": response.json["version"]}
    assert client.post(f"/api/v1/referrals/{case.id}/steps", json=bad, headers=headers).status_code >= 400


def test_the_import_takes_a_code_with_optional_words(db_session: Session, force: Any) -> None:
    admin = create_user(db_session, "admin", force)
    base = {"programme": YOUTH, "occurred_at": "2027-05-10T14:00", "date_of_birth": "2012-01-15"}
    rows = [
        # reason_code is an optional column, so the helper's fixed columns do not know it.
        row(encounter_ref="R-1", offered="false", **base) | {"reason_code": "risk_to_others"},
        row(encounter_ref="R-2", forenames="Sam", offered="false", not_offered_reason=MARK, **base)
        | {"reason_code": ""},
    ]
    import_file(
        db_session,
        to_csv(rows, [*rows[0]]),
        "r.csv",
        organisation_id=force.id,
        actor=admin,
        today=date(2027, 6, 1),
    )
    assert _reasons(db_session, "not_offered") == {"Risk to others or to the person": 1, FREE_TEXT: 1}


def test_reason_codes_in_a_definition_are_checked() -> None:
    [youth] = [d for d in load_directory(PROGRAMMES_DIR) if d.code == YOUTH and d.version == 4]
    assert reason_codes(youth, "not_offered")[-1].code == "other"
    document = dict(youth.document or {})
    document["reason_codes"] = {
        "not_offered": [
            {"code": "other", "label": "Other"},
            {"code": "a", "label": "A"},
            {"code": "a", "label": "B"},
        ],
        "typo": [],
    }
    with pytest.raises(DefinitionError) as error:
        definition_from_dict(document)
    assert {path for path, _ in error.value.problems} == {
        "reason_codes.typo",
        "reason_codes.not_offered[0].code",
        "reason_codes.not_offered[2].code",
    }
