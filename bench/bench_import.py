"""How long a bulk import of N rows takes on PostgreSQL, against baselines from the same run.

Run from the repository root:

    .venv/bin/python -m bench.bench_import              # 100,000 rows
    .venv/bin/python -m bench.bench_import --n 20000    # quicker
    .venv/bin/python -m bench.bench_import --background # also through a job and a real worker
    .venv/bin/python -m bench.bench_import --database-url URL  # into a generated national database

It writes N synthetic rows to a temporary CSV, creates a scratch database with a unique name on the
server in ``BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``),
builds it with the real migrations, loads reference data and programme definitions, then times:
the full import (check, decide, write, commit), the same file imported again (all rows unchanged),
and two baselines: reading and checking the file only, and a raw COPY of the same rows into a
table of text columns. With ``--background`` it also times the file submitted as a job (the path
a large upload takes) and run by a real Huey worker, from queueing to the job's result committed.
It prints each stage of the import with its share and its ratio to the raw COPY. It drops the
database afterwards and never touches another database, except one given with ``--database-url``
(say one ``bench/generate.py`` filled), where it imports as a new force and leaves the rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_import.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from divert import session_factory  # noqa: E402
from divert.app import migrate  # noqa: E402
from divert.app.clock import LONDON  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.models import Encounter, Organisation, Referral  # noqa: E402
from divert.pathways.importing import COLUMNS, import_file, read_file  # noqa: E402
from divert.pathways.importing.reference import load_reference  # noqa: E402
from divert.pathways.importing.stages import Stages  # noqa: E402
from divert.pathways.importing.validate import check_rows  # noqa: E402
from divert.pathways.programmes import sync_definitions  # noqa: E402
from divert.seeding.reference import load_reference_data  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CODES = ["W1"] * 60 + ["W2", "W9"] * 5 + ["A1", "A2", "B1", "B2", "M1", "M9", "O9"] * 4 + ["NS"] * 2
AREAS = [f"OX{i}" for i in range(1, 30)] + [f"RG{i}" for i in range(1, 30)]
START = datetime(2022, 1, 1, 8, 0)


def _row(i: int, rng: random.Random, people: int, live: set[tuple[int, str]]) -> dict[str, str]:
    """One row; ``live`` holds (person, programme) pairs already given a case left open, since a
    second open case of the same programme is a problem the import reports (pathways/importing/history.py)."""
    person = rng.randrange(people)
    when = START + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
    born = date(1995 + person % 15, 1 + person % 12, 1 + person % 28)
    # The rules take the encounter's date in UTC (as ``pathways.facts`` does), so age is worked out on it.
    on = when.replace(tzinfo=LONDON).astimezone(UTC).date()
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 18:
        programme = "tvp-youth-drugs"
    else:
        programme = "divert" if age <= 25 and rng.random() < 0.25 else "tvp-adult-drugs"
    row = dict.fromkeys(COLUMNS, "")
    row |= {
        "encounter_ref": f"B-{i:07d}",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
        "programme": programme,
        "pnc_id": f"22/{person:06d}X" if person % 2 else "",
        "forenames": f"Given{person}",
        "surname": f"Family{person % 5000}",
        "date_of_birth": born.isoformat(),
        "gender": rng.choice(["male", "male", "female", "other", "not_stated"]),
        "self_defined_ethnicity": rng.choice(CODES),
        "postcode_district": rng.choice(AREAS),
        "area": rng.choice(AREAS),
        "setting": "custody" if programme == "divert" else "street",
        "offence": "theft" if programme == "divert" else "drug_possession",
        "drug_class": "" if programme == "divert" else "B",
        "personal_use": "" if programme == "divert" else ("true" if rng.random() < 0.9 else "false"),
        "supply_suspected": "false",
        "admission": "admitted",
    }
    # The rules decide; the file goes as far along the pathway as the dice say.
    step = rng.random()
    if row["personal_use"] == "false" or step < 0.1:
        return row
    row["offered"] = "true" if step > 0.2 else "false"
    if row["offered"] == "false":
        row["not_offered_reason"] = "Not suitable at the time"
        return row
    row["accepted"] = "true" if step > 0.3 else "false"
    if row["accepted"] == "true" and step > 0.5:
        row["engaged_on"] = (when + timedelta(days=7)).date().isoformat()
        if step > 0.7 and programme != "divert":
            row["completed_on"] = (when + timedelta(days=60)).date().isoformat()
            row["closed_on"] = row["completed_on"]
    if row["accepted"] == "true" and not row["closed_on"]:
        if (person, programme) in live:  # recorded against the open case instead: eligible only
            for column in ("offered", "accepted", "engaged_on"):
                row[column] = ""
        else:
            live.add((person, programme))
    return row


def _timed(label: str, n: int, work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<40} {seconds:8.2f} s  {n / seconds:>10,.0f} rows/s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--background", action="store_true", help="Also time it through a job and a worker.")
    parser.add_argument(
        "--database-url",
        help="import into this existing, migrated database (say one bench/generate.py filled) as a new "
        "force of its own, instead of a scratch database; its rows are left there",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-import.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
            writer.writeheader()
            live: set[tuple[int, str]] = set()
            writer.writerows(_row(i, rng, max(1, args.n * 7 // 10), live) for i in range(args.n))
        data = path.read_bytes()
        print(f"{args.n:,} rows, {len(data) / 1e6:.1f} MB of CSV", flush=True)
        _run(data, args.n, args.background, Path(folder), args.database_url)


def _run(data: bytes, n: int, background: bool, folder: Path, existing: str | None) -> None:
    name = f"divert_bench_import_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(SERVER)
    if existing is None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = existing or make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            before = session.scalar(select(func.count()).select_from(Encounter)) if existing else 0
            print(f"into {'an existing' if existing else 'a scratch'} database holding {before:,} encounters")
        if existing is None:
            migrate.upgrade(engine)
        with session_factory(engine)() as session:
            load_reference_data(session)
            sync_definitions(session)
            # A force of its own each run, so the file is new to it and no other force's rows match.
            code = f"bench-{secrets.token_hex(3)}"
            org = Organisation(code=code, name=f"Bench force {code}", kind="police_force")
            session.add(org)
            session.commit()
            org_id = org.id

        def check_only() -> None:
            with session_factory(engine)() as session:
                sheet = read_file(data, "bench.csv")
                rows, problems = check_rows(sheet.rows, load_reference(session), datetime.now(LONDON).date())
                assert not problems and len(rows) == n, problems[:5]

        def copy_only() -> None:
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute(f"CREATE TEMPORARY TABLE raw_rows ({', '.join(f'{c} text' for c in COLUMNS)})")
                with cur.copy("COPY raw_rows FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    copy.write(data)
                raw.commit()
            finally:
                raw.close()

        stages = Stages()

        def full_import() -> None:
            with session_factory(engine)() as session:
                result = import_file(
                    session, data, "bench.csv", organisation_id=org_id, actor=None, stages=stages
                )
                with stages("commit"):
                    session.commit()
                print(f"  {result.summary()}", flush=True)

        def again() -> None:
            with session_factory(engine)() as session:
                result = import_file(session, data, "bench.csv", organisation_id=org_id, actor=None)
                session.commit()
                assert result.unchanged == n and result.encounters == 0, result

        copy_seconds = _timed("baseline: raw COPY of the rows", n, copy_only)
        check_seconds = _timed("baseline: read and check only", n, check_only)
        import_seconds = _timed("import (check, decide, write, commit)", n, full_import)
        for name, seconds in stages.seconds.items():
            share = f"{seconds / import_seconds:6.1%}"
            print(
                f"  stage {name:<32} {seconds:8.2f} s  {share} of the import,"
                f" {seconds / copy_seconds:7.1f}x raw COPY"
            )
        _timed("import again (every row unchanged)", n, again)
        if background:
            _background(url, data, n, folder)
        with session_factory(engine)() as session:
            encounters = session.scalar(select(func.count()).select_from(Encounter))
            cases = session.scalar(select(func.count()).select_from(Referral))
        print(f"stored: {encounters:,} encounters, {cases:,} cases")
        print(f"ratio import / read-and-check  {import_seconds / check_seconds:6.1f}")
        print(f"ratio import / raw COPY        {import_seconds / copy_seconds:6.1f}")
        verdict = "within" if import_seconds <= 60 else "OVER"
        print(f"{verdict} the 60 s target for {n:,} rows ({import_seconds:.1f} s)")
    finally:
        engine.dispose()
        if existing is None:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _background(url: str, data: bytes, n: int, folder: Path) -> None:
    """The same rows as another force's file, queued as a job and imported by a real worker."""
    from divert import create_app
    from divert.app import jobs
    from divert.app.extensions import db
    from divert.background.imports import queue_import
    from divert.models import Job, User

    app = create_app(
        {"DATABASE_URL": url, "JOBS_IMMEDIATE": False, "JOBS_FILE": str(folder / "queue.sqlite")},
        env="development",
    )
    consumer = jobs.huey.create_consumer(workers=1, worker_type="thread", periodic=False, max_delay=0.2)
    consumer.start()
    try:
        with app.app_context():
            session = db.session
            # Unique per run, so --database-url can be given the same database again.
            code = f"bench2-{secrets.token_hex(3)}"
            org = Organisation(code=code, name=f"Second bench force {code}", kind="police_force")
            session.add(org)
            session.flush()
            user = User(email=f"{code}@example.org", name="Bench", role="admin", organisation=org)
            user.password_hash = "!"  # noqa: S105 - not a hash: this user can never sign in
            session.add(user)
            session.flush()
            started = time.perf_counter()
            job = queue_import(session, data, "bench.csv", user)
            session.commit()
            job_id = job.id
        status = "queued"
        while status not in ("done", "failed"):
            time.sleep(0.5)
            with app.app_context():
                status = db.session.scalar(select(Job.status).where(Job.id == job_id)) or ""
        seconds = time.perf_counter() - started
        with app.app_context():
            message = db.session.scalar(select(Job.message).where(Job.id == job_id))
        label = "background job (queue, worker, commit)"
        print(f"{label:<40} {seconds:8.2f} s  {n / seconds:>10,.0f} rows/s")
        print(f"  {status}: {message}", flush=True)
    finally:
        consumer.stop(graceful=True)


if __name__ == "__main__":
    main()
