"""Information-sharing agreements, consent per referral and a person's record shared with another
force (issue 17): every change checked, flushed and audited here; what they let each organisation
see is ``auth/sharing.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from divert.app.clock import today, uk_date
from divert.auth import sharing as access
from divert.auth.policy import check, holds
from divert.models import (
    Organisation,
    Person,
    PersonShare,
    Programme,
    Referral,
    ReferralConsent,
    SharingAgreement,
    SharingAgreementProgramme,
    User,
    audit,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.rules import limits
from divert.rules.definition import ProgrammeDefinition
from divert.rules.sharing import CATEGORIES, LAWFUL_BASES, categories_text, in_force


@dataclass(frozen=True)
class AgreementTerms:
    """What an administrator says an agreement is: checked by ``_check_terms``."""

    name: str
    first_organisation_id: int
    second_organisation_id: int
    to_second: frozenset[str]
    to_first: frozenset[str]
    programme_ids: frozenset[int]
    lawful_basis: str
    lawful_basis_text: str
    valid_from: date
    valid_until: date | None


# --- agreements ------------------------------------------------------------------------------------
def may_manage(actor: User, agreement: SharingAgreement | AgreementTerms) -> bool:
    """An organisation's administrator manages the agreements it is party to; the service's
    administrators every one."""
    if holds(actor, "manage_organisations"):
        return True
    return actor.organisation_id in {agreement.first_organisation_id, agreement.second_organisation_id}


def create_agreement(session: Session, actor: User, terms: AgreementTerms) -> SharingAgreement:
    check(actor, "manage_agreements")
    _check_terms(session, actor, terms)
    agreement = SharingAgreement(version_id=1)
    _apply(session, agreement, terms)
    session.add(agreement)
    session.flush()
    audit.record(session, actor, "create", "sharing_agreement", agreement.id, detail=_summary(agreement))
    access.forget(session)
    return agreement


def update_agreement(
    session: Session, actor: User, agreement: SharingAgreement, terms: AgreementTerms, seen_version: int
) -> SharingAgreement:
    """Change an agreement (end it by giving it a last day). Field history keeps what it said before."""
    check(actor, "manage_agreements")
    if not may_manage(actor, agreement):
        raise OperationError("Only an administrator of one of its organisations can change this agreement.")
    if agreement.version_id != seen_version:
        raise StaleEdit("agreement")
    _check_terms(session, actor, terms)
    _apply(session, agreement, terms)
    session.flush()
    audit.record(session, actor, "update", "sharing_agreement", agreement.id, detail=_summary(agreement))
    access.forget(session)
    return agreement


def _check_terms(session: Session, actor: User, terms: AgreementTerms) -> None:
    check_text("Name", terms.name, limits.USER_NAME)
    check_text("Lawful basis in the agreement's words", terms.lawful_basis_text, limits.REASON)
    if not terms.name.strip():
        raise OperationError("Enter the agreement's name")
    if terms.first_organisation_id == terms.second_organisation_id:
        raise OperationError("Select two different organisations")
    found = session.scalars(
        select(Organisation.id).where(
            Organisation.id.in_([terms.first_organisation_id, terms.second_organisation_id])
        )
    ).all()
    if len(found) != 2:
        raise OperationError("Select the organisations the agreement is between")
    if not may_manage(actor, terms):
        raise OperationError("Your organisation must be one of the two the agreement is between.")
    if not (terms.to_second or terms.to_first):
        raise OperationError("Select what each organisation shares with the other")
    unknown = (terms.to_second | terms.to_first) - set(CATEGORIES)
    if unknown:
        raise OperationError(f"Unknown categories of data: {', '.join(sorted(unknown))}")
    if not terms.programme_ids:
        raise OperationError("Select the programmes the agreement covers")
    programmes = session.scalars(select(Programme.id).where(Programme.id.in_(terms.programme_ids))).all()
    if len(programmes) != len(terms.programme_ids):
        raise OperationError("Select the programmes the agreement covers")
    if terms.lawful_basis not in LAWFUL_BASES:
        raise OperationError("Select the lawful basis for the sharing")
    if terms.valid_until is not None and terms.valid_until < terms.valid_from:
        raise OperationError("The last day of the agreement must be on or after its first day")


def _apply(session: Session, agreement: SharingAgreement, terms: AgreementTerms) -> None:
    agreement.name = terms.name.strip()
    agreement.first_organisation_id = terms.first_organisation_id
    agreement.second_organisation_id = terms.second_organisation_id
    agreement.to_second = categories_text(terms.to_second)
    agreement.to_first = categories_text(terms.to_first)
    agreement.lawful_basis = terms.lawful_basis
    agreement.lawful_basis_text = terms.lawful_basis_text.strip()
    agreement.valid_from = terms.valid_from
    agreement.valid_until = terms.valid_until
    programmes = session.scalars(
        select(Programme).where(Programme.id.in_(terms.programme_ids)).order_by(Programme.code)
    ).all()
    agreement.programme_codes = ",".join(p.code for p in programmes)
    kept = {link.programme_id: link for link in agreement.programme_links}
    agreement.programme_links = [
        kept.get(p.id) or SharingAgreementProgramme(programme_id=p.id) for p in programmes
    ]


def _summary(agreement: SharingAgreement) -> str:
    until = agreement.valid_until.isoformat() if agreement.valid_until else "open-ended"
    first, second = agreement.first_organisation_id, agreement.second_organisation_id
    return (
        f"{first}->{second}: {agreement.to_second or '-'}; {second}->{first}: {agreement.to_first or '-'}; "
        f"programmes {agreement.programme_codes}; {agreement.lawful_basis}; "
        f"{agreement.valid_from.isoformat()} to {until}"
    )


def agreements_for(session: Session, actor: User) -> list[SharingAgreement]:
    statement = select(SharingAgreement).order_by(SharingAgreement.valid_from.desc(), SharingAgreement.id)
    if not holds(actor, "manage_organisations"):
        statement = statement.where(
            or_(
                SharingAgreement.first_organisation_id == actor.organisation_id,
                SharingAgreement.second_organisation_id == actor.organisation_id,
            )
        )
    return list(session.scalars(statement))


# --- consent (per referral, where the programme's definition asks for it) ----------------------------
class ConsentRequired(OperationError):
    """A step the programme allows only with the participant's consent, which is not recorded."""

    api_code = "consent_required"


