"""Sign-in throttling: slows online password guessing without letting anyone lock a user out.

Failures are counted in the database (``sign_in_attempts``), so the limits hold however many
processes and servers the app runs on. Two rules, both checked before a password is verified:

- **Per address**, a hard limit: an address that has failed ``per_minute`` times in the last
  minute, or ``per_hour`` times in the last hour, is refused until the oldest of those failures
  ages out. This stops one machine trying many passwords, on one account or across many.
- **Per account**, a growing delay rather than a lock: after ``free_failures`` failures in a day,
  each further try from an address the account's owner has not signed in from must wait
  ``first_delay`` after the latest failure, doubling with every further failure up to
  ``max_delay``. Addresses the owner has signed in from before skip the delay, so a stranger
  guessing at an account slows the stranger down and never the owner at their usual desk; an
  owner on a new address waits at most ``max_delay`` (the page says how long), never forever.

An account's failures are counted by the email address typed, whether or not such an account
exists, so the answers do not reveal which accounts exist. Keys are HMACs under the app's secret
key: the table holds no address or email address that could be read back from it.

On PostgreSQL each check takes transaction-scoped advisory locks on its address and account, so
parallel attempts queue and none slips past a limit between the count and the write (SQLite
already serialises writing transactions). Rows are pruned as they age past the longest window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from divert.models import SignInAttempt, utcnow

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# How long an account's failures count towards its delay.
ACCOUNT_WINDOW = timedelta(days=1)
# How long an address the owner signed in from stays familiar without another sign-in there.
FAMILIAR_FOR = timedelta(days=90)


@dataclass(frozen=True)
class Policy:
    per_minute: int = 10
    per_hour: int = 50
    free_failures: int = 5
    first_delay: timedelta = timedelta(seconds=15)
    max_delay: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        return cls(
            per_minute=int(config["SIGN_IN_FAILURES_PER_MINUTE"]),
            per_hour=int(config["SIGN_IN_FAILURES_PER_HOUR"]),
            free_failures=int(config["SIGN_IN_ACCOUNT_FREE_FAILURES"]),
        )

    def delay_after(self, failures: int) -> timedelta:
        """How long an unfamiliar address waits after an account's ``failures``-th failure."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 20)  # bounded: the cap is reached long before
        return min(self.first_delay * (1 << doublings), self.max_delay)


@dataclass(frozen=True)
class Refusal:
    """An attempt refused unchecked: why, and how long until it would be checked."""

    reason: str  # "address" or "account"
    wait: timedelta

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds()))  # rounded up: never too early


@dataclass(frozen=True)
class Keys:
    address: str
    account: str

    @classmethod
    def of(cls, secret: str, address: str, email: str) -> Keys:
        return cls(_key(secret, "address", address), _key(secret, "account", email.strip().lower()))


def _key(secret: str, kind: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _lock(session: Session, keys: Keys) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    # Always address first, then account: two attempts can never wait on each other in a cycle.
    for key in (keys.address, keys.account):
        lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _failure_times(session: Session, kind: str, key: str, since: datetime) -> list[datetime]:
    """When the failures under ``key`` since ``since`` happened, newest first."""
    return list(
        session.scalars(
            select(SignInAttempt.at)
            .where(
                SignInAttempt.kind == kind,
                SignInAttempt.key == key,
                SignInAttempt.succeeded.is_(False),
                SignInAttempt.at > since,
            )
            .order_by(SignInAttempt.at.desc())
        )
    )


def _familiar(session: Session, keys: Keys, now: datetime) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.kind == "account",
            SignInAttempt.key == keys.account,
            SignInAttempt.address_key == keys.address,
            SignInAttempt.succeeded.is_(True),
            SignInAttempt.at > now - FAMILIAR_FOR,
        )
    )
    return bool(found)


def check(session: Session, policy: Policy, keys: Keys, now: datetime | None = None) -> Refusal | None:
    """Refuse the attempt unchecked if a limit applies; None lets it be checked."""
    now = now or utcnow()
    _lock(session, keys)
    waits: list[timedelta] = []
    recent = _failure_times(session, "address", keys.address, now - HOUR)
    for limit, window in ((policy.per_minute, MINUTE), (policy.per_hour, HOUR)):
        in_window = [at for at in recent if at > now - window]
        if len(in_window) >= limit:
            # Allowed again once only limit - 1 of them are left in the window.
            waits.append(in_window[limit - 1] + window - now)
    if waits:
        return Refusal("address", max(waits))
    failures = _failure_times(session, "account", keys.account, now - ACCOUNT_WINDOW)
    delay = policy.delay_after(len(failures))
    if delay and now < failures[0] + delay and not _familiar(session, keys, now):
        return Refusal("account", failures[0] + delay - now)
    return None


def record_failure(session: Session, keys: Keys, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.add_all(
        [
            SignInAttempt(kind="address", key=keys.address, at=now),
            SignInAttempt(kind="account", key=keys.account, address_key=keys.address, at=now),
        ]
    )
    _prune(session, now)
    session.flush()


def record_success(session: Session, keys: Keys, now: datetime | None = None) -> None:
    """Remember the address as one the account's owner uses (refreshing it if already known)."""
    now = now or utcnow()
    known = session.scalar(
        select(SignInAttempt).where(
            SignInAttempt.kind == "account",
            SignInAttempt.key == keys.account,
            SignInAttempt.address_key == keys.address,
            SignInAttempt.succeeded.is_(True),
        )
    )
    if known is None:
        session.add(
            SignInAttempt(kind="account", key=keys.account, address_key=keys.address, succeeded=True, at=now)
        )
    else:
        known.at = now
    _prune(session, now)
    session.flush()


def _prune(session: Session, now: datetime) -> None:
    for succeeded, kept_for in ((False, ACCOUNT_WINDOW), (True, FAMILIAR_FOR)):
        session.execute(
            delete(SignInAttempt).where(
                SignInAttempt.succeeded.is_(succeeded), SignInAttempt.at < now - kept_for
            )
        )
