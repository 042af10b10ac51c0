"""Two workers at once over one outbox (real threads, real commits): every message is sent once.

On PostgreSQL the claim's UPDATE re-checks "still queued" after the other worker's commit; SQLite
lets one writer in at a time. Either way no message reaches Notify twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.fake_notify import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, fake_notify
from divert import session_factory
from divert.app import migrate
from divert.background.outbox import send_due
from divert.models import OutboxMessage, utcnow
from divert.notify import NotifySender

from ..database import scratch_database

MESSAGES = 120


def test_two_workers_send_each_message_once(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "outbox") as (_, engine), fake_notify() as fake:
        migrate.upgrade(engine)
        now = utcnow() - timedelta(minutes=1)
        with engine.begin() as conn:
            conn.execute(
                insert(OutboxMessage),
                [
                    {
                        "kind": "new_referral",
                        "channel": "email",
                        "recipient": f"worker{i}@example.org",
                        "language": "en",
                        "template": "new_referral",
                        "personalisation": {"reference": f"REF-{i}", "service": "YOT"},
                        "scheduled_for": now,
                        "next_attempt_at": now,
                        "status": "queued",
                        "attempts": 0,
                        "idempotency_key": f"concurrent:{i}",
                        "last_error": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(MESSAGES)
                ],
            )
        factory = session_factory(engine)
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def worker() -> None:
            sender = NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=fake.url)
            try:
                with factory() as session:
                    start.wait()
                    while send_due(session, sender, limit=10).claimed:
                        pass
            except BaseException as error:  # reported below: a thread's exception is otherwise lost
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        references = [r.body["reference"] for r in fake.posts() if r.body]
        assert len(references) == MESSAGES and len(set(references)) == MESSAGES
        with factory() as session:
            assert session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == MESSAGES
