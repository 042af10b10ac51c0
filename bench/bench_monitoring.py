"""How long the monitoring report takes at scale on PostgreSQL, against a baseline from the same run.

Run from the repository root:

    .venv/bin/python -m bench.bench_monitoring            # 1,000,000 encounters
    .venv/bin/python -m bench.bench_monitoring --n 100000 # quicker

It creates a scratch database on the server in ``BENCH_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, see ``bench/scratch.py``), fills it with
``bench/generate.py`` (people, encounters, rule decisions, overrides and cases with their timelines),
then times the report several times in a child process and prints median and p95 beside ``SELECT
count(*) FROM encounters`` timed in the same run, and the child's peak memory. The child runs only
the report, so the generator's memory is not counted. The database is dropped afterwards; it never
touches another database.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_monitoring.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from divert import session_factory  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.monitoring.points import POINT_NAMES  # noqa: E402
from divert.monitoring.query import Scope, count_points, reach_of  # noqa: E402
from divert.monitoring.report import Options, build_report  # noqa: E402

# The report should run in this much memory or less at 1,000,000 encounters (issue 19).
MEMORY_TARGET_MB = 150


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch database for EXPLAIN (prints its name; drop it yourself)",
    )
    parser.add_argument("--report-only", action="store_true", help="time the report on --database-url only")
    parser.add_argument("--database-url", help="with --report-only: a database already filled")
    parser.add_argument(
        "--only",
        choices=("report", "page"),
        help="with --report-only: the reports (and flat-table baselines) only, or the pages only",
    )
    parser.add_argument(
        "--unpublished",
        action="store_true",
        help="leave out the published (linked release) report and page, and the adjusted odds ratios",
    )
    args = parser.parse_args()
    if args.report_only:
        if not args.database_url:
            parser.error("--report-only needs --database-url")
        _report_only(args.database_url, args.rounds, args.only, args.unpublished)
        return
    # Imported here, not at the top, so the report process never loads the generator (~85 MB).
    from bench.generate import generate

    with scratch_database(keep=args.keep) as url:
        summary = generate(url, args.n, args.seed)
        for line in summary.lines():
            print(line, flush=True)
        # A fresh process, so its peak memory is the report's alone, not the generator's.
        report = ["-m", "bench.bench_monitoring", "--report-only", "--rounds", str(args.rounds)]
        subprocess.run([sys.executable, *report, "--database-url", url], check=True, cwd=ROOT)  # noqa: S603


def _report_only(url: str, rounds: int, only: str | None = None, unpublished: bool = False) -> None:
    if only != "page":
        engine = make_engine(url)
        try:
            _run(engine, rounds, unpublished)
        finally:
            engine.dispose()
        _memory("the report process", MEMORY_TARGET_MB)
    if only != "report":
        # The page after the report: the app, the chart renderer and the templates take memory of
        # their own, which the report's figure above leaves out.
        _page(url, rounds, unpublished)
        _memory("the report process, after serving the page too", None)


def _memory(label: str, target: int | None) -> None:
    peak = _peak_rss_mb()
    verdict = ""
    if target is not None:
        verdict = f" ({'within' if peak <= target else 'OVER'} the {target} MB target)"
    print(f"peak memory of {label} {peak:7.1f} MB{verdict}")


def _peak_rss_mb() -> float:
    """This process's peak resident memory.

    Not ``ru_maxrss``: Linux carries it across ``execve``, so a child forked from the generator
    would report the generator's peak. ``VmHWM`` belongs to the process's own address space.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _run(engine: Engine, rounds: int, unpublished: bool = False) -> None:
    with session_factory(engine)() as session:
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
            if unpublished and "published" in label:
                continue
            options = Options(published="published" in label)
            median = _summary(label, _time(partial(build_report, session, scope, options), rounds))
            print(f"{'':<58} ratio to baseline {median / baseline:7.1f}")
            session.rollback()
        _against_flat(session, rounds)
        if not unpublished:
            _adjusted(session, rounds)
        _against_handwritten(session, rounds)


def _adjusted(session: Session, rounds: int) -> None:
    """The odds ratios adjusted for case mix beside the RRIs: the cell query and the model fits."""
    from divert.monitoring import adjusted
    from divert.monitoring.points import DIMENSIONS

    for label, scope in (
        ("adjusted odds ratios: all programmes, ethnicity_group", Scope("ethnicity_group", "quarter")),
        (
            "adjusted odds ratios: one programme, ethnicity_group",
            Scope("ethnicity_group", "quarter", "divert"),
        ),
    ):
        report = build_report(session, scope)
        groups = list(dict.fromkeys(r.group for r in report.rows if r.group != "All"))
        cells = adjusted.count_cells(session, scope)
        print(f"{'':<58} {len(cells):,} cells")
        query = _summary(f"{label}: cell query", _time(partial(adjusted.count_cells, session, scope), rounds))
        fits = _summary(
            f"{label}: 7 fits",
            _time(
                partial(adjusted.adjust, cells, DIMENSIONS[scope.dimension], report.reference, groups), rounds
            ),
        )
        print(f"{'':<58} query + fits {query + fits:7.3f} s")
        session.rollback()


