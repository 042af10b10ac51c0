"""What a user may see: only people and cases their organisation is party to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, or_, select

from divert.models import Encounter, Person, Referral, ReferralParty, User


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    # A single IN is flattened into a semi-join, so the planner can probe the party index per case
    # or read the organisation's parties once, whichever is cheaper.
    party = select(ReferralParty.referral_id).where(ReferralParty.organisation_id == user.organisation_id)
    return select(Referral).where(Referral.id.in_(party))


def ways_to_see_person(user: User) -> tuple[Any, Any]:
    """The two conditions, either of which lets ``user`` see a person: their organisation recorded
    an encounter with them, or is party to one of their cases. Each is a correlated EXISTS:
    checking one person is an index probe."""
    recorded_here = exists().where(
        Encounter.person_id == Person.id, Encounter.organisation_id == user.organisation_id
    )
    party_to = exists().where(
        Referral.person_id == Person.id,
        ReferralParty.referral_id == Referral.id,
        ReferralParty.organisation_id == user.organisation_id,
    )
    return recorded_here, party_to


def visible_people(user: User) -> Select[tuple[Person]]:
    # An OR of the two EXISTS, two index probes per person. Not "id IN (either list)": PostgreSQL
    # cannot make that a semi-join, and so read every encounter the organisation recorded (400,000
    # for a large force) to check a single person.
    return select(Person).where(or_(*ways_to_see_person(user)))
