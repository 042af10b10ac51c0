"""The monitoring figures are byte for byte what they were before the journey rows carried the
person columns (migration 0025): every breakdown, period and programme, raw and published.

``export_before.csv.gz`` was written by ``exports`` below on the code before that change (main at
225c187, which read ethnicity, gender and date of birth from people at report time); the test
writes the same exports now, on a database whose person columns the migration filled.

Since then ``monitoring-export`` gained each programme's whole-range rows with the adjusted odds
ratios (issue 13); the comparison with the old file is of what it held, the per-period rows' report
columns, and the whole of today's export is compared between rows written live and rows the
migration filled.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from divert import session_factory
from divert.app import migrate
from divert.monitoring.export import export
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import Scope
from divert.monitoring.report import COLUMNS, Options
from divert.seeding.reference import load_reference_data

from ..database import scratch_database
from . import dataset

# Gzipped: about a megabyte of CSV (zcat it to read or diff).
BEFORE = Path(__file__).with_name("export_before.csv.gz")
BEFORE_REVISION = "0017"  # the head before 0025; its downgrade drops the person columns


def load(session: Session) -> None:
    """The pinned dataset and people who differ in every other breakdown."""
    org = dataset.load(session)
    for dob, when, _ in dataset.AGE_CASES:
        dataset.record(
            session, org, dataset.Journey("W1", "enc", when=when), dataset.P, "enc", date_of_birth=dob
        )
    others = [
        ("female", "IC3", "B2", "off"),
        ("female", "IC1", "W1", "comp"),
        ("other", None, "A1", "elig"),
        ("not_stated", "IC4", "NS", "acc"),
        ("female", "IC9", "W2", "enc"),
    ]
    for i, (gender, officer, code, reached) in enumerate(others):
        when = datetime(2026, 2, 1 + i, 12, tzinfo=UTC)
        dataset.record(
            session,
            org,
            dataset.Journey(code, reached, when=when),
            dataset.P,
            reached,
            gender=gender,
            officer_defined_ethnicity=officer,
            date_of_birth=date(1990 + 3 * i, 6, 1),
        )


def exports(session: Session) -> str:
    out = io.StringIO()
    for dimension in DIMENSIONS:
        for period in ("quarter", "month"):
            for published in (False, True):
                out.write(f"## {dimension} {period} published={published}\n")
                notes = export(session, out, Scope(dimension, period), Options(published=published))
                out.write("\n".join(notes) + "\n")
    return out.getvalue()


def as_before(text: str) -> str:
    """An export as the code before the whole-range rows and adjusted columns wrote it."""
    kept: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or not line:
            kept.append(line)
            continue
        row = next(csv.reader([line]))
        if len(row) < len(COLUMNS):
            kept.append(line)  # a note
        elif "All dates" not in row:
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(row[: len(COLUMNS)])
            kept.append(out.getvalue())
    return "\n".join(kept)


def test_the_exports_are_byte_identical_after_the_migration(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "unchanged") as (_, engine):
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            load_reference_data(session)
            load(session)
            session.commit()
        with session_factory(engine)() as session:
            live = exports(session)
        # Rows written without the person columns, then filled by the migration's backfill.
        migrate.downgrade(engine, BEFORE_REVISION)
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            filled = exports(session)
    assert filled == live
    assert as_before(filled) == as_before(gzip.decompress(BEFORE.read_bytes()).decode("utf-8"))
