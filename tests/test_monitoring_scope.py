"""Monitoring is scoped by organisation: each sees the programmes it runs or receives and, within
them, the encounters it recorded (a force) or that were referred to it (a receiving organisation).
Said on the page and in every download; tried with two forces and a YOT."""

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

from divert.models import Programme, Referral, ReferralParty
from divert.monitoring.journeys import sync
from divert.pathways.programmes import assign_operator

from .client import parse
from .factories import PASSWORD, create_organisation, create_user
from .monitoring import dataset
from .monitoring.dataset import Journey

Q1 = {"programme": dataset.P, "from": "2026-01-01", "to": "2026-03-31"}
ALL_Q1 = {"from": "2026-01-01", "to": "2026-03-31"}


@pytest.fixture
def forces(db_session: Session, org: Any) -> dict[str, Any]:
    """Force A (the dataset: 25 encounters in Q1), force B (8 of its own) and B's YOT (2 of B's)."""
    dataset.load(db_session, org)
    force_b = create_organisation(db_session, code="wmp", name="West Midlands Police")
    yot = create_organisation(db_session, code="wm-yot", name="West Midlands YOT", kind="yot")
    youth = db_session.scalars(select(Programme).where(Programme.code == dataset.P)).one()
    assign_operator(db_session, youth, force_b.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    for journey in [Journey("W1", "comp")] * 6 + [Journey("A1", "enc")] * 2:
        dataset.record(db_session, force_b, journey, dataset.P, journey.reached)
    referred = db_session.scalars(
        select(Referral).where(Referral.completed_at.is_not(None)).order_by(Referral.id.desc()).limit(2)
    ).all()
    for referral in referred:  # the two newest: force B's
        db_session.add(ReferralParty(referral_id=referral.id, organisation_id=yot.id, role="receiving"))
    db_session.flush()
    sync(db_session)
    people = {
        "a_analyst": create_user(db_session, "analyst", org),
        "a_supervisor": create_user(db_session, "supervisor", org),
        "b_analyst": create_user(db_session, "analyst", force_b),
        "b_supervisor": create_user(db_session, "supervisor", force_b),
        "yot_admin": create_user(db_session, "admin", yot),
    }
    return {"a": org, "b": force_b, "yot": yot, **people}


def _as(client: Any, user: Any) -> None:
    if client.get("/home").status_code == 200:
        client.submit("/sign-out", {}, token_from="/home")
    assert client.sign_in(user.email, PASSWORD).status_code == 302


def _encountered(client: Any, query: dict[str, str]) -> str:
    page = parse(client.get("/monitoring", query_string=query))
    funnel = page.find("table", attrs={"data-testid": "funnel"})
    row = funnel.find("tr", attrs={"data-point": "encountered"})
    return str(row.find("td", attrs={"data-column": "count"}).get_text(strip=True))


def test_each_organisation_counts_only_its_own_encounters(client: Any, forces: dict[str, Any]) -> None:
    expected = {"a_supervisor": "25", "b_supervisor": "8", "yot_admin": "2"}
    for who, count in expected.items():
        _as(client, forces[who])
        assert _encountered(client, Q1) == count, who
        # All programmes together: still only the encounters in reach.
        assert _encountered(client, ALL_Q1) == count, who


def test_force_b_downloads_figures_that_leave_out_force_a(
    app: Any, client: Any, forces: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Threshold 1 hides nothing, so the figures show whose they are; suppression of these small
    # numbers across everything an analyst downloads is tested in test_release_downloads.py.
    monkeypatch.setitem(app.config, "MONITORING_SUPPRESSION_THRESHOLD", 1)
    files: dict[str, dict[str, Any]] = {}
    for who in ("a_analyst", "b_analyst"):
        _as(client, forces[who])
        files[who] = {
            kind: client.get(f"/monitoring/{path}", query_string=Q1).get_data()
            for kind, path in (("csv", "export.csv"), ("xlsx", "export.xlsx"), ("pdf", "report.pdf"))
        }
    a_csv, b_csv = (files[w]["csv"].decode("utf-8") for w in ("a_analyst", "b_analyst"))
    assert a_csv != b_csv
    a_rows, b_rows = dataset.csv_rows(a_csv), dataset.csv_rows(b_csv)
    assert max(int(r["count"]) for r in a_rows if r["count"]) == 25
    # Force A's figures (25 encountered, 10 White) appear nowhere in force B's file.
    assert max(int(r["count"]) for r in b_rows if r["count"]) <= 8
    shown = {(r["group"], r["point"]): r["count"] for r in b_rows if r["count"] not in ("", "0")}
    assert shown[("All", "encountered")] == "8" and shown[("White", "completed")] == "6"

    # Whose figures, in every file: the CSV's comment line, the spreadsheet's About sheet, the PDF.
    assert b_csv.splitlines()[0].startswith("# Scope: West Midlands Police: encounters it recorded")
    assert "Thames Valley Police" not in b_csv
    about = load_workbook(io.BytesIO(files["b_analyst"]["xlsx"]))["About"]
    scope = {row[0]: row[1] for row in about.iter_rows(values_only=True)}["Scope"]
    assert scope.startswith("West Midlands Police") and "drug diversion (youth)" in scope
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(files["b_analyst"]["pdf"])).pages)
    assert "Scope: West Midlands Police" in " ".join(pdf.split())


