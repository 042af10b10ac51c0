"""Small ``create_*`` helpers that build real rows for tests (no mocks)."""

from __future__ import annotations

import itertools
import weakref
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from divert.auth.passwords import hash_password
from divert.models import Encounter, Organisation, Person, User

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once per run
_counter = itertools.count(1)
# People made without a holder, whose first encounter's organisation becomes their holder.
_provisional: weakref.WeakSet[Person] = weakref.WeakSet()


def create_organisation(session: Session, **fields: Any) -> Organisation:
    n = next(_counter)
    org = Organisation(**{"code": f"org-{n}", "name": f"Organisation {n}", "kind": "police_force", **fields})
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session, role: str = "officer", organisation: Organisation | None = None, **fields: Any
) -> User:
    n = next(_counter)
    user = User(
        **{
            "email": f"user{n}@example.org",
            "name": f"User {n}",
            "role": role,
            "password_hash": _PASSWORD_HASH,
            "organisation": organisation or create_organisation(session),
            **fields,
        }
    )
    session.add(user)
    session.flush()
    return user


def create_person(session: Session, organisation: Organisation | None = None, **fields: Any) -> Person:
    """A person held by ``organisation``. Without one, by the test's first force for now: the
    person's first ``create_encounter`` then makes its organisation the holder, as recording does."""
    provisional = organisation is None and "organisation_id" not in fields
    if provisional:
        # The test's first force (most tests' ``org``), else its first organisation of any kind.
        organisation = session.scalar(
            select(Organisation).order_by((Organisation.kind != "police_force"), Organisation.id).limit(1)
        )
        if organisation is None:
            organisation = create_organisation(session)
    if organisation is not None:
        fields["organisation_id"] = organisation.id
    person = Person(
        **{
            "given_name": "Alex",
            "family_name": "Example",
            "date_of_birth": date(2009, 5, 1),
            "gender": "male",
            "self_defined_ethnicity": "W1",
            **fields,
        }
    )
    session.add(person)
    session.flush()
    if provisional:
        _provisional.add(person)
    return person


def create_encounter(
    session: Session, person: Person, organisation: Organisation, **fields: Any
) -> Encounter:
    encounter = Encounter(
        **{
            "person": person,
            "organisation_id": organisation.id,
            "occurred_at": datetime(2026, 3, 1, 14, 30, tzinfo=UTC),
            "setting": "street",
            "offence_category": "drug_possession",
            "drug_class": "B",
            "personal_use": True,
            "admission": "admitted",
            **fields,
        }
    )
    held_elsewhere = person.organisation_id != organisation.id
    if person in _provisional and held_elsewhere and not _has_encounters(session, person):
        person.organisation_id = organisation.id
    session.add(encounter)
    session.flush()
    return encounter


def _has_encounters(session: Session, person: Person) -> bool:
    return bool(session.scalar(select(exists().where(Encounter.person_id == person.id))))
