"""The case page: where a person is on the pathway, what happened and why, and what is due."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from divert.app.extensions import db
from divert.auth import can, requires
from divert.auth.refusal import not_found
from divert.auth.sharing import shown_categories
from divert.auth.visibility import hidden_from, visible_referrals, works_with_team
from divert.models import (
    CaseContact,
    CaseGoal,
    Contract,
    Decision,
    NeedsAssessment,
    Referral,
    ReferralEvent,
    ReferralParty,
    audit,
)
from divert.models.programme import compiled
from divert.pathways.casework import completion_evidence, need_areas, open_flags
from divert.pathways.deadlines import due_dates
from divert.pathways.sharing import consent_asks, consents
from divert.pathways.steps import next_steps
from divert.queries.history import earlier_cases
from divert.queries.messages import case_messages
from divert.rules import ProgrammeDefinition
from divert.rules.codes import GOAL_KINDS, GOAL_STATUSES, NEED_LEVELS, VISIBILITIES, label
from divert.rules.completion import sessions_progress, unmet_requirements
from divert.rules.pathway import roles_to_act
from divert.web.forms.casework import AttendanceForm, ContactForm, NoteForm, StepForm
from divert.web.shown import audit_shown

bp = Blueprint("cases", __name__, url_prefix="/cases")

# What the case page shows beyond the case: every party's organisation, loaded in one query rather
# than one per party (pass to ``case_or_404`` for a case that ``render_case`` will show).
CASE_PAGE = (selectinload(Referral.parties).joinedload(ReferralParty.organisation),)


def case_or_404(case_id: int, *options: ORMOption) -> Referral:
    case = db.session.scalar(
        visible_referrals(current_user)
        .options(joinedload(Referral.person), joinedload(Referral.programme), *options)
        .where(Referral.id == case_id)
    )
    if case is None:
        not_found(db.session, Referral, case_id, "referral")
    return case


def _condition_progress(events: Sequence[ReferralEvent]) -> dict[int, dict[str, Any]]:
    """Each contract condition's latest progress note and whether it is met, from the timeline."""
    progress: dict[int, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e.id):
        if event.kind in {"condition_progress", "condition_met"}:
            entry = progress.setdefault(event.data["condition_id"], {"met": None, "note": ""})
            entry["note"] = event.reason
            if event.kind == "condition_met":
                entry["met"] = event.occurred_at
    return progress


@bp.route("/<int:case_id>")
@requires("view_people")
def show(case_id: int) -> str:
    return render_case(case_or_404(case_id, *CASE_PAGE))


def render_case(
    case: Referral, forms: dict[str, Any] | None = None, problems: list[str] | None = None
) -> str:
    """The case page; a failed form comes back here with its errors, so nothing typed is lost."""
    definition = compiled(case.programme_version)
    events = db.session.scalars(
        select(ReferralEvent)
        .options(joinedload(ReferralEvent.actor))
        .where(ReferralEvent.referral_id == case.id)
        .order_by(ReferralEvent.occurred_at.desc(), ReferralEvent.id.desc())
    ).all()
    decisions = db.session.scalars(
        select(Decision)
        # Each override names who made it: loaded with the decisions, not one query per override.
        .options(joinedload(Decision.decided_by))
        .where(
            Decision.encounter_id == case.encounter_id,
            Decision.programme_version_id == case.programme_version_id,
        )
        .order_by(Decision.id)
    ).all()
    contacts = db.session.scalars(
        select(CaseContact).where(CaseContact.referral_id == case.id).order_by(CaseContact.scheduled_at)
    ).all()
    needs = db.session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.referral_id == case.id)
        .order_by(NeedsAssessment.id.desc())
    ).first()
    contract = db.session.scalar(select(Contract).where(Contract.referral_id == case.id))
    names = {state.id: state.name for state in definition.states}
    forms = forms or {}
    steps = next_steps(case, current_user.role)
    step_form = forms.get("step") or StepForm(formdata=None, prefix="step", version_id=str(case.version_id))
    step_form.to_state.choices = [(s.to_state, s.label) for s in steps]
    step_form.exit_reason.choices = [("", "Not ending")] + [
        (r, label(r)) for r in definition.drop_out_reasons
    ]
    audit.record(db.session, current_user, "view", "referral", case.id)
    shown = shown_categories(current_user, case)
    case_consents = consents(db.session, case) if definition.consent else []
    earlier = earlier_cases(db.session, current_user, case)
    if earlier:
        audit_shown(f"earlier cases on case {case.reference}", "referral", (e.referral_id for e in earlier))
    return render_template(
        "cases/show.html",
        case=case,
        definition=definition,
        state=definition.state(case.state),
        route=definition.route(case.route).name if case.route else None,
        events=events,
        names=names,
        decisions=decisions,
        steps=steps,
        step_form=step_form,
        contacts=contacts,
        contact_form=forms.get("contact") or ContactForm(formdata=None, prefix="book"),
        note_form=forms.get("note") or NoteForm(formdata=None, prefix="note"),
        page_errors=bool(problems) or any(f.errors for f in forms.values()),
        attendance_forms={
            c.id: forms.get(f"attendance-{c.id}")
            or AttendanceForm(formdata=None, prefix=f"c{c.id}", version_id=str(c.version_id))
            for c in contacts
            if c.attendance == "scheduled"
        },
        flags=open_flags(db.session, case),
        needs=needs,
        need_areas=need_areas(definition),
        need_levels=NEED_LEVELS,
        # The working team only comes first: sharing with the force is the choice to make.
        visibilities=VISIBILITIES,
        contract=contract,
        progress=_condition_progress(events),
        dues=due_dates(case, definition, contacts, needs, contract) if case.closed_at is None else [],
        problems=problems or [],
        works_case=can(current_user, "work_case", case),
        # The referring force sees status, progress and outcome, not what was told in confidence.
        withheld={e.id for e in events if hidden_from(current_user, case, e.kind, e.data)},
        # What the organisation's sharing agreements show it of the case (issue 17).
        shown=shown,
        consents=case_consents,
        consent_asks=consent_asks(db.session, case, case_consents) if definition.consent else [],
        needs_withheld=needs is not None
        and (
            "needs" not in shown or (needs.visibility != "shared" and not works_with_team(current_user, case))
        ),
        goals=db.session.scalars(
            select(CaseGoal).where(CaseGoal.referral_id == case.id).order_by(CaseGoal.id)
        ).all(),
        goal_kinds=GOAL_KINDS,
        goal_statuses=GOAL_STATUSES,
        completion=_completion(case, definition),
        reminders=case_messages(db.session, case),
        earlier=earlier,
        waiting_for=" or ".join(f"a {label(r)}" for r in roles_to_act(definition, case.state)),
    )


def _completion(case: Referral, definition: ProgrammeDefinition) -> dict[str, Any] | None:
    """Sessions attended and what completion still needs, from the same check the step makes."""
    if definition.completion is None:
        return None
    evidence = completion_evidence(db.session, case)
    return {
        "sessions": sessions_progress(definition, evidence),
        "unmet": unmet_requirements(definition, evidence),
    }
