"""Protection by attack, for a small linked set of cells: a policy simulation's few hundred.

Primary cells are hidden; then, while a linear-programming attacker (``scipy.optimize.linprog``,
one minimisation and one maximisation per hidden cell, over every relation and the facts that
counts are not negative and a hidden count is at least 1) narrows any hidden cell to fewer than
``threshold`` possible values, the smallest shown non-zero cell in a relation with it is hidden
too. Exact, and slow beyond a few thousand cells: the monitoring release, which is far larger, is
protected by the proofs of ``monitoring.suppression.protect`` instead; a simulation's tables are
small enough to be attacked outright.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

# scipy ships no type information (scipy-stubs would add it).
from scipy.optimize import linprog

from divert.monitoring.suppression import DEFAULT_THRESHOLD, K, Linked, Row, _rows, primary


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
