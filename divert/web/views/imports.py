"""Administrators' bulk import of encounters: upload a file, see every problem or what was added."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, render_template, request
from flask_login import current_user

from divert.app.extensions import db
from divert.auth import requires
from divert.pathways.importing import ImportFailed, ImportResult, Problem, import_file

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

# Around 50,000 rows of CSV. Bigger files belong to `flask --app divert import`, which shows progress
# and is not cut off by a proxy's request timeout.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
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
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "Select a CSV or Excel (.xlsx) file", [], None
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return "The selected file must be smaller than 10 MB; import larger files with the command", [], None
    name = PurePath(upload.filename.replace("\\", "/")).name[:100]
    try:
        result = import_file(
            db.session, data, name, organisation_id=current_user.organisation_id, actor=current_user
        )
    except ImportFailed as failed:
        return "", failed.problems, None
    return "", [], result