def test_the_page_says_the_scope_and_offers_only_programmes_in_it(
    client: Any, forces: dict[str, Any]
) -> None:
    _as(client, forces["yot_admin"])
    page = parse(client.get("/monitoring", query_string=Q1))
    said = page.find(attrs={"data-testid": "scope"}).get_text(" ", strip=True)
    assert "West Midlands YOT" in said and "referred to it" in said
    offered = [o["value"] for o in page.find("select", attrs={"name": "programme"}).find_all("option")]
    assert offered == ["", dataset.P]
    _as(client, forces["b_analyst"])
    # Force A runs ``divert`` too; force B does not, so it cannot ask for it.
    refused = client.get("/monitoring", query_string={"programme": dataset.OTHER})
    assert refused.status_code == 400
    assert "Select a programme from the list" in parse(refused).find(id="programme-error").get_text()


def test_the_export_command_takes_the_organisation(
    app: Flask, forces: dict[str, Any], tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "wmp.csv"
    args = ["monitoring-export", "--output", str(target), "--from", "2026-01-01", "--to", "2026-03-31"]
    result = runner.invoke(args=[*args, "--organisation", "wmp"])
    assert result.exit_code == 0, result.output
    assert "Scope: West Midlands Police" in result.output
    rows = dataset.csv_rows(target.read_text(encoding="utf-8"))
    totals = {r["programme"]: r["count"] for r in rows if r["group"] == "All" and r["point"] == "encountered"}
    # All programmes together and each programme it runs; not force A's ``divert``.
    assert totals == {"all": "8", dataset.P: "8"}
    national = runner.invoke(args=args)
    assert national.exit_code == 0 and "every organisation" in national.output
    refused = runner.invoke(args=[*args, "--organisation", "nope"])
    assert refused.exit_code != 0 and "No organisation" in refused.output
    other = runner.invoke(args=[*args, "--organisation", "wmp", "--programme", dataset.OTHER])
    assert other.exit_code != 0 and "neither runs nor receives" in other.output


def test_an_overseeing_organisation_sees_every_forces_figures_of_what_it_oversees(
    app: Any, client: Any, db_session: Session, forces: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PCC given oversight of the youth scheme counts both forces' encounters (25 + 8); a scrutiny
    panel given nothing has no figures; neither sees another programme."""
    monkeypatch.setitem(app.config, "MONITORING_SUPPRESSION_THRESHOLD", 1)  # whose figures, not how hidden
    pcc = create_organisation(db_session, code="tv-pcc", name="Police and Crime Commissioner", kind="pcc")
    panel = create_organisation(db_session, code="panel", name="Scrutiny panel", kind="scrutiny")
    youth = db_session.scalars(select(Programme).where(Programme.code == dataset.P)).one()
    assign_operator(db_session, youth, pcc.id, "oversight")
    pcc_analyst, panel_analyst = (
        create_user(db_session, "analyst", pcc),
        create_user(db_session, "analyst", panel),
    )
    db_session.flush()
    _as(client, pcc_analyst)
    assert _encountered(client, Q1) == "33"
    assert _encountered(client, ALL_Q1) == "33"
    said = parse(client.get("/monitoring", query_string=Q1)).get_text(" ", strip=True)
    assert "every organisation's encounters under the programmes it oversees" in said
    _as(client, panel_analyst)
    said = parse(client.get("/monitoring", query_string=ALL_Q1)).get_text(" ", strip=True)
    assert "oversees no programme, so it has no figures" in said
