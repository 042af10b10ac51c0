"""The officer's journey: record an encounter, see the decision and why, record the offer."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from divert.app.clock import LONDON, today
from divert.app.extensions import db
from divert.app.ids import parse_id
from divert.auth import requires
from divert.auth.refusal import not_found
from divert.auth.visibility import held_people
from divert.models import Decision, Encounter, EthnicityCode, OffenceCategory, Person, Referral, audit
from divert.models.programme import compiled
from divert.pathways.cases import offer, respond
from divert.pathways.encounters import record_from_form
from divert.pathways.errors import OperationError, StaleEdit
from divert.pathways.matching import possible_matches
from divert.pathways.programmes import definitions_in_force
from divert.pathways.sharing import give_consent_with_acceptance
from divert.rules import ProgrammeDefinition, codes
from divert.rules.questions import CORE_INPUTS, answered_values, select_questions
from divert.web.forms.encounter import EncounterForm, OfferForm, encounter_form
from divert.web.shown import audit_shown

bp = Blueprint("encounters", __name__)


def _choices(form: EncounterForm, definitions: list[ProgrammeDefinition]) -> None:
    ethnicities = db.session.scalars(select(EthnicityCode).order_by(EthnicityCode.sort_order)).all()
    form.self_defined_ethnicity.choices = [("", "Select ethnicity")] + [
        (c.code, c.label) for c in ethnicities if c.scheme == "self_defined"
    ]
    form.officer_defined_ethnicity.choices = [("", "Not recorded")] + [
        (c.code, f"{c.code} – {c.label}") for c in ethnicities if c.scheme == "officer_defined"
    ]
    offences = db.session.scalars(
        select(OffenceCategory).where(OffenceCategory.active.is_(True)).order_by(OffenceCategory.sort_order)
    ).all()
    form.offence_category.choices = [("", "Select offence")] + [(o.slug, o.label) for o in offences]
    # Every box any programme in scope could ask, so an answer posted from an earlier page stays valid.
    flags = [*codes.FACTS, *(f.name for d in definitions for f in d.facts if f.kind == "flag")]
    form.facts.choices = [(flag, flag) for flag in dict.fromkeys(flags)]


@bp.route("/encounters/new", methods=["GET", "POST"])
@requires("record_encounter")
def new() -> str | Response | tuple[str, int]:
    person = _known_person(request.args.get("person"))
    on = today()
    definitions = definitions_in_force(db.session, current_user.organisation_id, on)
    form = encounter_form(fact for definition in definitions for fact in definition.facts)
    _choices(form, definitions)
    if request.method == "GET":
        now = datetime.now(LONDON)
        form.occurred_on.data = now.date()
        form.occurred_time.data = now.strftime("%H:%M")
        form.submission_key.data = secrets.token_hex(16)
        if person is not None:
            form.process(obj=person, occurred_on=now.date(), occurred_time=now.strftime("%H:%M"))
            _choices(form, definitions)
            form.submission_key.data = secrets.token_hex(16)
    elif isinstance(form.occurred_on.data, date) and form.occurred_on.data != on:
        # The rules in force on the encounter's day decide it, so they choose its questions too.
        definitions = definitions_in_force(db.session, current_user.organisation_id, form.occurred_on.data)
    declared = [fact for definition in definitions for fact in definition.facts]
    values = answered_values(form.answers(), declared)
    form.selection = select_questions(definitions, values)
    if form.validate_on_submit() and not form.revealed():
        recorded = record_from_form(
            db.session,
            current_user,
            form.person_details(),
            form.encounter_details(),
            form.submission_key.data or None,
            person=person,
        )
        return redirect(url_for("encounters.show", encounter_id=recorded.encounter.id))
    status = 400 if form.errors else 200
    selection = form.selection
    revealed = len(form.revealed()) if not form.errors else 0  # before the page asks them too
    form.asked.data = " ".join((*CORE_INPUTS, *selection.inputs))
    # With JavaScript the page shows or hides questions as the offence changes (the server still decides
    # on submit): what each offence would ask, worked out here, since only here are the rules.
    by_offence = {"": selection}
    for slug, _label in form.offence_category.choices[1:]:
        by_offence[slug] = select_questions(definitions, {**values, "offence_category": slug})
    questions = {q.input: q for choice in by_offence.values() for q in choice.questions}
    # Only the boxes the programmes in scope ask about are shown in the "does any of these apply" group.
    labels = {fact.name: fact.question for fact in declared}
    flags = dict.fromkeys(flag for choice in by_offence.values() for flag in choice.flags)
    form.facts.choices = [(flag, labels.get(flag) or codes.label(flag)) for flag in flags]
    current = form.offence_category.data or ""
    return (
        render_template(
            "encounters/new.html",
            form=form,
            person=person,
            questions=list(questions.values()),
            shown=set(selection.inputs),
            today=today(),
            by_offence={
                slug: {"inputs": list(choice.inputs), "pending": choice.pending}
                for slug, choice in by_offence.items()
                if slug in ("", current)
                or (choice.inputs, choice.pending) != (selection.inputs, selection.pending)
            },
            more_to_ask=selection.pending,
            revealed=revealed,
        ),
        status,
    )


def _known_person(given: str | None) -> Person | None:
    if given is None:
        return None
    person_id = parse_id(given)
    if person_id is None:
        abort(404)
    # Recording against a record: only one the organisation holds (seeing it as party to a case
    # is not holding it).
    person = db.session.scalar(held_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    if request.method == "GET":
        # The form opens filled in with the person's details.
        audit.record(db.session, current_user, "view", "person", person.id, detail="new encounter form")
    return person


def _encounter_or_404(encounter_id: int) -> Encounter:
    encounter = db.session.get(Encounter, encounter_id)
    if encounter is None or encounter.organisation_id != current_user.organisation_id:
        not_found(db.session, Encounter, encounter_id, "encounter")
    return encounter


@bp.route("/encounters/<int:encounter_id>")
@requires("record_encounter")
def show(encounter_id: int) -> str:
    encounter = _encounter_or_404(encounter_id)
    return _render_decisions(encounter, {})


def _render_decisions(encounter: Encounter, forms: dict[int, OfferForm]) -> str:
    decisions = db.session.scalars(
        select(Decision)
        # Each decision is read with its programme's rules: loaded together, not one query per programme.
        .options(joinedload(Decision.programme_version))
        .where(Decision.encounter_id == encounter.id)
        .order_by(Decision.id)
    ).all()
    overridden = {d.overrides_id for d in decisions if d.overrides_id}
    # The programme that applies first: eligible ones, then those with fewest rules failed, so a
    # 15-year-old's officer reads the youth scheme's decision before "adult scheme: not eligible".
    current = sorted(
        (d for d in decisions if d.id not in overridden),
        key=lambda d: (not d.eligible, _failed(d), d.id),
    )
    cases = {
        c.decision_id: c
        for c in db.session.scalars(select(Referral).where(Referral.encounter_id == encounter.id))
    }
    rows = []
    for decision in current:
        case = cases.get(decision.id)
        definition = compiled(decision.programme_version)
        form = forms.get(case.id) if case else None
        if case is not None and form is None:
            form = OfferForm(formdata=None, version_id=str(case.version_id))
        if form is not None:
            form.set_reasons(definition)
        rows.append(
            {
                "decision": decision,
                "programme": definition.name,
                "route": definition.route(decision.route).name if decision.route else None,
                "case": case,
                "state": definition.state(case.state).name if case else None,
                "awaiting_offer": case is not None and case.state == definition.on_decision["eligible"],
                "consent": definition.consent,
                "form": form,
            }
        )
    audit.record(db.session, current_user, "view", "encounter", encounter.id)
    matches = possible_matches(db.session, encounter.person)
    if matches:
        audit_shown(f"possible matches on encounter {encounter.id}", "person", (m.person.id for m in matches))
    return render_template(
        "encounters/show.html",
        encounter=encounter,
        rows=rows,
        matches=matches,
        page_errors=any(form.errors for form in forms.values()),
    )


def _failed(decision: Decision) -> int:
    return sum(1 for r in decision.reasons if not r["passed"] and r.get("asked", True))


@bp.route("/cases/<int:case_id>/offer", methods=["POST"])
@requires("record_encounter")
def record_offer(case_id: int) -> str | Response | tuple[str, int]:
    case = db.session.get(Referral, case_id)
    if case is None or case.encounter.organisation_id != current_user.organisation_id:
        not_found(db.session, Referral, case_id, "referral")
    form = OfferForm()
    form.set_reasons(compiled(case.programme_version))
    if form.validate_on_submit():
        try:
            if case.version_id != form.version_id.version():
                raise StaleEdit("case")
            answer = form.response.data
            code = form.reason_code()
            words = form.reason.data or ""
            if answer == "not_offered":
                offer(db.session, current_user, case, False, words, reason_code=code)
            else:
                offer(db.session, current_user, case, True, words)
                if answer == "accepted" and form.consent.data:
                    give_consent_with_acceptance(db.session, current_user, case)
                respond(db.session, current_user, case, answer == "accepted", words, reason_code=code)
        except OperationError as error:
            db.session.rollback()
            form.response.errors = [str(error)]
        else:
            return redirect(url_for("encounters.confirmation", case_id=case.id))
    case = db.session.get(Referral, case_id)
    assert case is not None
    return _render_decisions(case.encounter, {case.id: form}), 400


@bp.route("/cases/<int:case_id>/confirmation")
@requires("record_encounter")
def confirmation(case_id: int) -> str:
    case = db.session.get(Referral, case_id)
    if case is None or case.encounter.organisation_id != current_user.organisation_id:
        not_found(db.session, Referral, case_id, "referral")
    definition = compiled(case.programme_version)
    return render_template(
        "encounters/confirmation.html",
        case=case,
        state=definition.state(case.state),
        programme=definition.name,
    )
