"""CSV export of the monitoring report (the page's download and ``flask monitoring-export``).

The first line is a comment (``# Scope: ...``) saying whose figures the file holds; then a header
of exactly ``report.COLUMNS`` in that order. A missing figure (not computable, not compared,
suppressed) is an empty cell, never 0 or infinity; true/false are spelled out. The page's download
adds the odds ratio adjusted for case mix (``adjusted.CSV_COLUMNS``) after those columns, on the
whole-range rows it is computed for.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme
from divert.monitoring.adjusted import CSV_COLUMNS, Adjusted, csv_cells
from divert.monitoring.query import Reach, Scope
from divert.monitoring.release import linked_release
from divert.monitoring.report import COLUMNS, Options, ReportRow, build_report


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


def scope_line(reach: Reach | None) -> str:
    """Whose figures a file holds, as its first line: a comment, so the columns stay the same."""
    said = reach.describe() if reach is not None else "every organisation (a national export)"
    return "# Scope: " + " ".join(said.split())


def write_csv(
    rows: Iterable[ReportRow],
    out: IO[str],
    reach: Reach | None = None,
    adjusted: tuple[str, Mapping[tuple[str, str], Adjusted]] | None = None,
) -> int:
    """``adjusted``: the period label of the rows the adjusted odds ratios belong to, and them."""
    out.write(scope_line(reach) + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *(CSV_COLUMNS if adjusted is not None else ())])
    written = 0
    for row in rows:
        cells = [_cell(getattr(row, column)) for column in COLUMNS]
        if adjusted is not None:
            period, found = adjusted
            mine = found.get((row.point, row.group)) if row.period == period else None
            cells += [_cell(v) for v in csv_cells(mine)]
        writer.writerow(cells)
        written += 1
    return written


def export(session: Session, out: IO[str], scope: Scope, options: Options) -> list[str]:
    """Write the report for ``scope``; without a programme, for all programmes together and then each.

    Returns the report's notes, which the CSV's fixed columns cannot carry.
    """
    programmes: list[str | None] = [scope.programme]
    if scope.programme is None and scope.reach is not None:
        programmes += sorted(code for code, _ in scope.reach.programmes)
    elif scope.programme is None:
        programmes += list(session.scalars(select(Programme.code).order_by(Programme.code)))
    if options.published and options.release is None:
        # One release for every programme's table, so a cell is hidden in each file that shows it
        # exactly as on the page and in the page's downloads for the same scope and dates.
        release = linked_release(session, scope.reach, scope.date_from, scope.date_to, options.threshold)
        options = replace(options, release=release)
    writer_rows: list[ReportRow] = []
    notes: list[str] = []
    for code in programmes:
        report = build_report(
            session,
            Scope(scope.dimension, scope.period, code, scope.date_from, scope.date_to, scope.reach),
            options,
        )
        writer_rows += report.rows
        notes = report.notes
    write_csv(writer_rows, out, scope.reach)
    return notes
