"""Small ``create_*`` helpers that build real rows for tests (no mocks)."""

from __future__ import annotations

import itertools
import weakref
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from divert.auth.passwords import hash_password
from divert.models import (
    Encounter,
    Organisation,
    Person,
    Programme,
    Referral,
    ReferralParty,
    SharingAgreement,
    SharingAgreementProgramme,
    User,
)
from divert.rules.sharing import CATEGORIES

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


# --- information-sharing agreements (issue 17) --------------------------------------------------------
# Cases are shared with a party that does not hold the person only under an agreement. Tests written
# before agreements existed make YOTs and providers parties the way recording does; for them, every
# new party gets an open-ended agreement with its holder that shares everything both ways, as the
# demo's agreements do. Tests of the agreements themselves switch this off (``no_default_agreements``).
DEFAULT_AGREEMENTS = {"on": True}
EVERYTHING = frozenset(CATEGORIES)


def create_agreement(
    session: Session,
    first: Organisation | int,
    second: Organisation | int,
    programmes: list[Programme] | list[int],
    *,
    to_second: frozenset[str] | set[str] = EVERYTHING,
    to_first: frozenset[str] | set[str] = EVERYTHING,
    valid_from: date = date(2000, 1, 1),
    valid_until: date | None = None,
    **fields: Any,
) -> SharingAgreement:
    ids = [p if isinstance(p, int) else p.id for p in programmes]
    codes = session.scalars(
        select(Programme.code).where(Programme.id.in_(ids)).order_by(Programme.code)
    ).all()
    agreement = SharingAgreement(
        **{
            "name": f"Agreement {next(_counter)}",
            "first_organisation_id": first if isinstance(first, int) else first.id,
            "second_organisation_id": second if isinstance(second, int) else second.id,
            "to_second": ",".join(c for c in CATEGORIES if c in to_second),
            "to_first": ",".join(c for c in CATEGORIES if c in to_first),
            "programme_codes": ",".join(codes),
            "lawful_basis": "s35_2_b",
            "valid_from": valid_from,
            "valid_until": valid_until,
            "version_id": 1,
            **fields,
        }
    )
    agreement.programme_links = [SharingAgreementProgramme(programme_id=i) for i in ids]
    session.add(agreement)
    session.flush()
    return agreement


def install_default_agreements(factory: sessionmaker[Session]) -> None:
    if not event.contains(factory, "before_flush", _agree_for_new_parties):
        event.listen(factory, "before_flush", _agree_for_new_parties)


def _agree_for_new_parties(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    if not DEFAULT_AGREEMENTS["on"]:
        return
    done: set[tuple[int, int, int]] = session.info.setdefault("default_agreements", set())
    for party in [obj for obj in session.new if isinstance(obj, ReferralParty)]:
        referral: Referral | None = party.referral
        if referral is None or referral.person_id is None:
            continue
        holder = session.scalar(select(Person.organisation_id).where(Person.id == referral.person_id))
        key = (holder or 0, party.organisation_id, referral.programme_id)
        if holder is None or holder == party.organisation_id or key in done:
            continue
        done.add(key)
        covered = session.scalar(
            select(
                exists().where(
                    SharingAgreementProgramme.agreement_id == SharingAgreement.id,
                    SharingAgreementProgramme.programme_id == referral.programme_id,
                    SharingAgreement.first_organisation_id == holder,
                    SharingAgreement.second_organisation_id == party.organisation_id,
                )
            )
        )
        if covered:
            continue
        code = session.scalar(select(Programme.code).where(Programme.id == referral.programme_id))
        agreement = SharingAgreement(
            name=f"Test agreement {next(_counter)}",
            first_organisation_id=holder,
            second_organisation_id=party.organisation_id,
            to_second=",".join(CATEGORIES),
            to_first=",".join(CATEGORIES),
            programme_codes=code or "",
            lawful_basis="s35_2_b",
            valid_from=date(2000, 1, 1),
            version_id=1,
        )
        agreement.programme_links = [SharingAgreementProgramme(programme_id=referral.programme_id)]
        session.add(agreement)
