"""Building import files in tests: a good row by default, changed column by column."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from divert.pathways.importing import COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "seeds" / "import" / "sample.csv"

GOOD = {
    "encounter_ref": "T-1",
    "occurred_at": "2024-03-01T14:30",
    "programme": "tvp-youth-drugs",
    "pnc_id": "",
    "forenames": "Alex",
    "surname": "Testcase",
    "date_of_birth": "2009-01-15",
    "gender": "male",
    "self_defined_ethnicity": "W1",
    "officer_defined_ethnicity": "IC1",
    "postcode_district": "OX1",
    "area": "OX1",
    "setting": "street",
    "offence": "drug_possession",
    "drug_class": "B",
    "personal_use": "true",
    "supply_suspected": "false",
    "admission": "admitted",
    "eligible": "",
    "offered": "",
    "not_offered_reason": "",
    "accepted": "",
    "engaged_on": "",
    "completed_on": "",
    "escalated_on": "",
    "outcome_code": "",
    "closed_on": "",
}


def row(**changes: str) -> dict[str, str]:
    unknown = set(changes) - set(COLUMNS)
    assert not unknown, unknown
    return {**GOOD, **changes}


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def csv_to_xlsx(data: bytes) -> bytes:
    """The same table as a workbook, with some typed cells as a spreadsheet user would have."""
    from datetime import date

    book = Workbook()
    sheet = book.active
    for line in csv.reader(io.StringIO(data.decode("utf-8"))):
        cells: list[Any] = []
        for value in line:
            if value in {"true", "false"}:
                cells.append(value == "true")
            elif len(value) == 10 and value[4] == "-" and value[7] == "-":
                cells.append(date.fromisoformat(value))
            elif value.isdigit() and len(value) <= 2:
                cells.append(int(value))
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
