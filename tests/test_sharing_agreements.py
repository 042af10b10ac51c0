"""Information-sharing agreements and consent (issue 17): a party that does not hold the person sees
of a case only what an agreement in force lets flow to it, nothing once it ends or once the person
withdraws their consent; a referral that needs consent is not accepted without it; another force
sees a person's record only when shared under a force-to-force agreement. Every test has an
organisation that must not see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.models import AuditEntry, PersonShare, Programme, Referral, ReferralConsent
from divert.pathways.cases import offer, record_encounter, respond
from divert.pathways.errors import OperationError
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.pathways.sharing import ConsentRequired, record_consent, share_person, withdraw_consent

from .client import parse
from .factories import create_agreement, create_encounter, create_organisation, create_person, create_user

pytestmark = pytest.mark.usefixtures("no_default_agreements")


def _programme(db_session: Session, code: str) -> Programme:
    sync_definitions(db_session)
    return db_session.scalars(select(Programme).where(Programme.code == code)).one()


def _youth_case(db_session: Session, force: Any, yot: Any) -> Referral:
    youth = _programme(db_session, "tvp-youth-drugs")
    assign_operator(db_session, youth, force.id, "police")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", force)
    person = create_person(
        db_session, force, given_name="Robin", family_name="Sharer", date_of_birth=date(2010, 4, 4)
    )
    encounter = create_encounter(db_session, person, force, occurred_at=datetime(2026, 5, 1, 9, tzinfo=UTC))
    (outcome,) = record_encounter(db_session, officer, encounter)
    offer(db_session, officer, outcome.referral, True)
    respond(db_session, officer, outcome.referral, True)
    return outcome.referral


def test_a_yot_whose_agreement_ends_stops_seeing_the_case(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot, other_yot = create_organisation(db_session, kind="yot"), create_organisation(db_session, kind="yot")
    case = _youth_case(db_session, org, yot)
    youth = case.programme
    # The other YOT has an agreement with the force too, but is not party to this case.
    create_agreement(db_session, org, other_yot, [youth])
    agreement = create_agreement(db_session, org, yot, [youth], valid_until=today() + timedelta(days=1))
    worker = signed_in("yot_caseworker", organisation=yot)
    page = parse(client.get(f"/cases/{case.id}"))
    assert "Robin Sharer" in page.text
    assert client.get(f"/people/{case.person_id}").status_code == 200

    # The force's administrator ends the agreement yesterday, through the agreement's page.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("admin", organisation=org)
    edit = parse(client.get(f"/admin/agreements/{agreement.id}"))
    fields = {
        i["name"]: i.get("value", "")
        for i in edit.select("input")
        if i.get("name") in {"csrf_token", "version_id", "name"}
    }
    ended = today() - timedelta(days=1)
    form = {
        **fields,
        "first_organisation": str(org.id),
        "second_organisation": str(yot.id),
        "to_second": ["identity", "offence", "needs", "notes", "outcome"],
        "to_first": ["notes", "outcome"],
        "programmes": [str(youth.id)],
        "lawful_basis": "s35_2_b",
        "valid_from": ["1", "1", "2000"],
        "valid_until": [str(ended.day), str(ended.month), str(ended.year)],
    }
    response = client.post(f"/admin/agreements/{agreement.id}", data=form)
    assert response.status_code == 302, parse(response).select_one(".govuk-error-summary")
    history = parse(client.get(f"/admin/agreements/{agreement.id}"))
    assert ended.isoformat() in history.select_one("[data-testid=agreement-history]").text

    client.submit("/sign-out", {}, token_from="/home")
    signed_in("yot_caseworker", organisation=yot, email=f"again-{worker.email}")
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/people/{case.person_id}").status_code == 404
    assert case.reference not in parse(client.get("/home")).text
    # The other YOT never saw it, agreement or not: it is not party to the case.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("yot_caseworker", organisation=other_yot)
    assert client.get(f"/cases/{case.id}").status_code == 404
    # The force holds the case and always sees it.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("officer", organisation=org)
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_a_party_sees_only_the_categories_its_agreement_allows(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot, stranger = create_organisation(db_session, kind="yot"), create_organisation(db_session, kind="yot")
    case = _youth_case(db_session, org, yot)
    create_agreement(db_session, org, yot, [case.programme], to_second={"outcome", "notes"})
    signed_in("yot_caseworker", organisation=yot)
    page = parse(client.get(f"/cases/{case.id}"))
    assert page.select_one("[data-testid=identity-not-shared]") is not None
    assert "Robin" not in page.text and "Sharer" not in page.text
    assert page.select_one("[data-testid=offence-not-shared]") is not None
    assert not page.select("[data-testid=decision]")
    # Without identity the person's record is not shown to it either, nor named in its lists.
    assert client.get(f"/people/{case.person_id}").status_code == 404
    for path in ("/home", "/worklist?view=new"):
        listed = parse(client.get(path))
        assert case.reference in listed.text and "Sharer" not in listed.text, path
        assert "Not shared with your organisation" in listed.text, path
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("yot_caseworker", organisation=stranger)
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_an_agreement_for_another_programme_shares_nothing(db_session: Session, org: Any) -> None:
    from divert.auth.visibility import visible_referrals

    yot = create_organisation(db_session, kind="yot")
    case = _youth_case(db_session, org, yot)
    create_agreement(db_session, org, yot, [_programme(db_session, "checkpoint")])
    worker = create_user(db_session, "yot_caseworker", yot)
    assert db_session.scalar(visible_referrals(worker).where(Referral.id == case.id)) is None
    create_agreement(db_session, org, yot, [case.programme])
    assert db_session.scalar(visible_referrals(worker).where(Referral.id == case.id)) is not None
    officer = create_user(db_session, "officer", create_organisation(db_session))
    assert db_session.scalar(visible_referrals(officer).where(Referral.id == case.id)) is None


# --- consent ----------------------------------------------------------------------------------------
ADULT_V5_AT = datetime(2028, 5, 2, 10, tzinfo=UTC)


def _adult_case(db_session: Session, force: Any, service: Any) -> tuple[Referral, Any]:
    adult = _programme(db_session, "tvp-adult-drugs")
    assign_operator(db_session, adult, force.id, "police", effective_from=date(2020, 1, 1))
    assign_operator(
        db_session, adult, service.id, "receiving", "drug_service", effective_from=date(2020, 1, 1)
    )
    create_agreement(db_session, force, service, [adult])
    officer = create_user(db_session, "officer", force)
    person = create_person(
        db_session, force, given_name="Sam", family_name="Consent", date_of_birth=date(1990, 1, 1)
    )
    encounter = create_encounter(db_session, person, force, occurred_at=ADULT_V5_AT)
    outcomes = {o.programme.code: o for o in record_encounter(db_session, officer, encounter)}
    case = outcomes["tvp-adult-drugs"].referral
    assert case is not None and case.programme_version.version == 5
    offer(db_session, officer, case, True)
    return case, officer


def test_a_referral_needing_consent_cannot_be_accepted_without_it(db_session: Session, org: Any) -> None:
    service = create_organisation(db_session, kind="provider")
    case, officer = _adult_case(db_session, org, service)
    with pytest.raises(ConsentRequired, match="consent to the referral"):
        respond(db_session, officer, case, True)
    record_consent(db_session, officer, case, "referral")
    with pytest.raises(ConsentRequired, match="sharing"):
        respond(db_session, officer, case, True)
    record_consent(db_session, officer, case, "sharing", service.id)
    respond(db_session, officer, case, True)
    assert case.state == "referred"
    # Consent to sharing is only with an organisation the case goes to.
    with pytest.raises(OperationError):
        record_consent(
            db_session, officer, case, "sharing", create_organisation(db_session, kind="provider").id
        )


def test_the_offer_page_refuses_acceptance_without_consent(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    service = create_organisation(db_session, kind="provider")
    adult = _programme(db_session, "tvp-adult-drugs")
    assign_operator(db_session, adult, org.id, "police", effective_from=date(2020, 1, 1))
    assign_operator(
        db_session, adult, service.id, "receiving", "drug_service", effective_from=date(2020, 1, 1)
    )
    create_agreement(db_session, org, service, [adult])
    officer = signed_in("officer", organisation=org)
    person = create_person(db_session, org, date_of_birth=date(1990, 1, 1))
    encounter = create_encounter(db_session, person, org, occurred_at=ADULT_V5_AT, officer_id=officer.id)
    outcomes = {o.programme.code: o for o in record_encounter(db_session, officer, encounter)}
    case = outcomes["tvp-adult-drugs"].referral
    assert case is not None
    page = parse(client.get(f"/encounters/{encounter.id}"))
    assert page.select_one("input[name=consent]") is not None
    data = {
        "response": "accepted",
        "version_id": str(case.version_id),
        "not_offered_code": "",
        "declined_code": "",
    }
    refused = client.submit(f"/cases/{case.id}/offer", data, token_from=f"/encounters/{encounter.id}")
    assert refused.status_code == 400
    assert "Record the person's consent to the referral" in parse(refused).text
    accepted = client.submit(
        f"/cases/{case.id}/offer", {**data, "consent": "y"}, token_from=f"/encounters/{encounter.id}"
    )
    assert accepted.status_code == 302
    db_session.expire_all()
    kinds = {
        (c.kind, c.organisation_id)
        for c in db_session.scalars(select(ReferralConsent).where(ReferralConsent.referral_id == case.id))
    }
    assert kinds == {("referral", None), ("sharing", service.id)}


def test_a_withdrawn_consent_stops_the_sharing_it_covered(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    service, other = (
        create_organisation(db_session, kind="provider"),
        create_organisation(db_session, kind="provider"),
    )
    case, officer = _adult_case(db_session, org, service)
    create_agreement(db_session, org, other, [case.programme])
    record_consent(db_session, officer, case, "referral")
    sharing = record_consent(db_session, officer, case, "sharing", service.id)
    respond(db_session, officer, case, True)
    worker = create_user(db_session, "drug_service_worker", service)
    signed_in("drug_service_worker", organisation=service, email=f"w-{worker.email}")
    assert client.get(f"/cases/{case.id}").status_code == 200
    # The other provider has an agreement but is not party: never sees it.
    stranger = create_user(db_session, "drug_service_worker", other)
    from divert.auth.visibility import visible_referrals

    assert db_session.scalar(visible_referrals(stranger).where(Referral.id == case.id)) is None

    withdraw_consent(db_session, officer, sharing)
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/people/{case.person_id}").status_code == 404
    # Everyone still working the case is told.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("officer", organisation=org)
    banner = parse(client.get(f"/cases/{case.id}")).select_one("[data-testid=consent-withdrawn]")
    assert banner is not None and service.name in banner.text
    assert db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "referral_consent", AuditEntry.object_id == str(sharing.id)
        )
    )


def test_a_withdrawn_consent_to_the_referral_lets_the_case_end_but_not_go_on(
    db_session: Session, org: Any
) -> None:
    service = create_organisation(db_session, kind="provider")
    case, officer = _adult_case(db_session, org, service)
    referral_consent = record_consent(db_session, officer, case, "referral")
    record_consent(db_session, officer, case, "sharing", service.id)
    withdraw_consent(db_session, officer, referral_consent)
    with pytest.raises(ConsentRequired):
        respond(db_session, officer, case, True)
    respond(db_session, officer, case, False, "Withdrew consent")
    assert case.closed_at is not None


# --- a person's record shared with another force ---------------------------------------------------
def test_another_force_sees_a_persons_record_only_when_shared_under_an_agreement(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    neighbour, third = create_organisation(db_session), create_organisation(db_session)
    yot = create_organisation(db_session, kind="yot")
    youth = _programme(db_session, "tvp-youth-drugs")
    person = create_person(db_session, org, given_name="Jo", family_name="Mover")
    supervisor = create_user(db_session, "supervisor", org)
    # No agreement: refused. A force-to-force agreement without identity: refused. A YOT's: refused.
    create_agreement(db_session, org, yot, [youth])
    no_identity = create_agreement(db_session, org, third, [youth], to_second={"outcome"})
    for agreement_id in (0, no_identity.id):
        with pytest.raises(OperationError):
            share_person(db_session, supervisor, person, agreement_id)
    signed_in("supervisor", organisation=neighbour)
    assert client.get(f"/people/{person.id}").status_code == 404

    agreement = create_agreement(db_session, org, neighbour, [youth], to_second={"identity"})
    share = share_person(db_session, supervisor, person, agreement.id)
    assert (share.organisation_id, share.agreement_id, share.shared_by_id) == (
        neighbour.id,
        agreement.id,
        supervisor.id,
    )
    assert db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "share", AuditEntry.object_id == str(person.id))
    )
    assert "Jo Mover" in parse(client.get(f"/people/{person.id}")).text
    # The third force (agreement without identity) still does not see the record.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("supervisor", organisation=third)
    assert client.get(f"/people/{person.id}").status_code == 404
    # The holder sees, on the person, with whom and under which agreement it was shared.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("supervisor", organisation=org)
    shown = parse(client.get(f"/people/{person.id}")).select_one("[data-testid=person-shares]")
    assert shown is not None and neighbour.name in shown.text and agreement.name in shown.text
    # Once the agreement ends, the sharing stops.
    agreement.valid_until = today() - timedelta(days=1)
    db_session.flush()
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("supervisor", organisation=neighbour)
    assert client.get(f"/people/{person.id}").status_code == 404
    assert db_session.scalar(select(PersonShare).where(PersonShare.person_id == person.id)) is not None


def test_erasure_removes_the_persons_consents_and_shares(db_session: Session, org: Any) -> None:
    from divert.pathways.anonymise import erase

    service, neighbour = create_organisation(db_session, kind="provider"), create_organisation(db_session)
    case, officer = _adult_case(db_session, org, service)
    record_consent(db_session, officer, case, "referral")
    supervisor = create_user(db_session, "supervisor", org)
    agreement = create_agreement(db_session, org, neighbour, [case.programme], to_second={"identity"})
    share_person(db_session, supervisor, case.person, agreement.id)
    person_id, case_id = case.person_id, case.id
    erase(db_session, supervisor, [person_id], "Court order")
    assert (
        db_session.scalars(select(ReferralConsent).where(ReferralConsent.referral_id == case_id)).all() == []
    )
    assert db_session.scalars(select(PersonShare).where(PersonShare.person_id == person_id)).all() == []
    # The other force's agreement is the organisations', not the person's: it stays.
    assert db_session.get(type(agreement), agreement.id) is not None


def test_an_administrator_records_an_agreement_and_another_organisations_cannot_see_it(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot, outsider = create_organisation(db_session, kind="yot"), create_organisation(db_session)
    youth = _programme(db_session, "tvp-youth-drugs")
    signed_in("admin", organisation=org)
    assert client.get("/admin/agreements/new").status_code == 200
    form = {
        "name": "Thames Valley youth diversion protocol",
        "first_organisation": str(org.id),
        "second_organisation": str(yot.id),
        "to_second": ["identity", "offence", "outcome"],
        "programmes": [str(youth.id)],
        "lawful_basis": "",
        "valid_from": ["1", "4", "2026"],
        "valid_until": ["", "", ""],
    }
    refused = client.submit("/admin/agreements/new", form)
    assert refused.status_code == 400
    summary = parse(refused).select_one(".govuk-error-summary")
    assert summary is not None and "Select the lawful basis" in summary.text
    saved = client.submit("/admin/agreements/new", {**form, "lawful_basis": "sch8_4"})
    assert saved.status_code == 302
    listing = parse(client.get("/admin/agreements")).select_one("[data-testid=agreements]")
    assert listing is not None and "Thames Valley youth diversion protocol" in listing.text
    agreement_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    assert db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "sharing_agreement", AuditEntry.object_id == str(agreement_id)
        )
    )
    # An agreement between two other organisations is refused to this administrator.
    between_others = client.submit(
        "/admin/agreements/new",
        {**form, "first_organisation": str(outsider.id), "lawful_basis": "sch8_4", "name": "Not ours"},
    )
    assert between_others.status_code == 400
    # Another organisation's administrator neither lists nor opens it.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("admin", organisation=outsider)
    assert "Thames Valley youth diversion protocol" not in parse(client.get("/admin/agreements")).text
    assert client.get(f"/admin/agreements/{agreement_id}").status_code == 404
    # Neither does a caseworker: the pages are administrators'.
    client.submit("/sign-out", {}, token_from="/home")
    signed_in("yot_caseworker", organisation=yot)
    assert client.get("/admin/agreements").status_code == 403


def test_each_case_is_read_with_its_own_holder(db_session: Session, org: Any) -> None:
    """Two forces refer to one YOT; it has an agreement with the second only. Each case's holder is
    its own person's force (a query that read another case's person would share both or neither)."""
    from divert.auth.visibility import visible_referrals

    first_force, yot = create_organisation(db_session), create_organisation(db_session, kind="yot")
    earlier = _youth_case(db_session, first_force, yot)
    later = _youth_case(db_session, org, yot)
    create_agreement(db_session, org, yot, [later.programme])
    worker = create_user(db_session, "yot_caseworker", yot)
    seen = set(db_session.scalars(visible_referrals(worker).with_only_columns(Referral.id)))
    assert later.id in seen and earlier.id not in seen
