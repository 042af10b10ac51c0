"""Caseworkers' and supervisors' worklists: filtered, sorted and paginated in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, selectinload

from divert.auth.policy import holds, role_clause
from divert.auth.sharing import split_identity, with_identity_shown
from divert.auth.visibility import visible_referrals
from divert.models import (
    CaseFlag,
    Decision,
    Encounter,
    Person,
    Programme,
    ProgrammeOperator,
    ProgrammeVersion,
    Referral,
    ReferralParty,
    User,
)

PAGE_SIZE = 25
VIEWS = {
    "mine": "Assigned to me",
    "new": "New referrals not yet taken",
    "team": "All open cases",
    "flagged": "Flagged for review",
    "overdue": "Overdue work",
    "closed": "Closed cases",
}
SORTS = {
    "opened": Referral.opened_at,
    "reference": Referral.reference,
    "person": Person.family_name_key,
}


@dataclass(frozen=True)
class Worklist:
    rows: list[Referral]
    total: int
    page: int
    pages: int
    flagged: set[int]
    # Cases whose person the organisation's sharing agreements do not name (issue 17).
    unnamed: set[int] = field(default_factory=set)


def _flag_exists(kinds: tuple[str, ...]) -> Any:
    return exists().where(
        CaseFlag.referral_id == Referral.id, CaseFlag.resolved_at.is_(None), CaseFlag.kind.in_(kinds)
    )


def _filtered(user: User, view: str, programme: str | None) -> Select[tuple[Referral]]:
    statement = visible_referrals(user).join(Person, Person.id == Referral.person_id)
    if view == "closed":
        statement = statement.where(Referral.closed_at.is_not(None))
    else:
        statement = statement.where(Referral.closed_at.is_(None))
    if view == "mine":
        statement = statement.where(Referral.assigned_user_id == user.id)
    elif view == "new":
        statement = statement.where(Referral.assigned_user_id.is_(None))
    elif view == "flagged":
        # What a person must decide on: non-engagement, and a new encounter during the case.
        statement = statement.where(_flag_exists(("non_engagement", "reoffending_review")))
    elif view == "overdue":
        statement = statement.where(_flag_exists(("first_contact_overdue", "contract_expired")))
    if programme:
        statement = statement.where(
            Referral.programme_id == select(Programme.id).where(Programme.code == programme).scalar_subquery()
        )
    return statement


def worklist(
    session: Session,
    user: User,
    *,
    view: str = "mine",
    programme: str | None = None,
    sort: str = "opened",
    descending: bool = False,
    page: int = 1,
) -> Worklist:
    view = view if view in VIEWS else "mine"
    statement = _filtered(user, view, programme)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    column = SORTS.get(sort, Referral.opened_at)
    order = column.desc() if descending else column.asc()
    rows, unnamed = split_identity(
        user,
        session.execute(
            with_identity_shown(user, statement)
            .options(
                joinedload(Referral.person),
                joinedload(Referral.programme),
                joinedload(Referral.assigned_user),
                joinedload(Referral.programme_version),
                # Which cases a supervisor may reallocate follows from the parties (auth.policy).
                *((selectinload(Referral.parties),) if holds(user, "reallocate") else ()),
            )
            .order_by(order, Referral.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).unique(),
    )
    flagged = set(
        session.scalars(
            select(CaseFlag.referral_id).where(
                CaseFlag.referral_id.in_([r.id for r in rows]), CaseFlag.resolved_at.is_(None)
            )
        )
    )
    return Worklist(rows, total, page, pages, flagged, unnamed)


def programmes_for(session: Session, user: User) -> list[tuple[str, str]]:
    """The programmes of the cases this user can see, and any others their organisation operates,
    for the filter.

    Reading them off the cases would read every case the organisation is party to (tens of
    thousands for a busy provider). An organisation is party to a case as an operator of its
    programme: the force that recorded the encounter under a programme it runs (``programmes_run_by``)
    or the organisation receiving the route's referrals (``receiving_organisation``), both
    ``ProgrammeOperator`` rows, which are changed but never deleted. Or it is the police party
    because its import recorded the case: an import takes rows of any programme. So: the
    programmes it operates (a few rows), and those of its cases outside them. The police party is
    always the organisation that recorded the encounter, so only one that has recorded encounters
    can have such cases; for the others (every receiving organisation) that search never runs.
    For a police force it still reads its cases.
    """
    organisation = user.organisation_id
    operated = select(ProgrammeOperator.programme_id).where(ProgrammeOperator.organisation_id == organisation)
    elsewhere = (
        select(Referral.programme_id)
        .join(ReferralParty, ReferralParty.referral_id == Referral.id)
        .where(ReferralParty.organisation_id == organisation, Referral.programme_id.not_in(operated))
    )
    # The organisation is written into this check's SQL, not bound: a reused prepared statement is
    # planned for an average organisation (one in five encounters), as a table scan expected to stop
    # at the first, which reads every row for an organisation that has recorded none.
    recorded_encounters = exists().where(
        Encounter.organisation_id == bindparam("recording_organisation", organisation, literal_execute=True)
    )
    return [
        (code, name)
        for code, name in session.execute(
            select(Programme.code, Programme.name)
            .where(or_(Programme.id.in_(operated), and_(recorded_encounters, Programme.id.in_(elsewhere))))
            .order_by(Programme.name)
        )
    ]


def colleagues(session: Session, user: User) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(
                User.organisation_id == user.organisation_id,
                User.active.is_(True),
                role_clause("hold_caseload", User.role),
            )
            .order_by(User.name)
        )
    )


def force_referrals(session: Session, user: User, *, page: int = 1) -> Worklist:
    """The cases the user's force referred (it is their police party), newest change first: the
    progress and outcome the reports ask the schemes to feed back to the police."""
    statement = (
        select(Referral)
        .join(ReferralParty, ReferralParty.referral_id == Referral.id)
        .where(ReferralParty.organisation_id == user.organisation_id, ReferralParty.role == "police")
    )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = list(
        session.scalars(
            statement.options(
                joinedload(Referral.person),
                joinedload(Referral.programme),
                joinedload(Referral.programme_version),
            )
            .order_by(Referral.updated_at.desc(), Referral.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).unique()
    )
    return Worklist(rows, total, page, pages, set())


@dataclass(frozen=True)
class NotEligibleList:
    rows: list[Decision]
    total: int
    page: int
    pages: int


def not_eligible(session: Session, user: User, *, page: int = 1) -> NotEligibleList:
    """The encounters the user's force recorded that the rules (or a later override) found not
    eligible, newest first: where a supervisor finds a decision to set aside. Only the decision in
    force for each (an overridden one has been decided again), and only the force's own encounters,
    the ones its supervisors may override."""
    superseded = aliased(Decision)
    statement = (
        select(Decision)
        .join(Encounter, Encounter.id == Decision.encounter_id)
        .where(
            Encounter.organisation_id == user.organisation_id,
            Decision.eligible.is_(False),
            ~exists().where(superseded.overrides_id == Decision.id),
        )
    )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = list(
        session.scalars(
            statement.options(
                contains_eager(Decision.encounter).joinedload(Encounter.person),
                joinedload(Decision.programme_version).joinedload(ProgrammeVersion.programme),
            )
            .order_by(Encounter.occurred_at.desc(), Decision.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).unique()
    )
    return NotEligibleList(rows, total, page, pages)
