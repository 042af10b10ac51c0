"""The CSV export: exact columns in order, and the ``monitoring-export`` command."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from divert.cli.monitoring import register_monitoring_commands
from divert.monitoring.export import write_csv
from divert.monitoring.query import Scope
from divert.monitoring.report import build_report

from . import dataset

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
    assert {r["period"] for r in rows} == {"2026-Q1"}
    assert ",".join(rows[0]) == HEADER
    w1 = next(r for r in rows if r["group"] == "W1" and r["point"] == "encountered")
    assert (w1["count"], w1["suppressed"]) == ("10", "false")
    a1 = next(r for r in rows if r["group"] == "A1" and r["point"] == "encountered")
    assert (a1["count"], a1["suppressed"]) == ("", "true")
    # Every one of the 18+1 codes is listed, met or not: nobody's group disappears.
    assert len({r["group"] for r in rows}) == 20  # 19 codes + All


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
