"""An analyst sees aggregates only: every route, walked as an analyst, shows no person's details.

The walk covers every rule in the URL map, including routes added later, with each integer argument
set to the id of a real record (a person, their encounter, decision and case), so a route that forgot
its access declaration, or declared the analyst by mistake, would show that person and fail here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from divert.auth import PUBLIC, access_of

from .factories import create_person
from .monitoring import dataset
from .pathways.helpers import open_case, refer, staff

GIVEN, FAMILY, PNC = "Zebedee", "Quillfeather", "1987/0123456Q"
BORN = date(1987, 11, 23)
# Every way a page or export might write the person's identifying details.
MARKERS = (GIVEN, FAMILY, PNC, "87/123456Q", BORN.isoformat(), "23 November 1987", "23/11/1987")
SKIPPED = {"static", "auth.sign_out"}  # assets hold no data; signing out would end the walk


def _ids(db_session: Session, org: Any) -> dict[str, int]:
    # In the signed-in users' organisation, so any scoping by organisation would let the person through.
    officer = staff(db_session, "officer", org)
    person = create_person(
        db_session,
        given_name=GIVEN,
        family_name=FAMILY,
        date_of_birth=BORN,
        pnc_id=PNC,
        postcode_district="OX1",
    )
    case = refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer, person=person))
    dataset.load(db_session)  # enough encounters that the monitoring pages show figures, not just zeros
    return {
        "person_id": person.id,
        "case_id": case.id,
        "encounter_id": case.encounter_id,
        "decision_id": case.decision_id or 0,
        "version_id": case.programme_version_id,
    }


def _url(rule: Rule, ids: dict[str, int], fallback: int) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        numeric = isinstance(rule._converters[arg], NumberConverter)
        values[arg] = ids.get(arg, fallback) if numeric else "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def test_an_analyst_sees_no_personal_data_anywhere(
    app: Flask, client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    ids = _ids(db_session, org)
    signed_in("analyst")
    token = client.csrf_token("/home")
    statuses: dict[str, int] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or access_of(app.view_functions[rule.endpoint]) == PUBLIC:
            continue
        methods = rule.methods or set()
        url = _url(rule, ids, fallback=ids["case_id"])
        if "GET" in methods:
            response = client.get(url)
        else:
            # A POST-only route: sent as a browser would, with a valid CSRF token, and it must refuse:
            # 403, or 404 for a record that is not the analyst's (another user's notice).
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code in {403, 404}, (rule.endpoint, response.status_code)
        body = (
            response.get_data(as_text=True)
            if response.mimetype.startswith(("text/", "application/json"))
            else ""
        )
        statuses[rule.endpoint] = response.status_code
        if response.status_code == 200:
            found = [m for m in MARKERS if m.lower() in body.lower()]
            assert not found, (rule.endpoint, url, found)
        else:
            assert response.status_code in {302, 403, 404}, (rule.endpoint, response.status_code)
    allowed = {e for e, s in statuses.items() if s == 200}
    assert {"main.home", "monitoring.index", "monitoring.method", "monitoring.export_csv"} <= allowed
    # Every case-working page is refused outright, not just emptied.
    for endpoint in ("people.show", "people.search", "cases.show", "encounters.show", "worklists.index"):
        assert statuses[endpoint] == 403, endpoint


def test_the_marker_would_be_caught(client: Any, signed_in: Any, db_session: Session, org: Any) -> None:
    """The check above can fail: a supervisor, who may see people, sees this person's name."""
    ids = _ids(db_session, org)
    signed_in("supervisor")
    body = client.get(f"/people/{ids['person_id']}").get_data(as_text=True)
    assert FAMILY in body
