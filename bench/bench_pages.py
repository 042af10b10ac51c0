"""How long the pages officers and caseworkers wait on take at a national year of encounters.

Run from the repository root:

    .venv/bin/python -m bench.bench_pages                   # generates 1,000,000 encounters first (minutes)
    .venv/bin/python -m bench.bench_pages --n 100000        # quicker
    .venv/bin/python -m bench.generate --n 1000000 --scratch --keep     # once: prints the database it kept
    .venv/bin/python -m bench.bench_pages --database-url postgresql+psycopg://postgres@127.0.0.1:5432/NAME

Without ``--database-url`` it creates a scratch database on the server in ``BENCH_DATABASE_URL``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), fills it with ``bench.generate``
and drops it afterwards (``--keep`` leaves it). With ``--database-url`` it reuses that database and
adds only what it needs, idempotently: two bench users and a caseload.

The generated data assigns no case to anyone, so the caseworker's caseload is made with SQL: the
``--caseload`` (default 60) most recently opened open cases their organisation is party to are
assigned to them. ``divert.worklists`` ships 25 rows a page; ``--page-size`` (default 50) sets it for
this process only, to time the 50-row page the aim is stated for.

Pages are requested through the real app (development settings: CSRF, rate limits and security
headers on) with Flask's test client, signed in through the sign-in form. Every page is requested
in turn in each round, so all of them see the same noise from the machine; the baseline is the
officer's home page (one indexed query, no rows), and each page's median is printed as a ratio to
it. Compare ratios across runs, not milliseconds.

With ``--sqlite FILE`` every page is also timed on SQLite, the embedded default, holding the same
rows: the first run copies the PostgreSQL database into FILE (``bench.sqlite_copy``, after the
bench users and caseload are made, so the ids match) and later runs reuse it. Each round requests
every page on PostgreSQL and then on SQLite, and the SQLite/PostgreSQL ratio of the medians is
printed beside the figures. ``--sqlite-statistics`` chooses the SQLite planner's statistics: ``kept``
(what the app keeps: sampled ANALYZE after loads and migrations, PRAGMA optimize), ``none`` (none
at all, as a database that never ran ANALYZE: plans must not hang on them) or ``full`` (an
unsampled ANALYZE).
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_pages.py`
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import divert.queries.worklists  # noqa: E402
from bench.generate import generate  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from divert import create_app, session_factory  # noqa: E402
from divert.app.db import make_engine, refresh_statistics  # noqa: E402
from divert.app.extensions import db  # noqa: E402
from divert.models import Encounter, Organisation, User  # noqa: E402
from divert.pathways.users import create_user  # noqa: E402

# A synthetic user in a benchmark database; the password only has to pass the app's length rule.
PASSWORD = "bench-only-password"  # noqa: S105
# The caseworker's role follows what their organisation does, as the demo's users do.
CASEWORKER_ROLE = {"yot": "yot_caseworker", "yju": "yju_decision_maker", "provider": "navigator"}
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# ---- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Latencies in seconds."""

    count: int
    median: float
    p95: float
    p99: float


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of an ascending sequence: a value that was really observed."""
    if not ordered:
        raise ValueError("no samples")
    rank = math.ceil(share * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def summarise(samples: Iterable[float]) -> Summary:
    ordered = sorted(samples)
    return Summary(
        len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.95), percentile(ordered, 0.99)
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# ---- The database -----------------------------------------------------------------------------


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters to generate (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20261124, help="generator and request seed")
    parser.add_argument("--database-url", help="reuse a database bench.generate already filled")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")


@contextmanager
def bench_database(args: argparse.Namespace) -> Iterator[str]:
    """The URL of a filled database: the one given, or a scratch one generated now."""
    if args.database_url:
        settle(args.database_url)
        yield args.database_url
        return
    with scratch_database(keep=args.keep) as url:
        for line in generate(url, args.n, args.seed).lines():
            print(line, flush=True)
        settle(url)
        yield url


def settle(url: str) -> None:
    started = time.perf_counter()
    vacuumed = vacuum_bulk_loads(url)
    if vacuumed:
        print(f"vacuumed {', '.join(vacuumed)} in {time.perf_counter() - started:.0f} s", flush=True)


def vacuum_bulk_loads(url: str) -> list[str]:
    """VACUUM ANALYZE the large tables nothing has vacuumed yet; the tables vacuumed.

    A COPY leaves no visibility map, so every index-only scan reads the table as well. In service
    autovacuum sets it soon after a load, but a benchmark server may run with autovacuum off, and
    the figures should be those of a database in service.
    """
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tables = list(
                connection.scalars(
                    text(
                        "SELECT relname FROM pg_stat_user_tables WHERE n_live_tup > 10000"
                        " AND last_vacuum IS NULL AND last_autovacuum IS NULL ORDER BY relname"
                    )
                )
            )
            for table in tables:
                # The names come from the catalogue, not from input, and are quoted.
                connection.execute(text(f'VACUUM (ANALYZE) "{table}"'))
            return tables
    finally:
        engine.dispose()


def encounter_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Encounter)) or 0


def busiest_force(session: Session) -> Organisation:
    """The police force that recorded the most encounters: its officers search the most people."""
    org_id = session.scalar(
        select(Encounter.organisation_id)
        .group_by(Encounter.organisation_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise SystemExit("The database has no encounters: generate some first (bench.generate)")
    return organisation


def busiest_receiver(session: Session) -> Organisation:
    """The receiving organisation with the most open cases: the largest team worklist."""
    org_id = session.scalar(
        text(
            "SELECT rp.organisation_id FROM referral_parties rp"
            " JOIN referrals r ON r.id = rp.referral_id"
            " JOIN organisations o ON o.id = rp.organisation_id"
            " WHERE r.closed_at IS NULL AND o.kind <> 'police_force'"
            " GROUP BY rp.organisation_id ORDER BY count(*) DESC LIMIT 1"
        )
    )
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise SystemExit("The database has no open cases with a receiving organisation")
    return organisation


def bench_user(session: Session, bench: str, role: str, organisation: Organisation) -> User:
    """``bench-<bench>-<role>@example.org``, made with the app's own code the first time, reused after.

    Each benchmark has its own users: the API benchmark's officer records thousands of encounters,
    which would make this one's baseline (the officer's home page, their recent encounters) heavier.
    """
    email = f"bench-{bench}-{role.replace('_', '-')}@example.org"
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = create_user(
            session,
            email=email,
            name=f"Bench {role.replace('_', ' ')}",
            role=role,
            password=PASSWORD,
            organisation=organisation,
        )
    return user


HELD = text("SELECT count(*) FROM referrals WHERE assigned_user_id = :user AND closed_at IS NULL")


def assign_caseload(session: Session, user: User, size: int) -> int:
    """Give ``user`` open cases until they hold ``size`` (if there are that many); how many they hold.

    Straight SQL, as a supervisor's reallocation would leave it: the generator assigns no cases,
    and going through ``reallocate`` would add timeline rows the page does not read.
    """
    missing = size - (session.scalar(HELD, {"user": user.id}) or 0)
    if missing > 0:
        session.execute(
            text(
                "UPDATE referrals SET assigned_user_id = :user WHERE id IN ("
                " SELECT r.id FROM referrals r JOIN referral_parties rp ON rp.referral_id = r.id"
                " WHERE rp.organisation_id = :org AND r.closed_at IS NULL AND r.assigned_user_id IS NULL"
                " ORDER BY r.opened_at DESC LIMIT :missing)"
            ),
            {"user": user.id, "org": user.organisation_id, "missing": missing},
        )
    return session.scalar(HELD, {"user": user.id}) or 0


@dataclass(frozen=True)
class Sample:
    """People an officer of the force can see, to search for and open: one per request."""

    ids: list[int]
    family_names: list[str]
    pnc_ids: list[str]

    def nth(self, values: list[Any], i: int) -> Any:
        # The draw can hold fewer people than requests (one met twice is drawn once): go round again.
        return values[i % len(values)]


def people_sample(session: Session, organisation: Organisation, size: int, seed: int) -> Sample:
    """Random people this force met (a repeatable draw), as an officer would look them up."""
    session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    rows = list(
        session.execute(
            text(
                "SELECT p.id, p.family_name, p.pnc_id FROM people p WHERE p.id IN ("
                " SELECT person_id FROM encounters WHERE organisation_id = :org ORDER BY random() LIMIT :n)"
            ),
            {"org": organisation.id, "n": size},
        )
    )
    random.Random(seed).shuffle(rows)
    return Sample([r.id for r in rows], [r.family_name for r in rows], [r.pnc_id for r in rows if r.pnc_id])


# ---- Requests -----------------------------------------------------------------------------------


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    """A client signed in through the sign-in form, CSRF token and all, as a browser would be."""
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = CSRF_FIELD.search(page)
    if token is None:
        raise SystemExit("No CSRF token on the sign-in page")
    response = client.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if response.status_code != 302:
        raise SystemExit(f"Signing in as {email} failed ({response.status_code})")
    return client


@dataclass
class Page:
    """One kind of request: ``path(i)`` is the i-th request's path, so inputs vary request by request.

    ``engine`` is the database it is served from: one app serves both databases in a comparison,
    its session factory bound to the page's engine for each request.
    """

    label: str
    client: FlaskClient
    path: Callable[[int], str]
    samples: list[float]
    engine: Engine | None = None


class QueryCounter:
    """Counts the SQL statements the app sends, to report queries per request."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


