"""Hostile input on the pages: what an outside tester sent, and the answer each now gets.

Oversized bodies are 413, oversized or NUL-bearing text is a field error, ids beyond 32 bits and
malformed versions never reach the database, ``next=`` cannot leave the site or split a header, and
an unreachable database is a 503 page that renders without it. Run on SQLite and PostgreSQL (where
an id of 2**31 and a NUL were driver errors).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from divert.app.extensions import db
from divert.models import CaseContact, Contract, ContractCondition, NeedsAssessment, Person, ReferralEvent
from divert.pathways.casework import record_needs_assessment, schedule_contact
from divert.pathways.contracts import draw_up_contract

from .client import form_fields, parse
from .factories import PASSWORD, create_encounter, create_organisation, create_person
from .pathways.helpers import days_ago, police_force, referred_case, staff

TOO_BIG_ID = 2**31
HUGE_IDS = (str(TOO_BIG_ID), "99999999999999999999999", "-1", "0")


def _errors(response: Any) -> str:
    summary = parse(response).select_one(".govuk-error-summary")
    return summary.get_text(" ", strip=True) if summary else ""


def _title(response: Any) -> str:
    page = parse(response)
    return page.title.get_text(strip=True) if page.title else ""


@pytest.fixture
def checkpoint(db_session: Session) -> dict[str, Any]:
    """A Checkpoint case, referred, with its navigator; a second force with its own case."""
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    navigator = staff(db_session, "navigator", force)
    case = referred_case(db_session, "checkpoint", officer)
    other_force = police_force(db_session)
    other_case = referred_case(db_session, "checkpoint", staff(db_session, "officer", other_force))
    return {"force": force, "officer": officer, "navigator": navigator, "case": case, "other": other_case}


def _as(client: Any, user: Any) -> None:
    response = client.sign_in(user.email, PASSWORD)
    assert response.status_code == 302


# --- 413 ------------------------------------------------------------------------------------


def test_a_body_over_the_request_limit_is_a_413_page(client: Any, signed_in: Any, app: Flask) -> None:
    signed_in("officer")
    limit = app.config["MAX_CONTENT_LENGTH"]
    token = client.csrf_token("/encounters/new")
    response = client.post("/encounters/new", data={"csrf_token": token, "given_name": "x" * (limit + 1)})
    assert response.status_code == 413
    assert _title(response).startswith("What you sent is too large")


# --- Lengths ----------------------------------------------------------------------------------


def test_a_needs_summary_over_5000_characters_is_refused_and_not_stored(
    client: Any, checkpoint: dict[str, Any], db_session: Session
) -> None:
    _as(client, checkpoint["navigator"])
    case = checkpoint["case"]
    response = client.submit(
        f"/cases/{case.id}/needs",
        {"need-drugs": "high", "summary": "x" * 5001},
        token_from=f"/cases/{case.id}",
    )
    assert response.status_code == 400
    assert "Summary must be 5,000 characters or fewer" in response.get_data(as_text=True)
    stored = db_session.scalar(
        select(func.count()).select_from(NeedsAssessment).where(NeedsAssessment.referral_id == case.id)
    )
    assert stored == 0


def test_a_progress_note_and_a_variation_reason_are_bounded(
    client: Any, checkpoint: dict[str, Any], db_session: Session
) -> None:
    case, navigator = checkpoint["case"], checkpoint["navigator"]
    record_needs_assessment(
        db_session,
        navigator,
        case,
        assessed_on=date.today(),
        needs=[{"area": "drugs", "level": "high"}],
        summary="",
    )
    contract = draw_up_contract(
        db_session,
        navigator,
        case,
        starts_on=date.today(),
        conditions=[{"group": "pathway", "pathway": "drugs", "description": ""}],
        voluntary_hours=None,
    )
    condition = db_session.scalars(
        select(ContractCondition).where(ContractCondition.contract_id == contract.id)
    ).first()
    assert condition is not None
    _as(client, navigator)
    events_before = db_session.scalar(
        select(func.count()).select_from(ReferralEvent).where(ReferralEvent.referral_id == case.id)
    )

    progress = client.submit(
        f"/conditions/{condition.id}/progress", {"note": "n" * 2001}, token_from=f"/cases/{case.id}"
    )
    assert progress.status_code == 400
    assert "Progress note must be 2,000 characters or fewer" in progress.get_data(as_text=True)

    vary = client.submit(
        f"/contracts/{contract.id}/vary",
        {
            "reason": "r" * 1001,
            "version_id": str(contract.version_id),
            "add_group": "pathway",
            "add_pathway": "housing",
        },
        token_from=f"/cases/{case.id}",
    )
    assert vary.status_code == 400
    assert "Reason must be 1,000 characters or fewer" in vary.get_data(as_text=True)

    malformed = client.submit(
        f"/contracts/{contract.id}/vary",
        {"reason": "Moved house", "version_id": "abc", "add_group": "pathway", "add_pathway": "housing"},
        token_from=f"/cases/{case.id}",
    )
    assert malformed.status_code == 400
    assert "the version of the form is not valid" in malformed.get_data(as_text=True)
    db_session.expire_all()
    events_after = db_session.scalar(
        select(func.count()).select_from(ReferralEvent).where(ReferralEvent.referral_id == case.id)
    )
    assert events_after == events_before


def test_every_free_text_form_field_declares_a_length(app: Flask) -> None:
    """No form field that takes typed text is unbounded (the base form bounds even the rest)."""
    import inspect

    from wtforms import StringField, TextAreaField
    from wtforms.validators import Length

    from divert.web.forms import admin, auth, casework, decisions, encounter, merge, person
    from divert.web.forms.base import GovForm

    unbounded = []
    with app.test_request_context():
        for module in (admin, auth, casework, decisions, encounter, merge, person):
            for name in dir(module):
                form_class = getattr(module, name)
                if not (isinstance(form_class, type) and issubclass(form_class, GovForm)):
                    continue
                if form_class is GovForm:
                    continue
                # A form drawn for one user (changing their own password) is given none here.
                needs_user = "user" in inspect.signature(form_class.__init__).parameters
                form = form_class(meta={"csrf": False}, **({"user": None} if needs_user else {}))
                for field in form:
                    if type(field) in {StringField, TextAreaField} and not any(
                        isinstance(v, Length) and v.max > 0 for v in field.validators
                    ):
                        # Pattern-checked fields (PNC ID, postcode district) are bounded by their pattern.
                        patterns = [v for v in field.validators if type(v).__name__ == "Regexp"]
                        if not patterns:
                            unbounded.append(f"{name}.{field.name}")
    assert unbounded == []


# --- NUL bytes --------------------------------------------------------------------------------


def test_a_nul_in_a_name_is_a_field_error_on_the_encounter_form(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    signed_in("officer")
    page = parse(client.get("/encounters/new"))
    form = page.select_one("form[method=post]")
    assert form is not None
    response = client.post("/encounters/new", data={**form_fields(form), "given_name": "Sam\x00"})
    assert response.status_code == 400
    assert "First name must not contain control characters such as NUL" in _errors(response)


def test_a_nul_in_a_name_is_a_field_error_when_editing_a_person(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    officer = signed_in("officer")
    person = create_person(db_session, family_name="Nulcheck")
    create_encounter(db_session, person, org, officer_id=officer.id)
    page = parse(client.get(f"/people/{person.id}/edit"))
    form = page.select_one("form[method=post]")
    assert form is not None
    fields = {**form_fields(form), "gender": "male", "self_defined_ethnicity": "W1"}
    response = client.post(f"/people/{person.id}/edit", data={**fields, "family_name": "Nul\x00check"})
    assert response.status_code == 400
    assert "Last name must not contain control characters such as NUL" in _errors(response)
    db_session.expire_all()
    assert db_session.get(Person, person.id).family_name == "Nulcheck"


def test_a_nul_in_the_sign_in_email_is_refused_not_a_500(client: Any) -> None:
    response = client.submit("/sign-in", {"email": "a\x00@example.org", "password": "x"})
    assert response.status_code in {200, 400}
    assert "must not contain control characters such as NUL" in response.get_data(as_text=True)


# --- Ids out of range -------------------------------------------------------------------------


@pytest.mark.parametrize("value", HUGE_IDS)
def test_ids_out_of_range_are_404_pages(client: Any, signed_in: Any, value: str) -> None:
    signed_in("supervisor")
    for path in (
        f"/people/{value}",
        f"/people/{value}/edit",
        f"/people/{value}/matches",
        f"/cases/{value}",
        f"/cases/{value}/correct",
        f"/encounters/{value}",
        f"/encounters/new?person={value}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert _title(response).startswith("Page not found"), path


def test_ids_out_of_range_in_forms_are_refused_not_500(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    signed_in("supervisor")
    response = client.submit(
        "/worklist/reallocate",
        {"case": [str(TOO_BIG_ID), "²"], "assignee": str(TOO_BIG_ID), "reason": "Leave"},
        token_from="/worklist",
    )
    assert response.status_code == 302  # back to the worklist with "Select a caseworker"
    page = parse(client.get("/worklist"))
    assert "Select a caseworker in your organisation" in page.get_text()


def test_a_duplicate_id_beyond_32_bits_on_the_matches_page_is_a_field_error(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    supervisor = signed_in("supervisor")
    person = create_person(db_session, family_name="Matchless")
    create_encounter(db_session, person, org, officer_id=supervisor.id)
    for value in (str(TOO_BIG_ID), "²", "1e9"):
        response = client.submit(
            f"/people/{person.id}/matches", {"duplicate_id": value, "reason": "Same person"}
        )
        assert response.status_code == 400, value
        assert "Select one of the possible matches listed" in _errors(response)


# --- Malformed versions ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["abc", "²", "1" * 30, "-1"])
def test_a_malformed_version_on_attendance_is_a_400_with_a_field_error(
    client: Any, checkpoint: dict[str, Any], db_session: Session, version: str
) -> None:
    case, navigator = checkpoint["case"], checkpoint["navigator"]
    contact = schedule_contact(db_session, navigator, case, kind="contact", scheduled_at=days_ago(1))
    _as(client, navigator)
    response = client.submit(
        f"/contacts/{contact.id}/attendance",
        {f"c{contact.id}-attendance": "attended", f"c{contact.id}-version_id": version},
        token_from=f"/cases/{case.id}",
    )
    assert response.status_code == 400
    assert "the version of the form is not valid" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(CaseContact, contact.id).attendance == "scheduled"


@pytest.mark.parametrize("version", ["abc", "²"])
def test_a_malformed_version_on_a_step_and_a_person_edit_is_400(
    client: Any, checkpoint: dict[str, Any], db_session: Session, version: str
) -> None:
    case, navigator = checkpoint["case"], checkpoint["navigator"]
    _as(client, navigator)
    step = client.submit(
        f"/cases/{case.id}/step",
        {"step-to_state": "x", "step-version_id": version},
        token_from=f"/cases/{case.id}",
    )
    assert step.status_code == 400
    assert "the version of the form is not valid" in step.get_data(as_text=True)


def test_a_malformed_version_when_editing_a_person_is_400(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    officer = signed_in("officer")
    person = create_person(db_session, family_name="Versioned")
    create_encounter(db_session, person, org, officer_id=officer.id)
    page = parse(client.get(f"/people/{person.id}/edit"))
    form = page.select_one("form[method=post]")
    assert form is not None
    fields = {**form_fields(form), "gender": "male", "self_defined_ethnicity": "W1", "version_id": "abc"}
    response = client.post(f"/people/{person.id}/edit", data=fields)
    assert response.status_code == 400
    assert "the version of the form is not valid" in _errors(response)


# --- next= -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/home\r\nSet-Cookie: stolen=1",
        "/home\nX: y",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/home\x00",
    ],
)
def test_sign_in_ignores_a_next_that_leaves_the_site_or_splits_a_header(
    client: Any, make_user: Any, target: str
) -> None:
    user = make_user("officer")
    token = client.csrf_token("/sign-in")
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_sign_in_still_follows_a_same_site_next(client: Any, make_user: Any) -> None:
    user = make_user("officer")
    token = client.csrf_token("/sign-in")
    response = client.post(
        "/sign-in",
        query_string={"next": "/people?q=smith"},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/people?q=smith"


# --- Database unavailable ----------------------------------------------------------------------

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-divert-folder/none.sqlite",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
}


@pytest.mark.parametrize("backend", sorted(UNREACHABLE))
def test_a_database_outage_is_a_503_page_that_renders_without_the_database(
    client: Any, signed_in: Any, backend: str
) -> None:
    signed_in("officer")
    previous = db.factory.kw["bind"]
    broken = create_engine(UNREACHABLE[backend])
    db.factory.configure(bind=broken)
    try:
        page = client.get("/home")
        anonymous = client.get("/healthz")
    finally:
        db.factory.configure(bind=previous)
        broken.dispose()
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    assert _title(page).startswith("Sorry, the service is unavailable")
    assert parse(page).select_one("[data-testid=signed-in-user]") is None
    assert anonymous.status_code == 503


def test_a_cross_organisation_id_is_the_same_404_as_a_missing_one(
    client: Any, checkpoint: dict[str, Any]
) -> None:
    _as(client, checkpoint["navigator"])
    theirs = client.get(f"/cases/{checkpoint['other'].id}")
    missing = client.get(f"/cases/{TOO_BIG_ID - 1}")
    assert theirs.status_code == missing.status_code == 404
    assert _title(theirs) == _title(missing)


def test_a_second_organisation_is_refused_the_contract_forms(
    client: Any, checkpoint: dict[str, Any], db_session: Session
) -> None:
    other_force = create_organisation(db_session, kind="police_force")
    outsider = staff(db_session, "navigator", other_force)
    _as(client, outsider)
    contracts = db_session.scalar(select(func.count()).select_from(Contract))
    response = client.submit(
        f"/cases/{checkpoint['case'].id}/needs", {"summary": "x" * 10}, token_from="/home"
    )
    assert response.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(Contract)) == contracts


@pytest.mark.parametrize("query", ["x" * 50_000, "Smith\x00"])
def test_a_search_too_long_or_with_a_nul_is_a_field_error(client: Any, signed_in: Any, query: str) -> None:
    # 50,000 characters made SQLite give up ("LIKE or GLOB pattern too complex"); NUL, PostgreSQL.
    signed_in("officer")
    response = client.get("/people", query_string={"q": query})
    assert response.status_code == 400
    assert "Name or PNC ID must" in _errors(response)


def test_a_worklist_programme_with_a_nul_is_ignored(client: Any, signed_in: Any) -> None:
    signed_in("supervisor")
    assert client.get("/worklist", query_string={"programme": "a\x00b", "view": "x\x00"}).status_code == 200
