"""Worklists, taking a case, and a supervisor's reallocation of cases."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.app.ids import parse_id
from divert.auth import holds, requires
from divert.auth.visibility import visible_referrals
from divert.models import Referral, User
from divert.pathways.allocation import reallocate, take
from divert.pathways.errors import OperationError
from divert.queries.worklists import SORTS, VIEWS, colleagues, programmes_for, worklist
from divert.rules import limits
from divert.rules.limits import text_problem
from divert.web.shown import audit_shown
from divert.web.views.cases import case_or_404

bp = Blueprint("worklists", __name__)


@bp.route("/worklist")
@requires("view_worklist")
def index() -> str:
    default = "team" if holds(current_user, "reallocate") else "mine"
    view = request.args.get("view", default)
    programme = request.args.get("programme") or None
    if programme is not None and text_problem("Programme", programme, limits.CODE):
        programme = None  # not a programme code (too long, or a NUL the database cannot compare)
    sort = request.args.get("sort", "opened")
    sort = sort if sort in SORTS else "opened"
    descending = request.args.get("order") == "desc"
    result = worklist(
        db.session,
        current_user,
        view=view,
        programme=programme,
        sort=sort,
        descending=descending,
        page=request.args.get("page", 1, type=int),
    )
    view = view if view in VIEWS else default
    audit_shown(
        f"worklist: {VIEWS[view]}", "person", (r.person_id for r in result.rows if r.id not in result.unnamed)
    )
    return render_template(
        "worklists/index.html",
        result=result,
        views=VIEWS,
        view=view,
        programme=programme,
        programmes=programmes_for(db.session, current_user),
        sort=sort,
        descending=descending,
        colleagues=colleagues(db.session, current_user) if holds(current_user, "reallocate") else [],
    )


@bp.route("/cases/<int:case_id>/take", methods=["POST"])
@requires("take_case")
def take_case(case_id: int) -> Response:
    case = case_or_404(case_id)
    try:
        take(db.session, current_user, case)
    except OperationError as error:
        flash(str(error), "error")
        return redirect(url_for("worklists.index", view="new"))
    flash(f"Case {case.reference} is now yours.", "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/worklist/reallocate", methods=["POST"])
@requires("reallocate")
def reallocate_cases() -> Response | tuple[str, int]:
    ids = [i for i in map(parse_id, request.form.getlist("case")) if i is not None]
    cases = (
        list(db.session.scalars(visible_referrals(current_user).where(Referral.id.in_(ids)))) if ids else []
    )
    assignee = db.session.scalar(
        select(User).where(
            User.id == parse_id(request.form.get("assignee")),
            User.organisation_id == current_user.organisation_id,
        )
    )
    try:
        if assignee is None:
            raise OperationError("Select a caseworker in your organisation")
        moved = reallocate(db.session, current_user, cases, assignee, request.form.get("reason", ""))
    except OperationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(request.referrer or url_for("worklists.index"))
    flash(f"{moved} case{'s' if moved != 1 else ''} reallocated to {assignee.name}.", "success")
    return redirect(url_for("worklists.index", view="team"))
