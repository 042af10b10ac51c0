"""The navigator chooses who may read a needs assessment on its form, as for a note.

The working team only by default; shared, the referring force reads it too. Every access test has a
second organisation: another force, which reads neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import NeedsAssessment, Programme
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, form_fields, parse
from .factories import PASSWORD, create_organisation, create_user
from .pathways.helpers import open_case, refer


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _assess(client: PageClient, case_id: int, **values: str) -> Any:
    form = parse(client.get(f"/cases/{case_id}")).select_one("form[action$='/needs']")
    assert form is not None
    return client.post(form["action"], data={**form_fields(form), **values})


def test_the_navigator_shares_one_assessment_with_the_force_and_keeps_another(
    app: Any, db_session: Session, org: Any
) -> None:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    navigators = create_organisation(db_session, kind="provider")
    assign_operator(db_session, programme, navigators.id, "receiving", "navigator")
    officer = create_user(db_session, "officer", org)
    shared_case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    kept_case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    navigator = _client(app, create_user(db_session, "navigator", navigators))

    form = parse(navigator.get(f"/cases/{shared_case.id}")).select_one("form[action$='/needs']")
    choices = {i["value"]: i.find_next("label").text for i in form.select("input[name=visibility]")}
    assert choices == {"team": "Working team only", "shared": "Shared with the referring force"}
    assert form.select_one("input[name=visibility][checked]")["value"] == "team"

    shared = _assess(
        navigator,
        shared_case.id,
        **{"need-housing": "high", "summary": "Sofa surfing", "visibility": "shared"},
    )
    assert shared.status_code == 302
    # Left as the page offers it: the working team only.
    kept = _assess(navigator, kept_case.id, **{"need-drugs": "high", "summary": "Daily heroin use"})
    assert kept.status_code == 302
    stored = {a.referral_id: a.visibility for a in db_session.scalars(select(NeedsAssessment))}
    assert stored == {shared_case.id: "shared", kept_case.id: "team"}
    bad = _assess(navigator, kept_case.id, **{"need-drugs": "low", "visibility": "everyone"})
    assert bad.status_code == 400
    assert "Select who may read the assessment" in parse(bad).select_one(".govuk-error-summary").text

    force = _client(app, officer)
    page = parse(force.get(f"/cases/{shared_case.id}"))
    assert "Sofa surfing" in page.text and "High" in page.select_one("[data-testid=needs]").text
    page = parse(force.get(f"/cases/{kept_case.id}"))
    assert "Daily heroin use" not in page.text and page.select_one("[data-testid=needs-withheld]") is not None
    assert "Daily heroin use" in parse(navigator.get(f"/cases/{kept_case.id}")).text

    other = _client(app, create_user(db_session, "officer", create_organisation(db_session)))
    assert other.get(f"/cases/{shared_case.id}").status_code == 404
