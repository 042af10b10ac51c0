"""Recording encounters through the API under load: 16 clients against gunicorn on PostgreSQL.

Run from the repository root:

    .venv/bin/python -m bench.bench_api                     # generates 1,000,000 encounters first (minutes)
    .venv/bin/python -m bench.bench_api --n 100000 --seconds 10       # quicker
    .venv/bin/python -m bench.generate --n 1000000 --scratch --keep     # once: prints the database it kept
    .venv/bin/python -m bench.bench_api --database-url postgresql+psycopg://postgres@127.0.0.1:5432/NAME

The database comes from ``bench.bench_pages.bench_database`` (scratch and generated, or reused with
``--database-url``; ``--keep`` keeps a scratch one). An officer of the force with the most
encounters gets an API token made by ``divert.api.tokens``, as ``flask create-token`` makes them.

gunicorn serves the app factory (production settings, a random SECRET_KEY, HTTPS redirects off
because the traffic never leaves loopback) on 127.0.0.1 and a free port. Defaults: 2 workers of 4
threads (gthread). The machine has 2 cores, shared by PostgreSQL and by this process's 16 client
threads, so more than one worker per core only adds contention; the threads let a worker run one
request's Python while another waits on PostgreSQL (queries, the commit's WAL flush).

Each of ``--clients`` threads keeps one HTTP/1.1 connection open (http.client, keep-alive) and
sends requests back to back for ``--seconds``, after an untimed warm-up:

- baseline: ``GET /api/v1/programmes``, a cheap authenticated read (token check, one query);
- ``POST /api/v1/encounters``: valid, distinct encounters, each with its own Idempotency-Key. About a
  quarter are of people already on record (their PNC ID, name and date of birth), as in real
  repeat contact; the rest are new people.

It prints p50, p95 and p99 latency, throughput and errors (non-2xx answers and exceptions, the first
few shown) for both, and the ratios between them. gunicorn is stopped with SIGTERM at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_api.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_pages import (  # noqa: E402
    add_database_arguments,
    bench_database,
    bench_user,
    busiest_force,
    encounter_count,
    ms,
    summarise,
)
from divert import session_factory  # noqa: E402
from divert.api import tokens  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.models import EthnicityCode, OffenceCategory  # noqa: E402
from divert.rules.codes import DRUG_OFFENCES, FACTS, VULNERABILITIES  # noqa: E402
from divert.seeding.demo import load_settings  # noqa: E402

HOST = "127.0.0.1"  # loopback only: nothing here ever leaves the machine
SHOWN_ERRORS = 5
# Requests one client sends at most in a phase, as a bound beside the time limit.
MAX_PER_CLIENT = 100_000

# ---- What the clients send ----------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """What a valid encounter may say, read from the database the server uses."""

    offences: dict[str, float]
    given_names: dict[str, list[str]]
    family_names: list[str]
    ethnicities: list[str]
    districts: list[str]
    known_people: list[dict[str, Any]]


def vocabulary(session: Session, force_code: str, seed: int) -> Vocabulary:
    settings = load_settings()
    active = set(session.scalars(select(OffenceCategory.slug).where(OffenceCategory.active.is_(True))))
    codes = session.scalars(select(EthnicityCode.code).where(EthnicityCode.scheme == "self_defined"))
    return Vocabulary(
        offences={k: v for k, v in settings["offences"].items() if k in active},
        given_names=settings["given_names"],
        family_names=settings["family_names"],
        ethnicities=sorted(codes),
        districts=settings["districts"].get(force_code, ["OX4"]),
        known_people=known_people(session, force_code, seed),
    )


def known_people(session: Session, force_code: str, seed: int, size: int = 2000) -> list[dict[str, Any]]:
    """People the force already met, as a partner system would send them again."""
    session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    rows = session.execute(
        text(
            "SELECT given_name, family_name, date_of_birth, pnc_id, gender, self_defined_ethnicity,"
            " postcode_district FROM people WHERE date_of_birth IS NOT NULL AND merged_into_id IS NULL"
            " AND id IN (SELECT e.person_id FROM encounters e JOIN organisations o"
            " ON o.id = e.organisation_id WHERE o.code = :force ORDER BY random() LIMIT :n)"
        ),
        {"force": force_code, "n": size},
    ).mappings()
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


class Bodies:
    """Distinct, valid ``POST /api/v1/encounters`` bodies for one client, from its own seed."""

    def __init__(self, words: Vocabulary, seed: int) -> None:
        self.words = words
        self.rng = random.Random(seed)

    def person(self) -> dict[str, Any]:
        rng = self.rng
        if self.words.known_people and rng.random() < 0.25:
            known = dict(rng.choice(self.words.known_people))
            known["date_of_birth"] = known["date_of_birth"].isoformat()
            return known
        born = date.today() - timedelta(days=rng.randrange(11 * 365, 60 * 365))
        gender = rng.choice(("male", "male", "male", "female", "not_stated"))
        # The generator's names, so a new person has namesakes to be told apart from, as in life.
        person = {
            "given_name": rng.choice(self.words.given_names["female" if gender == "female" else "male"]),
            "family_name": rng.choice(self.words.family_names),
            "date_of_birth": born.isoformat(),
            "gender": gender,
            "self_defined_ethnicity": rng.choice(self.words.ethnicities),
            "postcode_district": rng.choice(self.words.districts),
        }
        if rng.random() < 0.85:
            # Ids from 8,000,000 up never meet the generator's, which count up from 1.
            person["pnc_id"] = (
                f"{born.year % 100:02d}/{rng.randrange(8_000_000, 10_000_000)}{chr(65 + rng.randrange(26))}"
            )
        return person

    def encounter(self) -> dict[str, Any]:
        rng = self.rng
        offence = rng.choices(list(self.words.offences), weights=list(self.words.offences.values()))[0]
        occurred = datetime.now(UTC) - timedelta(minutes=rng.randrange(5, 7 * 24 * 60))
        body: dict[str, Any] = {
            "occurred_at": occurred.isoformat(),
            "setting": rng.choice(("street", "street", "custody", "community")),
            "offence_category": offence,
            "admission": rng.choice(("admitted", "admitted", "no_comment", "denied", "not_asked")),
            "facts": [code for code in FACTS if rng.random() < (0.8 if "area" in code else 0.05)],
            "vulnerabilities": [code for code in VULNERABILITIES if rng.random() < 0.2],
        }
        if offence in DRUG_OFFENCES:
            body |= {"drug_class": rng.choice("ABBBC"), "personal_use": rng.random() < 0.9}
        return body

    def __call__(self) -> tuple[str, str, bytes | None]:
        payload = {"person": self.person(), "encounter": self.encounter()}
        return "POST", "/api/v1/encounters", json.dumps(payload).encode()


def programmes_request() -> tuple[str, str, bytes | None]:
    return "GET", "/api/v1/programmes", None


# ---- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(url: str, workers: int, threads: int) -> Iterator[int]:
    """gunicorn serving the app on loopback; yields its port and always stops it."""
    port = free_port()
    env = {
        **os.environ,
        "DIVERT_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "FORCE_HTTPS": "0",
    }
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "gunicorn.log"
        command = [
            *(sys.executable, "-m", "gunicorn", "divert:create_app()"),
            *("--bind", f"{HOST}:{port}", "--workers", str(workers), "--threads", str(threads)),
            *("--worker-class", "gthread", "--error-logfile", str(log), "--log-level", "warning"),
        ]
        process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603  # our own argv, no shell
        try:
            wait_until_up(process, port, log)
            yield port
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---- Clients ------------------------------------------------------------------------------------

Request = Callable[[], tuple[str, str, bytes | None]]


@dataclass
class Outcome:
    """What one phase's clients saw. Lists are appended from many threads; list.append is atomic."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def send(connection: http.client.HTTPConnection, token: str, request: Request) -> tuple[int, bytes]:
    method, path, body = request()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers |= {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def client(port: int, token: str, request: Request, deadline: float, outcome: Outcome) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    for _ in range(MAX_PER_CLIENT):
        if time.perf_counter() >= deadline:
            break
        started = time.perf_counter()
        try:
            status, body = send(connection, token, request)
        except (OSError, http.client.HTTPException) as error:
            outcome.errors.append(f"{type(error).__name__}: {error}")
            connection.close()  # a broken connection is not reused; the next request reconnects
            continue
        if 200 <= status < 300:
            outcome.latencies.append(time.perf_counter() - started)
        else:
            outcome.errors.append(f"{status}: {body[:300].decode(errors='replace')}")
    connection.close()


def run_phase(port: int, token: str, requests: Sequence[Request], seconds: float) -> Outcome:
    """One client thread per request maker, all sending until the same deadline."""
    outcome = Outcome()
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(target=client, args=(port, token, r, deadline, outcome), daemon=True)
        for r in requests
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - started
    return outcome


# ---- Main ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    token: str
    force: str
    encounters: int
    words: Vocabulary


def prepare(url: str, args: argparse.Namespace) -> Setup:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            force = busiest_force(session)
            officer = bench_user(session, "api", "officer", force)
            issued = tokens.create(session, officer, "bench_api", created_by=None, days=1)
            setup = Setup(
                issued.secret,
                force.name,
                encounter_count(session),
                vocabulary(session, force.code, args.seed),
            )
            session.commit()
            return setup
    finally:
        engine.dispose()


def line(label: str, outcome: Outcome) -> None:
    done = len(outcome.latencies)
    if not done:
        print(f"{label:<26} no successful requests; {len(outcome.errors)} errors")
        return
    s = summarise(outcome.latencies)
    print(
        f"{label:<26} {ms(s.median)} {ms(s.p95)} {ms(s.p99)} {done / outcome.seconds:9.1f} /s "
        f"{done:8d} {len(outcome.errors):7d}"
    )


def report(baseline: Outcome, encounters: Outcome) -> None:
    print(f"{'':<26} {'p50':>11} {'p95':>11} {'p99':>11} {'throughput':>12} {'ok':>8} {'errors':>7}")
    line("baseline GET programmes", baseline)
    line("POST encounters", encounters)
    if baseline.latencies and encounters.latencies:
        b, e = summarise(baseline.latencies), summarise(encounters.latencies)
        rate = (len(encounters.latencies) / encounters.seconds) / (len(baseline.latencies) / baseline.seconds)
        print(
            f"ratio POST / baseline: p50 {e.median / b.median:.2f}, p95 {e.p95 / b.p95:.2f}, "
            f"throughput {rate:.2f}"
        )
    for label, outcome in (("baseline", baseline), ("POST encounters", encounters)):
        for error in outcome.errors[:SHOWN_ERRORS]:
            print(f"  {label} error: {error}")


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_database_arguments(parser)
    parser.add_argument("--seconds", type=float, default=30, help="timed seconds per phase (default 30)")
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds before each phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    return parser.parse_args(argv)


def phase(port: int, token: str, requests: Sequence[Request], args: argparse.Namespace) -> Outcome:
    run_phase(port, token, requests, args.warmup)
    return run_phase(port, token, requests, args.seconds)


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    with bench_database(args) as url:
        setup = prepare(url, args)
        with gunicorn(url, args.workers, args.threads) as port:
            baseline = phase(port, setup.token, [programmes_request] * args.clients, args)
            makers = [Bodies(setup.words, args.seed * 1000 + i) for i in range(args.clients)]
            encounters = phase(port, setup.token, makers, args)
    print(
        f"encounters before the run: {setup.encounters:,}; officer at {setup.force}; {args.clients} clients, "
        f"gunicorn {args.workers} workers x {args.threads} threads, {args.seconds:.0f} s a phase"
    )
    report(baseline, encounters)


if __name__ == "__main__":
    main()
