"""On SQLite an upload must not lock other writers out: real parallel requests on a real file.

SQLite has one writer at a time; others wait up to its busy timeout (15 s) and then fail with
"database is locked" (a 503). The upload page takes files an import writes well inside that, and
reads the file before it takes the lock, so API writes made during an upload wait and succeed.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.app import migrate
from divert.app.extensions import db
from divert.models import Encounter, Programme
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.seeding.reference import load_reference_data
from divert.web.views.imports import MAX_UPLOAD_ROWS

from .api.payloads import encounter_body
from .client import PageClient
from .database import server_url
from .factories import PASSWORD, create_organisation, create_user
from .importing.helpers import row, to_csv


@pytest.mark.skipif(server_url() is not None, reason="SQLite's single writer; PostgreSQL has row locks")
def test_api_writes_during_a_full_size_upload_wait_and_succeed(
    app: Flask, empty_database: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The largest file imported within the request, whatever its size in bytes.
    monkeypatch.setitem(app.config, "IMPORT_INLINE_BYTES", 10 * 1024 * 1024)
    assert db.engine is not None
    migrate.upgrade(db.engine)
    session = empty_database
    load_reference_data(session)
    sync_definitions(session)
    force = create_organisation(session, kind="police_force")
    for programme in session.scalars(select(Programme).where(Programme.active.is_(True))):
        assign_operator(session, programme, force.id, "police")
    admin = create_user(session, "admin", force)
    officer = create_user(session, "officer", force)
    secret = tokens.create(session, officer, "parallel", created_by=None).secret
    session.commit()
    data = to_csv([row(encounter_ref=f"LOCK-{n}", surname=f"Locked{n}") for n in range(MAX_UPLOAD_ROWS)])

    upload_client: Any = app.test_client()
    assert upload_client.sign_in(admin.email, PASSWORD).status_code == 302
    token = upload_client.csrf_token("/admin/import")
    results: dict[str, Any] = {"api": []}

    def upload() -> None:
        results["upload_started"] = time.perf_counter()
        results["upload"] = upload_client.post(
            "/admin/import",
            data={"csrf_token": token, "file": (io.BytesIO(data), "lock.csv")},
            content_type="multipart/form-data",
        ).status_code
        results["upload_ended"] = time.perf_counter()

    def record(n: int) -> None:
        results.setdefault("api_started", []).append(time.perf_counter())
        client = PageClient(app, app.response_class)
        body = encounter_body()
        body["person"]["family_name"] = f"Parallel{n}"
        response = client.post("/api/v1/encounters", json=body, headers={"Authorization": f"Bearer {secret}"})
        results["api"].append(response.status_code)

    uploading = threading.Thread(target=upload)
    uploading.start()
    time.sleep(0.3)  # the upload is being read and written
    writers = [threading.Thread(target=record, args=(n,)) for n in range(6)]
    for thread in writers:
        thread.start()
        time.sleep(0.1)
    for thread in [uploading, *writers]:
        thread.join(timeout=60)

    assert results["upload"] == 200
    # The writes really met the upload: most of them were sent while it was being imported.
    during = [t for t in results["api_started"] if results["upload_started"] < t < results["upload_ended"]]
    assert len(during) >= 3
    assert sorted(results["api"]) == [201] * 6
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Encounter)) == MAX_UPLOAD_ROWS + 6
