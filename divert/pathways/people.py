"""Changing a person's record: optimistic locking, field history, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import audit
from ..models import Person
from .errors import StaleEdit

EDITABLE = (
    "given_name",
    "family_name",
    "date_of_birth",
    "pnc_id",
    "gender",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "postcode_district",
)


def update_person(session: Session, person: Person, changes: dict[str, Any], seen_version: int) -> list[str]:
    """Apply ``changes`` if nobody has edited the person since ``seen_version``.

    Returns the fields that changed. The version check here gives a friendly message; the
    mapper's version column still guards the race between this check and the flush.
    """
    if person.version_id != seen_version:
        raise StaleEdit("person's record")
    changed = []
    for field in EDITABLE:
        if field in changes and getattr(person, field) != changes[field]:
            setattr(person, field, changes[field])
            changed.append(field)
    if changed:
        session.flush()
        audit.record(session, "update", "person", person.id, detail="changed " + ", ".join(changed))
    return changed
