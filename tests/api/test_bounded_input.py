"""Hostile bodies and ids on the API: structured JSON errors, never a 500, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from divert.app.extensions import db
from divert.models import Encounter, Person

from ..pathways.helpers import days_ago, open_case, refer, staff
from .payloads import encounter_body

TOO_BIG = 2**31


def _people(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Person)) or 0


def test_a_body_over_the_request_limit_is_a_413_json_error(
    client: Any, token_for: Any, app: Flask, programmes: Any
) -> None:
    _, headers = token_for("officer")
    body = b'{"person": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    response = client.post(
        "/api/v1/encounters", data=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize("depth", [101, 100_000])
def test_deeply_nested_json_is_a_400_structured_error(
    client: Any, token_for: Any, programmes: Any, depth: int
) -> None:
    _, headers = token_for("officer")
    bodies = ["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth]
    if depth > 1000:
        bodies.append("[" * depth)  # unclosed: Python's parser recurses as deep before it fails
    for body in bodies:
        response = client.post(
            "/api/v1/encounters", data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, body[:20]
        assert response.json["error"]["code"] == "too_deep"
        assert response.json["error"]["fields"][0]["field"] == "body"


def test_json_nested_within_the_limit_is_read_as_usual(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    body = encounter_body()
    body["encounter"]["facts"] = [[[["lives_in_area"]]]]
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422  # a field problem, not the depth
    assert response.json["error"]["fields"][0]["field"].startswith("encounter.facts")


def test_a_nul_in_a_name_is_a_422_field_error_and_nothing_is_stored(
    client: Any, token_for: Any, programmes: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    before = _people(db_session)
    body = encounter_body()
    body["person"]["given_name"] = "Sam\x00"
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == [
        {"field": "person.given_name", "message": "Text must not contain NUL characters"}
    ]
    assert _people(db_session) == before


def test_text_beyond_its_limit_is_a_422_field_error(
    client: Any, token_for: Any, programmes: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    body = encounter_body(drug_type="x" * 81)
    body["person"]["family_name"] = "y" * 101
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422
    assert {f["field"] for f in response.json["error"]["fields"]} == {
        "person.family_name",
        "encounter.drug_type",
    }


def test_a_nul_in_an_idempotency_key_is_refused(client: Any, token_for: Any, programmes: Any) -> None:
    _, headers = token_for("officer")
    response = client.post(
        "/api/v1/encounters", json=encounter_body(), headers={**headers, "Idempotency-Key": "k\x00y"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("value", [str(TOO_BIG), "99999999999999999999", "-1", "0"])
def test_ids_out_of_range_are_404_json(client: Any, token_for: Any, value: str) -> None:
    _, headers = token_for("supervisor")
    for method, path in (
        ("get", f"/api/v1/people/{value}/encounters"),
        ("get", f"/api/v1/people/{value}/export"),
        ("get", f"/api/v1/referrals/{value}"),
        ("post", f"/api/v1/referrals/{value}/steps"),
        ("post", f"/api/v1/contacts/{value}/attendance"),
    ):
        response = getattr(client, method)(path, headers=headers, json={})
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"


def test_malformed_and_huge_versions_are_422_field_errors(
    client: Any, token_for: Any, db_session: Session
) -> None:
    worker, headers = token_for("supervisor")
    officer = staff(db_session, "officer", worker.organisation)
    case = refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    for version in ("abc", 2**31, 10**40, -1, 1.5, [1], None):
        response = client.post(
            f"/api/v1/referrals/{case.id}/steps",
            json={"to_state": "engaged", "version": version},
            headers=headers,
        )
        assert response.status_code == 422, version
        assert response.json["error"]["fields"][0]["field"] == "version"


def test_a_number_with_thousands_of_digits_is_refused_not_500(
    client: Any, token_for: Any, db_session: Session
) -> None:
    worker, headers = token_for("supervisor")
    officer = staff(db_session, "officer", worker.organisation)
    case = refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    response = client.post(
        f"/api/v1/referrals/{case.id}/steps",
        data='{"to_state": "engaged", "version": ' + "9" * 5000 + "}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-divert-folder/none.sqlite",
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
    ],
)
def test_a_database_outage_is_a_503_json_error_with_retry_after(
    client: Any, token_for: Any, url: str
) -> None:
    _, headers = token_for("officer")
    previous = db.factory.kw["bind"]
    broken = create_engine(url)
    db.factory.configure(bind=broken)
    try:
        response = client.get("/api/v1/programmes", headers=headers)
    finally:
        db.factory.configure(bind=previous)
        broken.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json["error"]["code"] == "service_unavailable"


def test_attendance_notes_are_bounded_like_the_form(client: Any, token_for: Any, db_session: Session) -> None:
    from divert.pathways.casework import schedule_contact

    worker, headers = token_for("supervisor")
    officer = staff(db_session, "officer", worker.organisation)
    case = refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    contact = schedule_contact(db_session, worker, case, kind="contact", scheduled_at=days_ago(1))
    response = client.post(
        f"/api/v1/contacts/{contact.id}/attendance",
        json={"attendance": "missed", "missed_reason": "m" * 501, "notes": "n" * 2001, "version": 0},
        headers=headers,
    )
    assert response.status_code == 422
    assert {f["field"] for f in response.json["error"]["fields"]} == {"missed_reason", "notes"}
    assert db_session.scalar(select(func.count()).select_from(Encounter)) >= 1
