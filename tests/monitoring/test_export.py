"""The CSV export: exact columns in order, and the ``monitoring-export`` command."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from divert.cli.monitoring import register_monitoring_commands
from divert.monitoring.adjusted import CSV_COLUMNS
from divert.monitoring.export import write_csv
from divert.monitoring.page import Filters, build_page
from divert.monitoring.query import Scope, reach_of
from divert.monitoring.release import linked_release
from divert.monitoring.report import build_report

from . import dataset
from .test_adjusted import load as load_case_mix

HEADER = (
    "programme,period,dimension,group,point,base_point,count,base_count,rate,reference_group,"
    "rri,ci_low,ci_high,significant,four_fifths_flag,suppressed"
)


def test_csv_has_exactly_the_columns_in_order(db_session: Session) -> None:
    dataset.load(db_session)
    out = io.StringIO()
    written = write_csv(build_report(db_session, Scope("ethnicity_group", "quarter", dataset.P)).rows, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "# Scope: every organisation (a national export)"
    assert lines[1] == HEADER
    # 2 quarters × (6 groups + All) × 11 points
    assert written == len(lines) - 2 == 2 * 7 * 11
    rows = list(dataset.csv_rows(out.getvalue()))
    black = next(
        r for r in rows if r["group"] == "Black" and r["point"] == "eligible" and r["period"] == "2026-Q1"
    )
    assert black | {} == {
        "programme": "tvp-youth-drugs",
        "period": "2026-Q1",
        "dimension": "ethnicity_group",
        "group": "Black",
        "point": "eligible",
        "base_point": "encountered",
        "count": "6",
        "base_count": "10",
        "rate": "0.6",
        "reference_group": "White",
        "rri": "0.75",
        "ci_low": "0.414331",
        "ci_high": "1.357611",
        "significant": "false",
        "four_fifths_flag": "true",
        "suppressed": "false",
    }
    completed = next(
        r for r in rows if r["group"] == "Black" and r["point"] == "completed" and r["period"] == "2026-Q1"
    )
    assert (completed["rate"], completed["rri"], completed["ci_low"]) == (
        "0",
        "",
        "",
    )  # not computable: empty


def test_cli_writes_the_published_export(app: Flask, db_session: Session, tmp_path: Path) -> None:
    dataset.load(db_session)
    register_monitoring_commands(app)
    register_monitoring_commands(app)  # a second registration does nothing
    target = tmp_path / "monitoring.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "monitoring-export",
            "--output",
            str(target),
            "--programme",
            dataset.P,
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--period",
            "quarter",
            "--dimension",
            "ethnicity_code",
            "--published",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "small numbers suppressed" in result.output
    rows = list(dataset.csv_rows(target.read_text(encoding="utf-8")))
    # The quarter's rows, then the same range as one period with the adjusted odds ratios.
    whole = "2026-01-01 to 2026-03-31"
    assert {r["period"] for r in rows} == {"2026-Q1", whole}
    assert ",".join(rows[0]) == HEADER + "," + ",".join(CSV_COLUMNS)
    a1 = next(r for r in rows if r["group"] == "A1" and r["point"] == "encountered")
    assert (a1["count"], a1["suppressed"]) == ("", "true")
    # Hidden exactly where the scope's one linked release hides its 2026-Q1 cells (on this small
    # fixture, every count that is not 0: W1's 10 too, see test_release_downloads.py).
    release = linked_release(db_session, None, threshold=5, whole_label=whole, whole_key="2026-Q1")
    for r in rows:
        hidden = release.is_hidden(r["programme"], r["period"], r["dimension"], r["group"], r["point"])
        assert (r["count"] == "") == hidden, r
        if r["period"] == whole and r["count"] == "":
            # The adjusted odds ratio is suppressed where the RRI is, as on the page.
            assert r["adjusted_odds_ratio"] == r["adjusted_ci_low"] == r["adjusted_ci_high"] == ""
    assert all(r["adjusted_odds_ratio"] == "" for r in rows if r["period"] == "2026-Q1")
    assert not any(r["count"] in {"1", "2", "3", "4"} for r in rows)
    # Every one of the 18+1 codes is listed, met or not: nobody's group disappears.
    assert len({r["group"] for r in rows}) == 20  # 19 codes + All


def test_cli_carries_the_adjusted_odds_ratios_beside_the_rri(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    """The export has each programme's whole-range rows with the odds ratio adjusted for case mix
    and its interval beside the RRI, the page's figures; published, suppressed where the RRI is."""
    org = load_case_mix(db_session)
    expected = build_page(
        db_session, Filters(programme=dataset.P, published=False), reach_of(db_session, org), 5
    ).adjusted["offered", "Black"]
    assert expected.odds_ratio is not None
    register_monitoring_commands(app)
    target = tmp_path / "adjusted.csv"
    args = ["monitoring-export", "--output", str(target), "--organisation", org.code]
    result = app.test_cli_runner().invoke(args=[*args, "--programme", dataset.P])
    assert result.exit_code == 0, result.output
    rows = list(dataset.csv_rows(target.read_text(encoding="utf-8")))
    black = next(
        r for r in rows if (r["period"], r["group"], r["point"]) == ("All dates", "Black", "offered")
    )
    assert float(black["adjusted_odds_ratio"]) == round(expected.odds_ratio, 6)
    assert float(black["adjusted_ci_low"]) == round(expected.ci_low or 0, 6)
    assert float(black["adjusted_ci_high"]) == round(expected.ci_high or 0, 6)
    assert black["adjusted_reading"] == expected.reading
    assert all(r["adjusted_odds_ratio"] == "" for r in rows if r["period"] != "All dates")

    result = app.test_cli_runner().invoke(args=[*args, "--programme", dataset.P, "--published"])
    assert result.exit_code == 0, result.output
    for r in dataset.csv_rows(target.read_text(encoding="utf-8")):
        if r["period"] == "All dates" and r["rri"] == "" and r["suppressed"] == "true":
            assert r["adjusted_odds_ratio"] == r["adjusted_ci_low"] == r["adjusted_ci_high"] == ""
            assert r["adjusted_suppressed"] == "true" or r["adjusted_note"] != ""


def test_cli_refuses_a_published_range_that_is_not_a_standard_period(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    dataset.load(db_session)
    register_monitoring_commands(app)
    target = tmp_path / "x.csv"
    args = ["monitoring-export", "--output", str(target), "--published"]
    result = app.test_cli_runner().invoke(args=[*args, "--from", "2026-01-01", "--to", "2026-03-30"])
    assert result.exit_code != 0 and "whole calendar month, quarter or year" in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_an_unknown_programme_and_a_bad_reference(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    dataset.load(db_session)
    register_monitoring_commands(app)
    runner = app.test_cli_runner()
    out = str(tmp_path / "x.csv")
    result = runner.invoke(args=["monitoring-export", "--output", out, "--programme", "nope"])
    assert result.exit_code != 0 and "No programme" in result.output
    result = runner.invoke(args=["monitoring-export", "--output", out, "--reference", "Not stated"])
    assert result.exit_code != 0 and "cannot be the reference" in result.output


def test_cli_without_a_programme_exports_all_and_each(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    dataset.load(db_session)
    register_monitoring_commands(app)
    target = tmp_path / "all.csv"
    result = app.test_cli_runner().invoke(
        args=["monitoring-export", "--output", str(target), "--period", "year"]
    )
    assert result.exit_code == 0, result.output
    programmes = {r["programme"] for r in dataset.csv_rows(target.read_text(encoding="utf-8"))}
    assert {"all", "tvp-youth-drugs", "divert"} <= programmes
