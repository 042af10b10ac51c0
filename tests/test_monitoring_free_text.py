"""Free text never reaches the monitoring figures: what an officer or supervisor types about a person
stays in the case, and the analyst's page and every download count it without showing it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import Decision, Programme, Referral
from divert.monitoring.breakdowns import FREE_TEXT
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import form_fields, parse
from .factories import PASSWORD, create_organisation, create_user

P = "tvp-youth-drugs"
# What an outside tester found typed into reasons: a name, a date of birth, a PNC ID, an address.
MARKS = {
    "not_offered": "Refused - Jo Bloggs, PNC 12/345678A, 1 Elm Rd",
    "override": "Override - Jo Bloggs born 01/02/2009 lives at 2 Elm Rd",
    "drop_out": "Dropped out - Jo Bloggs moved to 3 Elm Rd",
    "declined": "Declined - Jo Bloggs, mum says no, 4 Elm Rd",
}


def _first_possession(**changes: Any) -> dict[str, Any]:
    data = {
        "given_name": "Jo",
        "family_name": "Bloggs",
        "date_of_birth": ["1", "2", "2009"],
        "gender": "female",
        "self_defined_ethnicity": "W1",
        "setting": "street",
        "offence_category": "drug_possession",
        "personal_use": "yes",
        "supply_suspected": "no",
        "admission": "admitted",
    }
    return {**data, **changes}


def _record(client: Any, **changes: Any) -> Any:
    """An officer records an encounter on the page; returns the encounter page's programme section."""
    form = parse(client.get("/encounters/new")).select_one("main form")
    response = client.post("/encounters/new", data={**form_fields(form), **_first_possession(**changes)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return parse(client.get(response.headers["Location"])).select_one("[data-testid=programme]")


def _answer(client: Any, section: Any, response: str, reason: str = "") -> None:
    form = section.select_one("form")
    done = client.post(form["action"], data={**form_fields(form), "response": response, "reason": reason})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]


def _as(client: Any, user: Any) -> None:
    client.submit("/sign-out", {}, token_from="/home")
    assert client.sign_in(user.email, PASSWORD).status_code == 302


def _step(client: Any, headers: dict[str, str], case_id: int, to_state: str, **fields: Any) -> None:
    version = client.get(f"/api/v1/referrals/{case_id}", headers=headers).json["version"]
    body = {"to_state": to_state, "reason": "Two sessions missed", "version": version, **fields}
    response = client.post(f"/api/v1/referrals/{case_id}/steps", json=body, headers=headers)
    assert response.status_code == 200, response.json


@pytest.fixture
def typed_reasons(client: Any, db_session: Session, org: Any) -> dict[str, Any]:
    """Each kind of reason typed through the real pages and API, by the people who type them."""
    sync_definitions(db_session)
    yot = create_organisation(db_session, code="yot-a", name="Thames YOT", kind="yot")
    youth = db_session.scalars(select(Programme).where(Programme.code == P)).one()
    assign_operator(db_session, youth, org.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", org)
    supervisor = create_user(db_session, "supervisor", org)
    analyst = create_user(db_session, "analyst", org)

    assert client.sign_in(officer.email, PASSWORD).status_code == 302
    # Three different people: the same person again the same day is a repeat, for the YJU to decide.
    _answer(client, _record(client), "not_offered", MARKS["not_offered"])
    _answer(client, _record(client, family_name="Second"), "accepted")
    _answer(client, _record(client, family_name="Fourth"), "declined", MARKS["declined"])
    _record(client, family_name="Third", supply_suspected="yes")  # not eligible: the supervisor overrides it

    _as(client, supervisor)
    cases = db_session.scalars(select(Referral).order_by(Referral.id)).all()
    refused = db_session.scalars(select(Decision).where(Decision.eligible.is_(False))).one()
    overridden = client.submit(
        f"/decisions/{refused.id}/override", {"outcome": "route:yot", "reason": MARKS["override"]}
    )
    assert overridden.status_code == 302
    referred = next(c for c in cases if c.state == "referred_yot")
    headers = {"Authorization": f"Bearer {tokens.create(db_session, supervisor, 'case system', None).secret}"}
    _step(client, headers, referred.id, "non_engagement_review")
    _step(client, headers, referred.id, "escalated", exit_reason=MARKS["drop_out"][:60])
    db_session.expire_all()
    stored = db_session.get(Referral, referred.id)
    assert stored is not None and stored.exit_reason == MARKS["drop_out"][:60], "the case keeps it"
    return {"analyst": analyst, "supervisor": supervisor}


def _text_of_xlsx(body: bytes) -> str:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _text_of_pdf(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def _everything(client: Any, query: dict[str, str]) -> dict[str, str]:
    page = client.get("/monitoring", query_string=query)
    assert page.status_code == 200
    got = {"page": parse(page).get_text(" ")}
    for name, path in (("csv", "export.csv"), ("xlsx", "export.xlsx"), ("pdf", "report.pdf")):
        response = client.get(f"/monitoring/{path}", query_string=query)
        assert response.status_code == 200, (name, response.status_code)
        body = response.get_data()
        readers = {"csv": lambda b: b.decode("utf-8"), "xlsx": _text_of_xlsx, "pdf": _text_of_pdf}
        got[name] = readers[name](body)
    return got


def _leaks(text: str) -> list[str]:
    return [mark for mark in (*MARKS.values(), "Bloggs", "Elm Rd", "12/345678A") if mark in text]


@pytest.mark.parametrize("who", ["analyst", "supervisor"])
def test_typed_reasons_are_counted_but_never_shown(
    client: Any, typed_reasons: dict[str, Any], who: str
) -> None:
    _as(client, typed_reasons[who])
    for query in ({"programme": P}, {}):
        for name, text in _everything(client, query).items():
            assert _leaks(text) == [], (who, query, name)
    # Still counted: the unsuppressed page shows each typed reason in the free-text row.
    if who == "supervisor":
        page = parse(client.get("/monitoring", query_string={"programme": P}))
        for kind in ("not_offered", "drop_out"):
            table = page.find("table", attrs={"data-testid": f"reasons-{kind}"})
            headers = [th.get_text(strip=True) for th in table.thead.find_all("th")]
            assert FREE_TEXT in headers, (kind, headers)
            everyone = [td.get_text(strip=True) for td in table.find("tr", attrs={"data-group": "All"})("td")]
            assert everyone[headers.index(FREE_TEXT) - 1] == "1", (kind, headers, everyone)


def test_the_export_command_shows_no_typed_reason(
    app: Flask, typed_reasons: dict[str, Any], tmp_path: Path
) -> None:
    for extra in ([], ["--programme", P], ["--published"]):
        target = tmp_path / "monitoring.csv"
        result = app.test_cli_runner().invoke(args=["monitoring-export", "--output", str(target), *extra])
        assert result.exit_code == 0, result.output
        assert _leaks(target.read_text(encoding="utf-8") + result.output) == [], extra
