"""The monitoring page and its files as a reader meets them: filters chosen from the data, the
reference group, charts that show suppressed groups, the adjusted odds ratio in the page and in every
download, and a spreadsheet in words."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader
from sqlalchemy.orm import Session

from divert.monitoring.page import Filters, build_page
from divert.monitoring.query import reach_of

from .client import parse
from .monitoring import dataset
from .monitoring.test_adjusted import load as load_case_mix

Q1 = {"programme": dataset.P, "from": "2026-01-01", "to": "2026-03-31", "dimension": "ethnicity_group"}


def _cells(page: BeautifulSoup, point: str) -> dict[str, dict[str, str]]:
    table = page.find("table", attrs={"data-testid": f"groups-{point}"})
    assert table is not None, point
    return {
        row["data-group"]: {td["data-column"]: td.get_text(" ", strip=True) for td in row.find_all("td")}
        for row in table.find_all("tr", attrs={"data-group": True})
    }


def test_an_unknown_reference_group_is_a_form_error_not_a_500(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("supervisor")
    response = client.get("/monitoring", query_string={**Q1, "reference": "black"})
    assert response.status_code == 400
    page = parse(response)
    summary = page.select(".govuk-error-summary__list a")
    assert [(a["href"], a.get_text(strip=True)) for a in summary] == [
        ("#reference", "Select a reference group from the list")
    ]
    offered = [o["value"] for o in page.find("select", attrs={"name": "reference"}).find_all("option")]
    assert offered == ["", "White", "Mixed", "Asian", "Black", "Other"], "the groups in the figures"
    # A download asked for with it goes back to the page to say so.
    assert client.get("/monitoring/export.csv", query_string={**Q1, "reference": "black"}).status_code == 302
    # Chosen from the list, it is the reference group.
    chosen = parse(client.get("/monitoring", query_string={**Q1, "reference": "Black"}))
    assert (
        chosen.find("select", attrs={"name": "reference"}).find("option", selected=True)["value"] == "Black"
    )
    assert _cells(chosen, "eligible")["Black"]["note"] == "Reference group."
    assert _cells(chosen, "eligible")["White"]["rri"] == "1.33 (0.74 to 2.41)"


def test_every_filter_is_a_select_or_date_boxes(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("admin")
    form = parse(client.get("/monitoring", query_string={**Q1, "dimension": "gender"})).find(
        "form", attrs={"data-testid": "filters"}
    )
    selects = {s["name"] for s in form.find_all("select")}
    assert selects == {"programme", "dimension", "reference", "period", "point"}
    typed = {i["name"] for i in form.find_all("input") if i.get("type") not in ("checkbox", "submit")}
    assert typed == {"from", "to"}, "dates are GOV.UK day, month and year boxes; nothing else is typed"
    assert len(form.find_all("input", attrs={"name": "from", "inputmode": "numeric"})) == 3
    assert form.find("fieldset").find("legend").get_text(strip=True) == "Encounters from"
    # Gender groups by their labels, valued by their codes.
    options = {
        o["value"]: o.get_text(strip=True) for o in form.find("select", attrs={"name": "reference"})("option")
    }
    assert options["male"] == "Male" and "not_stated" not in options


def test_a_reference_group_with_base_zero_is_not_computable(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)  # nobody of mixed ethnicity
    signed_in("supervisor")
    page = parse(client.get("/monitoring", query_string={**Q1, "reference": "Mixed"}))
    for point in ("eligible", "offered"):
        rows = _cells(page, point)
        assert rows["Mixed"]["rri"] == "–"
        assert rows["Mixed"]["note"].startswith(
            "Not computable: nobody in the reference group reached the base"
        )
        assert rows["Black"]["rri"] == "–" and rows["Black"]["note"].startswith(
            "Not computable: nobody in the reference group reached the base"
        )
    assert "1.00" not in {r["rri"] for r in _cells(page, "eligible").values()}


def test_charts_mark_suppressed_groups_instead_of_dropping_them(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    page = parse(client.get("/monitoring", query_string={**Q1, "point": "completed"}))
    chart = page.find("svg", attrs={"aria-labelledby": "chart-groups-title"})
    said = chart.find("desc").get_text()
    # Asian: 3 completed, suppressed; every group is in the chart, drawn or marked.
    assert "Asian: [c] suppressed" in said
    for group in ("White", "Mixed", "Asian", "Black", "Other"):
        assert f"{group}:" in said
    assert "[c] suppressed" in [t.get_text() for t in chart.find_all("text")]
    assert "Mixed: no rate" in said
    trends = page.find("svg", attrs={"aria-labelledby": "chart-trends-title"})
    assert "suppressed, marked [c]" in trends.find("desc").get_text()
    assert "Asian [c]" in [t.get_text() for t in trends.find_all("text")]


def test_adjusted_odds_ratios_on_the_page_and_in_every_file(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    load_case_mix(db_session, org=org)
    expected = build_page(
        db_session, Filters(programme=dataset.P, published=False), reach_of(db_session, org), 5
    ).adjusted["offered", "Black"]
    assert expected.odds_ratio is not None and expected.ci_low is not None and expected.ci_high is not None
    shown = f"{expected.odds_ratio:.2f} ({expected.ci_low:.2f} to {expected.ci_high:.2f})"
    signed_in("supervisor")
    query = {"programme": dataset.P}
    page = parse(client.get("/monitoring", query_string=query))
    assert _cells(page, "offered")["Black"]["adjusted"] == shown
    assert _cells(page, "offered")["White"]["adjusted"] == "–"
    readings = page.find(attrs={"data-testid": "adjusted-offered"}).get_text(" ", strip=True)
    assert expected.reading in readings

    rows = dataset.csv_rows(client.get("/monitoring/export.csv", query_string=query).get_data(as_text=True))
    black = next(
        r for r in rows if r["group"] == "Black" and r["point"] == "offered" and r["period"] == "All dates"
    )
    assert float(black["adjusted_odds_ratio"]) == round(expected.odds_ratio, 6)
    assert black["adjusted_reading"] == expected.reading
    trend = [r for r in rows if r["period"] != "All dates"]
    assert trend and all(r["adjusted_odds_ratio"] == "" for r in trend), "adjusted for the whole range only"

    book = load_workbook(io.BytesIO(client.get("/monitoring/export.xlsx", query_string=query).data))
    sheet = list(book["Groups"].iter_rows())
    headers = [c.value for c in sheet[0]]
    row = next(
        r
        for r in sheet[1:]
        if r[headers.index("Group")].value == "Black"
        and r[headers.index("Decision point")].value == "Offered diversion"
    )
    cell = row[headers.index("Odds ratio adjusted for case mix")]
    assert cell.value == pytest.approx(expected.odds_ratio, rel=1e-12) and cell.number_format == "0.00"
    assert row[headers.index("Taking case mix into account")].value == expected.reading

    pdf = client.get("/monitoring/report.pdf", query_string=query)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert shown in text and "Taking case mix into account" in text


def test_the_spreadsheet_reads_in_words(client: Any, signed_in: Any, db_session: Session, org: Any) -> None:
    dataset.load(db_session, org)
    signed_in("supervisor")
    body = client.get("/monitoring/export.xlsx", query_string={**Q1, "dimension": "gender"}).data
    book = load_workbook(io.BytesIO(body))
    contents = list(book["Contents"].iter_rows(values_only=True))
    assert contents[0] == ("Sheet", "What it holds", "About")
    assert [r[0] for r in contents[1:]] == book.sheetnames[1:], "every sheet is listed"
    assert all(len(name) <= 31 for name in book.sheetnames)
    titles = {r[0]: r[1] for r in contents[1:]}
    assert titles["Reasons for leaving"] == "Reasons for leaving without completing, by group"
    link = book["Contents"]["A2"].hyperlink
    assert (link.location or link.target).lstrip("#") == "'Groups'!A1"

    groups = list(book["Groups"].iter_rows())
    headers = [c.value for c in groups[0]]
    values = [[c.value for c in r] for r in groups[1:]]
    column = {h: [v[i] for v in values] for i, h in enumerate(headers)}
    assert set(column["Programme"]) == {"Thames Valley drug diversion (youth)"}
    assert "Offered diversion" in column["Decision point"] and "offered" not in column["Decision point"]
    assert set(column["Broken down by"]) == {"Gender"}
    assert "Male" in column["Group"] and "male" not in column["Group"]
    assert set(column["Suppressed"]) <= {"Yes", "No"} and set(column["RRI significant"]) <= {
        "Yes",
        "No",
        None,
    }
    rates = [r[headers.index("Rate")] for r in groups[1:] if r[headers.index("Rate")].value is not None]
    # Numbers (a rate of exactly 0 or 1 may be stored as a whole number), shown as percentages.
    assert rates and all(
        isinstance(c.value, int | float) and not isinstance(c.value, bool) and c.number_format == "0.0%"
        for c in rates
    ), [(c.coordinate, c.value, c.number_format) for c in rates if not isinstance(c.value, float)][:5]
    counts = [r[headers.index("Count")] for r in groups[1:] if r[headers.index("Count")].value is not None]
    assert counts and all(isinstance(c.value, int) for c in counts)
    everything = [c.value for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert not [v for v in everything if isinstance(v, bool) or v in ("true", "false", "TRUE", "FALSE")]
    assert not [v for v in everything if isinstance(v, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+", v)], "codes"