def live_consent(
    session: Session, referral: Referral, kind: str, organisation_id: int | None = None
) -> ReferralConsent | None:
    return session.scalar(
        select(ReferralConsent).where(
            ReferralConsent.referral_id == referral.id,
            ReferralConsent.kind == kind,
            ReferralConsent.organisation_id.is_(None)
            if organisation_id is None
            else ReferralConsent.organisation_id == organisation_id,
            ReferralConsent.withdrawn_at.is_(None),
        )
    )


def consents(session: Session, referral: Referral) -> list[ReferralConsent]:
    return list(
        session.scalars(
            select(ReferralConsent)
            .where(ReferralConsent.referral_id == referral.id)
            .order_by(ReferralConsent.given_at, ReferralConsent.id)
        )
    )


def sharing_recipients(session: Session, referral: Referral) -> list[Organisation]:
    """The organisations a referral is (or on acceptance will be) shared with: every party but the
    holder, and the receiving organisation of the case's route."""
    from divert.pathways.cases import acting_organisations  # cases asks this module to check consent

    definition = compiled(referral.programme_version)
    holder = referral.person.organisation_id
    ids = [p.organisation_id for p in referral.parties if p.organisation_id != holder]
    if referral.route is not None:
        entry = definition.route(referral.route).enters
        on = uk_date(referral.encounter.occurred_at)
        for receiver in acting_organisations(
            session, referral.programme, definition, entry, referral.route, on
        ):
            if receiver != holder and receiver not in ids:
                ids.append(receiver)
    if not ids:
        return []
    found = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def record_consent(
    session: Session, actor: User, referral: Referral, kind: str, organisation_id: int | None = None
) -> ReferralConsent:
    """The participant's consent to the referral, or to sharing it with ``organisation_id``, as
    told to ``actor``; with the notice they were given."""
    check(actor, "view_people", referral)
    definition = compiled(referral.programme_version)
    if definition.consent is None:
        raise OperationError(f"{definition.name} records no consent.")
    if kind == "sharing":
        if organisation_id not in {o.id for o in sharing_recipients(session, referral)}:
            raise OperationError("Select an organisation the case is shared with.")
    elif kind == "referral":
        organisation_id = None
    else:
        raise OperationError("Say what the consent is to.")
    existing = live_consent(session, referral, kind, organisation_id)
    if existing is not None:
        return existing
    consent = ReferralConsent(
        referral_id=referral.id,
        kind=kind,
        organisation_id=organisation_id,
        given_at=utcnow(),
        recorded_by_id=actor.id,
        notice=definition.consent.notice,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session, actor, "create", "referral_consent", consent.id, detail=f"{kind} on referral {referral.id}"
    )
    access.forget(session)
    return consent


def withdraw_consent(session: Session, actor: User, consent: ReferralConsent) -> ReferralConsent:
    """The participant withdrew a consent: the sharing it covered stops now (``auth/sharing.py``),
    and the case says so to everyone working it."""
    check(actor, "view_people", consent.referral)
    if consent.withdrawn_at is not None:
        raise OperationError("This consent has already been withdrawn.")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_recorded_by_id = actor.id
    session.flush()
    audit.record(
        session, actor, "update", "referral_consent", consent.id, detail=f"withdrawn: {consent.kind}"
    )
    access.forget(session)
    return consent


