"""The OpenAPI document describes every API route, and schemathesis finds nothing it breaks."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from ..pathways.helpers import open_case, refer, staff

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


def test_the_document_covers_every_api_route(app: Flask, client: Any, token_for: Any) -> None:
    _, headers = token_for("analyst")
    response = client.get("/api/v1/openapi.json", headers=headers)
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routed = {
        (rule.rule.replace("<int:", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and not rule.rule.endswith("openapi.json")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    encounters = document["paths"]["/api/v1/encounters"]["post"]
    assert {"201", "401", "403", "422"} <= set(encounters["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in encounters["parameters"])


def test_the_document_needs_a_token(client: Any) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 401


@pytest.fixture
def api_schema(app: Flask, token_for: Any, programmes: Any, db_session: Any) -> Any:
    """The live document, fetched with a supervisor's token; the force has a referred case."""
    supervisor, headers = token_for("supervisor")
    officer = staff(db_session, "officer", supervisor.organisation)
    refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    schema.app_headers = headers  # type: ignore[attr-defined]  # carried to the test below
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    # The per-test database transaction is the fixture; every example runs inside it.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_every_response_matches_the_schema(case: Any, api_schema: Any) -> None:
    case.call_and_validate(headers=api_schema.app_headers, checks=CHECKS)
