"""How fast a policy simulation replays stored decisions on PostgreSQL, against the rules engine's
own rate measured in the same run.

    .venv/bin/python -m bench.bench_simulate              # 1,000,000 encounters
    .venv/bin/python -m bench.bench_simulate --n 100000   # quicker

It fills a scratch database with ``bench/generate.py``, then, in a fresh process (so its peak
memory is the replay's alone), replays every programme's stored rules decisions under a draft (the
version in force with its age rule narrowed by a year) through ``background.simulations.simulate``
— streamed from the database, decided twice (version in force and draft), tallied, suppressed —
with a progress bar. Beside it, the baseline: ``rules.decide`` alone, twice per decision, on facts
already in memory. Prints decisions per second for both, the ratio, and the peak memory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import click  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.bench_monitoring import _peak_rss_mb  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from divert import session_factory  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.rules.definition import ProgrammeDefinition  # noqa: E402
from divert.rules.expressions import compile_condition  # noqa: E402

MEMORY_TARGET_MB = 500
SAMPLE = 50_000  # decisions the baseline decides in memory


def _narrowed(definition: ProgrammeDefinition) -> ProgrammeDefinition:
    """The draft: the version in force, one version on, with any "age < N" rule narrowed to N - 1."""
    rules = []
    for rule in definition.eligibility:
        text = rule.condition.text
        for n in range(30, 10, -1):
            if f"age < {n}" in text or f"age <= {n}" in text:
                text = text.replace(f"age < {n}", f"age < {n - 1}").replace(f"age <= {n}", f"age <= {n - 1}")
                break
        rules.append(replace(rule, condition=compile_condition(text)))
    return replace(definition, version=definition.version + 1, eligibility=tuple(rules))


def replay_only(url: str) -> None:
    from divert.app.clock import today
    from divert.background.simulations import simulate
    from divert.models import Decision, Programme, ProgrammeVersion
    from divert.models.programme import compiled
    from divert.monitoring.query import Scope
    from divert.pathways.programmes import version_in_force
    from divert.rules.decision import decide
    from divert.rules.facts import facts_from_dict

    engine = make_engine(url)
    total_decisions, total_seconds = 0, 0.0
    with session_factory(engine)() as session:
        programmes = session.scalars(select(Programme).order_by(Programme.code)).all()
        counts: dict[int, int] = dict(
            session.execute(  # type: ignore[arg-type]
                select(ProgrammeVersion.programme_id, func.count(Decision.id))
                .join(Decision, Decision.programme_version_id == ProgrammeVersion.id)
                .group_by(ProgrammeVersion.programme_id)
            ).all()
        )
        expected = sum(counts.values())
        drafts = {p.code: _narrowed(compiled(version_in_force(session, p, today()))) for p in programmes}
        with click.progressbar(length=expected, label="decisions replayed", file=sys.stderr) as bar:
            for programme in programmes:
                last = [0]

                def progress(done: int, last: list[int] = last) -> None:
                    bar.update(done - last[0])
                    last[0] = done

                started = time.perf_counter()
                result = simulate(
                    session, drafts[programme.code], Scope("ethnicity_group"), progress=progress
                )
                seconds = time.perf_counter() - started
                session.rollback()
                total_decisions += result.decisions
                total_seconds += seconds
                click.echo(
                    f"\n  {programme.code:<24} {result.decisions:>9,} decisions in {seconds:6.1f} s"
                    f" ({result.decisions / seconds if seconds else 0:,.0f}/s);"
                    f" {result.changed:,} would change",
                    err=True,
                )
        # The baseline: the rules engine alone, twice per decision, on facts already built.
        facts = [
            facts_from_dict(f)
            for f in session.scalars(
                select(Decision.facts).where(Decision.overrides_id.is_(None)).limit(SAMPLE)
            )
        ]
        programme = programmes[0]
        baseline_def = compiled(version_in_force(session, programme, today()))
        draft = drafts[programme.code]
        started = time.perf_counter()
        for f in facts:
            decide(baseline_def, f)
            decide(draft, f)
        engine_seconds = time.perf_counter() - started
    engine.dispose()
    rate = total_decisions / total_seconds if total_seconds else 0.0
    engine_rate = len(facts) / engine_seconds if engine_seconds else 0.0
    print(f"replay end to end        {total_decisions:>10,} decisions in {total_seconds:7.1f} s", end="")
    print(f" = {rate:>9,.0f} decisions/s")
    print(f"rules engine alone (x2)  {len(facts):>10,} decisions in {engine_seconds:7.1f} s", end="")
    print(f" = {engine_rate:>9,.0f} decisions/s")
    print(f"replay / engine          {rate / engine_rate if engine_rate else 0:.2f}")
    peak = _peak_rss_mb()
    verdict = "within" if peak <= MEMORY_TARGET_MB else "OVER"
    print(f"peak memory of the replay process {peak:7.1f} MB ({verdict} the {MEMORY_TARGET_MB} MB target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--replay-only", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.replay_only:
        replay_only(args.database_url)
        return
    from bench.generate import generate

    with scratch_database() as url:
        summary = generate(url, args.n, args.seed)
        for line in summary.lines():
            print(line, flush=True)
        child = ["-m", "bench.bench_simulate", "--replay-only", "--database-url", url]
        subprocess.run([sys.executable, *child], check=True, cwd=ROOT)  # noqa: S603


if __name__ == "__main__":
    main()
