"""The outbox's worker: sends what is due, after the change that wrote it has committed.

Each run claims a batch (one UPDATE stamping the run's token on rows still queued, committed
before anything is sent), so two workers never hold one message. A message whose earlier attempt
may have reached the provider (a failure, or a worker that died mid-send) is first looked up by
its idempotency key, which is the provider's ``reference``: a retry never sends twice. Failures
that may pass are retried with exponential back-off; others, and too many tries, fail for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from divert.app import jobs
from divert.app.extensions import db
from divert.models import CaseContact, MessageTemplate, OutboxMessage, Programme, utcnow
from divert.notify import Outgoing, Sender, SendFailed, make_sender
from divert.rules.messages import Words, render, words_for

LOCK = "outbox"
# A claim older than this belongs to a worker that died: its messages go back to the queue (and
# are looked up at the provider before being sent again).
STALE_CLAIM = timedelta(minutes=10)
BACKOFF = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
# Results are written this many messages at a time: a crash loses at most this many results, and
# the lookup by reference keeps those from being sent twice.
WRITE_EVERY = 200


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    found_already_sent: int = 0
    delivered: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the ``attempts``-th try, at most six hours."""
    delay: timedelta = BACKOFF * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_CAP)


def release_stale(session: Session, now: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(status="queued", claim=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for this run and commit the claim before any is sent."""
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    token = str(uuid.uuid4())
    ids = list(session.scalars(due))
    if not ids:
        return []
    # "still queued" is checked again by the UPDATE itself: a row another worker claimed meanwhile
    # (PostgreSQL re-reads it after that worker commits; SQLite lets one writer in at a time) is left.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued")
        .values(
            status="sending",
            claim=token,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.claim == token, OutboxMessage.status == "sending")
            .order_by(OutboxMessage.id)
            # Rows the session already holds are read again: the UPDATE above counted the attempt.
            .execution_options(populate_existing=True)
        )
    )


class _Wording:
    """Every edited template, read once a run: a programme's own, then every programme's."""

    def __init__(self, session: Session) -> None:
        self.layers: dict[str, dict[tuple[str, str], Words]] = {}
        for t in session.scalars(select(MessageTemplate)):
            self.layers.setdefault(t.programme_code, {})[(t.kind, t.language)] = Words(t.subject, t.body)
        self.codes = dict(session.execute(select(Programme.id, Programme.code)).tuples().all())

    def outgoing(self, message: OutboxMessage) -> Outgoing:
        code = self.codes.get(message.programme_id or 0, "")
        layers = [self.layers.get(code, {}), self.layers.get("", {})] if code else [self.layers.get("", {})]
        words = words_for(message.template, message.language, *layers)
        values: Mapping[str, Any] = message.personalisation or {}
        return Outgoing(
            channel=message.channel,
            recipient=message.recipient,
            subject=render(words.subject, values, message.kind),
            body=render(words.body, values, message.kind),
            reference=message.idempotency_key,
        )


def send_due(
    session: Session,
    sender: Sender,
    *,
    now: datetime | None = None,
    limit: int = 500,
    max_attempts: int = 6,
) -> SendReport:
    """Send one batch of due messages. Commits (the claim, then the results)."""
    now = now or utcnow()
    report = SendReport()
    release_stale(session, now)
    session.commit()
    messages = claim(session, now, limit)
    report.claimed = len(messages)
    if not messages:
        return report
    wording = _Wording(session)
    passed = _passed_appointments(session, messages, now)
    results: list[dict[str, Any]] = []
    for message in messages:
        results.append(_attempt(message, sender, wording, passed, now, max_attempts, report))
        if len(results) >= WRITE_EVERY:
            _write(session, results)
            results = []
    _write(session, results)
    return report


def _passed_appointments(session: Session, messages: Sequence[OutboxMessage], now: datetime) -> set[int]:
    ids = sorted({m.contact_id for m in messages if m.contact_id is not None})
    if not ids:
        return set()
    return set(
        session.scalars(
            select(CaseContact.id).where(
                CaseContact.id.in_(ids),
                (CaseContact.scheduled_at <= now) | (CaseContact.attendance != "scheduled"),
            )
        )
    )


def _attempt(
    message: OutboxMessage,
    sender: Sender,
    wording: _Wording,
    passed: set[int],
    now: datetime,
    max_attempts: int,
    report: SendReport,
) -> dict[str, Any]:
    done: dict[str, Any] = {"id": message.id, "claim": None, "updated_at": now}
    if message.contact_id in passed:
        # The worker was down, or the appointment was recorded meanwhile: a late reminder is worse than none.
        report.skipped += 1
        return done | {"status": "cancelled", "last_error": "the appointment had passed"}
    try:
        provider_id = sender.find(message.idempotency_key) if message.attempts > 1 else None
        if provider_id is not None:
            report.found_already_sent += 1
        else:
            provider_id = sender.send(wording.outgoing(message))
    except SendFailed as failure:
        if failure.permanent or message.attempts >= max_attempts:
            report.failed += 1
            return done | {"status": "failed", "last_error": str(failure)[:500]}
        report.retried += 1
        return done | {
            "status": "queued",
            "next_attempt_at": now + backoff(message.attempts),
            "last_error": str(failure)[:500],
        }
    report.sent += 1
    return done | {"status": "sent", "provider_reference": provider_id[:64], "sent_at": now, "last_error": ""}


def _write(session: Session, results: list[dict[str, Any]]) -> None:
    if not results:
        return
    # Grouped by the columns they set: one executemany per shape of result.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in results:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for rows in shapes.values():
        session.execute(update(OutboxMessage), rows)
    session.commit()


def check_deliveries(session: Session, sender: Sender, *, limit: int = 500) -> int:
    """Ask the provider what became of sent messages; 'delivered' or 'failed' once it knows."""
    sent = session.execute(
        select(OutboxMessage.id, OutboxMessage.provider_reference)
        .where(OutboxMessage.status == "sent", OutboxMessage.provider_reference.is_not(None))
        .order_by(OutboxMessage.sent_at)
        .limit(limit)
    ).all()
    changes = []
    for ident, provider_id in sent:
        outcome = sender.delivery(str(provider_id))
        if outcome is not None:
            changes.append({"id": ident, "status": outcome, "updated_at": utcnow()})
    if changes:
        session.execute(update(OutboxMessage), changes)
    session.commit()
    return len(changes)


_senders: dict[str, Sender] = {}


def app_sender() -> Sender:
    """One sender per worker process, made from the app's settings."""
    if "sender" not in _senders:
        _senders["sender"] = make_sender(jobs.current_app().config)
    return _senders["sender"]


def _bind() -> Engine | Connection:
    bind = db.factory.kw.get("bind") or db.engine
    if bind is None:
        raise RuntimeError("The database is not configured.")
    return bind


def run_outbox() -> SendReport | None:
    """One run of the worker over the outbox; None if another run holds the lock."""
    config = jobs.current_app().config
    with jobs.job_lock(_bind(), LOCK) as held:
        if not held:
            return None
        sender = app_sender()
        report = send_due(
            db.session,
            sender,
            limit=int(config.get("OUTBOX_BATCH", 500)),
            max_attempts=int(config.get("OUTBOX_MAX_ATTEMPTS", 6)),
        )
        report.delivered = check_deliveries(db.session, sender)
        return report


@jobs.periodic(lambda moment: True)
def outbox_every_minute() -> None:
    run_outbox()
