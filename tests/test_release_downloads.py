"""Everything one analyst can download for one scope, attacked with linear programming.

An analyst of the fixture's force downloads, over all dates and for overlapping standard periods
of them (the year, a quarter and a month), every CSV (each programme and all programmes together,
each period, breakdown and point: the range's table and the trends) and the XLSX of each
programme and breakdown (for its reason tables). The attacker (tests/monitoring/attacker.py) reads
only those files and may use every relation between their figures; it finds no suppressed cell it
can pin within an interval narrower than the threshold. Every figure is the same in every file
that shows it, and nothing is built on a hidden count. Two overlapping ranges that are not
standard periods (which would differ by one day) are refused.

This world has two breakdowns (the five ethnic groups and the 18+1 codes, the pair most tightly
linked) rather than six, to keep the number of files down.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode
from divert.monitoring.points import ALL_GROUPS, DIMENSIONS, PERIODS, POINTS

from .monitoring import dataset
from .monitoring.attacker import Cell, narrowest

ALL_DATES = "All dates"
# Standard periods of the release that overlap one another and all dates: (query, label, period).
PERIODS_OF_IT = (
    ({"from": "2026-01-01", "to": "2026-12-31"}, "2026-01-01 to 2026-12-31", "2026"),
    ({"from": "2026-01-01", "to": "2026-03-31"}, "2026-01-01 to 2026-03-31", "2026-Q1"),
    ({"from": "2026-02-01", "to": "2026-02-28"}, "2026-02-01 to 2026-02-28", "2026-02"),
)
THRESHOLD = 5
BREAKDOWNS = ("ethnicity_group", "ethnicity_code")


@pytest.fixture
def two_breakdowns() -> Iterator[None]:
    kept = dict(DIMENSIONS)
    for name in kept:
        if name not in BREAKDOWNS:
            del DIMENSIONS[name]
    try:
        yield
    finally:
        DIMENSIONS.clear()
        DIMENSIONS.update(kept)


def _cell(
    programme: str, period: str, dimension: str, group: str, point: str, shown: tuple[str, str] | None = None
) -> Cell:
    """The cell a file's figure is; ``shown``: the file is for one period of the release (its
    label in the file, and the period). A coarser period in such a file (the year of a one-quarter
    file) holds only that period's figures, and the analyst knows it."""
    if period == ALL_DATES:
        period = "whole"
    elif shown is not None and (period == shown[0] or shown[1].startswith(period)):
        period = shown[1]
    return (programme, period, "*" if group == ALL_GROUPS else dimension, group, point)


def _note(seen: dict[Cell, int | None], cell: Cell, text: str | None) -> None:
    value = None if text in ("", None) else int(str(text))
    assert seen.setdefault(cell, value) == value, ("shown differently in two files", cell)


def _download(
    client: Any,
    seen: dict[Cell, int | None],
    query: dict[str, str],
    dimension: str,
    period: str,
    point: str,
    shown: tuple[str, str] | None = None,
) -> None:
    response = client.get("/monitoring/export.csv", query_string={**query, "period": period, "point": point})
    assert response.status_code == 200
    for row in dataset.csv_rows(response.get_data(as_text=True)):
        key = _cell(row["programme"], row["period"], dimension, row["group"], row["point"], shown)
        _note(seen, key, row["count"])
        if row["base_point"]:
            base = _cell(row["programme"], row["period"], dimension, row["group"], row["base_point"], shown)
            _note(seen, base, row["base_count"])
        # Nothing built on a hidden count is shown.
        if row["count"] == "" or (row["base_point"] and row["base_count"] == ""):
            assert row["rate"] == row["rri"] == row["ci_low"] == row["ci_high"] == ""
            assert row["suppressed"] in ("true", "Yes")


def test_the_attacker_pins_nothing_from_everything_an_analyst_downloads(
    client: Any, signed_in: Any, db_session: Session, org: Any, two_breakdowns: None
) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    seen: dict[Cell, int | None] = {}
    points = [p.name for p in POINTS if p.base is not None]  # what the form offers
    for programme in ("", dataset.P, dataset.OTHER):
        for dimension in BREAKDOWNS:
            query = {"programme": programme, "dimension": dimension}
            for period in PERIODS:
                for point in points:
                    _download(client, seen, query, dimension, period, point)
            # The same release's standard periods, which overlap all dates and one another.
            for dates, label, key in PERIODS_OF_IT:
                for period in ("month", "year"):
                    for point in points:
                        _download(client, seen, {**query, **dates}, dimension, period, point, (label, key))
            book = load_workbook(io.BytesIO(client.get("/monitoring/export.xlsx", query_string=query).data))
            for sheet in book.worksheets:
                rows = list(sheet.iter_rows(values_only=True))
                if not rows or "reason" not in rows[0] or "kind" not in rows[0]:
                    continue
                at = {name: i for i, name in enumerate(rows[0])}
                for row in rows[1:]:
                    point = f"reason:{row[at['kind']]}:{row[at['reason']]}"
                    key = _cell(str(row[at["programme"]]), "whole", dimension, str(row[at["group"]]), point)
                    _note(seen, key, None if row[at["count"]] is None else str(row[at["count"]]))
    codes = dict(
        db_session.execute(
            select(EthnicityCode.code, EthnicityCode.ethnic_group).where(
                EthnicityCode.scheme == "self_defined"
            )
        ).all()
    )
    hidden = [k for k, v in seen.items() if v is None]
    assert hidden, "the fixture has small numbers"
    assert not any(v in (1, 2, 3, 4) for v in seen.values())
    for cell, (low, high) in narrowest(seen, codes, "whole", THRESHOLD).items():
        assert high - low >= THRESHOLD - 1e-6, (cell, low, high)


def test_two_overlapping_ranges_are_refused_unless_standard_periods(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    """Differencing: 1 January to 31 March minus 1 January to 30 March would be 31 March's own
    table, never protected. Published figures come for standard periods of one release only."""
    dataset.load(db_session, org)
    signed_in("analyst")
    quarter = {"from": "2026-01-01", "to": "2026-03-31"}
    day_short = {"from": "2026-01-01", "to": "2026-03-30"}
    assert client.get("/monitoring", query_string=quarter).status_code == 200
    refused = client.get("/monitoring", query_string=day_short)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "whole calendar month, quarter or year" in text
    assert "choose 2026-01-01 to 2026-03-31" in text  # the standard period that holds the range
    # No download for it either: the analyst is sent back to the filters.
    download = client.get("/monitoring/export.csv", query_string=day_short)
    assert (
        download.status_code == 302 and b"text/csv" not in download.headers.get("Content-Type", "").encode()
    )
    for other in ({"from": "2026-01-01"}, {"from": "2026-01-15", "to": "2026-02-14"}):
        assert client.get("/monitoring", query_string=other).status_code == 400


def test_a_supervisor_may_see_any_range_unpublished(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    """Unsuppressed figures for any dates, to those who may see them (nothing to difference);
    as published, the same rule as an analyst's."""
    dataset.load(db_session, org)
    signed_in("supervisor")
    day_short = {"from": "2026-01-01", "to": "2026-03-30"}
    assert client.get("/monitoring", query_string=day_short).status_code == 200
    assert client.get("/monitoring", query_string={**day_short, "published": "yes"}).status_code == 400
