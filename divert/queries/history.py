"""The person's earlier cases in a programme, for whoever decides their case now.

A Youth Justice Unit deciding a repeat possession, or a navigator drawing up a contract, needs to
know how the person's earlier cases of the scheme ended, though their organisation may have been
party to none of them (the first possession went to the YOT directly). The policy's
``see_case_history`` says who may; what they see is the case's course (opened, where it got to,
how it ended and why), never its notes, assessments or who worked it. Cases the user may open
anyway are linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from divert.auth.policy import can
from divert.auth.visibility import visible_referrals
from divert.models import Encounter, Referral, User
from divert.models.programme import compiled


@dataclass(frozen=True)
class EarlierCase:
    referral_id: int
    reference: str
    encounter_at: datetime
    offence: str | None
    state: str
    route: str | None
    closed_at: datetime | None
    outcome_code: int | None
    exit_reason: str | None
    # The user's organisation is party to it, so its own page may be opened.
    openable: bool


def earlier_cases(session: Session, user: User, case: Referral) -> list[EarlierCase]:
    """The person's cases of ``case``'s programme from encounters before its own, newest first;
    none unless the policy lets ``user`` see the history of ``case``."""
    if not can(user, "see_case_history", case):
        return []
    encounter = case.encounter
    before = or_(
        Encounter.occurred_at < encounter.occurred_at,
        and_(Encounter.occurred_at == encounter.occurred_at, Encounter.id < encounter.id),
    )
    rows = session.execute(
        select(Referral, Encounter.occurred_at, Encounter.offence_category)
        .join(Encounter, Encounter.id == Referral.encounter_id)
        .options(joinedload(Referral.programme_version))
        .where(
            Referral.person_id == case.person_id,
            Referral.programme_id == case.programme_id,
            Referral.id != case.id,
            before,
        )
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
    ).all()
    if not rows:
        return []
    ids = [referral.id for referral, _, _ in rows]
    openable = set(
        session.scalars(visible_referrals(user).with_only_columns(Referral.id).where(Referral.id.in_(ids)))
    )
    found = []
    for referral, occurred_at, offence in rows:
        definition = compiled(referral.programme_version)
        found.append(
            EarlierCase(
                referral_id=referral.id,
                reference=referral.reference,
                encounter_at=occurred_at,
                offence=offence,
                state=definition.state(referral.state).name,
                route=definition.route(referral.route).name if referral.route else None,
                closed_at=referral.closed_at,
                outcome_code=referral.outcome_code,
                exit_reason=referral.exit_reason,
                openable=referral.id in openable,
            )
        )
    return found
