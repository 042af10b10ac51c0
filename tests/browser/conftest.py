"""A live divert server with the demo data, and Debian's Chromium to drive it.

The server has a database of its own (SQLite, or PostgreSQL when ``TEST_DATABASE_URL`` says so),
built by the real migrations and filled by the real demo seeder, so what the browser sees is
what ``make run`` shows. One server and one browser serve the whole session; each test gets a
fresh browser context (its own cookies).

``divert.extensions.db`` is module-global and the unit-test fixtures rebind it to their own
connection per test, which is why browser tests run last (see ``tests/conftest.py``) and why
this fixture binds it to the live server's engine just before serving.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from divert import create_app, session_factory
from divert.app import migrate
from divert.app.extensions import db
from divert.auth.visibility import visible_people
from divert.models import Person, User
from divert.seeding.demo import seed_demo
from divert.seeding.reference import load_reference_data

from ..database import scratch_database
from .pages import DemoUser, LiveServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ASSETS = ROOT / "divert" / "web" / "static"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(message: str) -> None:
    """Fail loudly: a browser suite that silently passes without a browser proves nothing."""
    if os.environ.get("DIVERT_SKIP_BROWSER") == "1":
        pytest.skip(f"DIVERT_SKIP_BROWSER=1: {message}")
    pytest.fail(f"{message} (or set DIVERT_SKIP_BROWSER=1 to skip the browser tests)", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _prerequisites() -> None:
    """Check what the browser tests need before building anything, and say how to get it."""
    for needed, how in (
        (CHROMIUM, "install Debian's chromium package (apt-get install -y chromium)"),
        (
            ASSETS / "govuk-frontend.min.js",
            "run `make assets` to copy the GOV.UK assets",
        ),
        (AXE, "run `npm ci` (or `make assets`) to install axe-core"),
    ):
        if not needed.exists():
            _missing(f"{needed} is missing: {how}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # `playwright install` cannot download browsers here; Debian's chromium package is used instead.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server(_prerequisites: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with scratch_database(tmp_path_factory.mktemp("browser-db"), "browser") as (url, engine):
        migrate.upgrade(engine)
        server = LiveServer(url="")
        with session_factory(engine)() as session:
            load_reference_data(session)
            demo = seed_demo(session)
            session.commit()
            # The accounts exactly as the seeder made them (and `flask seed-demo` prints them).
            # The first user of each role (the demo adds a supervisor to every organisation and an
            # officer to every force; the first listed are Thames Valley's).
            for role, email, password in demo.users:
                if role in server.users:
                    continue
                name = session.scalars(select(User.name).where(User.email == email)).one()
                server.users[role] = DemoUser(role=role, name=name, email=email, password=password)
            officer = session.scalars(select(User).where(User.email == server.users["officer"].email)).one()
            person = session.scalars(visible_people(officer).order_by(Person.id).limit(1)).one()
            server.person_id = person.id
            server.person_name = person.full_name
            server.person_family_name = person.family_name
            server.person_district = person.postcode_district

        previous_bind, previous_engine = db.factory.kw.get("bind"), db.engine
        app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": True}, env="testing")
        # create_app rebound the global session factory to an engine of its own; requests must use
        # this one (and the unit tests' fixtures may have left it bound elsewhere).
        if db.engine is not None and db.engine is not engine:
            db.engine.dispose()
        db.factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        db.engine = engine

        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, name="divert-live-server", daemon=True)
        thread.start()
        server.url = f"http://127.0.0.1:{httpd.server_port}"
        try:
            yield server
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=10)
            db.factory.configure(bind=previous_bind)
            db.engine = previous_engine


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    # pytest-playwright gives every browser context this base URL, so tests can goto("/sign-in").
    return live_server.url


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _quick_timeouts(page: Page) -> None:
    # Everything is local: a page that takes longer than this is a failure, not a slow network.
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
