"""What a user may see: only people and cases their organisation is party to."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from .models import Encounter, Person, Referral, ReferralParty, User


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    party = select(ReferralParty.referral_id).where(ReferralParty.organisation_id == user.organisation_id)
    return select(Referral).where(Referral.id.in_(party))


def visible_people(user: User) -> Select[tuple[Person]]:
    recorded_here = select(Encounter.person_id).where(Encounter.organisation_id == user.organisation_id)
    party_to = (
        select(Referral.person_id)
        .join(ReferralParty, ReferralParty.referral_id == Referral.id)
        .where(ReferralParty.organisation_id == user.organisation_id)
    )
    return select(Person).where(or_(Person.id.in_(recorded_here), Person.id.in_(party_to)))
