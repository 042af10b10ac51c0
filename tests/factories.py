"""Small ``create_*`` helpers that build real rows for tests (no mocks)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from divert.auth.passwords import hash_password
from divert.models import Encounter, Organisation, Person, User

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once per run
_counter = itertools.count(1)


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


def create_person(session: Session, **fields: Any) -> Person:
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
    session.add(encounter)
    session.flush()
    return encounter
