"""Bulk import of historical encounters (one per row, with their pathway milestones) from CSV or XLSX.

Every row is checked before anything is written, and the file goes in whole or not at all, so a
half-imported file never has to be untangled. Re-importing a file changes nothing: rows are keyed on
the organisation and the file's ``encounter_ref``.
"""

from divert.pathways.importing.columns import COLUMNS, Problem
from divert.pathways.importing.operation import ImportFailed, ImportResult, import_file
from divert.pathways.importing.parse import read_file

__all__ = ["COLUMNS", "ImportFailed", "ImportResult", "Problem", "import_file", "read_file"]
