"""Identity under real parallel requests (issue 12, finding 4), on PostgreSQL.

The app is served by a real threaded HTTP server against a database of its own, built by the
real migrations; every request commits for real, so these tests cannot share the rolled-back
transaction of the others. SQLite is skipped: every write transaction there starts with BEGIN
IMMEDIATE, so requests queue and the race cannot happen.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from divert.api import tokens
from divert.app import migrate
from divert.app.extensions import db
from divert.models import Organisation, Person, Programme, Referral
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.seeding.reference import load_reference_data

from .api.payloads import encounter_body
from .database import scratch_database, server_url
from .factories import create_organisation, create_user
from .pathways.helpers import open_case, refer

PARALLEL = 20

pytestmark = pytest.mark.skipif(
    server_url() is None, reason="SQLite serialises writers (BEGIN IMMEDIATE): the race needs PostgreSQL"
)


@pytest.fixture
def committed(app: Flask, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of its own that the app's requests commit to, for this test only."""
    with scratch_database(tmp_path, "race") as (_, engine):
        migrate.upgrade(engine)
        with Session(engine) as session:
            load_reference_data(session)
            session.commit()
        previous = db.engine
        db.engine = engine
        db.factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        try:
            yield engine
        finally:
            db.engine = previous
            db.factory.configure(bind=previous)


@pytest.fixture
def server(app: Flask, committed: Engine) -> Iterator[tuple[str, int]]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


def _force_with_token(engine: Engine, role: str = "officer") -> tuple[int, str]:
    with Session(engine) as session:
        sync_definitions(session)
        force = create_organisation(session, kind="police_force")
        for programme in session.scalars(select(Programme).where(Programme.active.is_(True))):
            assign_operator(session, programme, force.id, "police")
        user = create_user(session, role, force)
        secret = tokens.create(session, user, "race test", created_by=None).secret
        session.commit()
        return force.id, secret


def _request(
    address: tuple[str, int], method: str, path: str, secret: str, body: Any = None
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(*address, timeout=120)
    try:
        payload = None if body is None else json.dumps(body)
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _in_parallel(address: tuple[str, int], calls: list[tuple[str, str, str, Any]]) -> list[tuple[int, Any]]:
    # One request first, so that the token's "last used" is already written and the parallel
    # requests do not queue on that row instead of racing (api/tokens.py).
    _request(address, "GET", "/api/v1/programmes", calls[0][2])
    barrier = threading.Barrier(len(calls))

    def call(args: tuple[str, str, str, Any]) -> tuple[int, Any]:
        barrier.wait()
        return _request(address, *args)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(call, calls))


def _people(engine: Engine, organisation_id: int, **where: Any) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(Person).where(Person.organisation_id == organisation_id)
        for field, value in where.items():
            statement = statement.where(getattr(Person, field) == value)
        return session.scalar(statement) or 0


def test_parallel_recordings_of_one_new_person_make_one_person(
    server: tuple[str, int], committed: Engine
) -> None:
    force, secret = _force_with_token(committed)
    body = encounter_body()
    results = _in_parallel(server, [("POST", "/api/v1/encounters", secret, body)] * PARALLEL)
    assert Counter(status for status, _ in results) == {201: PARALLEL}
    assert len({answer["person_id"] for _, answer in results}) == 1
    assert sorted(answer["existing_person"] for _, answer in results) == [False] + [True] * (PARALLEL - 1)
    assert _people(committed, force) == 1


def test_parallel_recordings_of_one_pnc_id_make_one_person(
    server: tuple[str, int], committed: Engine
) -> None:
    force, secret = _force_with_token(committed)
    bodies = []
    for n in range(10):
        body = encounter_body()
        # The same PNC ID under ten spellings of a name: the PNC ID alone says who it is.
        body["person"].update(given_name=f"Sam{'m' * n}", pnc_id="90/123456P")
        bodies.append(("POST", "/api/v1/encounters", secret, body))
    results = _in_parallel(server, bodies)
    assert Counter(status for status, _ in results) == {201: 10}
    assert len({answer["person_id"] for _, answer in results}) == 1
    assert _people(committed, force, pnc_id="90/123456P") == 1


def test_parallel_steps_with_one_version_are_one_step_and_the_rest_409(
    server: tuple[str, int], committed: Engine
) -> None:
    force, secret = _force_with_token(committed, role="supervisor")
    with Session(committed) as session:
        officer = create_user(session, "officer", session.get_one(Organisation, force))
        case_id = refer(session, officer, open_case(session, "tvp-adult-drugs", officer)).id
        session.commit()
    status, before = _request(server, "GET", f"/api/v1/referrals/{case_id}", secret)
    assert status == 200
    step = {
        "to_state": before["next_steps"][0]["to_state"],
        "reason": "Moving on",
        "version": before["version"],
    }
    results = _in_parallel(server, [("POST", f"/api/v1/referrals/{case_id}/steps", secret, step)] * PARALLEL)
    assert Counter(status for status, _ in results) == {200: 1, 409: PARALLEL - 1}
    refused = [answer["error"] for status, answer in results if status == 409]
    assert all(e["code"] == "conflict" and "The case is now" in e["message"] for e in refused)
    with Session(committed) as session:
        case = session.get_one(Referral, case_id)
        # One step taken; its version moved on (a step may write the case more than once: its
        # milestones and the notices it raises), and every other attempt was refused.
        assert case.state == step["to_state"] and case.version_id > before["version"]
