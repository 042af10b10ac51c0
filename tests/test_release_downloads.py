"""Everything one analyst can download for one scope, attacked with linear programming.

An analyst of the fixture's force downloads, for one date range, every CSV (each programme and all
programmes together, each period, breakdown and point: the whole range's table and the trends)
and the XLSX of each programme and breakdown (for its reason tables). The attacker (tests/
monitoring/attacker.py) reads only those files and may use every relation between their figures;
it finds no suppressed cell it can pin within an interval narrower than the threshold. Every
figure is the same in every file that shows it, and nothing is built on a hidden count.

Every request counts the whole release again, so this world has two breakdowns (the five ethnic
groups and the 18+1 codes, the pair most tightly linked) rather than six: 126 CSV files.
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

RANGE = {"from": "2026-01-01", "to": "2026-06-30"}
WHOLE = "2026-01-01 to 2026-06-30"
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


def _cell(programme: str, period: str, dimension: str, group: str, point: str) -> Cell:
    period = "whole" if period == WHOLE else period
    return (programme, period, "*" if group == ALL_GROUPS else dimension, group, point)


def _note(seen: dict[Cell, int | None], cell: Cell, text: str | None) -> None:
    value = None if text in ("", None) else int(str(text))
    assert seen.setdefault(cell, value) == value, ("shown differently in two files", cell)


def test_the_attacker_pins_nothing_from_everything_an_analyst_downloads(
    client: Any, signed_in: Any, db_session: Session, org: Any, two_breakdowns: None
) -> None:
    dataset.load(db_session, org)
    signed_in("analyst")
    seen: dict[Cell, int | None] = {}
    for programme in ("", dataset.P, dataset.OTHER):
        for dimension in BREAKDOWNS:
            for period in PERIODS:
                for point in (p.name for p in POINTS if p.base is not None):  # what the form offers
                    query = {**RANGE, "programme": programme, "dimension": dimension}
                    response = client.get(
                        "/monitoring/export.csv", query_string={**query, "period": period, "point": point}
                    )
                    assert response.status_code == 200
                    for row in dataset.csv_rows(response.get_data(as_text=True)):
                        key = _cell(row["programme"], row["period"], dimension, row["group"], row["point"])
                        _note(seen, key, row["count"])
                        if row["base_point"]:
                            base = _cell(
                                row["programme"], row["period"], dimension, row["group"], row["base_point"]
                            )
                            _note(seen, base, row["base_count"])
                        # Nothing built on a hidden count is shown.
                        if row["count"] == "" or (row["base_point"] and row["base_count"] == ""):
                            assert row["rate"] == row["rri"] == row["ci_low"] == row["ci_high"] == ""
                            assert row["suppressed"] in ("true", "Yes")
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