# The page a supervisor opens, as the browser asks for it: the report, the three reason tables,
# the population comparison, the charts and the HTML.
PAGES = (
    ("monitoring page: all programmes, quarter, ethnicity_group", "/monitoring"),
    # The first programme the supervisor's force runs ({programme}): the busiest force of the
    # generated data need not run DIVERT, and a programme out of its reach is refused (400).
    ("monitoring page: one programme ({programme})", "/monitoring?programme={programme}"),
    ("monitoring page: all programmes, month, age_band", "/monitoring?dimension=age_band&period=month"),
    # As an analyst sees it: hidden cells read from the linked release of everything the force can
    # download for the range (release.py), counted and protected on the request.
    ("monitoring page as published (the linked release)", "/monitoring?published=yes"),
    # The downloads of the first page: the CSV is the report's table alone, the PDF the page laid out.
    ("CSV download: all programmes, quarter, ethnicity_group", "/monitoring/export.csv"),
    ("PDF download: all programmes, quarter, ethnicity_group", "/monitoring/report.pdf"),
)


def _page(url: str, rounds: int, unpublished: bool = False) -> None:
    """The whole monitoring page through the app, signed in as a supervisor, beside a static page."""
    from bench.bench_pages import bench_user, busiest_force, signed_in_client
    from divert import create_app

    app = create_app({"DATABASE_URL": url}, env="development")
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            force = busiest_force(session)
            email = bench_user(session, "monitoring", "supervisor", force).email
            programme = reach_of(session, force).programmes[0][0]
            session.commit()
    finally:
        engine.dispose()
    client = signed_in_client(app, email)

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")

    get(PAGES[0][1])  # warm: templates compiled, definitions loaded
    home = _summary("baseline: the method page (no query)", _time(partial(get, "/monitoring/method"), rounds))
    for label, path in PAGES:
        if unpublished and "published" in label:
            continue
        label, path = label.format(programme=programme), path.format(programme=programme)
        median = _summary(label, _time(partial(get, path), rounds))
        print(f"{'':<58} ratio to method page {median / home:7.1f}")


# One programme by quarter and five-group ethnicity, as a person would write it for this schema:
# the same numbers as count_points(Scope("ethnicity_group", "quarter", PROGRAMME)).
HANDWRITTEN = """
SELECT j.encounter_day / 10000 AS y, (j.encounter_day / 100 % 100 - 1) / 3 + 1 AS q,
       sd.ethnic_group AS grp, count(*) AS encountered,
       sum(j.eligible), sum(j.offered), sum(j.accepted), sum(j.engaged), sum(j.completed),
       sum(j.escalated), sum(j.formal_outcome)
FROM monitoring_journeys j
JOIN people p ON p.id = j.person_id
JOIN ethnicity_codes sd ON sd.code = p.self_defined_ethnicity
WHERE j.programme_id = (SELECT id FROM programmes WHERE code = :code)
GROUP BY 1, 2, 3
"""

# The same numbers straight from decisions and cases, without the kept journey rows: what they save.
FROM_SOURCE = """
WITH effective AS (
    SELECT d.encounter_id, bool_or(d.eligible) AS eligible
    FROM decisions d JOIN programme_versions pv ON pv.id = d.programme_version_id
    WHERE pv.programme_id = (SELECT id FROM programmes WHERE code = :code)
      AND NOT EXISTS (SELECT 1 FROM decisions o WHERE o.overrides_id = d.id)
    GROUP BY d.encounter_id
), journey AS (
    SELECT f.encounter_id, f.eligible,
           f.eligible AND r.offered_at IS NOT NULL AS offered,
           f.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL AS accepted,
           f.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
               AND r.engaged_at IS NOT NULL AS engaged,
           f.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
               AND r.engaged_at IS NOT NULL AND r.completed_at IS NOT NULL AS completed,
           f.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
               AND r.escalated_at IS NOT NULL AS escalated,
           coalesce(r.outcome_code IN (1, 2, 3), false) AS formal_outcome
    FROM effective f
    LEFT JOIN referrals r ON r.encounter_id = f.encounter_id
        AND r.programme_id = (SELECT id FROM programmes WHERE code = :code)
)
SELECT extract(year FROM e.occurred_at AT TIME ZONE 'UTC')::int AS y,
       extract(quarter FROM e.occurred_at AT TIME ZONE 'UTC')::int AS q,
       sd.ethnic_group AS grp, count(*) AS encountered,
       count(*) FILTER (WHERE j.eligible), count(*) FILTER (WHERE j.offered),
       count(*) FILTER (WHERE j.accepted), count(*) FILTER (WHERE j.engaged),
       count(*) FILTER (WHERE j.completed), count(*) FILTER (WHERE j.escalated),
       count(*) FILTER (WHERE j.formal_outcome)
FROM journey j
JOIN encounters e ON e.id = j.encounter_id
JOIN people p ON p.id = e.person_id
JOIN ethnicity_codes sd ON sd.code = p.self_defined_ethnicity
GROUP BY 1, 2, 3
"""
PROGRAMME = "divert"


