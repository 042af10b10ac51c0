"""An analyst who uses linear programming on everything published, written apart from the engine.

Cells are ``(programme, period, dimension, group, point)``: a group's "All" row is one cell for
every breakdown (dimension "*"), since every breakdown counts the same people; a reason table's
cell has the point "reason:<kind>:<reason>". The relations are worked out here from the cells'
names alone, as an analyst would from the files: a total is the sum of its groups, an ethnic group
of its codes, a quarter of its months, a year of its quarters, the whole range of its years, a
reason total of its reasons, all programmes' reasons of the programmes'; a point is at most its
base; one programme at most all, and all at most their sum; a hidden count is at least 1 (zeros
are shown) and no count is negative. A cell no file shows is 0 (the pages show every group and
period with data). Each hidden cell's tightest interval is two linear programmes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from divert.monitoring.points import POINTS

Cell = tuple[str, str, str, str, str]
BASE = {p.name: p.base for p in POINTS}
ALL = "All"
ALL_REASONS = "All reasons"


def _up(period: str, whole: str) -> str | None:
    if period == whole:
        return None
    if "-Q" in period:
        return period[:4]
    if len(period) == 7:
        return f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"
    return whole


def relations(
    cells: Mapping[Cell, int | None], ethnic_group: Mapping[str, str], whole: str
) -> tuple[list[dict[Cell, float]], list[dict[Cell, float]]]:
    """(equalities sum(coef * value) == 0, inequalities sum(coef * value) <= 0)."""
    eq: list[dict[Cell, float]] = []
    ub: list[dict[Cell, float]] = []
    sums: dict[tuple[Cell, str], list[Cell]] = defaultdict(list)  # (total, which sum): members
    for cell in cells:
        prog, period, dim, group, point = cell
        if group != ALL:
            sums[(prog, period, "*", ALL, point), "groups of " + dim].append(cell)
        if dim == "ethnicity_code" and group in ethnic_group:
            sums[(prog, period, "ethnicity_group", ethnic_group[group], point), "codes"].append(cell)
        parent = _up(period, whole)
        if parent is not None:
            sums[(prog, parent, dim, group, point), "periods"].append(cell)
        if point.startswith("reason:"):
            kind = point.split(":")[1]
            if not point.endswith(":" + ALL_REASONS):
                sums[(prog, period, dim, group, f"reason:{kind}:{ALL_REASONS}"), "reasons"].append(cell)
            if prog != "all":
                sums[("all", period, dim, group, point), "programmes"].append(cell)
        elif prog != "all":
            ub.append({cell: 1.0, ("all", *cell[1:]): -1.0})
        base = BASE.get(point)
        if base is not None:
            ub.append({cell: 1.0, (prog, period, dim, group, base): -1.0})
    for (total, _), members in sums.items():
        row: dict[Cell, float] = defaultdict(float)
        for m in members:
            row[m] += 1.0
        row[total] -= 1.0
        eq.append(dict(row))
    programmes = sorted({c[0] for c in cells} - {"all"})
    for cell in cells:
        if cell[0] == "all" and not cell[4].startswith("reason:"):
            row = defaultdict(float, {cell: 1.0})
            for p in programmes:
                row[(p, *cell[1:])] -= 1.0
            ub.append(dict(row))
    return eq, ub


def narrowest(
    cells: Mapping[Cell, int | None], ethnic_group: Mapping[str, str], whole: str, enough: float
) -> dict[Cell, tuple[float, float]]:
    """The tightest interval the attacker can give each hidden cell, or one at least ``enough``
    wide (solutions found on the way show a cell can be that far apart)."""
    hidden = sorted(c for c, v in cells.items() if v is None)
    if not hidden:
        return {}
    col = {c: i for i, c in enumerate(hidden)}
    eq, ub = relations(cells, ethnic_group, whole)

    def reduce(rows: list[dict[Cell, float]]) -> tuple[csr_matrix | None, np.ndarray | None]:
        data: list[float] = []
        index: list[int] = []
        starts = [0]
        b = []
        for row in rows:
            line: dict[int, float] = defaultdict(float)
            rhs = 0.0
            for c, k in row.items():
                if c in col:
                    line[col[c]] += k
                else:
                    rhs -= k * (cells.get(c) or 0)
            line = {i: k for i, k in line.items() if k}
            if line:
                index += line
                data += line.values()
                starts.append(len(index))
                b.append(rhs)
            elif rows is eq:
                assert abs(rhs) < 1e-9, ("a published sum does not hold", row)
            else:
                assert rhs >= -1e-9, ("a published inequality does not hold", row)
        if not b:
            return None, None
        return csr_matrix((data, index, starts), shape=(len(b), len(hidden))), np.array(b)

    a_eq, b_eq = reduce(eq)
    a_ub, b_ub = reduce(ub)
    low = np.full(len(hidden), np.inf)
    high = np.full(len(hidden), -np.inf)

    def solve(c: np.ndarray) -> float:
        r = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(1, 1e7), method="highs")
        assert r.status == 0, r.message  # the true values are a solution
        np.minimum(low, r.x, out=low)
        np.maximum(high, r.x, out=high)
        return float(r.fun)

    rng = np.random.default_rng(0)
    for c in (np.ones(len(hidden)), -np.ones(len(hidden)), *rng.choice([-1.0, 1.0], (4, len(hidden)))):
        solve(c)
    # Then all the cells not yet spread far apart together, while that spreads some more.
    for _ in range(8):
        narrow = (high - low) < enough
        if not narrow.any():
            break
        before = int(narrow.sum())
        solve(-narrow.astype(float))
        solve(narrow.astype(float))
        if int(((high - low) < enough).sum()) == before:
            break
    found = {}
    for cell, i in col.items():
        for sign in (1.0, -1.0):
            if high[i] - low[i] >= enough:
                break
            c = np.zeros(len(hidden))
            c[i] = sign
            solve(c)
        found[cell] = (float(low[i]), math.inf if high[i] >= 1e7 - 1 else float(high[i]))
    return found
