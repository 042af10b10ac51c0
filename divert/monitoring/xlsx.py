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
