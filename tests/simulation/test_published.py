"""What a simulation publishes: attacked as the whole set an analyst gets (every row of the CSV
and the headline figures), with a linear-programming attacker that knows every relation between
them; and the command line."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sqlalchemy.orm import Session

from divert.monitoring.simulation import (
    COUNTS,
    ELIGIBLE,
    NOT_ELIGIBLE,
    Tally,
    result_rows,
    summarise,
    to_json,
)

from .dataset import P, build
from .test_replay import IN_FORCE

THRESHOLD = 5
OUTCOMES = (NOT_ELIGIBLE, "route:yot", "route:yju", ELIGIBLE)


def attack(
    rows: list[dict[str, Any]], headline: dict[str, Any]
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """The tightest interval for every hidden count, from everything published."""
    cells: dict[tuple[str, str, str], int | None] = {}
    for row in rows:
        for name in COUNTS:
            cells[(row["group"], row["point"], name)] = row[name]
        cells[(row["group"], row["point"], "stayed")] = None  # never published
    unknown = [k for k, v in cells.items() if v is None]
    index = {k: i for i, k in enumerate(unknown)}
    eq: list[tuple[dict[tuple[str, str, str], float], float]] = []
    le: list[tuple[dict[tuple[str, str, str], float], float]] = []

    def add(target: list[Any], coef: dict[tuple[str, str, str], float]) -> None:
        known = sum(c * cells[k] for k, c in coef.items() if cells[k] is not None)  # type: ignore[operator]
        target.append(({k: c for k, c in coef.items() if cells[k] is None}, -known))

    groups = {r["group"] for r in rows} - {"All"}
    points = {r["point"] for r in rows}
    for g in (*groups, "All"):
        for p in points:
            if (g, p, "current_count") not in cells:
                continue
            k = lambda n, g=g, p=p: (g, p, n)  # noqa: E731
            add(eq, {k("current_count"): 1, k("stayed"): -1, k("changed_out"): -1})
            add(eq, {k("draft_count"): 1, k("stayed"): -1, k("changed_in"): -1})
            add(le, {k("current_count"): 1, k("base_current"): -1})
            add(le, {k("draft_count"): 1, k("base_draft"): -1})
            add(le, {k("changed_in"): 1, k("draft_count"): -1})
            add(le, {k("changed_out"): 1, k("current_count"): -1})
            if p == "eligible":
                add(eq, {k("base_current"): 1, k("base_draft"): -1})
            else:
                add(eq, {k("base_current"): 1, (g, "eligible", "current_count"): -1})
                add(eq, {k("base_draft"): 1, (g, "eligible", "draft_count"): -1})
                add(eq, {k("cannot_tell"): 1, (g, "eligible", "cannot_tell"): -1})
    for p in points:
        for name in (*COUNTS, "stayed"):
            coef: dict[tuple[str, str, str], float] = defaultdict(float)
            coef[("All", p, name)] += 1
            for g in groups:
                coef[(g, p, name)] -= 1
            add(eq, dict(coef))
    if headline.get("decisions") is not None:
        coef = {("All", "eligible", "base_current"): 1.0, ("All", "eligible", "cannot_tell"): 1.0}
        add(eq, coef)
        eq[-1] = (eq[-1][0], eq[-1][1] + headline["decisions"])
    if not unknown:
        return {}

    def matrix(items: list[Any]) -> tuple[list[list[float]], list[float]] | tuple[None, None]:
        items = [(c, b) for c, b in items if c]
        if not items:
            return None, None
        a = [[0.0] * len(unknown) for _ in items]
        for r, (c, _) in enumerate(items):
            for key, v in c.items():
                a[r][index[key]] += v
        return a, [b for _, b in items]

    a_eq, b_eq = matrix(eq)
    a_ub, b_ub = matrix(le)
    # Zeros are shown, so every hidden count is at least 1; "stayed" may be 0.
    bounds = [(0 if k[2] == "stayed" else 1, None) for k in unknown]
    found = {}
    for key in unknown:
        if key[2] == "stayed":
            continue
        c = [0.0] * len(unknown)
        c[index[key]] = 1.0
        low = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        c[index[key]] = -1.0
        high = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0, "the published figures must be consistent"
        found[key] = (low.fun, float("inf") if high.status == 3 else -high.fun)
    return found


def _assert_protected(result: Any) -> None:
    stored = to_json(result)
    for key, (low, high) in attack(stored["rows"], stored).items():
        possible = float("inf") if high == float("inf") else int(high + 1e-6) - int(-(-low // 1)) + 1
        assert possible >= THRESHOLD, f"{key} narrowed to [{low}, {high}]"


pairs = st.tuples(st.sampled_from(OUTCOMES), st.sampled_from(OUTCOMES))


@settings(max_examples=25)
@given(
    st.dictionaries(
        st.sampled_from(["White", "Black", "Asian", "Mixed"]),
        st.dictionaries(pairs, st.integers(min_value=0, max_value=30), min_size=1, max_size=6),
        min_size=2,
        max_size=4,
    ),
    st.dictionaries(st.sampled_from(["White", "Black"]), st.integers(min_value=0, max_value=6)),
)
def test_no_hidden_count_can_be_narrowed_below_the_threshold(
    joint: dict[str, dict[tuple[str, str], int]], cannot: dict[str, int]
) -> None:
    tally = Tally()
    for group, counts in joint.items():
        tally.joint[group] = Counter(counts)
    tally.cannot_tell.update(cannot)
    tally.decisions = sum(sum(c.values()) for c in joint.values()) + sum(cannot.values())
    result = summarise(tally, "ethnicity_group", threshold=THRESHOLD)
    _assert_protected(result)
    for row in result.rows:
        if row.hidden:
            assert row.rri_current is None and row.rri_draft is None and row.change_low is None


def test_the_pinned_history_published_hides_its_small_numbers(db_session: Session) -> None:
    from divert.background.simulations import simulate

    from .test_replay import NARROWER, scope

    build(db_session)
    result = simulate(db_session, NARROWER, scope(), threshold=THRESHOLD)
    rows = result_rows(result)
    black = next(r for r in rows if r["group"] == "Black" and r["point"] == "eligible")
    assert black["changed_out"] is None  # 2 people
    _assert_protected(result)


def test_the_command_writes_one_row_per_group_and_point(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    build(db_session)
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        IN_FORCE.replace("version: 3", "version: 9", 1).replace("age < 18", "age < 17", 1), encoding="utf-8"
    )
    out = tmp_path / "simulation.csv"
    args = ["simulate", "--programme", P, "--draft", str(draft), "--from", "2026-02-01", "--to", "2026-03-31"]
    result = app.test_cli_runner().invoke(args=[*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Replayed 12 decisions" in result.output and "5 would change" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "group", "point", "current_count", "draft_count", "base_current", "base_draft", "rate_current",
        "rate_draft", "rri_current", "rri_draft", "changed_in", "changed_out", "cannot_tell",
    ]  # fmt: skip
    white = next(r for r in rows if r["group"] == "White" and r["point"] == "eligible")
    assert (white["current_count"], white["draft_count"], white["changed_out"]) == ("4", "2", "2")
    published = app.test_cli_runner().invoke(args=[*args, "--output", str(out), "--published"])
    assert published.exit_code == 0, published.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    white = next(r for r in rows if r["group"] == "White" and r["point"] == "eligible")
    assert white["changed_out"] == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--programme", "divert"], "not 'divert'"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], "--from must be on or before --to"),
    ],
)
def test_the_command_refuses_mistakes_with_a_message(
    app: Flask, db_session: Session, tmp_path: Path, extra: list[str], message: str
) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(IN_FORCE.replace("version: 3", "version: 9", 1), encoding="utf-8")
    args = ["simulate", "--programme", P, "--draft", str(draft), "--output", str(tmp_path / "x.csv"), *extra]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_a_draft_that_is_not_a_definition_is_refused(app: Flask, db_session: Session, tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text("code: tvp-youth-drugs\nversion: x\n", encoding="utf-8")
    args = ["simulate", "--programme", P, "--draft", str(draft), "--output", str(tmp_path / "x.csv")]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and "not a valid definition" in result.output
