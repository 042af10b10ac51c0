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
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

# scipy ships no type information (scipy-stubs would add it).
from scipy.linalg import null_space

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


Delta = dict[K, int]  # a change to some cells: +1 or -1 each
Cells = Callable[[], Iterable[tuple[K, int]]]  # a change's cells with their signs, each cell once


@dataclass(frozen=True, slots=True)
class Change(Generic[K]):
    """A candidate proof: a ``shared`` change that moves the hidden cell, made to keep every sum
    true by any mix of the ``parts`` (each part with the shared change keeps every sum true on
    its own; the parts touch different cells and different relations). With no parts, the shared
    change keeps every sum true by itself. The cells are built only when the change is checked."""

    size: int
    shared: Cells[K]
    parts: Sequence[Cells[K]] = ()


# Wide-enough changes compared by cost, the smallest first. One: the first proof is taken. On the
# 1,000,000-encounter release (90,867 cells) comparing four took 154 s and hid 28,890 cells; the
# first alone took 122 s and hid 28,697 (every proof is checked the same way, so both are safe).
_CHOICES = 1
# Candidates checked per stage, the smallest first: a bound on the work for each hidden cell (a
# cell none of them proves goes on to the next stage, with bigger changes).
_TRIES = 64
_MORE = 2  # then up to this many times as many, before every non-zero cell is hidden


@dataclass(slots=True)
class _Side(Generic[K]):
    cells: Delta[K]
    rows: dict[int, float]  # how much each relation moves per unit of the side's step
    low: float
    high: float


class Certifier(Generic[K]):
    """Checks a proof that hidden cells are protected, without linear programming.

    A proof is a change ``delta`` (+1 or -1 on some cells) that keeps every sum true: then the true
    table plus ``t * delta`` shows exactly what the true table shows, for every ``t`` that keeps the
    inequalities (a point at most its base, one programme at most all, ...) and keeps each changed
    cell at least 1. Every changed cell is hidden, so an attacker cannot tell these tables apart:
    each changed cell can be anything across an interval as wide as the range of ``t``. Several
    such changes that share the moved cell and otherwise touch different cells and relations
    (the cell against each of several partners) add up: the shared cells move by the sum of their
    steps. If the range is at least the threshold, no linear-programming attack narrows those cells
    below it, and hiding more cells later only widens what the attacker must allow.
    """

    def __init__(self, values: Mapping[K, int], linked: Linked[K]) -> None:
        self.values = values
        self.touching: dict[K, list[tuple[int, float]]] = defaultdict(list)
        self.equality: list[bool] = []
        self.slack: list[float] = []
        for i, (coef, equality) in enumerate(_rows(linked)):
            self.equality.append(equality)
            # How far the true values are inside the inequality (sum(coef * value) <= 0).
            self.slack.append(-sum(c * values.get(k, 0) for k, c in coef.items()))
            for k, c in coef.items():
                if c:
                    self.touching[k].append((i, c))

    def side(self, cells: Iterable[tuple[K, int]], need: float = 0.0) -> _Side[K] | None:
        """The cells' step range from their own bounds and the inequalities only they touch; None
        when a zero would move (zeros are shown) or the range is already narrower than ``need``.

        The cells' own bounds are taken first, without the relations: most candidates fail on
        them, and adding up the relations a change moves is most of the work. (Keeping each
        answer for the next cell that offers the same change was tried: a third of the changes
        repeat, but keeping them took 870 MB at 200,000 people and was slower.)"""
        cells = tuple(cells)
        values = self.values
        low, high = -math.inf, math.inf
        for k, sign in cells:
            value = values.get(k, 0)
            if value <= 0:
                return None
            if sign > 0:
                if 1 - value > low:
                    low = 1 - value
            elif value - 1 < high:
                high = value - 1
        if high - low < need:
            return None
        moved: dict[int, float] = defaultdict(float)
        touching = self.touching
        for k, sign in cells:
            for i, c in touching.get(k, ()):
                moved[i] += c * sign
        rows = {i: a for i, a in moved.items() if a > 1e-9 or a < -1e-9}
        equality, slack = self.equality, self.slack
        for i, a in rows.items():
            if equality[i]:
                continue
            if a > 0:
                bound = slack[i] / a
                if bound < high:
                    high = bound
            else:
                bound = slack[i] / a
                if bound > low:
                    low = bound
            if high - low < need:
                return None
        return _Side(dict(cells), rows, low, high)

    def width(self, delta: Iterable[tuple[K, int]], need: float = 0.0) -> float | None:
        """The range of ``t`` a change that keeps every sum by itself allows (None: it breaks a
        sum, moves a zero, or is narrower than ``need``)."""
        side = self.side(delta, need)
        if side is None or any(self.equality[i] for i in side.rows):
            return None
        return side.high - side.low

    def proof(
        self, change: Change[K], need: float
    ) -> tuple[float, Delta[K], list[tuple[Delta[K], float]]] | None:
        """(width for the shared cells, the shared cells, [(a part's cells, its own width)]) for
        the first parts that make the shared cells' range at least ``need``."""
        # The parts can only narrow the shared cells' own range, so it must be wide enough already.
        shared = self.side(change.shared(), need)
        if shared is None:
            return None
        if not change.parts:
            if any(self.equality[i] for i in shared.rows) or shared.high - shared.low < need:
                return None
            return shared.high - shared.low, shared.cells, []
        sums = {i: a for i, a in shared.rows.items() if self.equality[i]}
        chosen: list[_Side[K]] = []
        seen: set[K] = set(shared.cells)
        relations: set[int] = set()
        low = high = 0.0
        # The parts come largest first: as few as possible are taken.
        for cells in change.parts:
            part = self.side(cells())
            if part is None or part.high - part.low <= 0 or seen & set(part.cells):
                continue
            own = {i for i in part.rows if not self.equality[i]}
            # With the shared change it must keep every sum, and it must share no inequality
            # with the shared cells or another part (each side's range is then its own).
            if own & relations or own & set(shared.rows):
                continue
            if any(
                abs(sums.get(i, 0.0) + part.rows.get(i, 0.0)) > 1e-9
                for i in {*sums, *part.rows}
                if self.equality[i]
            ):
                continue
            chosen.append(part)
            seen.update(part.cells)
            relations.update(own)
            low += part.low
            high += part.high
            width = min(shared.high, high) - max(shared.low, low)
            if width >= need:
                parts = [(p.cells, min(shared.high, p.high) - max(shared.low, p.low)) for p in chosen]
                return width, shared.cells, parts
        return None


