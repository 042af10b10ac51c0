"""Loading reference data from ``seeds/reference`` into the database, idempotently."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from divert.models import EthnicityCode, OffenceCategory, OutcomeCode

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / "reference" / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_reference_data(session: Session) -> dict[str, int]:
    """Insert or update every reference row by its key; never delete (records point at them)."""
    counts = {"ethnicity_codes": 0, "outcome_codes": 0, "offence_categories": 0}
    for row in _rows("ethnicity_codes.csv"):
        session.merge(
            EthnicityCode(
                code=row["code"],
                scheme=row["scheme"],
                label=row["label"],
                ethnic_group=row["ethnic_group"],
                sort_order=int(row["sort_order"]),
            )
        )
        counts["ethnicity_codes"] += 1
    for row in _rows("outcome_codes.csv"):
        session.merge(OutcomeCode(code=int(row["code"]), label=row["label"], description=row["description"]))
        counts["outcome_codes"] += 1
    for row in _rows("offence_categories.csv"):
        existing = session.get(OffenceCategory, row["slug"])
        category = existing or OffenceCategory(slug=row["slug"], active=True)
        category.label = row["label"]
        category.sort_order = int(row["sort_order"])
        session.add(category)
        counts["offence_categories"] += 1
    session.flush()
    return counts
