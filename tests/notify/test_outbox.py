"""Reminders and notices through the outbox: written with the change, sent once by the worker."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bench.fake_notify import API_KEY, EMAIL_TEMPLATE, SERVICE_ID, SMS_TEMPLATE, fake_notify
from divert.app.clock import LONDON, at_uk_time
from divert.background.outbox import backoff, claim, send_due
from divert.models import MessageTemplate, OutboxMessage, Referral, StaffNotification, User, utcnow
from divert.notify import LogSender, NotifySender
from divert.pathways.allocation import reallocate
from divert.pathways.casework import move_contact, record_attendance, schedule_contact
from divert.pathways.errors import OperationError
from divert.pathways.reminders import record_consent, withdraw_consent
from divert.rules import DefinitionError, definition_from_dict

from ..pathways.helpers import police_force, referred_case, staff

PHONE = "07700900123"


@pytest.fixture
def team(db_session: Session) -> dict[str, User]:
    force = police_force(db_session)
    return {role: staff(db_session, role, force) for role in ("officer", "yot_caseworker", "supervisor")}


@pytest.fixture
def case(db_session: Session, team: dict[str, User]) -> Referral:
    return referred_case(db_session, "tvp-youth-drugs", team["officer"])


def in_days(days: int, hour: int = 14, minute: int = 30) -> datetime:
    day = datetime.now(LONDON).date() + timedelta(days=days)
    return at_uk_time(day, time(hour, minute))


def outbox(session: Session, referral: Referral) -> list[OutboxMessage]:
    session.flush()
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.referral_id == referral.id, OutboxMessage.contact_id.is_not(None))
            .order_by(OutboxMessage.scheduled_for, OutboxMessage.id)
        )
    )


def consent(session: Session, team: dict[str, User], case: Referral, **fields: Any) -> Any:
    return record_consent(
        session, team["yot_caseworker"], case, **({"channel": "sms", "phone": PHONE} | fields)
    )


def test_booking_writes_the_three_reminders_at_their_times(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    when = in_days(3)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=when)
    messages = outbox(db_session, case)
    assert [(m.kind, m.status, m.channel, m.recipient) for m in messages] == [
        ("reminder_booked", "queued", "sms", PHONE),
        ("reminder_before", "queued", "sms", PHONE),
        ("reminder_before", "queued", "sms", PHONE),
    ]
    booked, day_before, two_hours = messages
    assert booked.scheduled_for <= utcnow()
    # The day before at 10:00 in the UK, whatever the season; two hours before the appointment.
    assert day_before.scheduled_for == at_uk_time(
        when.astimezone(LONDON).date() - timedelta(days=1), time(10)
    )
    assert two_hours.scheduled_for == when - timedelta(hours=2)
    local = when.astimezone(LONDON).date()
    assert booked.personalisation == {
        "name": "Alex",
        "day": f"{local.strftime('%A')} {local.day} {local.strftime('%B')}",
        "time": "2:30pm",
        "what": "session",
        "service": case.parties[0].organisation.name,
    }
    assert len({m.idempotency_key for m in messages}) == 3


def test_no_reminder_without_consent(db_session: Session, team: dict[str, User], case: Referral) -> None:
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    assert outbox(db_session, case) == []


def test_a_booking_for_soon_sends_no_reminder_late(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    soon = utcnow() + timedelta(minutes=90)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=soon)
    assert [m.kind for m in outbox(db_session, case)] == ["reminder_booked"]


def test_moving_replaces_the_queued_reminders(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    yot = team["yot_caseworker"]
    contact = schedule_contact(db_session, yot, case, kind="session", scheduled_at=in_days(3))
    move_contact(db_session, yot, contact, scheduled_at=in_days(5, 16, 0))
    messages = outbox(db_session, case)
    assert sorted((m.kind, m.status) for m in messages) == [
        ("reminder_before", "cancelled"),
        ("reminder_before", "cancelled"),
        ("reminder_before", "queued"),
        ("reminder_before", "queued"),
        ("reminder_booked", "cancelled"),
        ("reminder_moved", "queued"),
    ]
    moved = next(m for m in messages if m.kind == "reminder_moved")
    assert moved.personalisation["time"] == "4pm"
    assert {m.scheduled_for for m in messages if m.kind == "reminder_before" and m.status == "queued"} == {
        in_days(5, 14, 0),
        at_uk_time(in_days(5).astimezone(LONDON).date() - timedelta(days=1), time(10)),
    }
    # Moved back again: new messages, never a clash with the first booking's keys.
    move_contact(db_session, yot, contact, scheduled_at=in_days(3))
    assert sum(m.status == "queued" for m in outbox(db_session, case)) == 3


def test_cancelling_or_withdrawing_cancels_them(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    yot = team["yot_caseworker"]
    first = schedule_contact(db_session, yot, case, kind="session", scheduled_at=in_days(3))
    schedule_contact(db_session, yot, case, kind="meeting", scheduled_at=in_days(6))
    record_attendance(db_session, yot, first, attendance="cancelled")
    statuses = {(m.contact_id == first.id, m.status) for m in outbox(db_session, case)}
    assert statuses == {(True, "cancelled"), (False, "queued")}
    withdraw_consent(db_session, yot, case)
    assert {m.status for m in outbox(db_session, case)} == {"cancelled"}
    schedule_contact(db_session, yot, case, kind="session", scheduled_at=in_days(8))
    assert {m.status for m in outbox(db_session, case)} == {"cancelled"}  # nothing new after withdrawal


def test_consent_needs_a_way_to_reach_the_person(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    yot = team["yot_caseworker"]
    with pytest.raises(OperationError, match="UK mobile number"):
        record_consent(db_session, yot, case, channel="sms", phone="12345")
    with pytest.raises(OperationError, match="email address"):
        record_consent(db_session, yot, case, channel="email", email="not an address")
    with pytest.raises(OperationError, match="working this case"):
        record_consent(db_session, team["officer"], case, channel="sms", phone=PHONE)
    assert (
        record_consent(db_session, yot, case, channel="sms", phone="+44 7700 900123").phone == "+447700900123"
    )


def test_the_worker_sends_what_is_due_and_never_names_the_offence(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    sender = LogSender()
    report = send_due(db_session, sender)
    assert (report.claimed, report.sent) == (1, 1)
    [sent] = sender.sent
    assert sent.body.startswith("Hello Alex, your session with ") and "2:30pm" in sent.body
    words = (sent.subject + sent.body).lower()
    assert not any(w in words for w in ("drug", "possession", "offence", "cannabis"))
    # Tomorrow-but-one's reminder is not due yet; at its time it is.
    assert send_due(db_session, sender).claimed == 0
    later = send_due(db_session, sender, now=in_days(2, 10, 1))
    assert later.sent == 1 and sender.sent[-1].body.startswith("Hello Alex, a reminder")
    assert [m.status for m in outbox(db_session, case)] == ["sent", "sent", "queued"]


def test_welsh_and_an_administrators_words(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case, language="cy")
    db_session.add(
        MessageTemplate(
            kind="reminder_booked",
            language="cy",
            programme_code="tvp-youth-drugs",
            subject="Apwyntiad",
            body="Helo ((name)), ((day)) am ((time)).",
        )
    )
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    sender = LogSender()
    send_due(db_session, sender)
    local = in_days(3).astimezone(LONDON).date()
    assert sender.sent[0].body.startswith("Helo Alex, Dydd ") and f" {local.day} " in sender.sent[0].body
    assert sender.sent[0].body.endswith("am 2:30pm.")


def test_a_failure_is_retried_with_back_off_and_sent_once(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    with fake_notify() as fake:
        sender = NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=fake.url)
        fake.fail_next.append(500)
        now = utcnow()
        first = send_due(db_session, sender, now=now)
        [message] = [m for m in outbox(db_session, case) if m.kind == "reminder_booked"]
        assert (first.retried, message.status, message.attempts) == (1, "queued", 1)
        assert message.next_attempt_at == now + backoff(1) and "500" in message.last_error
        assert send_due(db_session, sender, now=now + timedelta(seconds=30)).claimed == 0  # backing off
        second = send_due(db_session, sender, now=now + backoff(1))
    assert second.sent == 1
    # The retry asks first whether the failed attempt got through, then sends: exactly these requests.
    assert [(r.method, r.path.split("?")[0], r.issuer) for r in fake.requests] == [
        ("POST", "/v2/notifications/sms", SERVICE_ID),
        ("GET", "/v2/notifications", SERVICE_ID),
        ("POST", "/v2/notifications/sms", SERVICE_ID),
    ]
    assert fake.requests[2].body == {
        "phone_number": PHONE,
        "template_id": SMS_TEMPLATE,
        "personalisation": {
            "subject": "Your appointment",
            "body": fake.requests[2].body["personalisation"]["body"],
        },
        "reference": message.idempotency_key,
    }
    db_session.refresh(message)
    assert (message.status, message.provider_reference) == ("sent", next(iter(fake.sent)))


def test_a_duplicate_delivery_attempt_sends_once(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    with fake_notify() as fake:
        sender = NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=fake.url)
        now = utcnow()
        # Two workers reach the same message: the second's claim finds nothing left to take.
        claimed = claim(db_session, now, 10)
        assert len(claimed) == 1 and claim(db_session, now, 10) == []
        # The first sends, then dies before recording it; its claim goes stale and is released.
        from divert.background.outbox import _Wording

        sender.send(_Wording(db_session).outgoing(claimed[0]))
        report = send_due(db_session, sender, now=now + timedelta(minutes=11))
    assert (report.found_already_sent, report.sent) == (1, 1)
    assert len(fake.posts()) == 1
    [message] = [m for m in outbox(db_session, case) if m.kind == "reminder_booked"]
    assert message.status == "sent"


def test_a_permanent_failure_is_not_retried(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    with fake_notify() as fake:
        fake.fail_next.append(400)
        report = send_due(db_session, NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=fake.url))
    assert report.failed == 1
    assert outbox(db_session, case)[0].status == "failed"


def test_a_reminder_for_a_passed_appointment_is_not_sent(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    consent(db_session, team, case)
    schedule_contact(db_session, team["yot_caseworker"], case, kind="session", scheduled_at=in_days(3))
    db_session.execute(
        update(OutboxMessage).values(status="cancelled").where(OutboxMessage.kind == "reminder_booked")
    )
    sender = LogSender()
    report = send_due(db_session, sender, now=in_days(3, 15))  # the worker was down for days
    assert (report.skipped, report.sent, list(sender.sent)) == (2, 0, [])


def test_reallocation_tells_the_new_worker(db_session: Session, team: dict[str, User]) -> None:
    from ..test_casework_pages import _receiving

    yot_team = _receiving(db_session, "tvp-youth-drugs", "yot")
    boss, other = staff(db_session, "supervisor", yot_team), staff(db_session, "yot_caseworker", yot_team)
    case = referred_case(db_session, "tvp-youth-drugs", team["officer"])
    reallocate(db_session, boss, [case], other, "Cover while on leave")
    [notice] = db_session.scalars(
        select(StaffNotification).where(
            StaffNotification.user_id == other.id, StaffNotification.kind == "case_reallocated"
        )
    ).all()
    assert notice.text == f"Case {case.reference} has been given to you"
    [email] = db_session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.recipient_user_id == other.id, OutboxMessage.kind == "case_reallocated"
        )
    ).all()
    assert (email.channel, email.recipient, email.personalisation["reference"]) == (
        "email",
        other.email,
        case.reference,
    )
    sender = LogSender()
    send_due(db_session, sender)
    assert any(m.subject == f"Case {case.reference} given to you" for m in sender.sent)
    assert all("Alex" not in m.body for m in sender.sent if m.recipient == other.email)


SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "programmes"


def _definition(reminders: Any) -> Any:
    document = yaml.safe_load((SEEDS / "tvp-youth-drugs-v3.yaml").read_text(encoding="utf-8"))
    return definition_from_dict({**document, "reminders": reminders})


def test_a_definition_says_when_reminders_go() -> None:
    timings = _definition(
        {"on_move": False, "before": [{"id": "evening_before", "days": 1, "at": "18:30"}]}
    ).reminders
    assert timings.on_booking and not timings.on_move
    assert [(b.id, b.days, b.at, b.hours) for b in timings.before] == [
        ("evening_before", 1, time(18, 30), None)
    ]
    with pytest.raises(DefinitionError) as bad:
        _definition({"before": [{"id": "x", "days": 1, "at": "25:00"}, {"id": "y", "hours": 2, "days": 1}]})
    assert "reminders.before[0].at: '25:00' must be a 24-hour time such as 10:00" in str(bad.value)
    assert "reminders.before[1]: give either days (with at) or hours" in str(bad.value)


def test_spoken_dates() -> None:
    from divert.rules.messages import spoken_day, spoken_time

    assert spoken_day(date(2026, 12, 8), "en") == "Tuesday 8 December"
    assert spoken_day(date(2026, 12, 8), "cy") == "Dydd Mawrth 8 Rhagfyr"
    assert [spoken_time(time(h, m)) for h, m in ((0, 0), (9, 5), (12, 0), (14, 30))] == [
        "12am",
        "9:05am",
        "12pm",
        "2:30pm",
    ]


def test_a_flag_tells_the_worker_and_the_deciders(
    db_session: Session, team: dict[str, User], case: Referral
) -> None:
    from divert.pathways.allocation import take

    yot, boss = team["yot_caseworker"], team["supervisor"]
    take(db_session, yot, case)
    for days in (6, 4):  # two unacceptable misses raise the flag at once
        contact = schedule_contact(
            db_session, yot, case, kind="session", scheduled_at=utcnow() - timedelta(days=days)
        )
        record_attendance(
            db_session, yot, contact, attendance="missed", missed_reason="No", reason_acceptable=False
        )
    notices = db_session.scalars(
        select(StaffNotification)
        .where(StaffNotification.referral_id == case.id)
        .order_by(StaffNotification.id)
    ).all()
    assert [(n.kind, n.user_id) for n in notices if n.kind != "new_referral"] == [
        ("flag_raised", yot.id),
        ("escalation_waiting", boss.id),
    ]
    emails = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.referral_id == case.id, OutboxMessage.contact_id.is_(None))
    ).all()
    assert {(m.kind, m.recipient) for m in emails} >= {
        ("flag_raised", yot.email),
        ("escalation_waiting", boss.email),
    }
    assert all("Alex" not in str(m.personalisation) for m in emails)
