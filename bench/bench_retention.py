"""Anonymising many people past retention, as the background job does, on PostgreSQL at scale.

Run from the repository root:

    .venv/bin/python -m bench.bench_retention                          # 1,000,000 encounters, 100,000 people
    .venv/bin/python -m bench.bench_retention --n 100000 --people 10000 # quicker

It creates a scratch database (``bench/scratch.py``), fills it with ``bench/generate.py``, then in
a fresh child process (so the peak memory is the retention work's alone, not the generator's):

1. times the review (who is due as of ``--as-of``, far enough ahead that every closed case and
   unreferred encounter is past its period) over every record;
2. takes the first ``--people`` of them and runs the retention job exactly as the worker does
   (``background.retention.carry_out``: batches of 500, a commit with progress after each);
3. checks the monitoring report (all programmes, by age band and by ethnicity) is identical
   before and after;
4. prints the job's time beside a same-run baseline: one ``UPDATE`` that rewrites the same
   people's rows once (``updated_at = updated_at``), the least any change to them costs.

The database is dropped afterwards; it never touches another database.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_retention.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402

AS_OF = date(2045, 1, 1)


def _peak_rss_mb() -> float:
    """This process's own peak resident memory (``VmHWM``; ``ru_maxrss`` survives ``execve``)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters (default 1,000,000)")
    parser.add_argument("--people", type=int, default=100_000, help="people to anonymise (default 100,000)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--as-of", default=AS_OF.isoformat(), help="review date (YYYY-MM-DD)")
    parser.add_argument("--run-only", action="store_true", help="the child: time on --database-url")
    parser.add_argument("--database-url", help="with --run-only: a database already filled")
    args = parser.parse_args()
    if args.run_only:
        if not args.database_url:
            parser.error("--run-only needs --database-url")
        _run(args.database_url, args.people, date.fromisoformat(args.as_of))
        return
    # Imported here, so the child never loads the generator.
    from bench.generate import generate

    with scratch_database() as url:
        summary = generate(url, args.n, args.seed, progress=False)
        for line in summary.lines():
            print(line, flush=True)
        child = [
            "-m",
            "bench.bench_retention",
            "--run-only",
            "--people",
            str(args.people),
            "--as-of",
            args.as_of,
        ]
        subprocess.run([sys.executable, *child, "--database-url", url], check=True, cwd=ROOT)  # noqa: S603


def _figures(session: object) -> str:
    from divert.monitoring.query import Scope
    from divert.monitoring.report import build_report

    rows = []
    for dimension in ("age_band", "ethnicity_group"):
        report = build_report(session, Scope(dimension, "quarter"))  # type: ignore[arg-type]
        rows += [repr(row) for row in report.rows]
    return "\n".join(rows)


def _run(url: str, wanted: int, as_of: date) -> None:
    from flask import current_app

    from divert import create_app
    from divert.app.extensions import db
    from divert.background.retention import carry_out, start_retention
    from divert.models import Encounter, Job, Person
    from divert.pathways.retention import retention_from_settings, review

    app = create_app({"DATABASE_URL": url}, env="development")
    with app.app_context():
        session = db.session
        people = session.scalar(select(func.count()).select_from(Person)) or 0
        encounters = session.scalar(select(func.count()).select_from(Encounter)) or 0
        print(f"database: {people:,} people, {encounters:,} encounters", flush=True)

        started = time.perf_counter()
        rules = retention_from_settings(session, current_app.config)
        due = review(session, rules, as_of)
        review_s = time.perf_counter() - started
        chosen = due.ids("anonymise")[:wanted]
        print(
            f"review of every record as of {as_of}: {len(due.people):,} due in {review_s:.1f} s", flush=True
        )
        if len(chosen) < wanted:
            print(f"only {len(chosen):,} people are due; anonymising those", flush=True)
        session.rollback()

        before = _figures(session)
        session.rollback()

        # Baseline: rewrite the same people's rows once, in one statement, then roll it back.
        started = time.perf_counter()
        session.execute(
            text("UPDATE people SET updated_at = updated_at WHERE id = ANY(:ids)"), {"ids": chosen}
        )
        baseline = time.perf_counter() - started
        session.rollback()

        job = start_retention(session, None, None, as_of, chosen, "benchmark")
        session.commit()
        started = time.perf_counter()
        status = carry_out(job.id)
        elapsed = time.perf_counter() - started
        finished = session.get(Job, job.id)
        assert finished is not None
        after = _figures(session)
        print(f"baseline: one UPDATE rewriting {len(chosen):,} people rows   {baseline:8.2f} s", flush=True)
        print(
            f"retention job ({status}): {json.dumps(finished.result)} in {elapsed:8.1f} s"
            f" = {len(chosen) / elapsed:,.0f} people/s; ratio to baseline {elapsed / baseline:,.0f}",
            flush=True,
        )
        print(f"monitoring report identical before and after: {before == after}", flush=True)
        left = session.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.id.in_(chosen[:1000]), Person.pnc_id.is_not(None))
        )
        print(f"PNC IDs left among the first 1,000 anonymised: {left}", flush=True)
    print(f"peak memory of the retention process {_peak_rss_mb():7.1f} MB", flush=True)


if __name__ == "__main__":
    main()
