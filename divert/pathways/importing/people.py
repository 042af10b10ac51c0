"""Finding each row's person: an existing record, one made by an earlier row, or a new one.

The rule is ``pathways.encounters.existing_record`` (the same PNC ID, else exactly the same name and
date of birth with no conflicting PNC ID), applied in file order against the records the importing
organisation holds and the people the file itself adds. Another organisation's record of the same
person is never matched: it is theirs. Nothing is merged on a guess; near matches are for a person to review
afterwards. The candidates are read in a few indexed queries, not one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Person
from divert.models.person import name_key
from divert.pathways.importing.validate import Row

T = TypeVar("T")
CHUNK = 1000  # well inside every database's limit on bound parameters
NameKey = tuple[str, str, date]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(eq=False)
class PersonRef:
    """A person a row belongs to: stored (``id`` known) or to be created from ``row``."""

    id: int | None
    pnc_id: str | None
    row: Row | None = None


class People:
    def __init__(self, session: Session, organisation_id: int, rows: Sequence[Row]) -> None:
        self.organisation_id = organisation_id
        self.by_pnc: dict[str, PersonRef] = {}
        self.by_name: dict[NameKey, list[PersonRef]] = defaultdict(list)
        self.created: list[PersonRef] = []
        self.matched: set[int] = set()
        self._load(session, rows)

    def _load(self, session: Session, rows: Sequence[Row]) -> None:
        pncs = sorted({r.pnc_id for r in rows if r.pnc_id})
        # Each row's name key, worked out once: it is asked for again to match and to add.
        self._keys: dict[int, NameKey | None] = {id(r): _key(r) for r in rows}
        families = sorted({key[1] for key in self._keys.values() if key is not None})
        columns = (
            Person.id,
            Person.pnc_id,
            Person.given_name_key,
            Person.family_name_key,
            Person.date_of_birth,
        )
        held = Person.organisation_id == self.organisation_id
        found: dict[int, Any] = {}
        for part in chunks(pncs):
            found.update(
                (r.id, r) for r in session.execute(select(*columns).where(held, Person.pnc_id.in_(part)))
            )
        for part in chunks(families):
            found.update(
                (r.id, r)
                for r in session.execute(select(*columns).where(held, Person.family_name_key.in_(part)))
            )
        merged: set[int] = set()
        for ids in chunks(sorted(found)):
            merged.update(
                session.scalars(
                    select(Person.id).where(Person.id.in_(ids), Person.merged_into_id.is_not(None))
                )
            )
        # Oldest first, as ``existing_record`` orders its PNC lookup.
        for person_id in sorted(set(found) - merged):
            record = found[person_id]
            ref = PersonRef(record.id, record.pnc_id)
            if record.pnc_id:
                self.by_pnc.setdefault(record.pnc_id, ref)
            if record.date_of_birth is not None and record.given_name_key and record.family_name_key:
                key = (record.given_name_key, record.family_name_key, record.date_of_birth)
                self.by_name[key].append(ref)

    def resolve(self, row: Row) -> PersonRef:
        found = self._existing(row)
        if found is not None:
            if found.id is not None:
                self.matched.add(found.id)
            return found
        ref = PersonRef(None, row.pnc_id, row)
        self.created.append(ref)
        if row.pnc_id:
            self.by_pnc.setdefault(row.pnc_id, ref)
        key = self._key_of(row)
        if key is not None:
            self.by_name[key].append(ref)
        return ref

    def _existing(self, row: Row) -> PersonRef | None:
        if row.pnc_id and row.pnc_id in self.by_pnc:
            return self.by_pnc[row.pnc_id]
        key = self._key_of(row)
        if key is None:
            return None
        candidates = self.by_name.get(key, [])
        # A different PNC ID on a record means a different person with the same name.
        same = [p for p in candidates if not row.pnc_id or not p.pnc_id or p.pnc_id == row.pnc_id]
        return same[0] if len(same) == 1 else None

    def _key_of(self, row: Row) -> NameKey | None:
        return self._keys[id(row)] if id(row) in self._keys else _key(row)


def _key(row: Row) -> NameKey | None:
    return name_key(row.forenames, row.surname, row.date_of_birth)
