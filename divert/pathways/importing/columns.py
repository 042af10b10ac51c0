"""The import file's columns and the shape of a problem report.

The columns are fixed and documented (seeds/import/README.md) so a force can build an extract once
and rely on it; an unknown column is refused rather than ignored, since it usually means a typo.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = (
    "encounter_ref",
    "occurred_at",
    "programme",
    "pnc_id",
    "forenames",
    "surname",
    "date_of_birth",
    "gender",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "postcode_district",
    "area",
    "setting",
    "offence",
    "drug_class",
    "personal_use",
    "supply_suspected",
    "admission",
    "eligible",
    "offered",
    "not_offered_reason",
    "accepted",
    "engaged_on",
    "completed_on",
    "escalated_on",
    "outcome_code",
    "closed_on",
)

# Columns a file may leave out (added after forces built their extracts). ``reason_code``: the
# programme's code for why the person was not offered diversion, or declined (issue 13); the words
# in not_offered_reason are then optional and stay on the case.
OPTIONAL_COLUMNS = ("reason_code",)

# Row 1 is the header, so the first record is row 2: the number a spreadsheet shows beside it.
FIRST_ROW = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the file. ``row`` 0 and ``column`` "" mean the file as a whole."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "File"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
