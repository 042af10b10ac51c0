"""Imports submitted through the API run as background jobs, each visible only to its organisation."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.orm import Session

from divert.pathways.programmes import sync_definitions

from ..factories import create_organisation
from ..importing.helpers import SAMPLE
from .conftest import auth


def test_the_api_submits_an_import_and_follows_its_job(
    db_session: Session, token_for: Any, client: Any
) -> None:
    sync_definitions(db_session)
    _, headers = token_for("admin")
    body = {"filename": "sample.csv", "content_base64": base64.b64encode(SAMPLE.read_bytes()).decode()}
    submitted = client.post("/api/v1/imports", json=body, headers=headers)
    assert submitted.status_code == 202, submitted.get_json()
    url = submitted.get_json()["url"]
    followed = client.get(url, headers=headers).get_json()
    assert followed["status"] == "done" and followed["result"]["encounters"] == 14
    bad = client.post("/api/v1/imports", json={**body, "content_base64": "not base64!"}, headers=headers)
    assert bad.status_code == 422
    other = create_organisation(db_session, code="wmp", name="West Midlands Police")
    _, outsider = token_for("admin", other)
    assert client.get(url, headers=outsider).status_code == 404
    assert client.get(url, headers=auth("nonsense")).status_code == 401
