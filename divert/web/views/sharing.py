"""Information-sharing agreements (administrators), a referral's consent, and a person's record
shared with another force (issue 17). Thin: each view is a form and one operation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from divert.app.clock import today
from divert.app.extensions import db
from divert.auth import requires
from divert.auth.refusal import not_found
from divert.auth.visibility import held_people, visible_referrals
from divert.models import (
    ChangeRecord,
    Organisation,
    Person,
    Programme,
    Referral,
    ReferralConsent,
    SharingAgreement,
    User,
)
from divert.pathways import sharing
from divert.pathways.errors import OperationError
from divert.rules.sharing import CATEGORY_LABELS, LAWFUL_BASES, categories_from_text
from divert.web.forms.sharing import AgreementForm
from divert.web.views.cases import CASE_PAGE, case_or_404, render_case

bp = Blueprint("sharing", __name__)


def _form(agreement: SharingAgreement | None = None) -> AgreementForm:
    form = (
        AgreementForm(obj=None)
        if agreement is None
        else AgreementForm(
            name=agreement.name,
            first_organisation=agreement.first_organisation_id,
            second_organisation=agreement.second_organisation_id,
            to_second=sorted(categories_from_text(agreement.to_second)),
            to_first=sorted(categories_from_text(agreement.to_first)),
            programmes=[link.programme_id for link in agreement.programme_links],
            lawful_basis=agreement.lawful_basis,
            lawful_basis_text=agreement.lawful_basis_text,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
            version_id=str(agreement.version_id),
        )
    )
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    choices = [(o.id, o.name) for o in organisations]
    form.first_organisation.choices = choices
    form.second_organisation.choices = choices
    form.programmes.choices = [
        (p.id, p.name) for p in db.session.scalars(select(Programme).order_by(Programme.name))
    ]
    return form


def _terms(form: AgreementForm) -> sharing.AgreementTerms:
    return sharing.AgreementTerms(
        name=form.name.data or "",
        first_organisation_id=int(form.first_organisation.data),
        second_organisation_id=int(form.second_organisation.data),
        to_second=frozenset(form.to_second.data or ()),
        to_first=frozenset(form.to_first.data or ()),
        programme_ids=frozenset(form.programmes.data or ()),
        lawful_basis=form.lawful_basis.data or "",
        lawful_basis_text=form.lawful_basis_text.data or "",
        valid_from=form.valid_from.data or today(),  # required by the form: never None here
        valid_until=form.valid_until.data,
    )


@bp.route("/admin/agreements")
@requires("manage_agreements")
def agreements() -> str:
    rows = sharing.agreements_for(db.session, current_user)
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).tuples().all())
    return render_template(
        "sharing/agreements.html",
        agreements=rows,
        names=names,
        labels=CATEGORY_LABELS,
        categories=categories_from_text,
    )


@bp.route("/admin/agreements/new", methods=["GET", "POST"])
@requires("manage_agreements")
def new_agreement() -> str | Response | tuple[str, int]:
    form = _form()
    if not request.form and current_user.organisation_id in dict(form.first_organisation.choices or []):
        form.first_organisation.data = current_user.organisation_id
    if form.validate_on_submit():
        try:
            agreement = sharing.create_agreement(db.session, current_user, _terms(form))
        except OperationError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Agreement '{agreement.name}' saved.", "success")
            return redirect(url_for("sharing.agreement", agreement_id=agreement.id))
    return _page(form, None)


@bp.route("/admin/agreements/<int:agreement_id>", methods=["GET", "POST"])
@requires("manage_agreements")
def agreement(agreement_id: int) -> str | Response | tuple[str, int]:
    found = db.session.get(SharingAgreement, agreement_id)
    if found is None or not sharing.may_manage(current_user, found):
        not_found(db.session, SharingAgreement, agreement_id, "sharing_agreement")
    form = _form(found) if request.method == "GET" else _form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            sharing.update_agreement(db.session, current_user, found, _terms(form), form.version_id.version())
            db.session.flush()
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append("Someone else changed this agreement while you were editing it.")
        except OperationError as error:
            form.form_errors.append(str(error))
        else:
            flash("Agreement changed.", "success")
            return redirect(url_for("sharing.agreement", agreement_id=agreement_id))
    return _page(form, db.session.get(SharingAgreement, agreement_id))


def _page(form: AgreementForm, agreement: SharingAgreement | None) -> str | tuple[str, int]:
    history: list[tuple[ChangeRecord, str]] = []
    if agreement is not None:
        history = [
            (row, name or "The system")
            for row, name in db.session.execute(
                select(ChangeRecord, User.name)
                .outerjoin(User, User.id == ChangeRecord.user_id)
                .where(ChangeRecord.object_type == "sharingagreement", ChangeRecord.object_id == agreement.id)
                .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
            )
        ]
    page = render_template(
        "sharing/agreement.html", form=form, agreement=agreement, history=history, bases=LAWFUL_BASES
    )
    return (page, 400) if form.errors or form.form_errors else page


# --- consent on a referral -----------------------------------------------------------------------------
@bp.route("/cases/<int:case_id>/consents", methods=["POST"])
@requires("view_people")
def record_consent(case_id: int) -> str | Response | tuple[str, int]:
    case = case_or_404(case_id, *CASE_PAGE)
    kind = request.form.get("kind", "")
    organisation = request.form.get("organisation", "")
    try:
        sharing.record_consent(
            db.session, current_user, case, kind, int(organisation) if organisation.isdigit() else None
        )
    except OperationError as error:
        db.session.rollback()
        return render_case(case_or_404(case_id, *CASE_PAGE), problems=[str(error)]), 400
    flash("Consent recorded.", "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/cases/consents/<int:consent_id>/withdraw", methods=["POST"])
@requires("view_people")
def withdraw_consent(consent_id: int) -> str | Response | tuple[str, int]:
    consent = db.session.get(ReferralConsent, consent_id)
    if consent is None:
        abort(404)
    case = case_or_404(consent.referral_id, *CASE_PAGE)
    try:
        sharing.withdraw_consent(db.session, current_user, consent)
    except OperationError as error:
        db.session.rollback()
        return render_case(case_or_404(case.id, *CASE_PAGE), problems=[str(error)]), 400
    flash("Withdrawal of consent recorded. The sharing it covered has stopped.", "success")
    # An organisation that recorded the withdrawal of its own sharing no longer sees the case.
    still_seen = db.session.scalar(visible_referrals(current_user).where(Referral.id == case.id))
    return redirect(url_for("cases.show", case_id=case.id) if still_seen else url_for("main.home"))


# --- a person's record shared with another force ----------------------------------------------------------
@bp.route("/people/<int:person_id>/share", methods=["POST"])
@requires("share_person")
def share_person(person_id: int) -> Response | tuple[Response, int]:
    person = db.session.scalar(held_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    agreement = request.form.get("agreement", "")
    try:
        share = sharing.share_person(
            db.session, current_user, person, int(agreement) if agreement.isdigit() else 0
        )
    except OperationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("people.show", person_id=person_id)), 303
    name: Any = db.session.get(Organisation, share.organisation_id)
    flash(f"Record shared with {name.name if name else 'the other force'}.", "success")
    return redirect(url_for("people.show", person_id=person_id))
