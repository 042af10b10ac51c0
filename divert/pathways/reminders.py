"""Reminding participants of appointments, where they agreed to it.

Booking an appointment writes its reminders to the outbox in the booking's own transaction (on
booking, and before it as the programme's definition says); moving it cancels those still queued
and writes new ones; cancelling it, closing the case or withdrawing consent cancels them. No
reminder is written without a current consent, and none says what the person is on the programme for.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from divert.app.clock import LONDON, at_uk_time, uk_date
from divert.auth.policy import can, holds
from divert.models import (
    CaseContact,
    MessageTemplate,
    Organisation,
    OutboxMessage,
    Programme,
    Referral,
    ReminderConsent,
    User,
    audit,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways.errors import OperationError
from divert.rules.messages import (
    BODY_LENGTH,
    CHANNELS,
    DEFAULT_TIMINGS,
    LANGUAGES,
    MESSAGE_KINDS,
    SUBJECT_LENGTH,
    ReminderTimings,
    spoken_day,
    spoken_time,
    spoken_what,
    template_problem,
)

# A UK mobile number, as people write it: 07700 900123, +44 7700 900123.
_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")


def current_consent(session: Session, referral: Referral) -> ReminderConsent | None:
    return session.scalar(
        select(ReminderConsent)
        .where(ReminderConsent.referral_id == referral.id, ReminderConsent.withdrawn_at.is_(None))
        .order_by(ReminderConsent.id.desc())
        .limit(1)
    )


def _check(actor: User, referral: Referral) -> None:
    if not can(actor, "work_case", referral):
        raise OperationError("Only people working this case can record how the person is reminded.")
    if referral.closed_at is not None:
        raise OperationError("This case is closed, so no reminders can be agreed on it.")


def record_consent(
    session: Session,
    actor: User,
    referral: Referral,
    *,
    channel: str,
    phone: str = "",
    email: str = "",
    language: str = "en",
) -> ReminderConsent:
    """The person agreed to reminders by ``channel``; replaces any earlier agreement on the case."""
    _check(actor, referral)
    if channel not in CHANNELS:
        raise OperationError("Select how the person wants to be reminded: by text message or by email")
    if language not in LANGUAGES:
        raise OperationError("Select English or Welsh")
    phone = re.sub(r"[\s()-]", "", phone or "")
    email = (email or "").strip()
    if channel == "sms":
        if not _MOBILE.match(phone):
            raise OperationError("Enter a UK mobile number, like 07700 900123")
        email = ""
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise OperationError(
                "Enter an email address in the correct format, like name@example.com"
            ) from None
        phone = ""
    previous = current_consent(session, referral)
    now = utcnow()
    if previous is not None:
        previous.withdrawn_at, previous.withdrawn_by_id = now, actor.id
    consent = ReminderConsent(
        referral_id=referral.id,
        channel=channel,
        phone=phone or None,
        email=email or None,
        language=language,
        agreed_at=now,
        recorded_by_id=actor.id,
    )
    session.add(consent)
    session.flush()
    audit.record(session, actor, "create", "reminder_consent", consent.id, detail=f"reminders by {channel}")
    # Reminders already queued go where the person said before: rewrite them to the new details.
    for contact in _upcoming(session, referral):
        cancel_for_contact(session, contact, "consent changed")
        write_for_contact(session, contact, consent, moved=False, announce=False)
    return consent


def withdraw_consent(session: Session, actor: User, referral: Referral) -> int:
    """The person no longer wants reminders: every queued one on the case is cancelled."""
    _check(actor, referral)
    consent = current_consent(session, referral)
    if consent is None:
        raise OperationError("The person has not agreed to reminders on this case.")
    consent.withdrawn_at, consent.withdrawn_by_id = utcnow(), actor.id
    session.flush()
    audit.record(session, actor, "update", "reminder_consent", consent.id, detail="withdrawn")
    return cancel_for_case(session, referral.id, "consent withdrawn")


def _upcoming(session: Session, referral: Referral) -> list[CaseContact]:
    return list(
        session.scalars(
            select(CaseContact).where(
                CaseContact.referral_id == referral.id,
                CaseContact.attendance == "scheduled",
                CaseContact.scheduled_at > utcnow(),
            )
        )
    )


def timings(referral: Referral) -> ReminderTimings:
    return compiled(referral.programme_version).reminders or DEFAULT_TIMINGS


def send_times(timing: ReminderTimings, appointment: datetime) -> list[tuple[str, datetime]]:
    """When each 'before' reminder goes (UTC): a UK wall-clock time some days before, or some hours before."""
    out = []
    for before in timing.before:
        if before.days is not None and before.at is not None:
            day = uk_date(appointment) - timedelta(days=before.days)
            out.append((before.id, at_uk_time(day, before.at)))
        elif before.hours is not None:
            out.append((before.id, appointment - timedelta(hours=before.hours)))
    return out


def write_for_contact(
    session: Session,
    contact: CaseContact,
    consent: ReminderConsent | None = None,
    *,
    moved: bool,
    announce: bool = True,
) -> int:
    """Queue the reminders of a booked (or just moved) appointment; none without a current consent."""
    referral = contact.referral
    consent = consent or current_consent(session, referral)
    now = utcnow()
    # An appointment recorded after the event (or past already) has nothing to remind anyone of.
    if consent is None or contact.attendance != "scheduled" or contact.scheduled_at <= now:
        return 0
    timing = timings(referral)
    local = contact.scheduled_at.astimezone(LONDON)
    service = _service(session, referral)
    personalisation = {
        "name": referral.person.given_name,
        "day": spoken_day(local.date(), consent.language),
        "time": spoken_time(local.time()),
        "what": spoken_what(contact.kind, consent.language),
        "service": service,
    }
    wanted: list[tuple[str, str, datetime]] = []
    if announce and (timing.on_move if moved else timing.on_booking):
        wanted.append(("reminder_moved" if moved else "reminder_booked", "now", now))
    for ident, moment in send_times(timing, contact.scheduled_at):
        # A reminder whose time has passed (a booking for this afternoon) is not sent late.
        if now < moment < contact.scheduled_at:
            wanted.append(("reminder_before", ident, moment))
    recipient = consent.phone if consent.channel == "sms" else consent.email
    assert recipient  # record_consent keeps the channel's detail
    for kind, ident, moment in wanted:
        session.add(
            OutboxMessage(
                kind=kind,
                channel=consent.channel,
                recipient=recipient,
                language=consent.language,
                template=kind,
                programme_id=referral.programme_id,
                personalisation=personalisation,
                referral_id=referral.id,
                contact_id=contact.id,
                scheduled_for=moment,
                next_attempt_at=moment,
                status="queued",
                # The contact's version and the consent change with each move and each new
                # agreement, so a message is written once per appointment time and recipient.
                idempotency_key=f"contact:{contact.id}:v{contact.version_id}:c{consent.id}:{ident}",
            )
        )
    session.flush()
    return len(wanted)


def _service(session: Session, referral: Referral) -> str:
    """The name of the team the person deals with: the receiving organisation, else the first party."""
    parties = sorted(referral.parties, key=lambda p: (p.role != "receiving", p.id or 0))
    if not parties:
        return ""
    organisation = session.get(Organisation, parties[0].organisation_id)
    return organisation.name if organisation else ""


def cancel_for_contact(session: Session, contact: CaseContact, why: str) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id, OutboxMessage.status == "queued")
        .values(status="cancelled", last_error=why, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel_for_case(session: Session, referral_id: int, why: str) -> int:
    """Cancel every participant reminder still queued on a case (staff emails are left to go)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.referral_id == referral_id,
            OutboxMessage.contact_id.is_not(None),
            OutboxMessage.status == "queued",
        )
        .values(status="cancelled", last_error=why, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def save_wording(
    session: Session,
    actor: User,
    *,
    kind: str,
    language: str,
    programme_code: str = "",
    subject: str,
    body: str,
) -> MessageTemplate:
    """An administrator's words for a kind of message (for one programme, or every one)."""
    if not holds(actor, "manage_programmes"):
        raise OperationError("Only an administrator can change the words of messages.")
    if kind not in MESSAGE_KINDS:
        raise OperationError("Select the kind of message")
    if language not in LANGUAGES:
        raise OperationError("Select English or Welsh")
    programme_code = (programme_code or "").strip()
    if (
        programme_code
        and session.scalar(select(Programme.id).where(Programme.code == programme_code)) is None
    ):
        raise OperationError(f"There is no programme '{programme_code}'")
    subject, body = (subject or "").strip(), (body or "").strip()
    for what, text, limit in (("The subject", subject, SUBJECT_LENGTH), ("The message", body, BODY_LENGTH)):
        problem = template_problem(kind, text, limit)
        if problem:
            raise OperationError(f"{what}: {problem}")
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.kind == kind,
            MessageTemplate.language == language,
            MessageTemplate.programme_code == programme_code,
        )
    )
    if template is None:
        template = MessageTemplate(kind=kind, language=language, programme_code=programme_code)
        session.add(template)
    template.subject, template.body, template.updated_by_id = subject, body, actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "message_template",
        template.id,
        detail=f"{kind} ({language}) {programme_code}",
    )
    return template
