"""Storing an uploaded population baseline and making it the active one.

``upload_baseline`` checks the name and the whole file first (``parse_baseline`` reports every
problem with its line), so a file with one bad line stores nothing. Only flushes; the request commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from divert.models import PopulationBaseline, PopulationBaselineRow, User, audit
from divert.monitoring.population import BaselineError, PopulationRow, parse_baseline

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_NAME = 200


class BaselineRefused(ValueError):
    """The upload cannot be stored: ``problems`` is every (field, message), shown together."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def upload_baseline(
    session: Session, data: bytes | None, *, name: str, source_note: str, by: User
) -> PopulationBaseline:
    """Check an uploaded file and its name, then store it as the active baseline.

    ``data`` is the file as read, at most ``MAX_UPLOAD_BYTES + 1`` bytes (so a larger file is
    seen to be too large without reading it all), or None when no file was chosen.
    """
    problems: list[tuple[str, str]] = []
    name = name.strip()
    if not name:
        problems.append(("name", "Enter a name for the baseline"))
    elif len(name) > MAX_NAME:
        problems.append(("name", f"The name must be {MAX_NAME} characters or fewer"))
    rows: list[PopulationRow] = []
    if data is None:
        problems.append(("file", "Select a CSV file"))
    elif len(data) > MAX_UPLOAD_BYTES:
        problems.append(("file", "The selected file must be smaller than 5 MB"))
    else:
        try:
            rows = parse_baseline(data.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(("file", "The selected file must be a CSV file saved as UTF-8"))
        except BaselineError as error:
            problems += [("file", problem) for problem in error.problems]
    if problems:
        raise BaselineRefused(problems)
    return store_baseline(session, rows, name=name, source_note=source_note, by=by)


def store_baseline(
    session: Session, rows: Sequence[PopulationRow], *, name: str, source_note: str, by: User
) -> PopulationBaseline:
    """Store parsed rows as a new baseline and make it the active one."""
    if not rows or not name.strip():
        raise ValueError("A baseline needs a name and at least one row")
    # One active baseline at a time: the others are kept, for the record, but switched off.
    session.execute(
        update(PopulationBaseline).where(PopulationBaseline.active.is_(True)).values(active=False)
    )
    baseline = PopulationBaseline(
        name=name.strip(), source_note=source_note.strip(), uploaded_by_id=by.id, active=True
    )
    baseline.rows = [
        PopulationBaselineRow(
            area=r.area,
            ethnic_group=r.ethnic_group,
            gender=r.gender,
            age_band=r.age_band,
            population=r.population,
        )
        for r in rows
    ]
    session.add(baseline)
    session.flush()
    audit.record(
        session, by, "create", "population_baseline", baseline.id, detail=f"{len(rows)} rows; made active"
    )
    return baseline
