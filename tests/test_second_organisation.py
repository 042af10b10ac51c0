"""Every route, walked as every role of a second organisation, with the first organisation's ids.

Force A records an encounter with a person and refers them to its Youth Offending Team. A user of
force B, in each role, then requests every page and API operation with each of A's ids in every
id slot. Whatever B is answered (404, 403, a page about B's own work), no response may carry A's
person: their name, date of birth or PNC ID.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from divert.api import tokens
from divert.auth import PUBLIC, access_of
from divert.models import CaseContact, Decision, Programme
from divert.models.user import ROLES
from divert.pathways.casework import schedule_contact
from divert.pathways.programmes import assign_operator, sync_definitions

from .factories import PASSWORD, create_organisation, create_person, create_user
from .pathways.helpers import days_ago, referred_case

FAMILY, GIVEN, PNC = "Quartermaine", "Zephyrine", "26/000042Q"
BORN = date(2009, 5, 1)
MARKERS = (FAMILY, GIVEN, PNC, "2009-05-01", "1 May 2009", "01/05/2009")


@pytest.fixture
def force_a(db_session: Session) -> dict[str, Any]:
    force = create_organisation(db_session, name="Force A", kind="police_force")
    yot = create_organisation(db_session, name="Youth team A", kind="yot")
    officer = create_user(db_session, "officer", force)
    person = create_person(db_session, family_name=FAMILY, given_name=GIVEN, pnc_id=PNC, date_of_birth=BORN)
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, programme, yot.id, "receiving")
    case = referred_case(db_session, "tvp-youth-drugs", officer, person=person)
    caseworker = create_user(db_session, "yot_caseworker", yot)
    schedule_contact(db_session, caseworker, case, kind="session", scheduled_at=days_ago(1))
    ids = {person.id, case.id, case.encounter_id}
    ids |= {d.id for d in db_session.query(Decision).filter_by(encounter_id=case.encounter_id)}
    ids |= {c.id for c in db_session.query(CaseContact).filter_by(referral_id=case.id)}
    db_session.commit()
    return {"ids": sorted(ids), "person": person.id}


def _urls(rule: Rule, ids: list[int]) -> list[str]:
    ints = [a for a in rule.arguments if isinstance(rule._converters[a], NumberConverter)]
    others = {a: "x" for a in rule.arguments if a not in ints}
    if not ints:
        return [rule.build(others, append_unknown=False)[1]]  # type: ignore[index]
    return [rule.build({**others, **dict.fromkeys(ints, i)}, append_unknown=False)[1] for i in ids]  # type: ignore[index]


def _text(response: Any) -> str:
    """What a response says: a spreadsheet's sheets unzipped, anything else as text."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return str(data.decode("utf-8", "replace"))


def _leaks(body: str) -> list[str]:
    return [marker for marker in MARKERS if marker in body]


@pytest.mark.parametrize("role", ROLES)
def test_a_second_force_never_sees_the_first_forces_person(
    app: Flask, db_session: Session, force_a: dict[str, Any], role: str
) -> None:
    force_b = create_organisation(db_session, name="Force B", kind="police_force")
    user = create_user(db_session, role, force_b)
    secret = tokens.create(db_session, user, "B's system", created_by=None).secret
    db_session.commit()
    pages, api = app.test_client(), app.test_client()
    assert pages.sign_in(user.email, PASSWORD).status_code == 302  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {secret}"}
    walked, leaks = 0, []
    for rule in app.url_map.iter_rules():
        if access_of(app.view_functions[rule.endpoint]) == PUBLIC or "GET" not in (rule.methods or ()):
            continue
        for url in _urls(rule, force_a["ids"]):
            client, extra = (api, headers) if url.startswith("/api/") else (pages, {})
            response = client.get(url, headers=extra)
            walked += 1
            assert response.status_code < 500, (url, response.status_code)
            found = _leaks(_text(response))
            if found:
                leaks.append((url, response.status_code, found))
    # Searching by A's person's name or PNC ID finds nothing either (the page may repeat what B
    # typed, but never A's record: its link or the date of birth B did not type).
    for query in (f"q={FAMILY}", f"q={PNC}", f"q={GIVEN}+{FAMILY}"):
        body = pages.get(f"/people?{query}").get_data(as_text=True)
        walked += 1
        found = [m for m in (*MARKERS[3:], f"/people/{force_a['person']}") if m in body]
        if found:
            leaks.append((f"/people?{query}", found))
    print(f"\n{role}: {walked} requests walked, {len(leaks)} leaks")
    assert walked > 25
    assert leaks == []
