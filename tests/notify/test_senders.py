"""The senders: the Notify client, pointed at a local fake server, makes exactly the expected calls."""

from __future__ import annotations

import pytest

from bench.fake_notify import API_KEY, EMAIL_TEMPLATE, SERVICE_ID, SMS_TEMPLATE, fake_notify
from divert.notify import LogSender, NotifySender, Outgoing, SendFailed, make_sender

SMS = Outgoing("sms", "07700900123", "Your appointment", "Hello Sam, your session is on Monday.", "ref-1")
EMAIL = Outgoing("email", "sam@example.org", "Your appointment", "Hello Sam.", "ref-2")


def notify_at(url: str) -> NotifySender:
    return NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=url)


def test_notify_receives_exactly_one_signed_request_per_message() -> None:
    with fake_notify() as fake:
        sender = notify_at(fake.url)
        sms_id, email_id = sender.send(SMS), sender.send(EMAIL)
    assert [(r.method, r.path, r.issuer) for r in fake.requests] == [
        ("POST", "/v2/notifications/sms", SERVICE_ID),
        ("POST", "/v2/notifications/email", SERVICE_ID),
    ]
    assert fake.requests[0].body == {
        "phone_number": "07700900123",
        "template_id": SMS_TEMPLATE,
        "personalisation": {"subject": "Your appointment", "body": "Hello Sam, your session is on Monday."},
        "reference": "ref-1",
    }
    assert fake.requests[1].body == {
        "email_address": "sam@example.org",
        "template_id": EMAIL_TEMPLATE,
        "personalisation": {"subject": "Your appointment", "body": "Hello Sam."},
        "reference": "ref-2",
    }
    assert set(fake.sent) == {sms_id, email_id}


def test_a_sent_reference_is_found_and_its_delivery_read() -> None:
    with fake_notify() as fake:
        sender = notify_at(fake.url)
        sent = sender.send(SMS)
        assert sender.find("ref-1") == sent
        assert sender.find("ref-unsent") is None
        assert sender.delivery(sent) == "delivered"


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (503, False), (400, True)])
def test_a_refusal_says_whether_trying_again_can_help(status: int, permanent: bool) -> None:
    with fake_notify() as fake:
        fake.fail_next.append(status)
        with pytest.raises(SendFailed) as failed:
            notify_at(fake.url).send(SMS)
    assert failed.value.permanent is permanent
    assert str(status) in str(failed.value)


def test_a_wrong_key_is_refused_for_good() -> None:
    with fake_notify() as fake:
        other = API_KEY[:-36] + "00000000-0000-0000-0000-000000000000"
        with pytest.raises(SendFailed) as failed:
            NotifySender(other, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=fake.url).send(SMS)
    assert failed.value.permanent and "403" in str(failed.value)


def test_an_unreachable_notify_is_tried_again_later() -> None:
    with fake_notify() as fake:
        url = fake.url
    with pytest.raises(SendFailed) as failed:
        notify_at(url).send(SMS)
    assert failed.value.permanent is False


def test_the_default_sender_only_logs() -> None:
    sender = make_sender({})
    assert isinstance(sender, LogSender)
    provider_id = sender.send(SMS)
    assert sender.find("ref-1") == provider_id and list(sender.sent) == [SMS]


def test_the_notify_sender_needs_its_key_and_templates() -> None:
    with pytest.raises(ValueError, match="NOTIFY_API_KEY"):
        make_sender({"NOTIFY_SENDER": "notify", "NOTIFY_API_KEY": API_KEY})
    with pytest.raises(ValueError, match="'log' or 'notify'"):
        make_sender({"NOTIFY_SENDER": "carrier-pigeon"})
    sender = make_sender(
        {
            "NOTIFY_SENDER": "notify",
            "NOTIFY_API_KEY": API_KEY,
            "NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
            "NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
            "NOTIFY_BASE_URL": "http://127.0.0.1:9",
        }
    )
    assert isinstance(sender, NotifySender)
