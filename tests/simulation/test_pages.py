"""The simulation pages, driven as the people who use them: a force's analyst runs a draft an
administrator uploaded, reads the result and downloads the annex; another force's analyst and an
officer cannot; the API starts one and fetches its result."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import AuditEntry, Simulation
from divert.pathways.programmes import upload_draft

from ..client import PageClient, parse
from ..factories import PASSWORD, create_organisation, create_user
from .dataset import build
from .test_replay import IN_FORCE


def _draft_text() -> str:
    return IN_FORCE.replace("version: 3", "version: 9", 1).replace("age < 18", "age < 17", 1)


def _signed_in(app: Flask, user: Any) -> Any:
    client: Any = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def test_an_analyst_runs_an_uploaded_draft_and_downloads_the_annex(app: Flask, db_session: Session) -> None:
    force = build(db_session)
    admin = create_user(db_session, "admin", force)
    draft = upload_draft(db_session, _draft_text(), admin)
    analyst = create_user(db_session, "analyst", force)
    client = _signed_in(app, analyst)

    page = parse(client.get("/monitoring/simulations"))
    option = page.find("option", attrs={"value": str(draft.id)})
    assert option is not None and "(draft)" in option.get_text()
    token = client.csrf_token("/monitoring/simulations")
    started = client.post(
        "/monitoring/simulations",
        data={
            "csrf_token": token,
            "version": str(draft.id),
            "dimension": "ethnicity_group",
            "date_from": ["1", "2", "2026"],
            "date_to": ["31", "3", "2026"],
        },
    )
    assert started.status_code == 302, started.get_data(as_text=True)[:3000]
    result = parse(client.get(started.headers["Location"]))
    assert result.find(attrs={"data-testid": "simulation-state"}).get_text() == "Finished"
    # Twelve decisions in the period; on so small a history even the total may be suppressed, since
    # with the shown figures it would give a small count back.
    assert result.find(attrs={"data-testid": "decisions"}).get_text(strip=True) in {"12", "[c]"}
    white = result.select_one('[data-testid="point-eligible"] tr[data-group="White"]')
    # Published as every figure is: White's 2 taken out is a small number, so suppressed.
    assert white.select_one('[data-testid="changed-out"]').get_text(strip=True) == "[c]"
    assert "Aged 10 to 17" not in result.get_text()  # aggregates and rules, never a person's reasons
    assert result.find(attrs={"data-testid": "changes-section"}) is not None  # the change proposed

    simulation = db_session.scalars(select(Simulation)).one()
    assert simulation.started_by_id == analyst.id and simulation.decisions == 12
    assert simulation.baseline_version_id is not None and simulation.latest_decision_id is not None

    pdf = client.get(f"/monitoring/simulations/{simulation.id}/annex.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Equality Impact Assessment annex" in text and "Limitations" in text
    xlsx = client.get(f"/monitoring/simulations/{simulation.id}/annex.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames[0] == "Contents" and "Method" in book.sheetnames
    point = book["Point 1"]
    header = [c.value for c in point[2]]
    white_row = next(r for r in point.iter_rows(min_row=3, values_only=True) if r[0] == "White")
    # Numbers as numbers; a suppressed count an empty cell, never a "[c]" string.
    stored = next(r for r in simulation.result["rows"] if r["group"] == "White" and r["point"] == "eligible")
    for column, key in (
        ("Base now", "base_current"),
        ("Taken out", "changed_out"),
        ("Brought in", "changed_in"),
    ):
        assert white_row[header.index(column)] == stored[key]
    assert stored["changed_in"] == 0 and stored["changed_out"] is None
    csv_text = client.get(f"/monitoring/simulations/{simulation.id}/result.csv").get_data(as_text=True)
    assert csv_text.startswith("group,point,current_count,draft_count")
    exports = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.object_type == "simulation")
    ).all()
    assert len(exports) == 3


def test_another_forces_analyst_and_an_officer_cannot_see_it(app: Flask, db_session: Session) -> None:
    force = build(db_session)
    analyst = create_user(db_session, "analyst", force)
    stranger = create_user(db_session, "analyst", create_organisation(db_session, kind="police_force"))
    officer = create_user(db_session, "officer", force)
    client = _signed_in(app, analyst)
    token = client.csrf_token("/monitoring/simulations")
    version = parse(client.get("/monitoring/simulations")).select("option[value]")[1]["value"]
    started = client.post(
        "/monitoring/simulations",
        data={"csrf_token": token, "version": version, "dimension": "gender"},
    )
    assert started.status_code == 302
    url = started.headers["Location"]
    theirs = _signed_in(app, stranger)
    for suffix in ("", "/annex.pdf", "/annex.xlsx", "/result.csv"):
        assert theirs.get(url + suffix).status_code == 404
    # The other force runs no programme: it is offered nothing to simulate.
    assert parse(theirs.get("/monitoring/simulations")).find(attrs={"data-testid": "no-versions"})
    assert _signed_in(app, officer).get(url).status_code == 403


def test_bad_choices_are_refused_with_messages(app: Flask, client: PageClient, db_session: Session) -> None:
    force = build(db_session)
    analyst = create_user(db_session, "analyst", force)
    client = _signed_in(app, analyst)
    token = client.csrf_token("/monitoring/simulations")
    refused = client.post(
        "/monitoring/simulations",
        data={
            "csrf_token": token,
            "version": "999999",
            "dimension": "ethnicity_group",
            "date_from": ["31", "3", "2026"],
            "date_to": ["1", "2", "2026"],
        },
    )
    assert refused.status_code == 400
    summary = parse(refused).find(class_="govuk-error-summary").get_text()
    assert "Select a version" in summary and "end date must be on or after" in summary
    assert db_session.scalar(select(Simulation.id)) is None


def test_the_api_starts_a_simulation_and_fetches_its_result(app: Flask, db_session: Session) -> None:
    force = build(db_session)
    analyst = create_user(db_session, "analyst", force)
    admin = create_user(db_session, "admin", force)
    draft = upload_draft(db_session, _draft_text(), admin)
    secret = tokens.create(db_session, analyst, "sims", created_by=None).secret
    headers = {"Authorization": f"Bearer {secret}"}
    api = app.test_client()
    body = {"programme_version_id": draft.id, "dimension": "ethnicity_group", "date_from": "2026-02-01"}
    started = api.post("/api/v1/simulations", json=body, headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    got = api.get(started.json["url"], headers=headers)
    assert got.status_code == 200 and got.json["status"] == "done"
    white = next(r for r in got.json["result"]["rows"] if r["group"] == "White" and r["point"] == "eligible")
    # Published figures only: White's 2 taken out is suppressed, here as on the page.
    assert white["changed_out"] is None and got.json["decisions"] == 12
    bad = api.post("/api/v1/simulations", json={**body, "dimension": "shoe_size"}, headers=headers)
    assert bad.status_code == 422
    other = create_user(db_session, "analyst", create_organisation(db_session, kind="police_force"))
    other_secret = tokens.create(db_session, other, "theirs", created_by=None).secret
    hidden = api.get(started.json["url"], headers={"Authorization": f"Bearer {other_secret}"})
    assert hidden.status_code == 404