class StatementTimer:
    """Records the statements of the requests made while it is on, with how long each took."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.seen: list[tuple[float, str, Any]] = []
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self.seen.append((time.perf_counter() - self._started, statement, parameters))


def slowest_plans(pages: list[Page], timer: StatementTimer, engine: Engine, top: int = 1) -> None:
    """Each page's slowest statement (one request) and the plan the database chose for it."""
    for page in pages:
        timer.seen, timer.on = [], True
        get(page, 0)
        timer.on = False
        for elapsed, statement, parameters in sorted(timer.seen, key=lambda s: -s[0])[:top]:
            print(f"--- {page.label} ({engine.dialect.name}): slowest statement {ms(elapsed)}")
            print(statement)
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            with engine.connect() as connection:
                rows = connection.exec_driver_sql(explain + statement, parameters).all()
            for row in rows:
                print(
                    "  " + (f"{'  ' * 0}{row[1]:>3} {row[3]}" if engine.dialect.name == "sqlite" else row[0])
                )


def bind(engine: Engine | None) -> None:
    """Serve the next requests from ``engine`` (sessions are made per request from the factory)."""
    if engine is not None:
        db.engine = engine
        db.factory.configure(bind=engine)


def get(page: Page, i: int) -> float:
    path = page.path(i)
    bind(page.engine)
    started = time.perf_counter()
    response = page.client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{page.label}: GET {path} answered {response.status_code}")
    return elapsed