def _passes(stages: Iterable[Iterable[Change[K]]]) -> Iterator[list[Change[K]]]:
    seen: list[list[Change[K]]] = []
    for stage in stages:
        seen.append(sorted(stage, key=lambda c: c.size))
        yield seen[-1][:_TRIES]
    for ranked in seen:
        yield ranked[_TRIES : _TRIES * _MORE]


def protect(
    values: Mapping[K, int],
    linked: Linked[K],
    changes: Callable[[K, set[K]], Iterable[Iterable[Change[K]]]],
    threshold: int = DEFAULT_THRESHOLD,
    cost: Callable[[K], float] = lambda key: 1.0,
) -> frozenset[K]:
    """The cells to hide from a linked release so that no hidden count can be narrowed, by any
    combination of the relations, to an interval narrower than ``threshold``.

    Primary cells (1 to threshold - 1) are hidden. Each hidden cell then needs a proof (see
    Certifier): ``changes(cell, hidden)`` offers candidate changes in stages, cheapest kinds
    first; the first wide enough of the smallest is taken (of the first ``_CHOICES``, the one
    whose newly hidden cells cost least: ``cost``, a headline total costs more than a month's
    cell), and all its cells are hidden (secondary suppression). The cells it moves across the
    whole width are proved by it; a partner that moves less needs a proof of its own, and is
    searched for in turn.
    If no candidate is wide enough, every non-zero cell is hidden: then scaling the whole table up
    keeps every relation (they are all homogeneous), so nothing is bounded above.
    """
    if threshold < 1:
        raise ValueError("The suppression threshold must be at least 1")
    certifier = Certifier(values, linked)
    hidden = primary(values, threshold)
    proved: set[K] = set()
    order = {key: i for i, key in enumerate(values)}
    pending = sorted(hidden, key=lambda k: (-values[k], -order[k]))  # popped smallest first
    while pending:
        cell = pending.pop()
        if cell in proved:
            continue

        def new_cost(key: K) -> float:
            return 0.0 if key in hidden else cost(key)

        best: tuple[float, int, tuple[float, Delta[K], list[tuple[Delta[K], float]]]] | None = None
        # The smallest few of each stage first (a stage is built only when the ones before it
        # prove nothing); only if none of them is wide enough, the rest of every stage.
        for tried in _passes(changes(cell, hidden)):
            found = 0
            for change in tried:
                proof = certifier.proof(change, threshold)
                if proof is None:
                    continue
                _, shared, parts = proof
                price = sum(new_cost(k) for k in shared) + sum(new_cost(k) for p, _ in parts for k in p)
                if best is None or price < best[0]:
                    best = (price, found, proof)
                found += 1
                if found >= _CHOICES:
                    break
            if best is not None:
                break
        if best is None:
            return frozenset(k for k, v in values.items() if v > 0)
        _, shared, parts = best[2]
        hidden.update(shared)
        proved.update(shared)
        for cells, width in parts:
            hidden.update(cells)
            if width >= threshold:
                proved.update(cells)
            else:
                pending.extend(k for k in cells if k not in proved)
    return frozenset(hidden)
