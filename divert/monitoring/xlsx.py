"""Spreadsheet (XLSX) export of the monitoring page: a contents sheet, then one sheet per table.

Written with openpyxl, for people reading it in Excel rather than for machines (the CSV is for
those): headings and values in words (decision points, breakdowns, programmes and genders by their
labels, never their codes), true/false as Yes/No, numbers stored as numbers with rates and shares
formatted as percentages, and the first sheet lists every sheet with its full title (a sheet name
is at most 31 characters, so some are shortened) and a link to it.

A missing figure (suppressed, not computable, not compared) is an empty cell, as in the CSV, and
the reason is in the sheet's note column. Text that looks like a formula (``=``, ``+``, ``-``,
``@``) is stored as text, so a reason typed by a user cannot run in Excel.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# openpyxl ships no type information (types-openpyxl would add it).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

from divert.monitoring.adjusted import Adjusted
from divert.monitoring.page import POINT_LABELS, MonitoringPage
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.report import ALL_PROGRAMMES, ReportRow
from divert.monitoring.stats import ShareComparison
from divert.rules.codes import label

FORMULA_STARTS = ("=", "+", "-", "@")
MAX_SHEET_NAME = 31  # an Excel limit
PERCENT = "0.0%"
RATIO = "0.00"
COUNT = "#,##0"
POINTS_DIFFERENCE = "+0.0;-0.0;0.0"


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str  # the full title, listed on the contents sheet; the tab's name is shortened to fit
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    # Column index (from 0) → Excel number format, for the numbers in that column.
    formats: Mapping[int, str] = field(default_factory=dict)
    name: str = ""  # the tab's name; the title shortened when empty
    about: str = ""  # one line for the contents sheet


def sheet_names(titles: Sequence[str]) -> list[str]:
    """A tab name for each title: unique, at most 31 characters, none of Excel's forbidden ones."""
    names: list[str] = []
    for title in titles:
        base = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:MAX_SHEET_NAME].rstrip()
        name, n = base, 2
        while name.lower() in {x.lower() for x in names}:
            suffix = f" ({n})"
            name, n = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix, n + 1
        names.append(name)
    return names


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    names = sheet_names(["Contents", *(s.name or s.title for s in sheets)])[1:]
    contents.append(["Sheet", "What it holds", "About"])
    for cell in contents[1]:
        cell.font = Font(bold=True)
    for name, sheet in zip(names, sheets, strict=True):
        contents.append([name, sheet.title, sheet.about])
        link = contents.cell(contents.max_row, 1)
        link.hyperlink = f"#'{name}'!A1"
        link.style = "Hyperlink"
        for cell in contents[contents.max_row][1:]:
            _as_text(cell)
    contents.column_dimensions["A"].width = 34
    contents.column_dimensions["B"].width = 60
    contents.column_dimensions["C"].width = 80
    for name, sheet in zip(names, sheets, strict=True):
        _write_sheet(book.create_sheet(name), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    ws.append(list(sheet.headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in sheet.rows:
        ws.append([_value(v) for v in row])
        for index, cell in enumerate(ws[ws.max_row]):
            _as_text(cell)
            number_format = sheet.formats.get(index)
            if number_format and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = number_format
    ws.freeze_panes = "A2"
    for index, header in enumerate(sheet.headers, 1):
        ws.column_dimensions[ws.cell(1, index).column_letter].width = max(12, min(40, len(header) + 4))


def _as_text(cell: Any) -> None:
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"


def _value(value: Any) -> Any:
    # Words, as the page shows them: a reader never sees TRUE/FALSE or "true"/"false".
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


REPORT_HEADERS = (
    "Programme",
    "Period",
    "Broken down by",
    "Group",
    "Decision point",
    "Out of (base point)",
    "Count",
    "Out of (base count)",
    "Rate",
    "Reference group",
    "Relative Rate Index",
    "RRI 95% interval, low",
    "RRI 95% interval, high",
    "RRI significant",
    "Below four-fifths of the highest rate",
    "Suppressed",
    "Odds ratio adjusted for case mix",
    "Adjusted 95% interval, low",
    "Adjusted 95% interval, high",
    "Adjusted odds ratio significant",
    "Taking case mix into account",
    "Note",
)
REPORT_FORMATS = {
    6: COUNT,
    7: COUNT,
    8: PERCENT,
    10: RATIO,
    11: RATIO,
    12: RATIO,
    16: RATIO,
    17: RATIO,
    18: RATIO,
}


def page_sheets(page: MonitoringPage) -> list[Sheet]:
    """The page's tables as spreadsheet sheets, in the page's order."""
    programmes = dict(page.reach.programmes)
    dimension = page.filters.dimension
    group_words: Callable[[str | None], str | None] = (
        (lambda g: None if g is None else label(g)) if dimension == "gender" else (lambda g: g)
    )

    def programme(code: str) -> str:
        return "All programmes" if code == ALL_PROGRAMMES else programmes.get(code, code)

    def report(rows: Sequence[ReportRow], adjusted: Mapping[tuple[str, str], Adjusted]) -> list[list[Any]]:
        result = []
        for r in rows:
            a = adjusted.get((r.point, r.group))
            note = r.note
            if a is not None and a.note and not a.suppressed:
                note = f"{note} Adjusted odds ratio: {a.note[:1].lower()}{a.note[1:]}.".strip()
            result.append(
                [
                    programme(r.programme),
                    r.period,
                    DIMENSIONS[r.dimension].label,
                    group_words(r.group),
                    POINT_LABELS[r.point],
                    POINT_LABELS[r.base_point] if r.base_point else None,
                    r.count,
                    r.base_count,
                    r.rate,
                    group_words(r.reference_group),
                    r.rri,
                    r.ci_low,
                    r.ci_high,
                    r.significant,
                    r.four_fifths_flag,
                    r.suppressed,
                    a.odds_ratio if a else None,
                    a.ci_low if a else None,
                    a.ci_high if a else None,
                    a.significant if a else None,
                    a.reading if a else None,
                    note or None,
                ]
            )
        return result

    result = [
        Sheet(
            "By group, every decision point (the whole date range)",
            REPORT_HEADERS,
            report(page.whole.rows if page.whole else [], page.adjusted),
            REPORT_FORMATS,
            name="Groups",
            about=f"Counts, rates, Relative Rate Index and adjusted odds ratios; {page.filters.range_label}.",
        ),
        Sheet(
            f"Trends: {POINT_LABELS[page.filters.point].lower()} by {page.filters.period}",
            REPORT_HEADERS,
            report(page.trends, {}),
            REPORT_FORMATS,
            name="Trends",
            about="The decision point chosen for the charts, period by period.",
        ),
    ]
    short = {"not_offered": "Reasons not offered", "drop_out": "Reasons for leaving", "override": "Overrides"}
    for table in page.reasons:
        result.append(
            Sheet(
                f"{table.label}, by group",
                ["Programme", "Period", "Broken down by", "What", "Group", "Reason", "Count", "Suppressed"],
                [
                    [
                        programme(r.programme),
                        r.period,
                        DIMENSIONS[r.dimension].label,
                        table.label,
                        group_words(r.group),
                        r.reason,
                        r.count,
                        r.suppressed,
                    ]
                    for r in table.rows
                ],
                {6: COUNT},
                name=short.get(table.kind, ""),
            )
        )
    if page.population is not None:
        result.append(
            Sheet(
                f"Compared with the population ({page.baseline.name if page.baseline else ''})",
                [
                    "Group",
                    "Encounters",
                    "Share of encounters",
                    "Population",
                    "Share of population",
                    "Difference (percentage points)",
                ],
                [_population_row(page, r, group_words) for r in page.population],
                {1: COUNT, 2: PERCENT, 3: COUNT, 4: PERCENT, 5: POINTS_DIFFERENCE},
                name="Population",
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
    result.append(Sheet("Whose figures, the filters and notes", ["Item", "Value"], about, name="About"))
    return result


def _population_row(
    page: MonitoringPage, r: ShareComparison, words: Callable[[str | None], str | None]
) -> list[Any]:
    if page.population_hidden(r):
        return [words(r.group), None, None, r.population, r.population_share, None]
    return [
        words(r.group),
        r.encounters,
        r.encounter_share,
        r.population,
        r.population_share,
        r.difference_pp,
    ]
