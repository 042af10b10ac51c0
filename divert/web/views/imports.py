"""Administrators' bulk import of encounters: upload a file, see every problem or what was added.

Small files are imported within the request; larger ones are held in a job and imported by the
worker (divert/background/imports.py), with a page that follows its progress.
"""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from divert.app import jobs
from divert.app.db import reads_only
from divert.app.extensions import db
from divert.app.uploads import largest_file, takes_files
from divert.auth import requires
from divert.background.imports import queue_import
from divert.models import Job
from divert.pathways.importing import ImportFailed, ImportResult, Problem, import_file
from divert.pathways.importing.parse import too_large_for, too_many_rows

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

# Within the request only what holds SQLite's write lock briefly (2,000 rows held it about two
# seconds on a loaded two-core machine, against the 15 s other writers wait): more goes to the worker.
MAX_UPLOAD_ROWS = 2_000
SHOWN = 500  # problems listed on the page; the rest are counted


# Every other request keeps the app's small MAX_CONTENT_LENGTH; this page takes whole files (the
# worker imports the large ones, so no request timeout cuts them off).
@bp.route("", methods=["GET", "POST"])
@takes_files
@requires("import_records")
def upload() -> tuple[str, int] | Response:
    error, problems, result = "", list[Problem](), None
    if request.method == "POST":
        outcome = _import()
        if isinstance(outcome, Job):
            return redirect(url_for("imports.job", job_id=outcome.id))
        error, problems, result = outcome
    page = render_template(
        "imports/upload.html",
        error=error,
        problems=problems[:SHOWN],
        total=len(problems),
        result=result,
        largest_mb=_largest() // (1024 * 1024),
    )
    # An error status makes the request roll back, so a failed import leaves nothing behind.
    return page, 400 if error or problems else 200


@bp.route("/jobs/<int:job_id>")
@reads_only
@requires("import_records")
def job(job_id: int) -> str:
    found = db.session.get(Job, job_id)
    # Another organisation's job is not there at all, as far as this user can tell.
    if found is None or found.kind != "import" or found.organisation_id != current_user.organisation_id:
        abort(404)
    live = {} if found.finished else jobs.progress(found.id)
    return render_template("imports/job.html", job=found, live=live)


def _largest() -> int:
    return largest_file()


def _import() -> tuple[str, list[Problem], ImportResult | None] | Job:
    # End the transaction the sign-in check opened: on SQLite it holds the write lock, which must
    # not be held while a file arrives and is read, only while its rows are written.
    db.session.commit()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "Select a CSV or Excel (.xlsx) file", [], None
    largest = _largest()
    data = upload.read(largest + 1)
    if len(data) > largest:
        return f"The selected file must be smaller than {largest // (1024 * 1024)} MB", [], None
    name = PurePath(upload.filename.replace("\\", "/")).name[:100]
    if len(data) > current_app.config["IMPORT_INLINE_BYTES"]:
        return queue_import(db.session, data, name, current_user)
    try:
        result = import_file(
            db.session,
            data,
            name,
            organisation_id=current_user.organisation_id,
            actor=current_user,
            max_rows=MAX_UPLOAD_ROWS,
        )
    except ImportFailed as failed:
        limits = {too_many_rows(MAX_UPLOAD_ROWS), too_large_for(MAX_UPLOAD_ROWS)}
        if any(problem.message in limits for problem in failed.problems):
            # Small in bytes but long in rows: the worker imports it (checked before anything is
            # written, so nothing of this attempt is in the session).
            return queue_import(db.session, data, name, current_user)
        return "", failed.problems, None
    return "", [], result
