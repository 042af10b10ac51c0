"""The outbox's worker sending 10,000 queued reminders through a fake GOV.UK Notify.

Run: ``PYTHONPATH=. python bench/bench_notify.py [--messages 10000] [--sqlite]``

The fake server (bench/fake_notify.py, checking each request's JWT) runs in a process of its own,
so its work and memory are not counted as the worker's. Same-run baseline: the same Notify client
posting the same number of messages straight to the fake server, with no database, no claim and
no rendering; the ratio is what the outbox costs on top of the HTTP calls themselves. Peak memory
is Python's own allocations during a second, traced run over as many messages (tracemalloc), and
the process's peak RSS.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.fake_notify import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, fake_notify
from bench.scratch import scratch_database
from divert import session_factory
from divert.app import migrate
from divert.app.db import make_engine
from divert.background.outbox import send_due
from divert.models import OutboxMessage, utcnow
from divert.notify import NotifySender, Outgoing


def _serve(ready: Any, stop: Any) -> None:
    with fake_notify(record=False) as fake:
        ready.put(fake.url)
        stop.wait()


@contextmanager
def server_process() -> Iterator[str]:
    ready: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(ready, stop), daemon=True)
    process.start()
    try:
        yield str(ready.get(timeout=30))
    finally:
        stop.set()
        process.join(timeout=10)


@contextmanager
def database(sqlite: bool) -> Iterator[str]:
    if not sqlite:
        with scratch_database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def queue(url: str, n: int, start: int = 0) -> None:
    """``n`` reminders due now, as booking appointments writes them."""
    engine = make_engine(url)
    now = utcnow() - timedelta(minutes=1)
    rows = [
        {
            "kind": "reminder_before",
            "channel": "sms",
            "recipient": f"07700{900000 + i % 1000:06d}",
            "language": "cy" if i % 10 == 0 else "en",
            "template": "reminder_before",
            "personalisation": {
                "name": "Alex",
                "day": "Tuesday 8 December",
                "time": "2:30pm",
                "what": "session",
                "service": "Youth Offending Team",
            },
            "scheduled_for": now,
            "next_attempt_at": now,
            "status": "queued",
            "attempts": 0,
            "idempotency_key": f"bench:{start + i}",
            "last_error": "",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        for start in range(0, n, 2000):
            conn.execute(insert(OutboxMessage), rows[start : start + 2000])
    engine.dispose()


def baseline(base_url: str, n: int) -> float:
    sender = NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=base_url)
    message = Outgoing("sms", "07700900123", "Reminder", "Hello Alex, a reminder: your session ...", "")
    started = time.perf_counter()
    for i in range(n):
        sender.send(Outgoing(message.channel, message.recipient, message.subject, message.body, f"raw:{i}"))
    return n / (time.perf_counter() - started)


def run_worker(url: str, base_url: str, batch: int, trace: bool = False) -> tuple[float, int, int]:
    engine = make_engine(url)
    session = session_factory(engine)()
    sender = NotifySender(API_KEY, SMS_TEMPLATE, EMAIL_TEMPLATE, base_url=base_url)
    sent = 0
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    while True:
        report = send_due(session, sender, limit=batch)
        sent += report.sent
        if report.claimed == 0:
            break
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    left = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
    )
    session.close()
    engine.dispose()
    assert left == 0, f"{left} messages not sent"
    return sent / elapsed, sent, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    with server_process() as base_url, database(args.sqlite) as url:
        queue(url, args.messages)
        raw = baseline(base_url, min(args.messages, 2000))
        rate, sent, _ = run_worker(url, base_url, args.batch)
        # Memory in a second pass over as many fresh messages: tracing slows Python several times,
        # so the timed pass runs without it.
        queue(url, args.messages, start=args.messages)
        _, _, peak = run_worker(url, base_url, args.batch, trace=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {'SQLite' if args.sqlite else 'PostgreSQL'}; messages sent: {sent}; batch {args.batch}")
    print(f"baseline (client posting straight to the fake Notify): {raw:,.0f} messages/s")
    print(f"worker (claim, render, send, record):                 {rate:,.0f} messages/s")
    print(f"ratio worker / baseline: {rate / raw:.2f}")
    print(f"peak Python memory during the worker's run: {peak / 1e6:.1f} MB; peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
