"""How long protecting a linked release takes, against per-table suppression in the same run.

Run from the repository root:

    .venv/bin/python -m bench.bench_release                 # 20,000 people, two years
    .venv/bin/python -m bench.bench_release --people 200000

It counts synthetic people (seeded, no database) into every table one analyst can obtain: each of
three programmes and all together, by month, quarter, year and the whole range, by all six
breakdowns (18+1 codes, 30 postcode districts), with a reason table; then times
``release.protect_release`` (the linked protection the page and every download read) beside the
baseline, ``suppression.suppress`` run on each table on its own (the method it replaces, which
subtraction across tables undoes). It prints both, their ratio, and how many cells each hides.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from divert.monitoring.points import POINTS  # noqa: E402
from divert.monitoring.release import (  # noqa: E402
    ALL_PROGRAMMES,
    REASON,
    SHARED,
    WHOLE,
    Key,
    protect_release,
)
from divert.monitoring.suppression import Margin, suppress  # noqa: E402

ETHNIC = {
    **{f"W{i}": "White" for i in range(1, 5)},
    **{f"M{i}": "Mixed" for i in range(1, 5)},
    **{f"A{i}": "Asian" for i in range(1, 6)},
    **{f"B{i}": "Black" for i in range(1, 4)},
    **{f"O{i}": "Other" for i in (1, 9)},
    "NS": "Not stated",
}
CODES = sorted(ETHNIC)
WEIGHTS = [30 if c.startswith("W") else 4 if c == "NS" else 2 for c in CODES]
PROGRAMMES = ("adult", "divert", "youth")
LADDER = ("encountered", "eligible", "offered", "accepted", "engaged", "completed")


def counts(people: int, months: int, seed: int) -> dict[Key, int]:
    rng = random.Random(seed)
    values: dict[Key, int] = defaultdict(int)
    areas = [f"OX{i}" for i in range(30)]
    for _ in range(people):
        code = rng.choices(CODES, WEIGHTS)[0]
        month = rng.randrange(months)
        year, mon = 2024 + month // 12, month % 12 + 1
        groups = {
            "ethnicity_group": ETHNIC[code],
            "ethnicity_code": code,
            "officer_ethnicity": ETHNIC[code] if rng.random() < 0.9 else "Not recorded",
            "gender": rng.choice(["male", "male", "female"]),
            "age_band": rng.choice(["10–14", "15–17", "18–20", "21–25", "26–35", "36+"]),
            "area": rng.choice(areas),
        }
        periods = (f"{year}-{mon:02d}", f"{year}-Q{(mon - 1) // 3 + 1}", f"{year}", WHOLE)
        reached = {rng.choice(PROGRAMMES): rng.choices(range(6), [3, 2, 2, 1, 1, 4])[0]}
        reached[ALL_PROGRAMMES] = max(reached.values())
        why = rng.choice(["Other (free text)", "No reason recorded"])
        escalated = rng.random() < 0.1
        formal = rng.random() < 0.3
        for prog, depth in reached.items():
            points = [*LADDER[: depth + 1]]
            points += ["escalated"] if escalated and depth >= 3 else []
            points += ["formal_outcome"] if formal else []
            for period in periods:
                for dim, group in groups.items():
                    for point in points:
                        values[prog, period, dim, group, point] += 1
            if depth == 1:
                for dim, group in groups.items():
                    values[prog, WHOLE, dim, group, f"{REASON}not_offered:{why}"] += 1
    return dict(values)


def per_table(values: dict[Key, int]) -> int:
    """The baseline: each (programme, period, breakdown) table, groups × points, on its own."""
    tables: dict[tuple[str, str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for (prog, period, dim, group, point), n in values.items():
        if not point.startswith(REASON):
            tables[prog, period, dim][group, point] = n
    hidden = 0
    for table in tables.values():
        groups = sorted({g for g, _ in table})
        for p in POINTS:
            for g in groups:
                table.setdefault((g, p.name), 0)
            table["All", p.name] = sum(table[g, p.name] for g in groups)
        margins = [Margin(("All", p.name), tuple((g, p.name) for g in groups)) for p in POINTS]
        hidden += len(suppress(table, margins))
    return hidden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    values = counts(args.people, args.months, args.seed)
    print(f"{args.people} people over {args.months} months: {len(values)} non-zero cells")
    timings: dict[str, list[float]] = {"baseline": [], "linked": []}
    hidden: dict[str, int] = {}
    for _ in range(args.rounds):
        started = time.perf_counter()
        hidden["baseline"] = per_table(values)
        timings["baseline"].append(time.perf_counter() - started)
        started = time.perf_counter()
        release = protect_release(values, PROGRAMMES, ETHNIC)
        timings["linked"].append(time.perf_counter() - started)
        hidden["linked"] = len(release.hidden)
    cells = len(release.values)
    labels = {
        "baseline": "baseline: per-table suppression (undoable across tables)",
        "linked": "linked release: protect_release (every table together)",
    }
    for name, label in labels.items():
        median = statistics.median(timings[name])
        print(f"{label:<60} median {median:7.3f} s   hides {hidden[name]:6d} cells")
    ratio = statistics.median(timings["linked"]) / statistics.median(timings["baseline"])
    print(f"{'':<60} ratio to baseline {ratio:7.1f}")
    whole = [k for k in release.values if k[1] == WHOLE and not k[4].startswith(REASON)]
    shown = sum(1 for k in whole if k not in release.hidden)
    totals = [k for k in whole if k[2] == SHARED]
    print(
        f"linked release: {cells} cells with totals, {len(release.hidden)} hidden; whole range "
        f"{shown} of {len(whole)} shown; whole-range totals shown "
        f"{sum(1 for k in totals if k not in release.hidden)} of {len(totals)}"
    )


if __name__ == "__main__":
    main()
