"""Request bodies a partner system would send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def encounter_body(**encounter: Any) -> dict[str, Any]:
    """An adult found with cannabis for personal use: eligible for the force's adult drugs scheme."""
    return {
        "person": {
            "given_name": "Sam",
            "family_name": "Partner",
            "date_of_birth": "1990-01-01",
            "gender": "male",
            "self_defined_ethnicity": "W1",
            "postcode_district": "OX4",
        },
        "encounter": {
            "occurred_at": datetime(2026, 3, 1, 14, 30, tzinfo=UTC).isoformat(),
            "setting": "street",
            "offence_category": "drug_possession",
            "drug_class": "B",
            "personal_use": True,
            "admission": "admitted",
            **encounter,
        },
    }
