"""What a user may see: only people and cases their organisation holds or is party to.

A person record is held by one organisation (``Person.organisation_id``): the force that recorded
them. Only it finds, matches, merges and edits the record. Another organisation sees the person
only while it is party to one of their cases (a YOT receiving a referral), and then sees only the
encounters, cases and entries it is party to or wrote itself — and of those only what its
information-sharing agreements allow (``auth/sharing.py``): a case no agreement in force shares
with it is not shown at all, a person whose identity none shares is not shown either. Another force
sees a person's record only when the holder shared it under a force-to-force agreement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, or_, select

from divert.auth.sharing import case_shared, person_shared, sees
from divert.models import Encounter, Person, Referral, ReferralParty, User


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    # A single IN is flattened into a semi-join, so the planner can probe the party index per case
    # or read the organisation's parties once, whichever is cheaper.
    party = select(ReferralParty.referral_id).where(ReferralParty.organisation_id == user.organisation_id)
    return select(Referral).where(Referral.id.in_(party), case_shared(user))


def ways_to_see_person(user: User) -> tuple[Any, Any]:
    """The two conditions, either of which lets ``user`` see a person: their organisation holds
    the record, or is shown it: party to one of the person's cases that shares identity with it,
    or given the record under a force-to-force agreement (correlated EXISTS: checking one person
    is index probes)."""
    held_here = Person.organisation_id == user.organisation_id
    party_to = exists().where(
        Referral.person_id == Person.id,
        ReferralParty.referral_id == Referral.id,
        ReferralParty.organisation_id == user.organisation_id,
        case_shared(user, "identity"),
    )
    return held_here, or_(party_to, person_shared(user))


def visible_people(user: User) -> Select[tuple[Person]]:
    # An OR of the two conditions. Not "id IN (either list)": PostgreSQL cannot make that a
    # semi-join, and so would read every case the organisation is party to to check one person.
    return select(Person).where(or_(*ways_to_see_person(user)))


def held_people(user: User) -> Select[tuple[Person]]:
    """The records ``user``'s organisation holds: the only ones it may record against, edit or merge."""
    return select(Person).where(Person.organisation_id == user.organisation_id)


def holds_person(user: User, person: Person) -> bool:
    return person.organisation_id == user.organisation_id


def visible_encounters(user: User) -> Select[tuple[Encounter]]:
    """Encounters ``user``'s organisation recorded, or that led to a case it is party to."""
    cases = visible_referrals(user).with_only_columns(Referral.encounter_id)
    return select(Encounter).where(
        or_(Encounter.organisation_id == user.organisation_id, Encounter.id.in_(cases))
    )


def colleagues(user: User) -> Select[tuple[int]]:
    """The ids of ``user``'s organisation's users: whose entries (change records, audit entries)
    an organisation that does not hold a person's record is shown of it."""
    return select(User.id).where(User.organisation_id == user.organisation_id)


def works_with_team(user: User, case: Referral) -> bool:
    """Whether ``user``'s organisation is in the team working the case, not only the referring
    force: the force sees status, progress and outcome, not what was told in confidence (notes and
    needs assessments kept to the working team)."""
    return any(p.organisation_id == user.organisation_id and p.role != "police" for p in case.parties)


def confidential(entry_data: dict[str, Any] | None) -> bool:
    """Whether a note's or assessment's content is for the working team only. An entry written
    before visibility was recorded is treated as confidential: nobody chose to share it."""
    return bool((entry_data or {}).get("visibility", "team") != "shared")


# The sharing category (rules/sharing.py) a timeline entry's content belongs to.
_ENTRY_CATEGORY = {"note": "notes", "needs_assessment": "needs", "decision": "offence"}


def hidden_from(user: User, case: Referral, kind: str, data: dict[str, Any] | None) -> bool:
    """Whether a timeline entry's content is withheld from ``user``: what the user's agreements do
    not share (notes, the needs assessment, the decision's reasons, which tell the offence), and
    what was told to the working team in confidence."""
    category = _ENTRY_CATEGORY.get(kind)
    if category is not None and not sees(user, case, category):
        return True
    return kind in {"note", "needs_assessment"} and confidential(data) and not works_with_team(user, case)
