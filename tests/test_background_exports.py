"""Large audit exports are made by the worker: asked for with a POST, followed on a page, downloaded
by the one who asked; and a read-only progress page stays live on SQLite while a writer holds the lock."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app import migrate
from divert.models import AuditEntry, Job, audit
from divert.seeding.reference import load_reference_data

from .client import PageClient, parse
from .database import server_url
from .factories import PASSWORD, create_organisation, create_user


def _fill(session: Session, actor: Any, n: int) -> None:
    for i in range(n):
        audit.record(session, actor, "view", "person", i + 1, detail=f"entry {i}")
    session.flush()


def _csv(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text)))


def test_a_large_export_is_made_in_the_background_and_matches_the_inline_file(
    app: Flask, client: PageClient, signed_in: Any, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = signed_in("admin")
    _fill(db_session, admin, 30)
    query = {"action": "view"}
    inline = client.get("/admin/audit/export.csv", query_string=query)
    assert inline.status_code == 200 and inline.mimetype == "text/csv"

    monkeypatch.setitem(app.config, "AUDIT_EXPORT_INLINE_ROWS", 10)
    start = client.get("/admin/audit/export.csv", query_string=query)
    assert start.status_code == 200
    page = parse(start)
    assert "holds 30 entries" in page.find(attrs={"data-testid": "export-size"}).get_text()
    assert db_session.scalar(select(Job).where(Job.kind == "export")) is None  # a GET starts nothing

    token = str(page.find("input", attrs={"name": "csrf_token"})["value"])
    queued = client.post("/admin/audit/export.csv?action=view", data={"csrf_token": token})
    assert queued.status_code == 302
    job_url = queued.headers["Location"]
    # The tests' queue runs a task as soon as the request commits, as the worker would shortly after.
    done = parse(client.get(job_url))
    assert "Your file is ready" in done.get_text()
    link = done.find(attrs={"data-testid": "export-download"})["href"]
    exports_before = db_session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "export").order_by(AuditEntry.id.desc())
    )
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    background_rows, inline_rows = _csv(download.data), _csv(inline.get_data(as_text=True))
    # The same search, the same file: only the export's own later audit entries can differ.
    assert background_rows[0] == inline_rows[0]
    assert len(background_rows) >= len(inline_rows) and background_rows[-30:] == inline_rows[-30:]
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.id != exports_before and "made in the background" in entry.detail


def test_an_export_is_its_askers_alone(
    app: Flask, client: PageClient, signed_in: Any, make_user: Any, db_session: Session, org: Any
) -> None:
    admin = make_user("admin")
    colleague = make_user("admin")
    elsewhere = create_organisation(db_session, name="Surrey Police")
    stranger = create_user(db_session, "admin", elsewhere)
    job = Job(
        kind="export",
        status="done",
        organisation_id=org.id,
        started_by_id=admin.id,
        name="audit.csv",
        params={"export": "audit_csv", "filters": {}},
        output=b"When\n",
        done=0,
    )
    db_session.add(job)
    db_session.flush()
    for other in (colleague, stranger):
        other_client: Any = app.test_client()
        assert other_client.sign_in(other.email, PASSWORD).status_code == 302
        assert other_client.get(f"/admin/audit/exports/{job.id}").status_code == 404
        assert other_client.get(f"/admin/audit/exports/{job.id}/file").status_code == 404
    mine: Any = app.test_client()
    assert mine.sign_in(admin.email, PASSWORD).status_code == 302
    assert mine.get(f"/admin/audit/exports/{job.id}/file").status_code == 200
    analyst = make_user("analyst")
    theirs: Any = app.test_client()
    assert theirs.sign_in(analyst.email, PASSWORD).status_code == 302
    assert theirs.get(f"/admin/audit/exports/{job.id}").status_code == 403


@pytest.mark.skipif(
    server_url() is not None, reason="SQLite's single writer; PostgreSQL reads beside writers"
)
def test_a_progress_page_is_served_while_another_connection_holds_the_write_lock(
    app: Flask, empty_database: Session
) -> None:
    session = empty_database
    engine = session.get_bind()
    migrate.upgrade(engine)  # type: ignore[arg-type]
    load_reference_data(session)
    force = create_organisation(session, kind="police_force")
    admin = create_user(session, "admin", force)
    job = Job(
        kind="import", status="running", organisation_id=force.id, started_by_id=admin.id, name="big.csv"
    )
    session.add(job)
    session.commit()
    client: Any = app.test_client()
    assert client.sign_in(admin.email, PASSWORD).status_code == 302

    with engine.connect() as writer:  # type: ignore[union-attr]
        writer.begin()  # BEGIN IMMEDIATE: the write lock, as a long import in the worker holds it
        began = time.perf_counter()
        response = client.get(f"/admin/import/jobs/{job.id}")
        waited = time.perf_counter() - began
        writer.rollback()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "Importing big.csv" in response.get_data(as_text=True)
    # Well inside the 15 s a page that writes would wait for the lock before failing.
    assert waited < 5


def test_the_import_page_takes_files_larger_than_any_other_request(
    app: Flask, client: PageClient, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .importing.helpers import row, to_csv

    signed_in("admin")
    token = client.csrf_token("/admin/import")
    data = to_csv([row(encounter_ref=f"BIG-{n}", surname=f"Bigfile{n}") for n in range(40)])
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(data) // 2)
    # Anywhere else a body that size is refused before any view reads it...
    refused = client.post("/sign-out", data={"csrf_token": token, "pad": "x" * len(data)})
    assert refused.status_code == 413
    # ...but the import page takes the whole file (and hands it to the worker, being large).
    monkeypatch.setitem(app.config, "IMPORT_INLINE_BYTES", len(data) // 4)
    taken = client.post(
        "/admin/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "big.csv")},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 302 and "/admin/import/jobs/" in taken.headers["Location"]
    monkeypatch.setitem(app.config, "IMPORT_MAX_MB", 0)
    too_big = client.post(
        "/admin/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "big.csv")},
        content_type="multipart/form-data",
    )
    # Over the page's own limit: the page says so (the body limit leaves room for the form around it).
    assert too_big.status_code == 400
    assert "must be smaller than 0 MB" in too_big.get_data(as_text=True)
