"""Senders: one method to send, one to ask whether a reference was already sent, one for delivery.

The log-only sender is the default (the embedded installation and the tests: no real message ever
leaves them). The GOV.UK Notify sender uses the official client; its two templates (one text
message, one email) hold only ``((subject))`` and ``((body))``, so the wording stays editable
here, in English and Welsh, without a Notify template per message.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

log = logging.getLogger(__name__)
NOTIFY_URL = "https://api.notifications.service.gov.uk"
# Notify's statuses that mean the message will never arrive; others are still on their way.
_FAILED = {"permanent-failure", "temporary-failure", "technical-failure", "validation-failed"}


@dataclass(frozen=True, slots=True)
class Outgoing:
    channel: str  # 'sms' or 'email'
    recipient: str
    subject: str
    body: str
    # Unique per message (the outbox's idempotency key): the provider keeps it with the message.
    reference: str


class SendFailed(Exception):
    """The provider did not take the message. ``permanent``: trying again cannot help (a bad
    number, a refused key); otherwise the worker retries with back-off."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    def send(self, message: Outgoing) -> str:
        """Send; return the provider's id for the message, or raise ``SendFailed``."""

    def find(self, reference: str) -> str | None:
        """The provider's id of a message already sent with ``reference``, if any."""

    def delivery(self, provider_id: str) -> str | None:
        """'delivered' or 'failed' once the provider knows; None while it is on its way."""


def _masked(recipient: str) -> str:
    return ("*" * max(len(recipient) - 4, 0)) + recipient[-4:]


class LogSender:
    """Writes each message to the log instead of sending it; remembers the last few for a look."""

    def __init__(self, keep: int = 1000) -> None:
        self.sent: deque[Outgoing] = deque(maxlen=keep)
        self._by_reference: dict[str, str] = {}

    def send(self, message: Outgoing) -> str:
        provider_id = f"log-{len(self._by_reference) + 1}"
        # The words name the person: only at debug level, never in an ordinary log.
        log.info(
            "message %s by %s to %s (not sent: log-only)",
            message.reference,
            message.channel,
            _masked(message.recipient),
        )
        log.debug("message %s reads: %s", message.reference, message.body)
        self.sent.append(message)
        self._by_reference[message.reference] = provider_id
        return provider_id

    def find(self, reference: str) -> str | None:
        return self._by_reference.get(reference)

    def delivery(self, provider_id: str) -> str | None:
        return "delivered"


class NotifySender:
    """GOV.UK Notify through ``notifications-python-client``."""

    def __init__(
        self,
        api_key: str,
        sms_template_id: str,
        email_template_id: str,
        base_url: str = NOTIFY_URL,
        timeout: float = 10,
    ) -> None:
        if not api_key or not sms_template_id or not email_template_id:
            raise ValueError(
                "NOTIFY_API_KEY, NOTIFY_SMS_TEMPLATE_ID and NOTIFY_EMAIL_TEMPLATE_ID are all needed"
            )
        # The client ships py.typed but leaves its methods unannotated: used through Any.
        client: Any = NotificationsAPIClient
        self.client: Any = client(api_key, base_url=base_url, timeout=timeout)
        self.templates = {"sms": sms_template_id, "email": email_template_id}

    def send(self, message: Outgoing) -> str:
        personalisation = {"subject": message.subject, "body": message.body}
        template = self.templates[message.channel]
        try:
            if message.channel == "sms":
                response = self.client.send_sms_notification(
                    phone_number=message.recipient,
                    template_id=template,
                    personalisation=personalisation,
                    reference=message.reference,
                )
            else:
                response = self.client.send_email_notification(
                    email_address=message.recipient,
                    template_id=template,
                    personalisation=personalisation,
                    reference=message.reference,
                )
        except HTTPError as error:  # the client wraps every failed request, unreachable too (503)
            raise _failure(error) from None
        return str(response["id"])

    def find(self, reference: str) -> str | None:
        try:
            found = self.client.get_all_notifications(reference=reference)
        except HTTPError as error:
            # Not knowing whether it went is not knowing it did not: the worker tries again later.
            raise SendFailed(
                f"Notify could not say whether {reference} was sent: {error}", permanent=False
            ) from None
        notifications = found.get("notifications", [])
        return str(notifications[0]["id"]) if notifications else None

    def delivery(self, provider_id: str) -> str | None:
        try:
            status = str(self.client.get_notification_by_id(provider_id).get("status", ""))
        except HTTPError:
            return None
        if status == "delivered":
            return "delivered"
        return "failed" if status in _FAILED else None


def _failure(error: HTTPError) -> SendFailed:
    code = error.status_code
    # 429 (rate limit) and 5xx pass; 400 (a bad number, a missing placeholder) and 403 (a bad key) do not.
    permanent = 400 <= code < 500 and code != 429
    return SendFailed(f"Notify refused the message ({code}): {error.message}", permanent=permanent)


def make_sender(config: Mapping[str, Any]) -> Sender:
    """The sender the settings choose: NOTIFY_SENDER is 'log' (the default) or 'notify'."""
    kind = str(config.get("NOTIFY_SENDER") or "log")
    if kind == "log":
        return LogSender()
    if kind == "notify":
        return NotifySender(
            str(config.get("NOTIFY_API_KEY") or ""),
            str(config.get("NOTIFY_SMS_TEMPLATE_ID") or ""),
            str(config.get("NOTIFY_EMAIL_TEMPLATE_ID") or ""),
            base_url=str(config.get("NOTIFY_BASE_URL") or NOTIFY_URL),
        )
    raise ValueError(f"NOTIFY_SENDER must be 'log' or 'notify', not {kind!r}")
