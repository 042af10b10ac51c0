"""Sending messages: a small interface, a log-only sender and a GOV.UK Notify sender.

Plumbing like ``app/``: it knows nothing of cases or people, only of a message to send and what
became of it. The outbox and its worker (``background/outbox.py``) decide what to send and when.
"""

from divert.notify.senders import (
    LogSender,
    NotifySender,
    Outgoing,
    Sender,
    SendFailed,
    make_sender,
)

__all__ = ["LogSender", "NotifySender", "Outgoing", "SendFailed", "Sender", "make_sender"]
