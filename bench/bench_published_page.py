"""The monitoring page as an analyst gets it (published: the linked release and the adjusted odds
ratios), on a database already filled, first with nothing kept and then as it is read again.

    .venv/bin/python -m bench.bench_published_page --database-url postgresql+psycopg://.../divert_1m_x

It writes to the database (a bench analyst the first time, and the kept releases: it clears
``monitoring_cache`` first so the first request computes everything), so give it a copy of your
own, never a shared one. It prints the first request's time (the release counted and protected,
the odds ratios fitted), the median of the next ``--rounds`` (read from what was kept), the
statements of each, the proof search's own time from the kept row, and the peak memory.
Runs against code without the kept releases too (every request is then the first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from bench.bench_monitoring import _peak_rss_mb  # noqa: E402
from bench.bench_pages import bench_user, busiest_force, signed_in_client  # noqa: E402
from divert import create_app, session_factory  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.app.extensions import db  # noqa: E402

PAGES = (
    ("analyst page: all programmes, quarter, ethnicity_group (all dates)", "/monitoring"),
    ("analyst page: all programmes, month, age_band", "/monitoring?dimension=age_band&period=month"),
    ("analyst page: all programmes, one quarter (2025-Q1)", "/monitoring?from=2025-01-01&to=2025-03-31"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url
    engine = make_engine(url)
    with session_factory(engine)() as session:
        force = busiest_force(session)
        force_name = force.name
        email = bench_user(session, "monitoring", "analyst", force).email
        has_cache = session.execute(text("SELECT to_regclass('monitoring_cache')")).scalar() is not None
        if has_cache:
            session.execute(text("DELETE FROM monitoring_cache"))
        session.commit()
    engine.dispose()
    app = create_app({"DATABASE_URL": url}, env="development")
    client = signed_in_client(app, email)
    statements = [0]
    with app.app_context():
        assert db.engine is not None

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            statements[0] += 1

    def get(path: str) -> tuple[float, int]:
        statements[0] = 0
        started = time.perf_counter()
        response = client.get(path)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.get_data(True)[:400]}")
        return took, statements[0]

    print(f"force: {force_name}; kept releases: {'yes' if has_cache else 'no (code without them)'}")
    for label, path in PAGES:
        first, first_statements = get(path)
        print(f"{label}\n    first request {first:8.3f} s   {first_statements:3d} statements")
        if has_cache:
            with session_factory(make_engine(url))() as session:
                kept = session.execute(
                    text("SELECT kind, seconds, length(body) FROM monitoring_cache ORDER BY computed_at")
                ).all()
            for kind, seconds, size in kept:
                print(f"    kept {kind:<9} computed in {seconds:7.3f} s, {size / 1024:7.0f} KiB compressed")
        again = [get(path) for _ in range(args.rounds)]
        times = [t for t, _ in again]
        print(
            f"    again: median {statistics.median(times):8.3f} s   max {max(times):8.3f} s   "
            f"{again[-1][1]:3d} statements   ({args.rounds} runs)"
        )
    print(f"peak memory of the process (app, page, release) {_peak_rss_mb():7.1f} MB")


if __name__ == "__main__":
    main()
