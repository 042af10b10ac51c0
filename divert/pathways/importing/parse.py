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

# defusedxml ships no type information (types-defusedxml would add it).
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

# openpyxl ships no type information (types-openpyxl would add it) either.
from openpyxl import load_workbook  # type: ignore[import-untyped]
from openpyxl.xml import DEFUSEDXML  # type: ignore[import-untyped]

from divert.pathways.importing.columns import COLUMNS, FIRST_ROW, OPTIONAL_COLUMNS, Problem
from divert.rules.limits import too_long

# openpyxl parses through defusedxml (no entity expansion: a "billion laughs" workbook is refused)
# only when it is installed; without it, reading an uploaded workbook is not safe at all.
if not DEFUSEDXML:  # pragma: no cover - the dependency is pinned
    raise RuntimeError("defusedxml must be installed for openpyxl to read workbooks safely")

# What one file may hold. Checked as it is read, so a hostile file costs little before it is refused.
MAX_ROWS = 200_000  # the command's ceiling; the upload page takes far fewer (see web/views/imports)
MAX_COLUMNS = 60  # the header has 27; a few empty trailing columns are usual
MAX_CELL = 2_000  # characters in one value; the longest column (not_offered_reason) allows 500
MAX_PROBLEMS = 1_000  # past this the file is plainly not an extract; stop listing
# A workbook is a zip of XML: its parts are checked by their declared sizes before any is read.
MAX_SHARED_STRINGS = 32 * 1024 * 1024  # the shared strings (openpyxl holds them all), or any non-sheet part
MAX_PART = 256 * 1024 * 1024  # any one part, e.g. a sheet's XML (200,000 rows is about 100 MB)
# A sheet's XML for the rows allowed: a row of 27 values is 1-2 KB. Bounding it by the row limit
# bounds the time too, since openpyxl scans a whole sheet that does not declare its size.
SHEET_BYTES_PER_ROW = 4 * 1024
MIN_SHEET_LIMIT = 8 * 1024 * 1024
MAX_UNPACKED = 320 * 1024 * 1024  # all parts together
ENTITIES = (
    "The workbook defines XML entities, which spreadsheets never need and the import refuses; "
    "save it again from your spreadsheet program"
)
MAX_RATIO = 200  # unpacked : packed, for a part over 1 MB; spreadsheet XML packs 10-50 times


@dataclass(frozen=True)
class RawRow:
    number: int  # as a spreadsheet numbers it, header included
    values: dict[str, str]


@dataclass
class Sheet:
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class TooLarge(Exception):
    """The file is beyond what may be read; the message says which limit and what to do."""


def _file_problem(message: str) -> Sheet:
    return Sheet(problems=[Problem(0, "", message)])


def read_file(data: bytes, filename: str, max_rows: int = MAX_ROWS) -> Sheet:
    """Rows of a CSV or XLSX file; a problem with the file itself comes back in ``problems``.

    A file of more than ``max_rows`` rows is refused as a whole, as is one whose parts or values
    are beyond the limits above, before it can hold a worker's memory or time.
    """
    try:
        if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
            try:
                _check_workbook(data, max_rows)
                return _xlsx_sheet(data, max_rows)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                KeyError,
                OSError,
                ValueError,
                EOFError,
            ) as error:
                # openpyxl wraps what went wrong (defusedxml's refusal of entities among it) in a ValueError.
                if _caused_by(error, DefusedXmlException):
                    return _file_problem(ENTITIES)
                return _file_problem("The file must be a CSV file or an Excel (.xlsx) workbook")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _file_problem("The CSV file must be saved as UTF-8")
        try:
            return _from_table(csv.reader(io.StringIO(text, newline="")), max_rows)
        except csv.Error:
            return _file_problem(
                "The file could not be read as CSV: a value is far too long or the file is not CSV"
            )
    except TooLarge as error:
        return _file_problem(str(error))


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _check_workbook(data: bytes, max_rows: int) -> None:
    """Refuse a zip bomb or an oversized part by the sizes the zip declares, reading nothing.

    Python's zipfile never unpacks a part beyond its declared size (and a part that lied fails its
    CRC check, BadZipFile), so a lying header gains nothing. The shared strings may be stored under
    any name the workbook's relationships give, so every part but a sheet has their limit.
    """
    sheet_limit = min(MAX_PART, max(MIN_SHEET_LIMIT, max_rows * SHEET_BYTES_PER_ROW))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if len(parts) > 1_000:
            raise TooLarge("The workbook has too many parts; save it again as a plain .xlsx file")
        total = 0
        for part in parts:
            total += part.file_size
            packed = max(part.compress_size, 1)
            sheet = part.filename.startswith("xl/worksheets/")
            if not sheet and part.file_size > MAX_SHARED_STRINGS:
                raise TooLarge(
                    f"The workbook's text is larger than {MAX_SHARED_STRINGS // 2**20} MB; "
                    "no import needs values that long"
                )
            if sheet and part.file_size > sheet_limit:
                raise TooLarge(too_large_for(max_rows))
            if part.file_size > MAX_PART or (part.file_size > 2**20 and part.file_size / packed > MAX_RATIO):
                raise TooLarge(f"The workbook unpacks to more than the import can read ({part.filename})")
        if total > MAX_UNPACKED:
            raise TooLarge("The workbook unpacks to more than the import can read")


