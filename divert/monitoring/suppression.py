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

from collections.abc import Hashable, Iterable, Mapping, Sequence
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
