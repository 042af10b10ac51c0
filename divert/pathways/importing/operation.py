"""The import operation: check every row, then write all of them or none.

Like every operation it only flushes and audits; the caller (the request, or the command) commits,
so a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from divert.app.clock import today as london_today
from divert.models import User, audit, utcnow
from divert.pathways.identity import hold_organisation
from divert.pathways.importing.columns import Problem
from divert.pathways.importing.existing import differences, stored_refs
from divert.pathways.importing.history import decide_rows, stored_history, stored_live_cases
from divert.pathways.importing.parse import MAX_ROWS, RawRow, read_file
from divert.pathways.importing.people import People, chunks
from divert.pathways.importing.reference import load_reference
from divert.pathways.importing.stages import Stages
from divert.pathways.importing.validate import check_rows
from divert.pathways.importing.write import Writer

# (stage, rows just done, rows in the stage): for a progress bar; the operation never prints.
Progress = Callable[[str, int, int], None]


class ImportFailed(Exception):
    """The file was not imported; ``problems`` says every reason, by row and column."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the file")


@dataclass(frozen=True)
class ImportResult:
    rows: int
    people_created: int
    people_matched: int
    encounters: int
    decisions: int
    cases: int
    unchanged: int

    def summary(self) -> str:
        return (
            f"{self.rows} rows: {self.encounters} encounters, {self.decisions} decisions and "
            f"{self.cases} cases added; {self.people_created} people created, {self.people_matched} "
            f"matched to existing records; {self.unchanged} unchanged (imported before)"
        )


def import_file(
    session: Session,
    data: bytes,
    filename: str,
    *,
    organisation_id: int,
    actor: User | None,
    progress: Progress | None = None,
    today: date | None = None,
    max_rows: int = MAX_ROWS,
    stages: Stages | None = None,
) -> ImportResult:
    """Import a CSV or XLSX file, or raise ``ImportFailed`` having written nothing.

    ``stages``, if given, is told how long each stage took (bench/bench_import.py prints them)."""
    stage = stages or Stages()
    with stage("read"):
        sheet = read_file(data, filename, max_rows)
    if sheet.problems:
        raise ImportFailed(sheet.problems)
    return import_rows(
        session,
        sheet.rows,
        filename,
        organisation_id=organisation_id,
        actor=actor,
        progress=progress,
        today=today,
        stages=stage,
    )


def import_rows(
    session: Session,
    raw: Sequence[RawRow],
    source: str,
    *,
    organisation_id: int,
    actor: User | None,
    progress: Progress | None = None,
    today: date | None = None,
    stages: Stages | None = None,
) -> ImportResult:
    report = progress or (lambda stage, done, total: None)
    stage = stages or Stages()
    today = today or london_today()
    rows, problems = [], []
    first_seen: dict[str, int] = {}
    with stage("check"):
        reference = load_reference(session)
        for part in chunks(raw, 5000):
            checked, found = check_rows(part, reference, today, first_seen)
            rows.extend(checked)
            problems.extend(found)
            report("Checking", len(part), len(raw))
    with stage("compare with stored"):
        stored = stored_refs(session, organisation_id, [row.ref for row in rows])
        problems.extend(differences(session, [row for row in rows if row.ref in stored], stored))
        new = [row for row in rows if row.ref not in stored]
    with stage("match people"):
        # Recordings of this organisation's people wait until the import is committed, so that
        # neither adds a person the other is adding (pathways/identity.py).
        hold_organisation(session, organisation_id)
        people = People(session, organisation_id, new)
        pairs = [(row, people.resolve(row)) for row in new]
    with stage("read history"):
        history = stored_history(session, people.matched)
        live = stored_live_cases(session, people.matched)
    with stage("decide"):
        decided, found = decide_rows(pairs, history, live)
    problems.extend(found)
    if problems:
        raise ImportFailed(problems)
    writer = Writer(session, organisation_id, actor.id if actor else None, source, utcnow(), stage)
    written = writer.write(decided, lambda done: report("Writing", done, len(decided)))
    result = ImportResult(
        rows=len(raw),
        people_created=written.people,
        people_matched=len(people.matched),
        encounters=len(decided),
        decisions=written.decisions,
        cases=written.cases,
        unchanged=len(rows) - len(new),
    )
    # Bulk inserts write no field-level history, so the import as a whole is what is audited.
    with stage("audit"):
        audit.record(session, actor, "create", "import", source[:40], detail=result.summary())
        session.flush()
    return result
