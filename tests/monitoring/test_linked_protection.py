"""The linked-release protection against an independent linear-programming attacker (pure, small)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from divert.monitoring.suppression import Linked, Margin, protect

Key = tuple[str, str]  # (period, group)
GROUPS = ("a", "b", "c")
MONTHS = ("m1", "m2")


def linked(cells: list[list[int]]) -> tuple[dict[Key, int], Linked[Key]]:
    """Two months and their quarter, three groups and their total: linked both ways."""
    values: dict[Key, int] = {}
    for m, row in zip(MONTHS, cells, strict=True):
        for g, n in zip(GROUPS, row, strict=True):
            values[m, g] = n
        values[m, "all"] = sum(row)
    for g in (*GROUPS, "all"):
        values["q", g] = sum(values[m, g] for m in MONTHS)
    sums = [Margin((p, "all"), tuple((p, g) for g in GROUPS)) for p in (*MONTHS, "q")]
    sums += [Margin(("q", g), tuple((m, g) for m in MONTHS)) for g in (*GROUPS, "all")]
    return values, Linked(sums)


def attack(values: dict[Key, int], relations: Linked[Key], hidden: frozenset[Key]) -> dict[Key, float]:
    """Possible whole values of each hidden cell, by one LP over everything (not by components)."""
    unknown = sorted(hidden)
    col = {k: i for i, k in enumerate(unknown)}
    a_eq, b_eq = [], []
    for m in relations.sums:
        row = np.zeros(len(unknown))
        rhs = 0.0
        for k, c in [*((k, 1.0) for k in m.members), (m.total, -1.0)]:
            if k in col:
                row[col[k]] += c
            else:
                rhs -= c * values[k]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    width = {}
    for k in unknown:
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(unknown))
            c[col[k]] = sign
            r = linprog(c, A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=(1, None))
            ends.append(math.inf if r.status == 3 else sign * r.fun)
            assert r.status in (0, 3)
        lo, hi = ends
        assert lo - 1e-6 <= values[k] <= hi + 1e-6  # the truth is always consistent
        width[k] = math.inf if math.isinf(hi) else math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) + 1
    return width


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=3, max_size=3), min_size=2, max_size=2))
def test_no_hidden_cell_narrower_than_the_threshold(cells: list[list[int]]) -> None:
    values, relations = linked(cells)
    hidden = protect(values, relations, 5)
    assert {k for k, v in values.items() if 0 < v < 5} <= hidden
    assert all(values[k] > 0 for k in hidden)  # zeros are shown
    assert all(w >= 5 for w in attack(values, relations, hidden).values())
