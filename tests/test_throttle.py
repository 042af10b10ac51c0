"""Sign-in throttling: limits counted in the database, slowing guessers without locking anyone out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from divert.auth import throttle
from divert.models import SignInAttempt, utcnow

from .apps import another_app
from .client import PageClient, parse
from .factories import PASSWORD

STRANGER = "203.0.113.66"
USUAL = "198.51.100.7"


def _from(client: Any, address: str) -> Any:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _wait(response: Any) -> int:
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert "Too many attempts" in parse(response).h1.text
    text_ = parse(response).select_one("[data-testid=wait]").get_text(" ", strip=True)
    unit = "second" if seconds < 60 else "minute"
    shown = seconds if seconds < 60 else -(-seconds // 60)
    assert f"Wait {shown} {unit}" in text_, text_
    return seconds


def test_the_address_limit_holds_across_two_app_instances(
    app: Flask, client: Any, database: tuple[str, Engine], make_user: Any
) -> None:
    url, _ = database
    user = make_user()
    with another_app({"DATABASE_URL": url}) as second:
        other: PageClient = second.test_client()  # type: ignore[assignment]
        clients = [_from(client, STRANGER), _from(other, STRANGER)]
        # Ten failures, alternating between the two instances, each at a different account so only
        # the address limit is in play.
        for n in range(10):
            response = clients[n % 2].sign_in(f"guess{n}@example.org", "wrong password here")
            assert response.status_code == 200, n
        for each in clients:
            wait = _wait(each.sign_in("guess-more@example.org", "wrong password here"))
            assert 50 <= wait <= 60
        # A hard limit: even the right password is not checked from this address for now.
        _wait(other.sign_in(user.email, PASSWORD))
        # Another address is not held up.
        assert _from(second.test_client(), USUAL).sign_in(user.email, PASSWORD).status_code == 302


def test_a_strangers_failures_do_not_stop_the_real_user_from_their_usual_address(
    app: Flask, client: Any, make_user: Any
) -> None:
    user = make_user()
    owner: PageClient = _from(app.test_client(), USUAL)
    assert owner.sign_in(user.email, PASSWORD).status_code == 302
    owner.submit("/sign-out", {}, token_from="/home")

    stranger = _from(client, STRANGER)
    for _ in range(5):
        assert stranger.sign_in(user.email, "a guess at it").status_code == 200
    # From now on each try from an unfamiliar address waits; the guess is not even checked.
    response = stranger.sign_in(user.email, PASSWORD)
    assert 10 <= _wait(response) <= 15
    assert "too many wrong passwords for this account" in parse(response).text
    # Moving to another address does not help the stranger: the delay is the account's.
    assert _wait(_from(app.test_client(), "203.0.113.67").sign_in(user.email, "a guess")) <= 15

    # The owner, at their usual address, signs straight in.
    assert owner.sign_in(user.email, PASSWORD).status_code == 302
    assert owner.get("/home").status_code == 200


def test_unknown_accounts_are_throttled_the_same_way(client: Any) -> None:
    stranger = _from(client, STRANGER)
    for _ in range(5):
        assert stranger.sign_in("nobody@example.org", "a guess at it").status_code == 200
    assert _wait(stranger.sign_in("nobody@example.org", "a guess at it")) <= 15


def _keys(address: str = STRANGER, email: str = "someone@example.org") -> throttle.Keys:
    return throttle.Keys.of("a test secret of enough length for hmac", address, email)


def test_the_delay_grows_and_is_capped() -> None:
    policy = throttle.Policy()
    delays = [policy.delay_after(n).total_seconds() for n in range(4, 13)]
    assert delays == [0, 15, 30, 60, 120, 240, 480, 900, 900]
    assert policy.delay_after(10_000) == timedelta(minutes=15)


def test_an_unfamiliar_address_waits_out_the_delay_and_is_then_checked(db_session: Session) -> None:
    policy = throttle.Policy()
    keys = _keys()
    start = utcnow()
    for n in range(6):
        throttle.record_failure(db_session, keys, start + timedelta(seconds=n))
    last = start + timedelta(seconds=5)
    # Six failures: 30 seconds from the latest one.
    refusal = throttle.check(db_session, policy, keys, last + timedelta(seconds=10))
    assert refusal is not None and refusal.reason == "account" and refusal.seconds == 20
    assert throttle.check(db_session, policy, keys, last + timedelta(seconds=30)) is None
    # A day on, the failures no longer count.
    assert throttle.check(db_session, policy, keys, start + timedelta(days=1, seconds=6)) is None


def test_the_address_limits_say_when_they_lift(db_session: Session) -> None:
    policy = throttle.Policy(per_minute=3, per_hour=5)
    start = utcnow()
    for n in range(3):
        throttle.record_failure(db_session, _keys(email=f"a{n}@example.org"), start + timedelta(seconds=n))
    refusal = throttle.check(db_session, policy, _keys(email="b@example.org"), start + timedelta(seconds=10))
    # The oldest of the three leaves the minute at start + 60 s.
    assert refusal is not None and refusal.reason == "address" and refusal.seconds == 50
    later = start + timedelta(seconds=61)
    assert throttle.check(db_session, policy, _keys(email="b@example.org"), later) is None
    for n in range(2):
        throttle.record_failure(db_session, _keys(email=f"c{n}@example.org"), later + timedelta(seconds=n))
    refusal = throttle.check(db_session, policy, _keys(email="d@example.org"), later + timedelta(seconds=70))
    # Five in the hour: the first leaves it at start + 1 hour.
    assert refusal is not None and refusal.seconds == 3600 - 131


def test_old_attempts_are_pruned_and_nothing_is_stored_readably(db_session: Session) -> None:
    now = utcnow()
    throttle.record_failure(db_session, _keys(), now - timedelta(days=2))
    throttle.record_success(db_session, _keys(email="old@example.org"), now - timedelta(days=91))
    throttle.record_success(db_session, _keys(email="kept@example.org"), now - timedelta(days=89))
    throttle.record_failure(db_session, _keys(), now)
    rows = db_session.scalars(select(SignInAttempt)).all()
    assert sorted((r.kind, r.succeeded) for r in rows) == [
        ("account", False),
        ("account", True),
        ("address", False),
    ]
    stored = " ".join(f"{r.key} {r.address_key}" for r in rows)
    assert STRANGER not in stored and "example.org" not in stored


def test_a_familiar_address_is_remembered_once(db_session: Session) -> None:
    keys = _keys(USUAL)
    for _ in range(3):
        throttle.record_success(db_session, keys)
    assert len(db_session.scalars(select(SignInAttempt)).all()) == 1


def test_parallel_attempts_queue_on_postgresql(db_session: Session, database: tuple[str, Engine]) -> None:
    """The count and the write happen under a lock per address and account, so attempts made at
    once in several processes cannot all slip in under the limit."""
    _, engine = database
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writing transactions already")
    keys = _keys()
    assert throttle.check(db_session, throttle.Policy(), keys) is None
    with engine.connect() as other:
        for key in (keys.address, keys.account):
            lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
            taken = other.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id})
            assert taken is False
        other.rollback()


def test_behind_a_proxy_the_limit_is_the_clients_not_the_proxys(
    database: tuple[str, Engine], db_session: Session, make_user: Any
) -> None:
    url, _ = database
    user = make_user()
    with another_app({"DATABASE_URL": url, "PROXY_HOPS": 1}) as proxied:
        browser: PageClient = proxied.test_client()  # type: ignore[assignment]

        def through_proxy(client_address: str) -> dict[str, str]:
            return {"HTTP_X_FORWARDED_FOR": client_address}

        browser.environ_base.update(through_proxy(STRANGER))
        for n in range(10):
            assert browser.sign_in(f"guess{n}@example.org", "wrong password here").status_code == 200
        _wait(browser.sign_in("guess@example.org", "wrong password here"))
        # Everyone else comes through the same proxy and is not held up by the stranger.
        colleague: PageClient = proxied.test_client()  # type: ignore[assignment]
        colleague.environ_base.update(through_proxy(USUAL))
        assert colleague.sign_in(user.email, PASSWORD).status_code == 302
