"""CSV export of the monitoring report (the page's download and ``flask monitoring-export``).

The first line is a comment (``# Scope: ...``) saying whose figures the file holds; then a header
of exactly ``report.COLUMNS`` in that order, and the adjusted odds ratio's columns
(``adjusted.CSV_COLUMNS``) where the file carries them. A missing figure (not computable, not compared,
suppressed) is an empty cell, never 0 or infinity; true/false are spelled out. The page's download
and ``monitoring-export`` add the odds ratio adjusted for case mix (``adjusted.CSV_COLUMNS``) after
those columns, on the whole-range rows it is computed for.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme
from divert.monitoring.adjusted import CSV_COLUMNS, Adjusted, csv_cells, for_report
from divert.monitoring.page import _counts, _fold
from divert.monitoring.points import ALL_GROUPS
from divert.monitoring.query import Reach, Scope
from divert.monitoring.release import linked_release, standard_period
from divert.monitoring.report import (
    ALL_PROGRAMMES,
    COLUMNS,
    Options,
    Report,
    ReportRow,
    assemble,
    build_report,
)


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
    adjusted_by_programme: tuple[str, Mapping[str, Mapping[tuple[str, str], Adjusted]]] | None = None,
) -> int:
    """``adjusted``: the period label of the rows the adjusted odds ratios belong to, and them;
    ``adjusted_by_programme``: the same for several programmes' rows, by programme code."""
    out.write(scope_line(reach) + "\n")
    writer = csv.writer(out, lineterminator="\n")
    with_adjusted = adjusted is not None or adjusted_by_programme is not None
    writer.writerow([*COLUMNS, *(CSV_COLUMNS if with_adjusted else ())])
    written = 0
    for row in rows:
        cells = [_cell(getattr(row, column)) for column in COLUMNS]
        if adjusted is not None:
            period, found = adjusted
            mine = found.get((row.point, row.group)) if row.period == period else None
            cells += [_cell(v) for v in csv_cells(mine)]
        elif adjusted_by_programme is not None:
            period, by_programme = adjusted_by_programme
            of = by_programme.get(row.programme, {})
            mine = of.get((row.point, row.group)) if row.period == period else None
            cells += [_cell(v) for v in csv_cells(mine)]
        writer.writerow(cells)
        written += 1
    return written


def export(session: Session, out: IO[str], scope: Scope, options: Options) -> list[str]:
    """Write the report for ``scope``; without a programme, for all programmes together and then each.

    Each programme's rows by period are followed by its rows over the whole date range, with the
    odds ratio adjusted for case mix beside each RRI (as the page's download has them), suppressed
    where the RRI is. Returns the report's notes, which the CSV's fixed columns cannot carry.
    """
    programmes: list[str | None] = [scope.programme]
    if scope.programme is None and scope.reach is not None:
        programmes += sorted(code for code, _ in scope.reach.programmes)
    elif scope.programme is None:
        programmes += list(session.scalars(select(Programme.code).order_by(Programme.code)))
    label = range_label(scope.date_from, scope.date_to)
    release = options.release
    if options.published and release is None:
        # One release for every programme's table, so a cell is hidden in each file that shows it
        # exactly as on the page and in the page's downloads for the same scope and dates.
        # The scope's one release, and the standard period of it the dates ask for (any other
        # range is refused: two overlapping ranges would give away their difference).
        release = linked_release(
            session,
            scope.reach,
            threshold=options.threshold,
            whole_label=label,
            store=session,
            whole_key=standard_period(scope.date_from, scope.date_to),
        )
        options = replace(options, release=release)
    writer_rows: list[ReportRow] = []
    notes: list[str] = []
    adjusted: dict[str, Mapping[tuple[str, str], Adjusted]] = {}
    for code in programmes:
        mine = Scope(scope.dimension, scope.period, code, scope.date_from, scope.date_to, scope.reach)
        # The counts once, unsuppressed (from the release when there is one: it holds them).
        counted = release.group_counts(code, scope.dimension, scope.period) if release else None
        raw = build_report(session, mine, replace(options, published=False, release=None), counted)
        report = assemble(mine, _counts(raw.rows), _groups(raw), options) if options.published else raw
        groups = _groups(raw)
        whole = assemble(mine, _fold(_counts(raw.rows), label), groups, options) if groups else None
        writer_rows += report.rows
        if whole is not None:
            writer_rows += whole.rows
            adjusted[code or ALL_PROGRAMMES] = for_report(
                session, mine, whole, groups, options.published, store=session
            )
        notes = report.notes
    write_csv(writer_rows, out, scope.reach, adjusted_by_programme=(label, adjusted))
    return notes


def _groups(report: Report) -> list[str]:
    return list(dict.fromkeys(r.group for r in report.rows if r.group != ALL_GROUPS))


def range_label(start: date | None, end: date | None) -> str:
    """How a date range is named as one period ("All dates", "From 2026-01-01", ...)."""
    if start and end:
        return f"{start.isoformat()} to {end.isoformat()}"
    if start:
        return f"From {start.isoformat()}"
    if end:
        return f"To {end.isoformat()}"
    return "All dates"