def check_consent_for(
    session: Session, referral: Referral, definition: ProgrammeDefinition, to_state: str
) -> None:
    """Refuse to move a case that needs consent past the offer without it.

    Past the offer: into a state, not an end, of the route, engagement or completion stages. With
    consent to the referral withdrawn the case can still be ended, but not carried on.
    """
    terms = definition.consent
    if terms is None:
        return
    target = definition.state(to_state)
    if target.terminal or target.stage not in {"route", "engagement", "completion"}:
        return
    if terms.referral and live_consent(session, referral, "referral") is None:
        raise ConsentRequired(
            "Record the person's consent to the referral before it goes any further: "
            f"{definition.name} needs it."
        )
    if terms.sharing and definition.state(referral.state).stage in {"eligibility", "offer", "acceptance"}:
        missing = [
            o.name
            for o in sharing_recipients(session, referral)
            if live_consent(session, referral, "sharing", o.id) is None
        ]
        if missing:
            raise ConsentRequired(
                "Record the person's consent to sharing their referral with " + ", ".join(missing) + "."
            )


# --- a person's record shared with another force -------------------------------------------------------
def force_agreements(session: Session, person: Person, on: date | None = None) -> list[SharingAgreement]:
    """The force-to-force agreements in force under which the person's holder may share their
    identity: one query, the other party's kind read with the agreement."""
    on = on or today()
    holder = person.organisation_id
    other = Organisation.id == case(
        (SharingAgreement.first_organisation_id == holder, SharingAgreement.second_organisation_id),
        else_=SharingAgreement.first_organisation_id,
    )
    found = session.scalars(
        select(SharingAgreement)
        .join(Organisation, other)
        .where(
            or_(
                SharingAgreement.first_organisation_id == holder,
                SharingAgreement.second_organisation_id == holder,
            ),
            Organisation.kind == "police_force",
        )
        .order_by(SharingAgreement.name, SharingAgreement.id)
    ).all()
    return [
        a
        for a in found
        if in_force(a.valid_from, a.valid_until, on) and "identity" in a.categories_to(a.other_party(holder))
    ]


def share_person(session: Session, actor: User, person: Person, agreement_id: int) -> PersonShare:
    """Share the holder's record of a person with another force, under an agreement in force
    between the two forces that lets identity flow to it. Recorded on the person and audited."""
    check(actor, "share_person", person)
    agreement = next((a for a in force_agreements(session, person) if a.id == agreement_id), None)
    if agreement is None:
        raise OperationError(
            "Select a force-to-force agreement in force that lets this force share a person's identity."
        )
    recipient = agreement.other_party(person.organisation_id)
    existing = session.scalar(
        select(PersonShare).where(
            PersonShare.person_id == person.id, PersonShare.organisation_id == recipient
        )
    )
    if existing is not None:
        existing.agreement_id = agreement.id
        share = existing
    else:
        share = PersonShare(person_id=person.id, organisation_id=recipient, agreement_id=agreement.id)
        session.add(share)
    share.shared_at = utcnow()
    share.shared_by_id = actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "share",
        "person",
        person.id,
        detail=f"shared with organisation {recipient} under agreement {agreement.id}",
    )
    return share


def shares_of(session: Session, person: Person) -> list[PersonShare]:
    return list(
        session.scalars(
            select(PersonShare).where(PersonShare.person_id == person.id).order_by(PersonShare.id)
        )
    )


def give_consent_with_acceptance(session: Session, actor: User, referral: Referral) -> list[ReferralConsent]:
    """The consent the programme asks for, told to the officer with the person's acceptance: to the
    referral, and to sharing it with each organisation it goes to."""
    terms = compiled(referral.programme_version).consent
    if terms is None:
        return []
    given = []
    if terms.referral:
        given.append(record_consent(session, actor, referral, "referral"))
    if terms.sharing:
        given += [
            record_consent(session, actor, referral, "sharing", o.id)
            for o in sharing_recipients(session, referral)
        ]
    return given


@dataclass(frozen=True)
class ConsentAsk:
    kind: str
    organisation: Organisation | None = None


def consent_asks(session: Session, referral: Referral, given: list[ReferralConsent]) -> list[ConsentAsk]:
    """The consents the programme asks for that are not in force on the case: what the page offers
    to record."""
    terms = compiled(referral.programme_version).consent
    if terms is None:
        return []
    live = {(c.kind, c.organisation_id) for c in given if c.withdrawn_at is None}
    asks = []
    if terms.referral and ("referral", None) not in live:
        asks.append(ConsentAsk("referral"))
    if terms.sharing:
        asks += [
            ConsentAsk("sharing", o)
            for o in sharing_recipients(session, referral)
            if ("sharing", o.id) not in live
        ]
    return asks
