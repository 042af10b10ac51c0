"""Recording an encounter through the API: the decision with reasons, field errors, and retries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Encounter, Referral
from divert.models.api import IdempotentRequest
from divert.rules.codes import FACTS, VULNERABILITIES
from divert.web.forms.encounter import EncounterForm

from .payloads import encounter_body


def _count(db_session: Session, model: Any) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def test_programmes_lists_what_the_force_runs(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("analyst")
    response = client.get("/api/v1/programmes", headers=headers)
    assert response.status_code == 200
    codes = [p["code"] for p in response.json["programmes"]]
    assert codes == sorted(p.code for p in programmes)


def test_recording_an_encounter_returns_each_decision_with_reasons(
    client: Any, token_for: Any, programmes: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    response = client.post("/api/v1/encounters", json=encounter_body(), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["existing_person"] is False
    decisions = {d["programme"]: d for d in body["decisions"]}
    assert set(decisions) == {p.code for p in programmes}
    adult = decisions["tvp-adult-drugs"]
    assert adult["eligible"] is True and adult["reasons"]
    assert adult["case_id"] and adult["case_reference"]
    youth = decisions["tvp-youth-drugs"]
    assert youth["eligible"] is False and youth["case_id"] is None and youth["reasons"]
    encounter = db_session.get(Encounter, body["encounter_id"])
    assert encounter is not None and encounter.person_id == body["person_id"]
    assert db_session.scalar(select(Referral).where(Referral.id == adult["case_id"])) is not None


def test_the_same_person_is_found_again(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    first = client.post("/api/v1/encounters", json=encounter_body(), headers=headers).json
    second = client.post(
        "/api/v1/encounters", json=encounter_body(occurred_at="2026-03-02T10:00:00+00:00"), headers=headers
    ).json
    assert second["existing_person"] is True and second["person_id"] == first["person_id"]


def test_every_field_problem_is_listed(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    body = encounter_body(setting="moon", offence_category="drug_possession", personal_use=None)
    del body["person"]["given_name"]
    body["person"]["date_of_birth"] = "2999-01-01"
    body["person"]["pnc_id"] = "nonsense"
    body["encounter"]["surprise"] = 1
    body["encounter"]["occurred_at"] = "2099-01-01T10:00:00+00:00"
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "invalid"
    fields = {f["field"]: f["message"] for f in error["fields"]}
    assert fields["person.given_name"] == "Enter first name"
    expected = {"person.date_of_birth", "person.pnc_id", "encounter.setting", "encounter.surprise"}
    assert expected | {"encounter.occurred_at"} <= set(fields)


def test_rules_the_schema_cannot_state_are_listed_together(
    client: Any, token_for: Any, programmes: Any
) -> None:
    _, headers = token_for("officer")
    body = encounter_body(offence_category="no-such-offence", drug_class="A", personal_use=None)
    body["person"]["self_defined_ethnicity"] = "ZZ"
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json["error"]["fields"]}
    assert fields >= {"encounter.offence_category", "person.self_defined_ethnicity", "encounter.drug_class"}


def test_a_drug_offence_needs_personal_use(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    response = client.post("/api/v1/encounters", json=encounter_body(personal_use=None), headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == [
        {"field": "encounter.personal_use", "message": "Select whether the drugs were for personal use"}
    ]


def test_a_body_that_is_not_a_json_object_is_422(client: Any, token_for: Any) -> None:
    _, headers = token_for("officer")
    for data in ("not json", "[1, 2]"):
        response = client.post(
            "/api/v1/encounters", data=data, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json["error"]["fields"][0]["field"] == "body"


def test_roles_that_do_not_record_encounters_get_403(client: Any, token_for: Any) -> None:
    for role in ("analyst", "admin", "yot_caseworker"):
        _, headers = token_for(role)
        response = client.post("/api/v1/encounters", json=encounter_body(), headers=headers)
        assert response.status_code == 403, role
        assert response.json["error"]["code"] == "forbidden"


def test_an_idempotent_retry_returns_the_first_response_and_records_nothing(
    client: Any, token_for: Any, programmes: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    headers = {**headers, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/encounters", json=encounter_body(), headers=headers)
    assert first.status_code == 201
    counts = (_count(db_session, Encounter), _count(db_session, Referral), _count(db_session, AuditEntry))
    again = client.post("/api/v1/encounters", json=encounter_body(), headers=headers)
    assert again.status_code == 201
    assert again.json == first.json
    assert (_count(db_session, Encounter), _count(db_session, Referral)) == counts[:2]
    assert _count(db_session, IdempotentRequest) == 1


def test_the_same_key_with_a_different_body_is_refused(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    headers = {**headers, "Idempotency-Key": "retry-2"}
    assert client.post("/api/v1/encounters", json=encounter_body(), headers=headers).status_code == 201
    other = client.post("/api/v1/encounters", json=encounter_body(setting="custody"), headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"


def test_keys_belong_to_one_user(client: Any, token_for: Any, programmes: Any) -> None:
    _, first = token_for("officer")
    _, second = token_for("officer")
    key = {"Idempotency-Key": "shared"}
    one = client.post("/api/v1/encounters", json=encounter_body(), headers={**first, **key}).json
    two = client.post("/api/v1/encounters", json=encounter_body(), headers={**second, **key}).json
    assert one["encounter_id"] != two["encounter_id"]


def test_a_failed_request_is_not_remembered(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    headers = {**headers, "Idempotency-Key": "fixable"}
    assert (
        client.post("/api/v1/encounters", json=encounter_body(setting="x"), headers=headers).status_code
        == 422
    )
    assert client.post("/api/v1/encounters", json=encounter_body(), headers=headers).status_code == 201


def test_the_api_vocabularies_match_the_officers_form() -> None:
    from divert.api.schemas import EncounterIn

    schema = EncounterIn.model_json_schema()
    form_facts = EncounterForm.facts.kwargs["choices"]
    form_needs = EncounterForm.vulnerabilities.kwargs["choices"]
    assert schema["properties"]["facts"]["items"]["enum"] == [k for k, _ in form_facts] == list(FACTS)
    assert (
        schema["properties"]["vulnerabilities"]["items"]["enum"]
        == [k for k, _ in form_needs]
        == list(VULNERABILITIES)
    )
