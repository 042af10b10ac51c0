"""Small-number suppression for published outputs: primary, then secondary until nothing can be undone.

The method (also in docs for analysts):

1. Primary: every count from 1 to ``threshold - 1`` (default 1–4) is hidden. Zero is shown as 0:
   that nobody in a group reached a point identifies nobody.
2. Secondary: a table's cells are tied together by margins, each saying "this total is the sum of
   these cells" (for a point, the "All" row is the sum of the groups). While any hidden cell could be
   worked out from what is shown, another cell is hidden: the smallest non-zero visible cell in a
   margin that contains it (its total if no member is left). "Could be worked out" is tested exactly:
   the hidden cells are unknowns in the margins' linear equations, and a cell is recoverable when it
   takes the same value in every solution, i.e. its coordinate is zero across the null space of the
   equations. One hidden cell in a margin is the simple case (subtract the others from the total);
   the null-space test also catches chains across two margins in two-way tables.
3. Anything built on a hidden count is hidden with it: a rate whose count or base is hidden, and an
   RRI, its interval and significance when the group's or the reference group's count or base is
   hidden (the report does this, see report.py). A point's base count is the count of another point
   in the same table, so it is the same cell and is hidden or shown with it.

Limits, stated so that publishers can respect them: the guarantee holds within one table (one
programme, period and dimension). Publishing tables that overlap — the same data by month and by
quarter, or by the five groups and by the 18+1 codes — links them, and suppression must then be
applied to the linked tables together; publish one breakdown per release or review the overlap.
Inequalities (a count is at most its base) narrow a hidden value to a range but never to one value
unless the range is a single number, which the rule "zero is shown" leaves as the only exact case.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

# scipy ships no type information (scipy-stubs would add it).
from scipy.linalg import null_space
from scipy.optimize import linprog

DEFAULT_THRESHOLD = 5  # counts from 1 up to, not including, this are hidden

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Margin(Generic[K]):
    """value[total] == sum(value[m] for m in members), and both sides may be shown."""

    total: K
    members: tuple[K, ...]


def primary(values: Mapping[K, int], threshold: int = DEFAULT_THRESHOLD) -> set[K]:
    if threshold < 1:
        raise ValueError("The suppression threshold must be at least 1")
    return {key for key, value in values.items() if 0 < value < threshold}


def recoverable(values: Mapping[K, int], margins: Sequence[Margin[K]], hidden: set[K]) -> list[K]:
    """Hidden cells whose value the shown cells and the margins pin down exactly."""
    unknowns = [key for key in values if key in hidden]
    if not unknowns:
        return []
    index = {key: i for i, key in enumerate(unknowns)}
    rows = []
    for margin in margins:
        row = [0.0] * len(unknowns)
        for member in margin.members:
            if member in index:
                row[index[member]] += 1.0
        if margin.total in index:
            row[index[margin.total]] -= 1.0
        if any(row):
            rows.append(row)
    if not rows:
        return []
    basis = null_space(np.array(rows))
    if basis.size == 0:
        return list(unknowns)
    free = np.abs(basis).max(axis=1) > 1e-9
    return [key for key in unknowns if not free[index[key]]]


def suppress(
    values: Mapping[K, int], margins: Iterable[Margin[K]], threshold: int = DEFAULT_THRESHOLD
) -> frozenset[K]:
    """The cells to hide: primary, then secondary until no hidden cell can be recovered."""
    margins = [m for m in margins if m.members]
    hidden = primary(values, threshold)
    order = {key: i for i, key in enumerate(values)}
    while True:
        exposed = recoverable(values, margins, hidden)
        if not exposed:
            return frozenset(hidden)
        # A cell may be pinned down through a chain of hidden cells (x = y, and y from a shown
        # total), so the first exposed cell with something left to hide beside it is covered.
        extra = next(
            (k for k in (_cover(values, margins, hidden, c, order) for c in exposed) if k is not None), None
        )
        if extra is None:
            # Pinned down only through shown cells further away: hide the smallest shown non-zero
            # cell in any margin with a hidden cell, and test again. Once every non-zero cell in
            # those margins is hidden, the equations left can only force a value to 0, and no
            # hidden value is 0, so this ends with nothing recoverable.
            extra = _smallest(values, margins, hidden, order)
        if extra is None:
            return frozenset(hidden)
        hidden.add(extra)


def _cover(
    values: Mapping[K, int], margins: list[Margin[K]], hidden: set[K], cell: K, order: Mapping[K, int]
) -> K | None:
    """The cell to hide next so that ``cell`` is no longer recoverable: the smallest available."""
    touching = [m for m in margins if cell in m.members or m.total == cell]
    members = [k for m in touching for k in m.members if k not in hidden and values[k] > 0]
    if not members:
        members = [m.total for m in touching if m.total not in hidden and values[m.total] > 0]
    if not members:
        return None
    return min(members, key=lambda k: (values[k], order[k]))


def _smallest(
    values: Mapping[K, int], margins: list[Margin[K]], hidden: set[K], order: Mapping[K, int]
) -> K | None:
    cells = {
        k
        for m in margins
        if m.total in hidden or any(k in hidden for k in m.members)
        for k in (m.total, *m.members)
        if k not in hidden and values[k] > 0
    }
    return min(cells, key=lambda k: (values[k], order[k])) if cells else None


# ---------------------------------------------------------------------------------------------
# Protection of a linked release: every table one analyst can obtain, as one set of equations.


@dataclass(frozen=True, slots=True)
class Linked(Generic[K]):
    """The relations anyone can see between published cells (each cell one key, however many
    tables show it):

    * ``sums``: value[total] == sum of value[members] (a total over its groups, a quarter over its
      months, an ethnic group over its codes);
    * ``at_most``: value[a] <= value[b] (a point's count is at most its base point's; one programme's
      count is at most all programmes');
    * ``at_most_sum``: value[total] <= sum of value[members] (all programmes count an encounter once,
      so at most the sum over the programmes).
    """

    sums: Sequence[Margin[K]] = ()
    at_most: Sequence[tuple[K, K]] = ()
    at_most_sum: Sequence[Margin[K]] = ()


Row = tuple[dict[K, float], bool]  # coefficients and whether it is an equality (else <= 0)


def _rows(linked: Linked[K]) -> list[Row[K]]:
    rows: list[Row[K]] = []
    for margin in linked.sums:
        coef: dict[K, float] = defaultdict(float)
        for member in margin.members:
            coef[member] += 1.0
        coef[margin.total] -= 1.0
        rows.append((dict(coef), True))
    for small, big in linked.at_most:
        if small != big:
            rows.append(({small: 1.0, big: -1.0}, False))
    for margin in linked.at_most_sum:
        coef = defaultdict(float)
        for member in margin.members:
            coef[member] -= 1.0
        coef[margin.total] += 1.0
        rows.append((dict(coef), False))
    return rows


def possible_values(low: float, high: float) -> float:
    """How many whole numbers lie in [low, high] (infinite when unbounded above)."""
    if math.isinf(high):
        return math.inf
    return math.floor(high + 1e-6) - math.ceil(low - 1e-6) + 1


def intervals(
    values: Mapping[K, int], linked: Linked[K], hidden: Iterable[K], rows: list[Row[K]] | None = None
) -> dict[K, tuple[float, float]]:
    """For each hidden cell, the tightest [low, high] consistent with every shown cell, every
    relation, and the facts that counts are not negative and a hidden count is at least 1 (zeros
    are shown): the linear-programming attack, one minimisation and one maximisation per cell."""
    hidden_set = set(hidden)
    if not hidden_set:
        return {}
    found: dict[K, tuple[float, float]] = {}
    for component, comp_rows in _components(values, rows if rows is not None else _rows(linked), hidden_set):
        found.update(_solve(component, comp_rows))
    return found


Reduced = tuple[dict[K, float], bool, float]  # coefficients over hidden cells, equality?, right-hand side


def _components(
    values: Mapping[K, int], rows: list[Row[K]], hidden: set[K]
) -> list[tuple[list[K], list[Reduced[K]]]]:
    """Hidden cells in groups that share no relation, each with its relations reduced to them."""
    parent: dict[K, K] = {k: k for k in hidden}

    def find(k: K) -> K:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    reduced: list[Reduced[K]] = []
    for coef, equality in rows:
        unknown = {k: c for k, c in coef.items() if k in hidden and c}
        if not unknown:
            continue
        rhs = -sum(c * values[k] for k, c in coef.items() if k not in hidden)
        reduced.append((unknown, equality, rhs))
        first, *rest = unknown
        for other in rest:
            a, b = find(first), find(other)
            if a != b:
                parent[a] = b
    members: dict[K, list[K]] = defaultdict(list)
    for k in hidden:
        members[find(k)].append(k)
    grouped: dict[K, list[Reduced[K]]] = defaultdict(list)
    for row in reduced:
        grouped[find(next(iter(row[0])))].append(row)
    return [(cells, grouped[root]) for root, cells in members.items()]


# Above any count this app will see: a cell bounded by nothing else is bounded here, so that every
# linear programme has a finite optimum (and a solution to learn from).
_CEILING = 1e9


def _solve(
    cells: list[K], rows: list[Reduced[K]], threshold: int | None = None, limit: int | None = None
) -> dict[K, tuple[float, float]]:
    """Each cell's [low, high] over the component. With ``threshold``, only as tight as needed to
    tell a cell that has at least ``threshold`` possible values from one that has fewer: the
    solutions found on the way are kept, and a cell they already spread that wide is not solved for.
    With ``limit``, it stops after that many such narrow cells (the rest are not returned).
    """
    index = {k: i for i, k in enumerate(cells)}
    n = len(cells)
    if not rows:
        return dict.fromkeys(cells, (1.0, math.inf))
    eq = [r for r in rows if r[1]]
    ub = [r for r in rows if not r[1]]

    def matrix(chosen: list[Reduced[K]]) -> tuple[Any, Any]:
        if not chosen:
            return None, None
        a = np.zeros((len(chosen), n))
        for i, (coef, _, _) in enumerate(chosen):
            for k, c in coef.items():
                a[i, index[k]] += c
        return a, np.array([r[2] for r in chosen])

    a_eq, b_eq = matrix(eq)
    a_ub, b_ub = matrix(ub)

    def optimum(c: Any) -> Any:
        result = linprog(
            c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=[(1, _CEILING)] * n, method="highs"
        )
        if result.status != 0:
            raise ArithmeticError(f"The published figures are inconsistent: {result.message}")
        return result.x

    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)

    def learn(x: Any) -> None:
        np.minimum(low, x, out=low)
        np.maximum(high, x, out=high)

    if threshold is not None:
        learn(optimum(np.ones(n)))
        learn(optimum(-np.ones(n)))
        # A few more directions (fixed, so the result does not vary) spread the pool further.
        signs = np.random.default_rng(0).choice([-1.0, 1.0], size=(4, n))
        for c in signs:
            learn(optimum(c))
    found: dict[K, tuple[float, float]] = {}
    narrow = 0
    for k, i in index.items():
        for sign in (-1.0, 1.0):
            if threshold is not None and possible_values(low[i], high[i]) >= threshold:
                break
            c = np.zeros(n)
            c[i] = sign
            learn(optimum(c))
        hi = math.inf if high[i] >= _CEILING - 1 else float(high[i])
        found[k] = (float(low[i]), hi)
        if threshold is not None and possible_values(low[i], high[i]) < threshold:
            narrow += 1
            if limit is not None and narrow >= limit:
                break
    return found


_ROUND = 20  # narrow cells acted on per component per round


def protect(values: Mapping[K, int], linked: Linked[K], threshold: int = DEFAULT_THRESHOLD) -> frozenset[K]:
    """The cells to hide from a linked release so that no hidden count can be narrowed, by any
    combination of the relations, to fewer than ``threshold`` possible values.

    Primary cells (1 to threshold - 1) are hidden; then, while the attack narrows any hidden cell
    too far, the smallest shown non-zero cell in a relation with it is hidden too (secondary
    suppression), and the attack is run again on what changed. It ends: each round hides a cell,
    and a cell whose every relation is hidden is bounded by nothing above.
    """
    if threshold < 1:
        raise ValueError("The suppression threshold must be at least 1")
    rows = _rows(linked)
    touching: dict[K, list[int]] = defaultdict(list)
    for i, (coef, _) in enumerate(rows):
        for k in coef:
            touching[k].append(i)
    order = {key: i for i, key in enumerate(values)}
    hidden = _singles(values, rows, primary(values, threshold), order)
    cache: dict[frozenset[K], dict[K, tuple[float, float]]] = {}
    while True:
        narrow: list[K] = []
        for component, comp_rows in _components(values, rows, hidden):
            key = frozenset(component)
            solved = cache.get(key)
            if solved is None:
                # A large component is not solved through: a few narrow cells are enough to act
                # on, and it is solved again once they are covered. Only a clean one is kept.
                solved = _solve(component, comp_rows, threshold, limit=_ROUND)
            found = [k for k, (lo, hi) in solved.items() if possible_values(lo, hi) < threshold]
            if not found:
                cache[key] = solved
            narrow += found
        if not narrow:
            return frozenset(hidden)
        added: set[K] = set()
        for cell in sorted(narrow, key=lambda k: order.get(k, 0)):
            partner = _partner(values, rows, touching[cell], hidden | added, order)
            if partner is not None:
                added.add(partner)
        if not added:
            # Nothing left beside the narrow cells: hide the smallest shown cell that shares any
            # relation with a hidden one (the components grow until they are wide enough).
            partner = _partner(values, rows, [i for k in hidden for i in touching[k]], hidden, order)
            if partner is None:
                return frozenset(hidden)
            added.add(partner)
        hidden |= added


def _singles(values: Mapping[K, int], rows: list[Row[K]], hidden: set[K], order: Mapping[K, int]) -> set[K]:
    """The classic first step, without linear programming: while a sum has exactly one hidden
    cell (subtraction gives it), hide the smallest shown non-zero cell beside it."""
    hidden = set(hidden)
    sums = [i for i, (_, equality) in enumerate(rows) if equality]
    changed = True
    while changed:
        changed = False
        for i in sums:
            if sum(1 for k in rows[i][0] if k in hidden) == 1:
                partner = _partner(values, rows, [i], hidden, order)
                if partner is not None:
                    hidden.add(partner)
                    changed = True
    return hidden


def _partner(
    values: Mapping[K, int],
    rows: list[Row[K]],
    indices: Iterable[int],
    hidden: set[K],
    order: Mapping[K, int],
) -> K | None:
    """The smallest shown non-zero cell in the given relations, sums before inequalities."""
    best: tuple[int, int, int] | None = None
    chosen: K | None = None
    for i in set(indices):
        coef, equality = rows[i]
        for k in coef:
            if k in hidden or values[k] <= 0:
                continue
            rank = (0 if equality else 1, values[k], order.get(k, 0))
            if best is None or rank < best:
                best, chosen = rank, k
    return chosen
