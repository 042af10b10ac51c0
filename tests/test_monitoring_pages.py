"""The monitoring pages: who may see them, the figures they show, the downloads and the baseline upload."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert import session_factory
from divert.app import migrate
from divert.app.extensions import db
from divert.models import AuditEntry, PopulationBaseline, PopulationBaselineRow
from divert.monitoring.export import write_csv
from divert.monitoring.query import Scope
from divert.monitoring.report import Options, build_report
from divert.pathways.programmes import sync_definitions
from divert.seeding.reference import load_reference_data

from .client import parse
from .database import scratch_database
from .factories import create_organisation
from .monitoring import dataset

Q1 = {"programme": dataset.P, "from": "2026-01-01", "to": "2026-03-31", "dimension": "ethnicity_group"}
SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "population" / "sample-population.csv"
VIEWERS = ("analyst", "supervisor", "admin")


def _cells(page: BeautifulSoup, point: str) -> dict[str, dict[str, str]]:
    """{group: {column: text}} from the group table for ``point``."""
    table = page.find("table", attrs={"data-testid": f"groups-{point}"})
    assert table is not None, point
    return {
        row["data-group"]: {td["data-column"]: td.get_text(" ", strip=True) for td in row.find_all("td")}
        for row in table.find_all("tr", attrs={"data-group": True})
    }


def _audits(db_session: Session, action: str) -> int:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.object_type == "monitoring_report")
        )
        or 0
    )


@pytest.mark.parametrize("role", VIEWERS)
def test_the_pages_render_for_viewers(client: Any, signed_in: Any, role: str) -> None:
    signed_in(role)
    for path in ("/monitoring", "/monitoring/method"):
        response = client.get(path)
        assert response.status_code == 200, path
    nav = parse(client.get("/monitoring")).select(".govuk-service-navigation__link")
    assert "Monitoring" in [a.get_text(strip=True) for a in nav]


@pytest.mark.parametrize("role", ["officer", "yot_caseworker", "navigator", "coach", "yju_decision_maker"])
def test_other_roles_are_refused(client: Any, signed_in: Any, role: str) -> None:
    signed_in(role)
    for path in ("/monitoring", "/monitoring/method", "/monitoring/export.csv", "/monitoring/export.xlsx"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_only_administrators_upload_baselines(client: Any, signed_in: Any, role: str) -> None:
    signed_in(role)
    assert client.get("/monitoring/population").status_code == 403


def test_supervisor_figures_match_the_report(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("supervisor")
    response = client.get("/monitoring", query_string=Q1)
    assert response.status_code == 200
    page = parse(response)
    report = build_report(db_session, Scope("ethnicity_group", "quarter", dataset.P))
    expected = {(r.group, r.point): r for r in report.rows if r.period == "2026-Q1"}
    for point in ("encountered", "eligible", "offered", "completed", "formal_outcome"):
        for group, cells in _cells(page, point).items():
            row = expected[group, point]
            assert cells["count"] == str(row.count), (group, point)
            if row.base_point:
                assert cells["rate"] == ("–" if row.rate is None else f"{row.rate * 100:.1f}%")
    black = _cells(page, "eligible")["Black"]
    assert (black["count"], black["base_count"], black["rate"]) == ("6", "10", "60.0%")
    assert black["rri"] == "0.75 (0.41 to 1.36)"
    assert black["significant"] == "No" and black["four_fifths_flag"] == "Yes"
    assert "left out of comparisons" in _cells(page, "eligible")["Not stated"]["note"]
    funnel = page.find("table", attrs={"data-testid": "funnel"})
    first = funnel.find("tr", attrs={"data-point": "encountered"})
    assert first.find("td", attrs={"data-column": "count"}).get_text(strip=True) == "25"
    assert page.find("svg", attrs={"role": "img"}) is not None
    assert "style=" not in response.get_data(as_text=True).split("<main", 1)[1]
    assert not page.find(attrs={"data-testid": "published"})


def test_analyst_figures_are_suppressed(client: Any, signed_in: Any, db_session: Session, org: Any) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    # Even asking for unsuppressed figures gets the published ones.
    response = client.get("/monitoring", query_string={**Q1, "published": "no"})
    page = parse(response)
    assert page.find(attrs={"data-testid": "published"}) is not None
    assert page.find(id="published") is None, "analysts have no choice to make"
    report = build_report(
        db_session, Scope("ethnicity_group", "quarter", dataset.P), Options(published=True, threshold=5)
    )
    expected = {(r.group, r.point): r for r in report.rows if r.period == "2026-Q1"}
    for point in ("encountered", "eligible", "offered", "accepted", "engaged", "completed"):
        for group, cells in _cells(page, point).items():
            row = expected[group, point]
            assert cells["count"] == ("[c]" if row.count is None else str(row.count)), (group, point)
            assert cells["count"] not in {"1", "2", "3", "4"}
    asian = _cells(page, "completed")["Asian"]
    assert asian["count"] == "[c]" and asian["rate"] == "[c]"
    assert "Suppressed" in asian["note"]
    for table in page.select("table"):
        for cell in table.select("td"):
            assert cell.get_text(strip=True) not in {"1", "2", "3", "4"}, cell


def test_csv_and_xlsx_hold_exactly_the_page_rows_and_are_audited(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("supervisor")
    query = {**Q1, "point": "offered"}
    page = parse(client.get("/monitoring", query_string=query))
    before = _audits(db_session, "export")

    response = client.get("/monitoring/export.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(dataset.csv_rows(response.get_data(as_text=True)))
    whole = [r for r in rows if r["period"] == "2026-01-01 to 2026-03-31"]
    trends = [r for r in rows if r["period"] != "2026-01-01 to 2026-03-31"]
    # The group tables: 6 groups + All, 11 points; the trend table: the offered point per quarter.
    assert len(whole) == 7 * 11 and {r["period"] for r in trends} == {"2026-Q1"}
    assert {r["point"] for r in trends} == {"offered"} and len(trends) == 7
    for point in ("eligible", "offered"):
        for group, cells in _cells(page, point).items():
            row = next(r for r in whole if r["group"] == group and r["point"] == point)
            assert cells["count"] == row["count"]
    # The Q1 figures are build_report's figures for the same scope, row for row.
    out = io.StringIO()
    write_csv(build_report(db_session, Scope("ethnicity_group", "quarter", dataset.P, None, None)).rows, out)
    q1 = [r for r in dataset.csv_rows(out.getvalue()) if r["period"] == "2026-Q1"]
    assert [{**r, "period": ""} for r in whole] == [{**r, "period": ""} for r in q1]

    response = client.get("/monitoring/export.xlsx", query_string=query)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:2] == ["Groups", "Trends"]
    sheet = list(book["Groups"].iter_rows(values_only=True))
    assert list(sheet[0][:16]) == list(rows[0].keys())
    assert len(sheet) - 1 == len(whole)
    for xrow, crow in zip(sheet[1:], whole, strict=True):
        assert ["" if v is None else str(v) for v in xrow[:7]] == list(crow.values())[:7]
    assert len(list(book["Trends"].iter_rows())) - 1 == len(trends)
    assert _audits(db_session, "export") == before + 2


def test_published_downloads_are_suppressed(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    response = client.get("/monitoring/export.csv", query_string=Q1)
    rows = list(dataset.csv_rows(response.get_data(as_text=True)))
    assert rows and all(r["count"] not in {"1", "2", "3", "4"} for r in rows)
    asian = next(r for r in rows if r["group"] == "Asian" and r["point"] == "completed")
    assert (asian["count"], asian["suppressed"]) == ("", "true")


def test_the_pdf_report(client: Any, signed_in: Any, db_session: Session, org: Any) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    before = _audits(db_session, "export")
    response = client.get("/monitoring/report.pdf", query_string=Q1)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert _audits(db_session, "export") == before + 1


def test_page_views_are_audited(client: Any, signed_in: Any, db_session: Session) -> None:
    signed_in("analyst")
    before = _audits(db_session, "view")
    client.get("/monitoring", query_string={"dimension": "gender"})
    assert _audits(db_session, "view") == before + 1


def test_bad_filters_are_explained(client: Any, signed_in: Any) -> None:
    signed_in("analyst")
    response = client.get(
        "/monitoring", query_string={"from": "2026-02-30", "to": "2026-01-01", "reference": "Not stated"}
    )
    assert response.status_code == 400
    summary = parse(response).select(".govuk-error-summary__list a")
    assert [a["href"] for a in summary] == ["#from", "#reference"]
    download = client.get("/monitoring/export.csv", query_string={"from": "nonsense"})
    assert download.status_code == 302


def test_the_filters_are_a_get_form_that_keeps_what_was_asked(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("supervisor")
    page = parse(client.get("/monitoring", query_string={**Q1, "period": "year", "published": "yes"}))
    form = page.find("form", attrs={"data-testid": "filters"})
    assert form["method"] == "get" and form.find("input", attrs={"name": "csrf_token"}) is None
    chosen = {
        select["name"]: select.find("option", selected=True)["value"] for select in form.find_all("select")
    }
    assert chosen == {
        "programme": dataset.P,
        "dimension": "ethnicity_group",
        "period": "year",
        "point": "offered",
    }
    inputs = {i["name"]: i for i in form.find_all("input")}
    assert (inputs["from"]["type"], inputs["from"]["value"]) == ("date", "2026-01-01")
    assert inputs["to"]["value"] == "2026-03-31" and inputs["published"].has_attr("checked")
    # Submitting the form asks for the same page: the download links carry the same names.
    csv_link = page.find("a", string="CSV")["href"]
    assert "from=2026-01-01" in csv_link and "period=year" in csv_link and "published=yes" in csv_link

    wrong = parse(client.get("/monitoring", query_string={"from": "2026-13-01", "programme": "nope"}))
    assert (
        wrong.find(id="from-error")
        .get_text(" ", strip=True)
        .endswith("The start date must be a real date, like 2026-01-31")
    )
    assert "Select a programme from the list" in wrong.find(id="programme-error").get_text()
    assert wrong.find("input", attrs={"name": "from"})["value"] == "2026-13-01", "what was typed is kept"


def test_every_dimension_renders(client: Any, signed_in: Any, db_session: Session, org: Any) -> None:
    dataset.load(db_session, org)
    signed_in("admin")
    for dimension in ("ethnicity_code", "officer_ethnicity", "gender", "age_band", "area"):
        for period in ("month", "year"):
            response = client.get("/monitoring", query_string={"dimension": dimension, "period": period})
            assert response.status_code == 200, (dimension, period)


def _upload(client: Any, content: bytes, name: str = "Census 2021 (sample)") -> Any:
    return client.submit(
        "/monitoring/population",
        {"name": name, "source_note": "Invented", "file": (io.BytesIO(content), "population.csv")},
        content_type="multipart/form-data",
    )


def test_uploading_a_baseline_makes_it_active_and_shows_shares(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("admin")
    assert _upload(client, SAMPLE.read_bytes(), "First").status_code == 302
    response = _upload(client, SAMPLE.read_bytes(), "Second")
    assert response.status_code == 302
    active = db_session.scalars(select(PopulationBaseline).where(PopulationBaseline.active.is_(True))).all()
    assert [b.name for b in active] == ["Second"]
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(PopulationBaselineRow)
            .where(PopulationBaselineRow.baseline_id == active[0].id)
        )
        == 50
    )
    listing = parse(client.get("/monitoring/population"))
    assert "In use" in listing.find(attrs={"data-testid": "baselines"}).get_text()
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_type == "population_baseline")
        )
        == 2
    )

    page = parse(client.get("/monitoring", query_string=Q1))
    table = page.find("table", attrs={"data-testid": "population"})
    assert table is not None and "Second" in table.caption.get_text()
    rows = {
        r["data-group"]: [td.get_text(strip=True) for td in r.find_all("td")]
        for r in table.find_all("tr", attrs={"data-group": True})
    }
    # Encounters among compared groups: White 10, Black 10, Asian 3 (Not stated left out of shares).
    assert rows["White"][:2] == ["10", "43.5%"] and rows["Not stated"][1] == "–"
    assert rows["White"][4].startswith(("+", "-"))

    gender = parse(client.get("/monitoring", query_string={**Q1, "dimension": "officer_ethnicity"}))
    assert gender.find(attrs={"data-testid": "no-population"}) is not None


def test_a_bad_baseline_shows_every_problem_and_stores_nothing(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    signed_in("admin")
    content = (
        "area,ethnic_group,gender,age_band,population\n"
        "OX1,White,male,10-14,900\n"
        "OX1,Purple,male,10–14,12\n"
        "OX1,White,male,10–14,5\n"
        "OX2,Black,female,15–17,-3\n"
    ).encode()
    response = _upload(client, content, name="")
    assert response.status_code == 400
    page = parse(response)
    assert page.title.get_text().startswith("Error:")
    problems = [a.get_text(strip=True) for a in page.select(".govuk-error-summary__list a")]
    assert problems[0] == "Enter a name for the baseline"
    assert any(p.startswith("Line 3:") and "Purple" in p for p in problems)
    assert any(p.startswith("Line 4:") and "repeats line 2" in p for p in problems)
    assert any(p.startswith("Line 5:") and "population" in p for p in problems)
    assert db_session.scalar(select(func.count()).select_from(PopulationBaseline)) == 0

    assert _upload(client, b"\xff\xfe not utf-8").status_code == 400
    assert db_session.scalar(select(func.count()).select_from(PopulationBaseline)) == 0


def test_figures_come_from_the_reports_replica_when_one_is_set(
    client: Any, signed_in: Any, db_session: Session, org: Any, tmp_path: Path
) -> None:
    # The "replica" holds the dataset and the main database none of it, so the figures on the
    # page can only have come from the replica; the audit entry goes to the main database.
    with scratch_database(tmp_path, "replica") as (_, replica):
        migrate.upgrade(replica)
        with session_factory(replica)() as loading:
            load_reference_data(loading)
            # A replica is a copy of the primary: the same organisation, with the same id.
            copy = create_organisation(loading, id=org.id, code=org.code, name=org.name, kind=org.kind)
            dataset.load(loading, copy)
            loading.commit()
        sync_definitions(db_session)
        signed_in("supervisor")
        db.reports_engine = replica
        db.reports_factory.configure(bind=replica)
        try:
            response = client.get("/monitoring", query_string=Q1)
        finally:
            db.reports_engine = None
            db.reports_factory.configure(bind=None)
        assert response.status_code == 200
        funnel = parse(response).find("table", attrs={"data-testid": "funnel"})
        first = funnel.find("tr", attrs={"data-point": "encountered"})
        assert first.find("td", attrs={"data-column": "count"}).get_text(strip=True) == "25"
        assert _audits(db_session, "view") == 1