def _by_cell(rows: Sequence[Any]) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(f"{r[0]:04d}-Q{r[1]}", r[2]): tuple(int(v or 0) for v in r[3:]) for r in rows}


def _against_handwritten(session: Session, rounds: int) -> None:
    """The report for one programme against one hand-written query giving the same numbers."""
    session.execute(text("SET jit = off"))  # as the report does (monitoring/query.py tune)
    scope = Scope("ethnicity_group", "quarter", PROGRAMME)
    # The hand-written queries count the first eight points (those before issue 13's decision
    # maker's points), so the report's are compared on those.
    ours = {
        (g.period, g.group): tuple(g.counts[name] for name in POINT_NAMES[:8])
        for g in count_points(session, scope)
    }
    for label, sql in (("kept journey rows", HANDWRITTEN), ("decisions and cases", FROM_SOURCE)):
        theirs = _by_cell(session.execute(text(sql), {"code": PROGRAMME}).all())
        if theirs != ours:
            # Said, not fatal: the timings are still worth having (the from-source query predates
            # the population rule and the milestone outcomes, so it may count differently).
            print(f"the hand-written query over {label} disagrees with the report")
    hand = _summary(
        f"hand-written SQL over kept journey rows ({PROGRAMME})",
        _time(lambda: session.execute(text(HANDWRITTEN), {"code": PROGRAMME}).all(), rounds),
    )
    source = _summary(
        f"hand-written SQL over decisions and cases ({PROGRAMME})",
        _time(lambda: session.execute(text(FROM_SOURCE), {"code": PROGRAMME}).all(), rounds),
    )
    counts = _summary(
        "count_points (the report's one query)", _time(partial(count_points, session, scope), rounds)
    )
    report = _summary(
        "build_report (query, statistics, suppression)", _time(partial(build_report, session, scope), rounds)
    )
    print(f"{'':<58} count_points / hand-written {counts / hand:5.2f}  (aim 1.5 or less)")
    print(f"{'':<58} build_report / hand-written {report / hand:5.2f}")
    print(f"{'':<58} hand-written from source / over kept rows {source / hand:5.1f}")


# The limit a report can approach: the same GROUP BY over a table holding only the rows it counts,
# already joined to what it groups by, read from end to end (issue 19's "flat table").
FLAT_POINTS = (
    "eligible, offered, accepted, engaged, completed, escalated, formal_outcome, "
    "decision_route, diverted_again, decision_formal"
)
FLAT_TABLE = """
CREATE TEMP TABLE flat_report AS
SELECT j.encounter_day, sd.ethnic_group AS grp, {points}
FROM {table} j
JOIN people p ON p.id = j.person_id
JOIN ethnicity_codes sd ON sd.code = p.self_defined_ethnicity
{where}
"""
FLAT_GROUP_BY = """
SELECT encounter_day / 100 AS ym, grp, count(*), {sums}
FROM flat_report GROUP BY 1, 2
""".format(sums=", ".join(f"sum({n.strip()})" for n in FLAT_POINTS.split(",")))


def _against_flat(session: Session, rounds: int) -> None:
    """The report against the same GROUP BY over a flat table of exactly its rows, same run."""
    for label, table, where, scope in (
        (
            f"one programme ({PROGRAMME})",
            "monitoring_journeys",
            "WHERE j.programme_id = (SELECT id FROM programmes WHERE code = :code)",
            Scope("ethnicity_group", "quarter", PROGRAMME),
        ),
        ("all programmes", "monitoring_encounters", "", Scope("ethnicity_group", "quarter")),
    ):
        session.execute(text("DROP TABLE IF EXISTS flat_report"))
        flat_table = FLAT_TABLE.format(points=FLAT_POINTS, table=table, where=where)
        session.execute(text(flat_table), {"code": PROGRAMME})
        session.execute(text("ANALYZE flat_report"))
        rows = session.scalar(text("SELECT count(*) FROM flat_report"))
        flat = _summary(
            f"flat-table GROUP BY, {label} ({rows:,} rows)",
            _time(lambda: session.execute(text(FLAT_GROUP_BY)).all(), rounds),
        )
        counts = _summary(f"count_points, {label}", _time(partial(count_points, session, scope), rounds))
        report = _summary(f"build_report, {label}", _time(partial(build_report, session, scope), rounds))
        print(f"{'':<58} count_points / flat table {counts / flat:5.2f}")
        print(f"{'':<58} build_report / flat table {report / flat:5.2f}  (aim 5 or less)")
    session.rollback()


if __name__ == "__main__":
    main()
