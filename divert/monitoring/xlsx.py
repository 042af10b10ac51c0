"""Spreadsheet (XLSX) export of the monitoring page: one sheet per table the page shows.

Written with openpyxl. A missing figure (suppressed, not computable, not compared) is an empty cell,
as in the CSV, and the reason is in the sheet's note column. Text that looks like a formula
(``=``, ``+``, ``-``, ``@``) is stored as text, so a reason typed by a user cannot run in Excel.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# openpyxl ships no type information (types-openpyxl would add it).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from divert.monitoring.page import MonitoringPage
from divert.monitoring.report import COLUMNS, ReportRow
from divert.monitoring.stats import ShareComparison

FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str  # at most 31 characters (an Excel limit)
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(list(sheet.headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append([_value(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for index, header in enumerate(sheet.headers, 1):
            ws.column_dimensions[ws.cell(1, index).column_letter].width = max(12, min(40, len(header) + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(value: Any) -> Any:
    # Booleans as words, as in the CSV, so a reader never sees TRUE/FALSE from one and 1/0 from another.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def page_sheets(page: MonitoringPage) -> list[Sheet]:
    """The page's tables as spreadsheet sheets, in the page's order."""
    report_headers = [*COLUMNS, "note"]

    def report(rows: Sequence[ReportRow]) -> list[list[Any]]:
        return [[*(getattr(r, c) for c in COLUMNS), r.note] for r in rows]

    result = [
        Sheet("Groups", report_headers, report(page.whole.rows if page.whole else [])),
        Sheet("Trends", report_headers, report(page.trends)),
    ]
    for table in page.reasons:
        result.append(
            Sheet(
                table.label[:31],
                ["programme", "period", "dimension", "kind", "group", "reason", "count", "suppressed"],
                [
                    [r.programme, r.period, r.dimension, r.kind, r.group, r.reason, r.count, r.suppressed]
                    for r in table.rows
                ],
            )
        )
    if page.population is not None:
        result.append(
            Sheet(
                "Population",
                ["group", "encounters", "encounter_share", "population", "population_share", "difference_pp"],
                [_population_row(page, r) for r in page.population],
            )
        )
    about = [
        ["Scope", page.reach.describe()],
        ["Filters", page.filters.describe()],
        ["Population baseline", page.baseline.name if page.baseline else "None"],
        *(["Note", note] for note in page.notes),
    ]
    if page.population_note:
        about.append(["Note", page.population_note])
    result.append(Sheet("About", ["item", "value"], about))
    return result


def _population_row(page: MonitoringPage, r: ShareComparison) -> list[Any]:
    if page.population_hidden(r):
        return [r.group, None, None, r.population, r.population_share, None]
    return [r.group, r.encounters, r.encounter_share, r.population, r.population_share, r.difference_pp]
