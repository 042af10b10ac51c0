"""DIVERT's own front doors and its feedback to the police.

A coach takes in someone referred without an officer (a self-referral, a friend or family member,
the DIVERT app's on-call youth worker); the referring force sees the progress and outcome of the
cases it referred, as the reports ask ("feedback on progress to the police").
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from divert.app.clock import at_uk_time, today
from divert.app.extensions import db
from divert.auth import requires
from divert.models import audit
from divert.models.programme import compiled
from divert.pathways.errors import OperationError
from divert.pathways.intake import intake_programmes, record_intake
from divert.queries import worklists
from divert.rules.codes import REFERRAL_SOURCE_LABELS, InvalidValue, time_of_day

bp = Blueprint("intake", __name__)


def _date(form: Any, prefix: str) -> date | None:
    parts = [(form.get(f"{prefix}-{p}") or "").strip() for p in ("day", "month", "year")]
    if not all(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


@bp.route("/divert/intake", methods=["GET", "POST"])
@requires("record_intake")
def new() -> Response | str | tuple[str, int]:
    programmes = intake_programmes(db.session, current_user)
    if not programmes:
        abort(404)
    values = request.form if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        given = (values.get("given_name") or "").strip()
        family = (values.get("family_name") or "").strip()
        born = _date(values, "dob")
        met_on = _date(values, "met")
        source = values.get("source") or ""
        if not given:
            errors["given_name"] = "Enter their first name"
        if not family:
            errors["family_name"] = "Enter their last name"
        if born is None:
            errors["dob-day"] = "Enter their date of birth, for example 27 3 2003"
        if met_on is None:
            errors["met-day"] = "Enter the date you met them, for example 1 12 2026"
        elif met_on > today():
            errors["met-day"] = "The date you met them must be today or in the past"
        if source not in REFERRAL_SOURCE_LABELS:
            errors["source"] = "Select who referred them"
        chosen = next((p for p in programmes if p.code == values.get("programme")), programmes[0])
        clock = time(12, 0)
        try:
            if (values.get("met-time") or "").strip():
                clock = time_of_day(values["met-time"])
        except InvalidValue as problem:
            errors["met-time"] = str(problem)
        if not errors and born is not None and met_on is not None:
            try:
                intake = record_intake(
                    db.session,
                    current_user,
                    chosen,
                    {
                        "given_name": given,
                        "family_name": family,
                        "date_of_birth": born,
                        "postcode_district": (values.get("postcode_district") or "").strip().upper() or None,
                    },
                    source=source,
                    met_at=at_uk_time(met_on, clock),
                    notes=values.get("notes", ""),
                )
            except OperationError as error:
                errors["given_name"] = str(error)
            else:
                flash(f"{given} {family} has been taken in. Case {intake.referral.reference}.", "success")
                return redirect(url_for("cases.show", case_id=intake.referral.id))
    page = render_template(
        "intake/new.html",
        programmes=programmes,
        sources=REFERRAL_SOURCE_LABELS,
        values=values,
        errors=errors,
    )
    return (page, 400) if errors else page


@bp.route("/referrals/from-this-force")
@requires("view_force_referrals")
def force_referrals() -> str:
    page = request.args.get("page", 1, type=int) or 1
    result = worklists.force_referrals(db.session, current_user, page=page)
    # A list of people is a view of each of them: the audit names who was shown.
    audit.record(
        db.session,
        current_user,
        "view",
        "referral_list",
        None,
        detail="referrals from this force: " + ", ".join(r.reference for r in result.rows),
    )
    states = {r.id: compiled(r.programme_version).state(r.state) for r in result.rows}
    return render_template("intake/force.html", result=result, states=states)