def queries_per_request(pages: list[Page], counter: QueryCounter) -> list[int]:
    out = []
    for page in pages:
        before = counter.count
        get(page, 0)
        out.append(counter.count - before)
    return out


def run_rounds(pages: list[Page], warmup: int, rounds: int) -> None:
    """Each round requests every page once, so slow spells on the machine hit all pages alike."""
    for i in range(warmup + rounds):
        for page in pages:
            elapsed = get(page, i)
            if i >= warmup:
                page.samples.append(elapsed)


# ---- Main ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    officer: str
    caseworker: str
    force: str
    receiver: str
    caseload: int
    encounters: int
    sample: Sample


def prepare(url: str, args: argparse.Namespace) -> Setup:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            force, receiver = busiest_force(session), busiest_receiver(session)
            officer = bench_user(session, "pages", "officer", force)
            role = CASEWORKER_ROLE.get(receiver.kind, "navigator")
            caseworker = bench_user(session, "pages", role, receiver)
            caseload = assign_caseload(session, caseworker, args.caseload)
            sample = people_sample(session, force, args.warmup + args.rounds, args.seed)
            setup = Setup(
                officer.email,
                caseworker.email,
                force.name,
                receiver.name,
                caseload,
                encounter_count(session),
                sample,
            )
            session.commit()
            return setup
    finally:
        engine.dispose()


def search(query: str) -> str:
    return f"/people?{urlencode({'q': query})}"


def worklist_rows(client: FlaskClient) -> int:
    """Cases listed on the caseworker's first worklist page: each row links to its case."""
    return client.get("/worklist?view=mine").get_data(as_text=True).count('href="/cases/')


def build_pages(app: Flask, setup: Setup, engine: Engine | None = None) -> list[Page]:
    """The pages, served from ``engine`` (the app's own if None), by users signed in on it."""
    bind(engine)
    officer = signed_in_client(app, setup.officer)
    caseworker = signed_in_client(app, setup.caseworker)
    s = setup.sample

    def page(label: str, client: FlaskClient, path: Callable[[int], str]) -> Page:
        return Page(label, client, path, [], engine)

    return [
        page("baseline: officer's home", officer, lambda i: "/home"),
        page("find a person by PNC ID", officer, lambda i: search(s.nth(s.pnc_ids, i))),
        page("find a person by family name", officer, lambda i: search(s.nth(s.family_names, i))),
        page("person's history page", officer, lambda i: f"/people/{s.nth(s.ids, i)}"),
        page(
            "encounter form for that person", officer, lambda i: f"/encounters/new?person={s.nth(s.ids, i)}"
        ),
        page("caseload: worklist, mine", caseworker, lambda i: "/worklist?view=mine"),
        page("caseworker's home", caseworker, lambda i: "/home"),
    ]


def report(pages: list[Page], queries: list[int]) -> None:
    base = summarise(pages[0].samples).median
    print(f"{'page':<34} {'median':>11} {'p95':>11} {'ratio':>7} {'queries':>8}")
    for page, count in zip(pages, queries, strict=True):
        summary = summarise(page.samples)
        print(
            f"{page.label:<34} {ms(summary.median)} {ms(summary.p95)} {summary.median / base:7.2f} {count:8d}"
        )


