"""How long the monitoring report takes at scale on PostgreSQL, against a baseline from the same run.

Run from the repository root:

    .venv/bin/python -m bench.bench_monitoring            # 1,000,000 encounters
    .venv/bin/python -m bench.bench_monitoring --n 100000 # quicker

It creates a scratch database with a unique name on the server in ``BENCH_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), builds it with the real migrations,
bulk-loads synthetic people, encounters, decisions (two programmes each, 1% overridden) and cases
with COPY, times the report several times, prints median and p95 beside ``SELECT count(*) FROM
encounters`` timed in the same run, and drops the database. It never touches another database.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_monitoring.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from divert import migrate  # noqa: E402
from divert.db import make_engine  # noqa: E402
from divert.models import Organisation, Programme, ProgrammeVersion  # noqa: E402
from divert.monitoring.query import Scope  # noqa: E402
from divert.monitoring.report import Options, build_report  # noqa: E402
from divert.pathways.programmes import sync_definitions  # noqa: E402
from divert.seeding import load_reference_data  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CODES = ["W1"] * 60 + ["W2", "W9"] * 5 + ["A1", "A2", "B1", "B2", "M1", "M9", "O9"] * 4 + ["NS"] * 2
GENDERS = ["male"] * 70 + ["female"] * 26 + ["other", "not_stated"] * 2
AREAS = [f"OX{i}" for i in range(1, 30)] + [f"RG{i}" for i in range(1, 30)]
START = datetime(2022, 1, 1, tzinfo=UTC)
DAYS = 4 * 365


def _load(engine: Engine, n: int, rng: random.Random) -> None:
    with Session(engine) as session:
        load_reference_data(session)
        sync_definitions(session)
        org = Organisation(code="bench", name="Bench force", kind="police_force")
        session.add(org)
        session.commit()
        versions = {
            code: session.scalar(
                select(ProgrammeVersion).join(Programme).where(Programme.code == code).limit(1)
            )
            for code in ("tvp-youth-drugs", "divert")
        }
        org_id = org.id
    now = datetime.now(UTC)
    people = max(1, n // 2)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(  # type: ignore[attr-defined]
            "COPY people (id, given_name, family_name, given_name_key, family_name_key, gender,"
            " self_defined_ethnicity, date_of_birth, created_at, updated_at, version_id) FROM STDIN"
        ) as copy:
            for i in range(1, people + 1):
                dob = None if rng.random() < 0.03 else date(1960, 1, 1) + timedelta(days=rng.randrange(17000))
                copy.write_row(
                    (i, "P", f"N{i}", "p", f"n{i}", rng.choice(GENDERS), rng.choice(CODES), dob, now, now, 1)
                )
        decision_id = 0
        referral_id = 0
        with cur.copy(
            "COPY encounters (id, person_id, occurred_at, location, area, setting, organisation_id,"
            " offence_category, supply_suspected, admission, hate_crime, domestic_abuse, on_court_order,"
            " co_accused, vulnerabilities, notes, created_at, updated_at, version_id) FROM STDIN"
        ) as copy:
            for i in range(1, n + 1):
                when = START + timedelta(seconds=rng.randrange(DAYS * 86400))
                copy.write_row(
                    (
                        i,
                        rng.randrange(1, people + 1),
                        when,
                        "",
                        rng.choice(AREAS),
                        "street",
                        org_id,
                        "drug_possession",
                        False,
                        "admitted",
                        False,
                        False,
                        False,
                        False,
                        "[]",
                        "",
                        now,
                        now,
                        1,
                    )
                )
        # Decisions and cases are generated after the encounters so each COPY streams one table.
        rng_enc = random.Random(7)
        with cur.copy(
            "COPY decisions (id, encounter_id, programme_version_id, eligible, route, reasons, facts,"
            " decided_at, overrides_id, override_reason) FROM STDIN"
        ) as copy:
            cases: list[tuple[int, int, int, int]] = []
            for i in range(1, n + 1):
                for version in versions.values():
                    assert version is not None
                    eligible = rng_enc.random() < 0.35
                    decision_id += 1
                    copy.write_row(
                        (
                            decision_id,
                            i,
                            version.id,
                            eligible,
                            "yot" if eligible else None,
                            "[]",
                            "{}",
                            now,
                            None,
                            "",
                        )
                    )
                    if rng_enc.random() < 0.01:
                        first = decision_id
                        eligible = not eligible
                        decision_id += 1
                        copy.write_row(
                            (decision_id, i, version.id, eligible, None, "[]", "{}", now, first, "bench")
                        )
                    if eligible:
                        cases.append((i, version.programme_id, version.id, decision_id))
        with cur.copy(
            "COPY referrals (id, reference, person_id, encounter_id, programme_id, programme_version_id,"
            " state, opened_at, decision_id, offered_at, accepted_at, engaged_at, completed_at, escalated_at,"
            " outcome_code, exit_reason, created_at, updated_at, version_id) FROM STDIN"
        ) as copy:
            for encounter_id, programme_id, version_id, decision in cases:
                referral_id += 1
                r = rng_enc.random()
                offered = now if r < 0.8 else None
                accepted = now if r < 0.6 else None
                engaged = now if r < 0.45 else None
                completed = now if r < 0.3 else None
                escalated = now if 0.45 <= r < 0.55 else None
                outcome = 1 if escalated else (22 if completed else None)
                exit_reason = "no_show" if 0.3 <= r < 0.6 else None
                copy.write_row(
                    (
                        referral_id,
                        f"B-{referral_id}",
                        1,
                        encounter_id,
                        programme_id,
                        version_id,
                        "eligible",
                        now,
                        decision,
                        offered,
                        accepted,
                        engaged,
                        completed,
                        escalated,
                        outcome,
                        exit_reason,
                        now,
                        now,
                        1,
                    )
                )
        raw.commit()
        for table in ("people", "encounters", "decisions", "referrals"):
            cur.execute(
                # The table names are the literals above, never input.
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _summary(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    print(f"{label:<58} median {median:7.3f} s   p95 {p95:7.3f} s   ({len(times)} runs)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch database for EXPLAIN (prints its name; drop it yourself)",
    )
    args = parser.parse_args()
    name = f"divert_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(SERVER)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(SERVER).set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        _load(engine, args.n, random.Random(args.seed))
        print(f"loaded {args.n:,} encounters (2 programmes each) in {time.perf_counter() - started:.1f} s")
        _run(engine, args.rounds)
    finally:
        engine.dispose()
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(engine: Engine, rounds: int) -> None:
    with Session(engine) as session:
        baseline = _summary(
            "baseline SELECT count(*) FROM encounters",
            _time(lambda: session.execute(text("SELECT count(*) FROM encounters")).scalar(), rounds),
        )
        cases = [
            ("report: all programmes, quarter, ethnicity_group", Scope("ethnicity_group", "quarter")),
            (
                "report: one programme, quarter, ethnicity_group",
                Scope("ethnicity_group", "quarter", "divert"),
            ),
            ("report: all programmes, month, age_band", Scope("age_band", "month")),
            (
                "report: one programme, one quarter, ethnicity_code",
                Scope("ethnicity_code", "quarter", "divert", date(2025, 1, 1), date(2025, 3, 31)),
            ),
            (
                "report (published): all programmes, quarter, ethnicity_group",
                Scope("ethnicity_group", "quarter"),
            ),
        ]
        for label, scope in cases:
            options = Options(published="published" in label)
            median = _summary(label, _time(lambda s=scope, o=options: build_report(session, s, o), rounds))
            print(f"{'':<58} ratio to baseline {median / baseline:7.1f}")


if __name__ == "__main__":
    main()
