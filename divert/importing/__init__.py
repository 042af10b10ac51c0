"""Bulk import of historical encounters (one per row, with their pathway milestones) from CSV or XLSX.

Every row is checked before anything is written, and the file goes in whole or not at all, so a
half-imported file never has to be untangled. Re-importing a file changes nothing: rows are keyed on
the organisation and the file's ``encounter_ref``.
"""

from .columns import COLUMNS, Problem
from .operation import ImportFailed, ImportResult, import_file
from .parse import read_file

__all__ = ["COLUMNS", "ImportFailed", "ImportResult", "Problem", "import_file", "read_file"]