def report_both(
    postgres: list[Page], sqlite: list[Page], pg_queries: list[int], sqlite_queries: list[int]
) -> None:
    """Each page's medians on both databases, its SQLite/PostgreSQL ratio, and on each database
    its ratio to that database's officer's home page."""
    pg_base = summarise(postgres[0].samples).median
    lite_base = summarise(sqlite[0].samples).median
    print(
        f"{'page':<34} {'PostgreSQL':>11} {'SQLite':>11} {'SQLite/PG':>9}"
        f" {'PG/home':>8} {'SQLite/home':>11} {'queries PG, SQLite':>19}"
    )
    for pg, lite, pg_count, lite_count in zip(postgres, sqlite, pg_queries, sqlite_queries, strict=True):
        pg_median, lite_median = summarise(pg.samples).median, summarise(lite.samples).median
        print(
            f"{pg.label:<34} {ms(pg_median)} {ms(lite_median)} {lite_median / pg_median:9.2f}"
            f" {pg_median / pg_base:8.2f} {lite_median / lite_base:11.2f} {pg_count:>10d}, {lite_count:d}"
        )
    worst = max(
        summarise(b.samples).median / summarise(a.samples).median
        for a, b in zip(postgres, sqlite, strict=True)
    )
    print(f"slowest page on SQLite relative to PostgreSQL: {worst:.2f}x (aim: within 3x)")


def sqlite_copy(url: str, path: Path, statistics: str) -> Engine:
    """The SQLite copy of ``url`` at ``path`` (made now if missing), with the statistics asked for."""
    if not path.exists():
        from bench.sqlite_copy import copy_database

        started = time.perf_counter()
        copy_database(url, path)
        print(f"copied the database to {path} in {time.perf_counter() - started:.0f} s", flush=True)
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        # Whatever an earlier run left is replaced, so each choice is what it says.
        driver.execute("DELETE FROM sqlite_stat1")
        if statistics == "kept":
            refresh_statistics(connection)
        elif statistics == "full":
            driver.execute("PRAGMA analysis_limit=0")
            driver.execute("ANALYZE")
    # Statistics are read when a connection opens: start the pool afresh.
    engine.dispose()
    return engine


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_database_arguments(parser)
    parser.add_argument("--rounds", type=int, default=100, help="timed requests per page (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page first")
    parser.add_argument("--caseload", type=int, default=60, help="open cases assigned to the caseworker")
    parser.add_argument("--page-size", type=int, default=50, help="worklist rows a page (the app ships 25)")
    parser.add_argument(
        "--sqlite", type=Path, metavar="FILE", help="also time every page on a SQLite copy kept in FILE"
    )
    parser.add_argument("--plans", action="store_true", help="print each page's slowest statement and plan")
    parser.add_argument(
        "--sqlite-statistics",
        choices=("kept", "none", "full"),
        default="kept",
        help="SQLite planner statistics: as the app keeps them (default), none, or a full ANALYZE",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    shipped = divert.queries.worklists.PAGE_SIZE
    # Read by ``worklist()`` at call time, so this sets the page size for this process only.
    divert.queries.worklists.PAGE_SIZE = args.page_size
    with bench_database(args) as url:
        setup = prepare(url, args)
        lite = sqlite_copy(url, args.sqlite, args.sqlite_statistics) if args.sqlite else None
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32)}, env="development")
        assert db.engine is not None
        postgres = db.engine
        pages = build_pages(app, setup, postgres)
        queries = queries_per_request(pages, QueryCounter(postgres))
        rows = worklist_rows(next(p.client for p in pages if p.path(0).startswith("/worklist")))
        lite_pages: list[Page] = []
        lite_queries: list[int] = []
        if lite is not None:
            lite_pages = build_pages(app, setup, lite)
            lite_queries = queries_per_request(lite_pages, QueryCounter(lite))
        # Interleaved page by page: each page on PostgreSQL, then the same on SQLite.
        run_rounds(
            [p for pair in itertools.zip_longest(pages, lite_pages) for p in pair if p],
            args.warmup,
            args.rounds,
        )
        if args.plans:
            slowest_plans(pages, StatementTimer(postgres), postgres)
            if lite is not None:
                slowest_plans(lite_pages, StatementTimer(lite), lite)
        postgres.dispose()
        if lite is not None:
            lite.dispose()
    print(
        f"encounters: {setup.encounters:,}; officer at {setup.force}; caseworker at {setup.receiver} "
        f"with {setup.caseload} open cases, {rows} on the worklist page (page size {args.page_size}; "
        f"the app ships {shipped})"
    )
    print(f"{args.rounds} timed requests per page after {args.warmup} warm-up, pages interleaved")
    if lite is None:
        report(pages, queries)
    else:
        print(f"SQLite statistics: {args.sqlite_statistics}")
        report_both(pages, lite_pages, queries, lite_queries)


if __name__ == "__main__":
    main()
