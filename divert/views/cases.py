"""The case page: where a person is on the pathway, what happened and why, and what is due."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit
from ..auth import CASEWORKING, requires
from ..extensions import db
from ..models import Decision, Referral, ReferralEvent
from ..pathways.programmes import compiled
from ..rules import allowed_transitions
from ..scoping import visible_referrals

bp = Blueprint("cases", __name__, url_prefix="/cases")


def case_or_404(case_id: int) -> Referral:
    case = db.session.scalar(
        visible_referrals(current_user)
        .options(joinedload(Referral.person), joinedload(Referral.programme))
        .where(Referral.id == case_id)
    )
    if case is None:
        abort(404)
    return case


@bp.route("/<int:case_id>")
@requires(CASEWORKING)
def show(case_id: int) -> str:
    case = case_or_404(case_id)
    definition = compiled(case.programme_version)
    events = db.session.scalars(
        select(ReferralEvent)
        .options(joinedload(ReferralEvent.actor))
        .where(ReferralEvent.referral_id == case.id)
        .order_by(ReferralEvent.occurred_at.desc(), ReferralEvent.id.desc())
    ).all()
    decisions = db.session.scalars(
        select(Decision)
        .where(
            Decision.encounter_id == case.encounter_id,
            Decision.programme_version_id == case.programme_version_id,
        )
        .order_by(Decision.id)
    ).all()
    names = {state.id: state.name for state in definition.states}
    next_steps = [names[t.to_state] for t in allowed_transitions(definition, case.state, current_user.role)]
    audit.record(db.session, "view", "referral", case.id)
    return render_template(
        "cases/show.html",
        case=case,
        definition=definition,
        state=definition.state(case.state),
        route=definition.route(case.route).name if case.route else None,
        events=events,
        names=names,
        decisions=decisions,
        next_steps=next_steps,
    )
