"""Fixtures: a real database built by the real migrations, and per-test rollback isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from divert import create_app, session_factory
from divert.app import migrate
from divert.app.extensions import db
from divert.seeding.reference import load_reference_data

from .client import PageClient
from .database import scratch_database
from .factories import (
    DEFAULT_AGREEMENTS,
    PASSWORD,
    create_organisation,
    create_user,
    install_default_agreements,
)

# These machines are shared and noisy: a property test's slow example is not a failure.
settings.register_profile("divert", deadline=None)
settings.load_profile("divert")


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    with scratch_database(tmp_path_factory.mktemp("db"), "main") as (url, engine):
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            load_reference_data(session)
            session.commit()
        yield url, engine


@pytest.fixture(scope="session")
def app(database: tuple[str, Engine]) -> Flask:
    url, engine = database
    application = create_app({"DATABASE_URL": url}, env="testing")
    application.test_client_class = PageClient
    db.engine = engine
    install_default_agreements(db.factory)
    return application


@pytest.fixture
def no_default_agreements() -> Iterator[None]:
    """Parties see cases only under the agreements the test itself records."""
    DEFAULT_AGREEMENTS["on"] = False
    try:
        yield
    finally:
        DEFAULT_AGREEMENTS["on"] = True


@pytest.fixture
def db_session(app: Flask, database: tuple[str, Engine]) -> Iterator[Session]:
    """Each test runs inside a transaction that is rolled back, whatever it commits."""
    _, engine = database
    connection = engine.connect()
    outer = connection.begin()
    # Requests open their own sessions on this connection; each commit only releases a savepoint.
    # No app context is held open here, so every request gets its own, as in production.
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = db.factory()
    yield session
    session.close()
    outer.rollback()
    connection.close()
    db.factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def empty_database(app: Flask, tmp_path: Path) -> Iterator[Session]:
    """A brand-new, empty database the app's commands run against, as on a new installation.

    Commands such as init-db migrate on a connection of their own, so they cannot run inside the
    rolled-back transaction the other tests share.
    """
    with scratch_database(tmp_path, "fresh") as (_, engine):
        previous = db.engine
        db.engine = engine
        db.factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        session = db.factory()
        try:
            yield session
        finally:
            session.close()
            db.engine = previous
            db.factory.configure(bind=previous)


@pytest.fixture
def client(app: Flask, db_session: Session) -> PageClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def org(db_session: Session) -> Any:
    return create_organisation(db_session, code="tvp", name="Thames Valley Police")


@pytest.fixture
def make_user(db_session: Session, org: Any) -> Any:
    def make(role: str = "officer", organisation: Any = None, **fields: Any) -> Any:
        return create_user(db_session, role=role, organisation=organisation or org, **fields)

    return make


@pytest.fixture
def signed_in(client: PageClient, make_user: Any) -> Any:
    """Sign a new user of ``role`` in on the shared client and return the user."""

    def sign_in(role: str = "officer", **fields: Any) -> Any:
        user = make_user(role, **fields)
        response = client.sign_in(user.email, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return user

    return sign_in


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests are slow to start; run them last so quick failures show first.
    items.sort(key=lambda item: "browser" in item.keywords)
