"""Storing an uploaded population baseline and making it the active one.

The caller parses the file first with ``parse_baseline``, which checks it whole and reports every
problem with its line, so a file with one bad line stores nothing. Only flushes; the request commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from divert.models import PopulationBaseline, PopulationBaselineRow, User, audit
from divert.monitoring.population import PopulationRow


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
