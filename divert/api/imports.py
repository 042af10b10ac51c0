"""Imports through the API: a file is submitted, imported in the background, and followed as a job."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import PurePath
from typing import Any

from flask import url_for
from flask_login import current_user
from pydantic import BaseModel, Field
from werkzeug.exceptions import NotFound

from divert.api import bp
from divert.api.errors import FieldProblem, Invalid
from divert.api.spec import operation
from divert.app.extensions import db
from divert.app.uploads import largest_file, takes_files
from divert.background.imports import queue_import
from divert.models import Job


class ImportSubmission(BaseModel):
    filename: str = Field(min_length=1, max_length=100, description="Ends .csv or .xlsx")
    content_base64: str = Field(description="The file's bytes, base64-encoded")


class JobOut(BaseModel):
    id: int
    kind: str
    status: str = Field(description="queued, running, done or failed")
    name: str
    done: int = Field(description="Rows checked so far (imports)")
    total: int
    message: str
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


def _out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        name=job.name,
        done=job.done,
        total=job.total,
        message=job.message,
        result=job.result,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=url_for("api.get_job", job_id=job.id, _external=True),
    )


@operation(
    bp,
    "/imports",
    method="POST",
    status=202,
    summary="Submit a file of encounters to import in the background",
    ability="import_records",
    body=ImportSubmission,
    response=JobOut,
)
@takes_files
def submit_import(body: ImportSubmission) -> JobOut:
    """Checked and imported all or nothing by the worker; follow it at the job's ``url``."""
    name = PurePath(body.filename.replace("\\", "/")).name
    if not name.lower().endswith((".csv", ".xlsx")):
        raise Invalid([FieldProblem("filename", "The file name must end .csv or .xlsx")])
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid([FieldProblem("content_base64", "Send the file's bytes base64-encoded")]) from None
    largest = largest_file()
    if not data or len(data) > largest:
        message = f"The file must hold something and be under {largest // 2**20} MB"
        raise Invalid([FieldProblem("content_base64", message)])
    job = queue_import(db.session, data, name, current_user)
    return _out(job)


@operation(
    bp,
    "/jobs/<int:job_id>",
    summary="A background job's progress and result",
    ability="import_records",
    response=JobOut,
)
def get_job(job_id: int) -> JobOut:
    """Only jobs of the token's organisation are found."""
    job = db.session.get(Job, job_id)
    if job is None or job.organisation_id != current_user.organisation_id:
        raise NotFound()
    return _out(job)
