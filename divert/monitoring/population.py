"""Population baselines: parsing and checking the CSV an administrator uploads, reading the stored
baseline, and group totals.

Format (UTF-8 CSV, one header row, lines starting with ``#`` are comments):

    area,ethnic_group,gender,age_band,population
    OX1,White,male,15–17,1234

- ``area``: postcode district as encounters record it (e.g. OX1), or ``*`` for the whole force area.
- ``ethnic_group``: White, Mixed, Asian, Black or Other. Census 2021 categories are mapped to these
  groups before upload (Roma, which has no self-defined code, goes to White, as in the Census).
- ``gender``: male, female or other.
- ``age_band``: 10–14, 15–17, 18–20, 21–25, 26–35 or 36+ (a hyphen is accepted for the dash).
- ``population``: a whole number, 0 or more.

Each area × group × gender × age band appears once. Errors name the line and the problem, in the
GOV.UK style, and every error in the file is reported at once so it can be fixed in one go.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import PopulationBaseline, PopulationBaselineRow
from divert.monitoring.points import AGE_BANDS

COLUMNS = ("area", "ethnic_group", "gender", "age_band", "population")
GROUPS = ("White", "Mixed", "Asian", "Black", "Other")
GENDERS = ("male", "female", "other")
WHOLE_AREA = "*"
# Dimensions a baseline can be compared along, and the row field each one reads.
FIELDS = {"ethnicity_group": "ethnic_group", "gender": "gender", "age_band": "age_band", "area": "area"}


@dataclass(frozen=True, slots=True)
class PopulationRow:
    area: str
    ethnic_group: str
    gender: str
    age_band: str
    population: int


class BaselineError(ValueError):
    """The file could not be used; ``problems`` lists every one, each naming its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_baseline(text: str) -> list[PopulationRow]:
    lines = [(n, line) for n, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)]
    data = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not data:
        raise BaselineError(["The file is empty"])
    header_line, header = data[0]
    names = [h.strip().lower() for h in next(csv.reader([header]))]
    if names != list(COLUMNS):
        raise BaselineError([f"Line {header_line}: the header must be {','.join(COLUMNS)}"])
    rows: list[PopulationRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for number, line in data[1:]:
        fields = next(csv.reader(io.StringIO(line)))
        row, errors = _row(number, fields)
        problems += errors
        if row is None:
            continue
        key = (row.area, row.ethnic_group, row.gender, row.age_band)
        if key in seen:
            problems.append(f"Line {number}: repeats line {seen[key]} ({', '.join(key)})")
            continue
        seen[key] = number
        rows.append(row)
    if problems:
        raise BaselineError(problems)
    if not rows:
        raise BaselineError(["The file has a header but no rows"])
    return rows


def _row(number: int, fields: list[str]) -> tuple[PopulationRow | None, list[str]]:
    if len(fields) != len(COLUMNS):
        return None, [f"Line {number}: has {len(fields)} values; it must have {len(COLUMNS)}"]
    area, group, gender, band, count = (f.strip() for f in fields)
    band = band.replace("-", "–")
    problems = []
    if not area or len(area) > 8:
        problems.append(f"Line {number}: enter an area (a postcode district such as OX1, or *)")
    if group not in GROUPS:
        problems.append(f"Line {number}: ethnic group must be one of {', '.join(GROUPS)}, not '{group}'")
    if gender not in GENDERS:
        problems.append(f"Line {number}: gender must be one of {', '.join(GENDERS)}, not '{gender}'")
    if band not in AGE_BANDS:
        problems.append(f"Line {number}: age band must be one of {', '.join(AGE_BANDS)}, not '{band}'")
    if not count.isdigit():
        problems.append(f"Line {number}: population must be a whole number, 0 or more, not '{count}'")
    if problems:
        return None, problems
    return PopulationRow(area.upper(), group, gender, band, int(count)), []


def population_by(rows: Iterable[PopulationRow], dimension: str, area: str | None = None) -> dict[str, int]:
    """Population per group of ``dimension``, optionally for one area only."""
    if dimension not in FIELDS:
        raise ValueError(f"A population baseline has no '{dimension}'; use one of {', '.join(FIELDS)}")
    rows = list(rows)
    if area is None:
        # Whole-area rows, when given, already include every district: adding both would count twice.
        area = WHOLE_AREA if any(r.area == WHOLE_AREA for r in rows) else None
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        if area is None or row.area == area.upper():
            totals[getattr(row, FIELDS[dimension])] += row.population
    return dict(totals)


def active_baseline(session: Session) -> PopulationBaseline | None:
    return session.scalar(
        select(PopulationBaseline)
        .where(PopulationBaseline.active.is_(True))
        .order_by(PopulationBaseline.id.desc())
    )


def baseline_rows(session: Session, baseline: PopulationBaseline) -> list[PopulationRow]:
    found = session.execute(
        select(
            PopulationBaselineRow.area,
            PopulationBaselineRow.ethnic_group,
            PopulationBaselineRow.gender,
            PopulationBaselineRow.age_band,
            PopulationBaselineRow.population,
        ).where(PopulationBaselineRow.baseline_id == baseline.id)
    )
    return [PopulationRow(*row) for row in found]
