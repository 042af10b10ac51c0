"""Reading an import file (CSV or XLSX) into rows of strings, checking the header on the way.

Values are kept as strings here, whatever the file type, so one validator checks both; a
spreadsheet's typed cells (dates, booleans, numbers) are written as the CSV would spell them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

# openpyxl ships no type information (types-openpyxl would add it).
from openpyxl import load_workbook  # type: ignore[import-untyped]

from divert.pathways.importing.columns import COLUMNS, FIRST_ROW, Problem


@dataclass(frozen=True)
class RawRow:
    number: int  # as a spreadsheet numbers it, header included
    values: dict[str, str]


@dataclass
class Sheet:
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_file(data: bytes, filename: str) -> Sheet:
    """Rows of a CSV or XLSX file; a problem with the file itself comes back in ``problems``."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        try:
            return _from_table(_xlsx_table(data))
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            return Sheet(
                problems=[Problem(0, "", "The file must be a CSV file or an Excel (.xlsx) workbook")]
            )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Sheet(problems=[Problem(0, "", "The CSV file must be saved as UTF-8")])
    return _from_table(csv.reader(io.StringIO(text, newline="")))


def _xlsx_table(data: bytes) -> Iterable[Sequence[str]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # A date typed into a spreadsheet arrives as midnight; write it as the date it is.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_table(table: Iterable[Sequence[str]]) -> Sheet:
    lines = iter(table)
    sheet = Sheet()
    header = next(lines, None)
    if header is None or not any(cell.strip() for cell in header):
        sheet.problems.append(Problem(0, "", "The file is empty; the first row must name the columns"))
        return sheet
    names = [cell.strip().lower() for cell in header]
    # Spreadsheets often carry empty trailing columns; they are not unknown columns.
    while names and not names[-1]:
        names.pop()
    sheet.problems.extend(_header_problems(names))
    if sheet.problems:
        return sheet
    for number, cells in enumerate(lines, start=FIRST_ROW):
        cleaned = [cell.strip() for cell in cells]
        if not any(cleaned):
            continue  # blank lines (often at the end of a spreadsheet) are not rows
        if any(cleaned[len(names) :]):
            sheet.problems.append(Problem(number, "", "The row has more values than there are columns"))
            continue
        cleaned += [""] * (len(names) - len(cleaned))
        sheet.rows.append(RawRow(number, dict(zip(names, cleaned, strict=False))))
    if not sheet.rows and not sheet.problems:
        sheet.problems.append(Problem(0, "", "The file has no rows to import"))
    return sheet


def _header_problems(names: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in names:
        if not name:
            problems.append(Problem(1, "", "A column has no name in the header row"))
        elif name not in COLUMNS:
            problems.append(Problem(1, name, "Unknown column; see seeds/import/README.md for the columns"))
        elif name in seen:
            problems.append(Problem(1, name, "The column appears more than once"))
        seen.add(name)
    problems.extend(Problem(1, name, "The column is missing") for name in COLUMNS if name not in seen)
    return problems
