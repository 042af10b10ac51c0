"""A 100,000-row import in a real browser, run by a real worker: the upload page hands the file
(about 15 MB, over the app's usual request limit) to the queue, and the job page follows it,
reloading itself, to its result. On SQLite and PostgreSQL.

On SQLite the worker holds the single write lock for the whole import (it is all or nothing); the
job page is a read-only view (``divert.app.db.reads_only``), which begins its transaction without
the lock, so it is served beside the writer instead of waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from divert.app import jobs

from ..importing.helpers import row, to_csv
from .pages import LiveServer, open_signed_in

pytestmark = pytest.mark.browser
ROWS = 100_000


@pytest.fixture
def worker(live_server: LiveServer, tmp_path: Path) -> Iterator[None]:
    """The live server's app with a real Huey consumer beside it, as `make run` has."""
    app = jobs.current_app()
    inline = app.config["IMPORT_INLINE_BYTES"]
    app.config["IMPORT_INLINE_BYTES"] = 64 * 1024
    jobs.huey.storage_kwargs["filename"] = str(tmp_path / "queue.sqlite")
    jobs.huey.immediate = False
    consumer = jobs.huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, max_delay=0.5, check_worker_health=False
    )
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)
        jobs.huey.immediate = True
        app.config["IMPORT_INLINE_BYTES"] = inline


def _file(path: Path) -> Path:
    rows = [
        row(
            encounter_ref=f"BG-{i:05d}",
            forenames=f"Given{i % 3000}",
            surname="Backgroundcase",
            date_of_birth=f"{2008 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            occurred_at=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:10",
        )
        for i in range(ROWS)
    ]
    path.write_bytes(to_csv(rows))
    return path


def test_a_large_import_runs_in_the_background_with_progress_and_its_result(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, worker: None, tmp_path: Path
) -> None:
    page = open_signed_in(new_context, live_server.users["admin"])
    page.goto("/admin/import")
    page.get_by_label("File").set_input_files(str(_file(tmp_path / "large.csv")))
    page.get_by_role("button", name="Check and import").click()
    # The request returns at once with the job's page, which reloads itself while the worker works.
    page.wait_for_url("**/admin/import/jobs/*")
    expect(page.locator("h1")).to_contain_text("large.csv")
    expect(page.get_by_test_id("job-state")).to_have_text("Running", timeout=60_000)
    # Progress while it runs: some rows checked, not yet all of them imported.
    expect(page.get_by_test_id("job-status")).to_contain_text(f"of {ROWS} rows checked", timeout=120_000)
    expect(page.get_by_test_id("import-result")).to_contain_text(f"{ROWS} rows checked", timeout=900_000)
    counts = page.get_by_test_id("import-counts")
    expect(counts).to_contain_text("Encounters added")
    expect(page.get_by_test_id("count-1")).to_have_text(str(ROWS))
    expect(page.get_by_test_id("job-state")).to_have_text("Finished")