def _xlsx_sheet(data: bytes, max_rows: int) -> Sheet:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # One column past the limit, so a wider sheet is seen (and refused) without reading it all.
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        return _from_table(([_cell(value) for value in row] for row in rows), max_rows)
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


def _from_table(table: Iterable[Sequence[str]], max_rows: int = MAX_ROWS) -> Sheet:
    lines = iter(table)
    sheet = Sheet()
    header = next(lines, None)
    if header is not None and len(header) > MAX_COLUMNS:
        header = header[: MAX_COLUMNS + 1]
        if any(cell.strip() for cell in header[MAX_COLUMNS:]):
            raise TooLarge(f"The file has more than {MAX_COLUMNS} columns; see seeds/import/README.md")
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
        cleaned = [cell.strip() for cell in cells[: MAX_COLUMNS + 1]]
        if not any(cleaned):
            continue  # blank lines (often at the end of a spreadsheet) are not rows
        if len(sheet.rows) >= max_rows:
            raise TooLarge(too_many_rows(max_rows))
        if len(sheet.problems) >= MAX_PROBLEMS:
            break
        unstorable = _unstorable(number, names, cleaned)
        if unstorable:
            sheet.problems.extend(unstorable)
            continue
        if any(cleaned[len(names) :]):
            sheet.problems.append(Problem(number, "", "The row has more values than there are columns"))
            continue
        cleaned += [""] * (len(names) - len(cleaned))
        values = dict.fromkeys(OPTIONAL_COLUMNS, "") | dict(zip(names, cleaned, strict=False))
        sheet.rows.append(RawRow(number, values))
    if not sheet.rows and not sheet.problems:
        sheet.problems.append(Problem(0, "", "The file has no rows to import"))
    return sheet


def too_many_rows(max_rows: int) -> str:
    return f"The file has more than {max_rows:,} rows; split it into files of {max_rows:,} rows or fewer"


def too_large_for(max_rows: int) -> str:
    return (
        f"The workbook holds more data than {max_rows:,} rows would; "
        f"split it into files of {max_rows:,} rows or fewer"
    )


def _unstorable(number: int, names: list[str], cells: list[str]) -> list[Problem]:
    """Values no column can hold: longer than any column allows, or holding a NUL character."""
    problems = []
    for index, value in enumerate(cells):
        column = names[index] if index < len(names) else ""
        if len(value) > MAX_CELL:
            problems.append(Problem(number, column, too_long("The value", MAX_CELL)))
        elif "\x00" in value:
            problems.append(Problem(number, column, "The value must not contain NUL characters"))
    return problems


def _header_problems(names: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in names:
        if not name:
            problems.append(Problem(1, "", "A column has no name in the header row"))
        elif name not in COLUMNS and name not in OPTIONAL_COLUMNS:
            problems.append(Problem(1, name, "Unknown column; see seeds/import/README.md for the columns"))
        elif name in seen:
            problems.append(Problem(1, name, "The column appears more than once"))
        seen.add(name)
    problems.extend(Problem(1, name, "The column is missing") for name in COLUMNS if name not in seen)
    return problems
