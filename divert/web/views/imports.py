"""Administrators' bulk import of encounters: upload a file, see every problem or what was added."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, render_template, request
from flask_login import current_user

from divert.app.extensions import db
from divert.auth import requires
from divert.pathways.importing import ImportFailed, ImportResult, Problem, import_file
from divert.pathways.importing.parse import too_large_for, too_many_rows

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

# A file the request can check and write well inside a worker's timeout, and (on SQLite) without
# holding the write lock long enough to time other writers out: an import holds it from its first
# query to its commit, and 5,000 rows held it 1.5 to 4.5 seconds on a loaded two-core machine,
# against the 15 seconds other writers wait (divert/app/db.py); 2,000 rows hold it about two.
# Bigger files are for a background import (planned; until then `flask --app divert import`).
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_UPLOAD_ROWS = 2_000
TOO_LARGE = (
    "Files of more than 1 MB or 2,000 rows are imported in the background, which is not available yet. "
    "Split the file into smaller ones, or ask your system administrator to import it with the command"
)
SHOWN = 500  # problems listed on the page; the rest are counted


@bp.route("", methods=["GET", "POST"])
@requires("import_records")
def upload() -> tuple[str, int]:
    error, problems, result = "", list[Problem](), None
    if request.method == "POST":
        error, problems, result = _import()
    page = render_template(
        "imports/upload.html", error=error, problems=problems[:SHOWN], total=len(problems), result=result
    )
    # An error status makes the request roll back, so a failed import leaves nothing behind.
    return page, 400 if error or problems else 200


def _import() -> tuple[str, list[Problem], ImportResult | None]:
    # End the transaction the sign-in check opened: on SQLite it holds the write lock, which must
    # not be held while a file arrives and is read, only while its rows are written.
    db.session.commit()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "Select a CSV or Excel (.xlsx) file", [], None
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return TOO_LARGE, [], None
    name = PurePath(upload.filename.replace("\\", "/")).name[:100]
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
            return TOO_LARGE, [], None
        return "", failed.problems, None
    return "", [], result
