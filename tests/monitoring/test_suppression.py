"""Suppression: small counts hidden, zeros shown, and nothing hidden can be recovered from what is shown."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from divert.monitoring.points import POINT_NAMES
from divert.monitoring.query import GroupCounts, Scope
from divert.monitoring.report import ALL_GROUPS, Options, assemble
from divert.monitoring.suppression import Margin, primary, suppress

counts = st.integers(min_value=0, max_value=40) | st.integers(min_value=0, max_value=6)


def determined(
    values: Mapping[Hashable, int], margins: Sequence[Margin[Hashable]], hidden: frozenset[Hashable]
) -> set[Hashable]:
    """Hidden cells fixed by the margins, found independently of the module: by matrix rank.

    A cell is fixed exactly when its unit vector lies in the row space of the margin equations
    over the hidden cells (subtracting shown cells from shown totals leaves those equations).
    """
    unknowns = sorted(hidden, key=repr)
    if not unknowns:
        return set()
    col = {k: i for i, k in enumerate(unknowns)}
    rows = []
    for m in margins:
        row = np.zeros(len(unknowns))
        for k in m.members:
            if k in col:
                row[col[k]] += 1
        if m.total in col:
            row[col[m.total]] -= 1
        rows.append(row)
    matrix = np.array(rows) if rows else np.zeros((1, len(unknowns)))
    rank = np.linalg.matrix_rank(matrix)
    fixed = set()
    for k in unknowns:
        unit = np.zeros(len(unknowns))
        unit[col[k]] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            fixed.add(k)
    return fixed


def one_way(cells: list[int]) -> tuple[dict[Hashable, int], list[Margin[Hashable]]]:
    values: dict[Hashable, int] = {("g", i): v for i, v in enumerate(cells)}
    values["total"] = sum(cells)
    return values, [Margin("total", tuple(k for k in values if k != "total"))]


def two_way(grid: list[list[int]]) -> tuple[dict[Hashable, int], list[Margin[Hashable]]]:
    values: dict[Hashable, int] = {}
    margins: list[Margin[Hashable]] = []
    n_cols = len(grid[0])
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            values[r, c] = v
    for r, row in enumerate(grid):
        values[r, "all"] = sum(row)
        margins.append(Margin((r, "all"), tuple((r, c) for c in range(n_cols))))
    for c in range(n_cols):
        values["all", c] = sum(row[c] for row in grid)
        margins.append(Margin(("all", c), tuple((r, c) for r in range(len(grid)))))
    values["all", "all"] = sum(map(sum, grid))
    margins.append(Margin(("all", "all"), tuple(("all", c) for c in range(n_cols))))
    margins.append(Margin(("all", "all"), tuple((r, "all") for r in range(len(grid)))))
    return values, margins


def check(
    values: dict[Hashable, int], margins: list[Margin[Hashable]], threshold: int = 5
) -> frozenset[Hashable]:
    hidden = suppress(values, margins, threshold)
    assert primary(values, threshold) <= hidden  # every small count is hidden
    assert all(values[k] != 0 for k in hidden)  # zero is always shown as 0
    assert not determined(values, margins, hidden)  # nothing hidden can be worked out
    return hidden


@given(st.lists(counts, min_size=1, max_size=8))
def test_one_way_tables_cannot_be_undone_by_subtraction(cells: list[int]) -> None:
    values, margins = one_way(cells)
    hidden = check(values, margins)
    shown_members = [k for k in margins[0].members if k not in hidden]
    if "total" not in hidden:
        # The classic attack: total minus the shown cells is the sum of the hidden ones, never one of them.
        remainder = values["total"] - sum(values[k] for k in shown_members)
        assert len([k for k in margins[0].members if k in hidden]) != 1 or remainder == 0


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda cols: st.lists(st.lists(counts, min_size=cols, max_size=cols), min_size=2, max_size=5)
    )
)
def test_two_way_tables_with_both_margins_cannot_be_undone(grid: list[list[int]]) -> None:
    values, margins = two_way(grid)
    check(values, margins)


@given(st.integers(2, 10), st.lists(counts, min_size=3, max_size=6))
def test_threshold_is_configurable(threshold: int, cells: list[int]) -> None:
    values, margins = one_way(cells)
    hidden = check(values, margins, threshold)
    assert {k for k, v in values.items() if 0 < v < threshold} <= hidden


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    values, margins = one_way([3, 0, 12, 40])
    assert suppress(values, margins) == {("g", 0), ("g", 2)}


def test_a_lone_non_zero_cell_hides_its_total() -> None:
    values, margins = one_way([0, 3, 0])
    assert suppress(values, margins) == {("g", 1), "total"}


@st.composite
def journeys(draw: st.DrawFn) -> list[GroupCounts]:
    """Nested counts like a real table: each point at most its base."""
    rows = []
    for group in ("White", "Black", "Asian", "Not stated"):
        c: dict[str, int] = {"encountered": draw(st.integers(0, 30))}
        for point, base in (
            ("eligible", "encountered"),
            ("offered", "eligible"),
            ("accepted", "offered"),
            ("engaged", "accepted"),
            ("completed", "engaged"),
            ("escalated", "accepted"),
            ("formal_outcome", "encountered"),
            ("decision_route", "accepted"),
            ("diverted_again", "decision_route"),
            ("decision_formal", "decision_route"),
        ):
            c[point] = draw(st.integers(0, c[base]))
        rows.append(GroupCounts("2026-Q1", group, c))
    return rows


@settings(max_examples=100, deadline=None)
@given(journeys())
def test_published_report_totals_add_up_and_hide_consistently(counts_: list[GroupCounts]) -> None:
    groups = ["White", "Black", "Asian", "Not stated"]
    report = assemble(Scope("ethnicity_group"), counts_, groups, Options(published=True))
    by = {(r.group, r.point): r for r in report.rows}
    raw = {(c.group, p): c.counts[p] for c in counts_ for p in POINT_NAMES}
    for point in POINT_NAMES:
        total = by[ALL_GROUPS, point]
        assert total.count in (None, sum(raw[g, point] for g in groups))  # totals add up
        hidden = [g for g in groups if by[g, point].count is None]
        assert len(hidden) != 1 or total.count is None  # never exactly one unknown under a shown total
        for g in groups:
            row = by[g, point]
            if row.count is not None:
                assert row.count == raw[g, point]
            else:
                assert raw[g, point] > 0 and row.rate is None and row.rri is None
            if row.base_point is not None:
                # A base count is the same cell as the base point's count: hidden together.
                assert row.base_count == by[g, row.base_point].count
