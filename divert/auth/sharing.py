"""What an organisation that does not hold a case sees of it: what its sharing agreements allow.

The organisation that holds the person's record (the force that recorded them, or the team that
took them in directly) sees all of its own cases. Any other party to a case (a YOT, a drug service)
sees only the categories (``rules/sharing.py``) that an agreement in force today, covering the
case's programme, lets flow from the holder to it; with none, it does not see the case at all. A
participant's withdrawn consent to sharing with an organisation stops that sharing from then on,
whatever the agreement says. A person's record reaches another force only when shared under a
force-to-force agreement that allows identity (``PersonShare``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, object_session

from divert.app.clock import today
from divert.models import (
    Person,
    PersonShare,
    Referral,
    ReferralConsent,
    SharingAgreement,
    SharingAgreementProgramme,
    User,
)
from divert.rules.sharing import CATEGORIES

EVERYTHING = frozenset(CATEGORIES)
_CACHE = "sharing_categories"
_SHARED = "sharing_shown"


def in_force_clause() -> Any:
    on = today()
    return and_(
        SharingAgreement.valid_from <= on,
        or_(SharingAgreement.valid_until.is_(None), SharingAgreement.valid_until >= on),
    )


def _flows_to(organisation_id: Any, holder: Any, category: str | None) -> Any:
    """Agreements in force that let something (or ``category``) flow from ``holder`` to the organisation."""

    def allows(column: Any) -> Any:
        return column.contains(category) if category else column != ""

    return and_(
        in_force_clause(),
        or_(
            and_(
                SharingAgreement.first_organisation_id == holder,
                SharingAgreement.second_organisation_id == organisation_id,
                allows(SharingAgreement.to_second),
            ),
            and_(
                SharingAgreement.second_organisation_id == holder,
                SharingAgreement.first_organisation_id == organisation_id,
                allows(SharingAgreement.to_first),
            ),
        ),
    )


def _consent_withdrawn(organisation_id: int) -> Any:
    """The participant withdrew their consent to sharing the case with the organisation, and has
    not given it again."""
    sharing = (
        ReferralConsent.referral_id == Referral.id,
        ReferralConsent.kind == "sharing",
        ReferralConsent.organisation_id == organisation_id,
    )
    return and_(
        exists().where(*sharing, ReferralConsent.withdrawn_at.is_not(None)),
        ~exists().where(*sharing, ReferralConsent.withdrawn_at.is_(None)),
    )


def case_shared(user: User, category: str | None = None) -> Any:
    """A SQL condition on ``Referral``: the case (or its ``category``) is shown to ``user``'s
    organisation, given that it is party to it. Correlated EXISTS, so one case is index probes."""
    org = user.organisation_id
    # An alias, so that inside a query on people (``visibility.ways_to_see_person``) this reads the
    # case's person rather than correlating to the outer one.
    person = aliased(Person)
    # Correlated to the case explicitly: it sits inside the agreements' EXISTS, whose own FROM
    # does not hold the case, so automatic correlation would read every case's person.
    holder = (
        select(person.organisation_id)
        .where(person.id == Referral.person_id)
        .correlate(Referral)
        .scalar_subquery()
    )
    agreed = exists().where(
        SharingAgreementProgramme.programme_id == Referral.programme_id,
        SharingAgreement.id == SharingAgreementProgramme.agreement_id,
        _flows_to(org, holder, category),
    )
    return or_(holder == org, and_(agreed, ~_consent_withdrawn(org)))


def person_shared(user: User) -> Any:
    """A SQL condition on ``Person``: the record was shared with ``user``'s force under an
    agreement that is in force and allows identity."""
    return exists().where(
        PersonShare.person_id == Person.id,
        PersonShare.organisation_id == user.organisation_id,
        SharingAgreement.id == PersonShare.agreement_id,
        _flows_to(user.organisation_id, Person.organisation_id, "identity"),
    )


def holds_case(user: Any, case: Referral) -> bool:
    return case.person is not None and bool(case.person.organisation_id == user.organisation_id)


def shown_categories(user: Any, case: Referral) -> frozenset[str]:
    """The categories of ``case`` that ``user``'s organisation sees: everything for the holder;
    for another party, what its agreements in force today allow, unless consent was withdrawn."""
    session = object_session(case)
    if holds_case(user, case) or session is None:
        # A case never stored (the policy's own checks of an ability) has no sharing to read.
        return EVERYTHING
    cache: dict[tuple[int, int, object], frozenset[str]] = session.info.setdefault(_CACHE, {})
    key = (case.id, user.organisation_id, today())
    if key not in cache:
        cache[key] = _load_categories(session, user.organisation_id, case)
    return cache[key]


def forget(session: Session) -> None:
    """Drop what was read of agreements and consent: called by every operation that changes them."""
    session.info.pop(_CACHE, None)
    session.info.pop(_SHARED, None)


def _load_categories(session: Session, organisation_id: int, case: Referral) -> frozenset[str]:
    withdrawn = session.scalar(select(_consent_withdrawn(organisation_id)).where(Referral.id == case.id))
    if withdrawn:
        return frozenset()
    holder = case.person.organisation_id
    agreements = session.scalars(
        select(SharingAgreement)
        .join(SharingAgreementProgramme, SharingAgreementProgramme.agreement_id == SharingAgreement.id)
        .where(
            SharingAgreementProgramme.programme_id == case.programme_id,
            _flows_to(organisation_id, holder, None),
        )
    ).all()
    shown: set[str] = set()
    for agreement in agreements:
        shown |= agreement.categories_to(organisation_id)
    return frozenset(shown)


def sees(user: Any, case: Referral, category: str) -> bool:
    return category in shown_categories(user, case)


def with_identity_shown(user: User, statement: Any) -> Any:
    """``statement`` (on cases) with a second column saying whether the case's identity is shown to
    ``user``: lists that name people read it in the same query instead of one more per case."""
    return statement.add_columns(case_shared(user, "identity").label("identity_shown"))


def split_identity(user: Any, rows: Any) -> tuple[list[Referral], set[int]]:
    """The cases of ``with_identity_shown`` rows, and the ids of those whose person is not named."""
    cases, unnamed = [], set()
    for case, shown in rows:
        cases.append(case)
        if not shown:
            unnamed.add(case.id)
    # Read through ``visible_referrals``, so shared with the reader today: the policy
    # (``shares_anything``) need not read their agreements again, one query per case.
    session = object_session(cases[0]) if cases else None
    if session is not None:
        noted: set[tuple[int, int, object]] = session.info.setdefault(_SHARED, set())
        noted.update((case.id, user.organisation_id, today()) for case in cases)
    return cases, unnamed


def shares_anything(user: Any, case: Referral) -> bool:
    """Whether ``user``'s organisation is shown anything of ``case`` (the policy's party check)."""
    session = object_session(case)
    if session is not None and (case.id, user.organisation_id, today()) in session.info.get(_SHARED, ()):
        return True
    return bool(shown_categories(user, case))
