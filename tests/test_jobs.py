"""Background work: imports queued as jobs and followed on a page or through the API, a real
worker running them, and the sweep's lock holding across connections."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from divert.app import jobs, migrate
from divert.app.extensions import db
from divert.background.imports import queue_import
from divert.background.sweep import LOCK, run_sweep, sweep_due
from divert.models import Encounter, Job
from divert.pathways.programmes import sync_definitions
from divert.seeding.reference import load_reference_data

from .client import parse
from .factories import PASSWORD, create_organisation, create_user
from .importing.helpers import SAMPLE, row, to_csv


@pytest.fixture
def background(app: Flask) -> Iterator[None]:
    """Every upload goes to the queue (which, in tests, runs it at once in this thread)."""
    previous = app.config["IMPORT_INLINE_BYTES"]
    app.config["IMPORT_INLINE_BYTES"] = 10
    yield
    app.config["IMPORT_INLINE_BYTES"] = previous


def _upload(client: Any, data: bytes, name: str) -> Any:
    return client.submit(
        "/admin/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_a_large_upload_becomes_a_job_whose_page_shows_the_result(
    client: Any, signed_in: Any, db_session: Session, background: None, make_user: Any
) -> None:
    sync_definitions(db_session)
    admin = signed_in("admin")
    response = _upload(client, SAMPLE.read_bytes(), "sample.csv")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/admin/import/jobs/" in location
    page = parse(client.get(location))
    assert page.find(attrs={"data-testid": "job-state"}).get_text(strip=True) == "Finished"
    counts = page.find(attrs={"data-testid": "import-counts"}).get_text()
    assert "Encounters added" in counts and "14" in counts
    # A finished job's page no longer reloads itself.
    assert page.find("meta", attrs={"http-equiv": "refresh"}) is None
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 14
    job = db_session.scalar(select(Job).where(Job.started_by_id == admin.id))
    assert job is not None and job.payload is None and job.result and job.result["rows"] == 14

    other = create_organisation(db_session, code="wmp", name="West Midlands Police")
    outsider = make_user("admin", other)
    with client.application.test_client() as second:
        assert second.sign_in(outsider.email, PASSWORD).status_code == 302
        assert second.get(location).status_code == 404


def test_a_job_with_problems_lists_them_and_imports_nothing(
    client: Any, signed_in: Any, db_session: Session, background: None
) -> None:
    sync_definitions(db_session)
    signed_in("admin")
    response = _upload(client, to_csv([row(gender="x"), row(encounter_ref="T-2", surname="")]), "bad.csv")
    page = parse(client.get(response.headers["Location"]))
    assert page.find(attrs={"data-testid": "job-state"}).get_text(strip=True) == "Failed"
    assert (
        "The file has 2 problems; nothing was imported"
        in page.find(attrs={"data-testid": "error-summary"}).get_text()
    )
    cells = [
        [td.get_text(strip=True) for td in tr.find_all("td")] for tr in page.select("#problems tbody tr")
    ]
    assert ["3", "surname", "Enter the surname"] in cells
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 0


def test_a_queued_job_page_reloads_itself(client: Any, signed_in: Any, db_session: Session) -> None:
    admin = signed_in("admin")
    job = Job(kind="import", status="running", organisation_id=admin.organisation_id, name="big.csv")
    db_session.add(job)
    db_session.flush()
    jobs.put_progress(job.id, {"checked": 5000, "rows": 100000, "written": 0, "to_write": 0})
    page = parse(client.get(f"/admin/import/jobs/{job.id}"))
    assert page.find("meta", attrs={"http-equiv": "refresh"}) is not None
    assert "5000 of 100000 rows checked" in page.find(attrs={"data-testid": "job-status"}).get_text()
    jobs.clear_progress(job.id)


@pytest.fixture
def real_database(empty_database: Session) -> Iterator[Session]:
    """A committed database (not the rolled-back transaction), as a worker in another process sees it."""
    assert db.engine is not None
    migrate.upgrade(db.engine)
    load_reference_data(empty_database)
    sync_definitions(empty_database)
    empty_database.commit()
    yield empty_database


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[None]:
    """A real Huey consumer on a SQLite queue file of the test's own, in threads of this process."""
    jobs.huey.storage_kwargs["filename"] = str(tmp_path / "queue.sqlite")
    jobs.huey.immediate = False
    consumer = jobs.huey.create_consumer(
        workers=1,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        max_delay=0.2,
        check_worker_health=False,
    )
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)
        jobs.huey.immediate = True


def test_a_real_worker_runs_a_queued_import(real_database: Session, worker: None) -> None:
    session = real_database
    org = create_organisation(session, code="tvp", name="Thames Valley Police")
    admin = create_user(session, role="admin", organisation=org)
    job = queue_import(session, SAMPLE.read_bytes(), "sample.csv", admin)
    session.commit()  # the job is queued once it is committed
    job_id = job.id
    deadline = time.monotonic() + 60
    status = "queued"
    while time.monotonic() < deadline and status not in ("done", "failed"):
        time.sleep(0.3)
        # SQLite: while the worker writes, a reader that begins may time out waiting its turn.
        with contextlib.suppress(OperationalError):
            status = session.scalar(select(Job.status).where(Job.id == job_id)) or ""
        # End the read at once: on SQLite every transaction here takes the write lock.
        session.rollback()
    session.rollback()
    done = session.get(Job, job_id)
    assert done is not None and status == "done", done.message if done else None
    assert done.result is not None and done.result["encounters"] == 14 and done.result["written"] == 14
    assert session.scalar(select(func.count()).select_from(Encounter)) == 14


def test_two_sweeps_started_together_run_once(app: Flask, real_database: Session) -> None:
    assert db.engine is not None
    engine = db.engine
    barrier = threading.Barrier(2)
    held: list[bool] = []

    def contend() -> None:
        barrier.wait()
        with jobs.job_lock(engine, LOCK) as got:
            held.append(got)
            time.sleep(0.5)  # long enough that the other is certainly trying meanwhile

    threads = [threading.Thread(target=contend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(held) == [False, True]

    # While one sweep holds the lock, another (the worker's, or `flask sweep`) does nothing.
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with jobs.job_lock(engine, LOCK) as got:
            assert got
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    with app.app_context():
        assert run_sweep() is None
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code != 0 and "A sweep is already running" in result.output
    release.set()
    holder.join()
    with app.app_context():
        report = run_sweep()
    assert report is not None
    session = real_database
    session.rollback()
    sweeps = session.scalars(select(Job).where(Job.kind == "sweep")).all()
    assert [job.status for job in sweeps] == ["done"]


def test_the_nightly_sweep_is_due_at_sweep_at_in_uk_time(app: Flask) -> None:
    with app.app_context():
        assert app.config["SWEEP_AT"] == "02:00"
        # Huey's scheduler passes naive UTC minutes; 02:00 in London is 01:00 UTC in summer.
        assert sweep_due(datetime(2026, 7, 1, 1, 0))
        assert not sweep_due(datetime(2026, 7, 1, 2, 0))
        assert sweep_due(datetime(2026, 12, 1, 2, 0))
        assert not sweep_due(datetime(2026, 12, 1, 2, 1))
