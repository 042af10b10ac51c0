"""Everything one analyst can obtain for one scope, protected as one linked set.

An analyst in an organisation can download, for one date range, every programme in its reach and
all programmes together, by month, quarter and year and over the whole range, for every breakdown,
and the reason tables for each. Those tables are linked: a total is the sum of its groups, a
quarter of its months, a year of its quarters, an ethnic group of its 18+1 codes; a point's count
is at most its base point's; one programme's count is at most all programmes', which is at most
their sum; a reason table's totals are the sums of its rows and columns, and all programmes' the
sum of each programme's. Suppressing each table on its own leaves hidden cells that subtraction
across tables recovers, so every count of the set is one cell here (the same figure is one cell
however many tables show it), with every relation between them, and suppression.protect hides
what it must across all of them at once.

The method is secondary suppression over the linked tables with a proof for every hidden cell
(suppression.Certifier): a change to hidden cells only, built along the tables' own structure so
that every sum still adds up, which moves each of them across an interval at least as wide as the
threshold while every inequality still holds. Changes are built as products: along the periods
(a month and its quarter, year and whole range, against another month or nothing), along the
groups (one group against another of the same breakdown, or the total with one group of every
breakdown), and across programmes and points (the same change to each, where an inequality
between them would otherwise stop it). The cheapest such change, in cells newly hidden, is taken.

The release is the scope's reach and date range; the page, every download and monitoring-export
read their hidden cells from it, so the same cell is hidden everywhere it appears.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode, Programme
from divert.monitoring import cache
from divert.monitoring.breakdowns import ALL_REASONS, ReasonCount, count_all_reasons, vocabulary
from divert.monitoring.points import ALL_GROUPS, DIMENSIONS, POINTS
from divert.monitoring.query import GroupCounts, Reach, Scope, count_points
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Change, Linked, Margin, protect

ALL_PROGRAMMES = "all"
WHOLE = "whole"  # the whole date range as one period
SHARED = "*"  # the dimension of a total that every breakdown shares (the same people)
REASON = "reason:"  # the point field of a reason cell: "reason:<kind>:<reason>"

Key = tuple[str, str, str, str, str]  # programme, period, dimension, group, point (or reason)
POINT_NAMES = tuple(p.name for p in POINTS)


@dataclass(frozen=True, slots=True)
class Release:
    threshold: int
    values: dict[Key, int]
    hidden: frozenset[Key]
    # A period label the page uses for the whole range ("All dates", "From 2026-01-01", ...).
    whole_label: str = WHOLE
    # The release's period that label stands for: the whole release, or one standard period of
    # it (a month, quarter or year) when the page shows only that (see ``standard_period``).
    whole_key: str = WHOLE
    # Each (programme, breakdown)'s cells, made on first use and shared by the copies ``replace``
    # makes for each request: a page reads one table of a release of 100,000 cells.
    tables: dict[tuple[str, str], list[tuple[Key, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def table(self, programme: str | None, dimension: str) -> list[tuple[Key, int]]:
        if not self.tables:
            found: dict[tuple[str, str], list[tuple[Key, int]]] = defaultdict(list)
            for key, n in self.values.items():
                found[key[0], key[2]].append((key, n))
            self.tables.update({k: sorted(v) for k, v in found.items()})
        return self.tables.get((programme or ALL_PROGRAMMES, dimension), [])

    def key(self, programme: str | None, period: str, dimension: str, group: str, point: str) -> Key:
        prog = programme or ALL_PROGRAMMES
        per = self.shown(period)
        if group == ALL_GROUPS and (prog, per, SHARED, ALL_GROUPS, point) in self.values:
            return (prog, per, SHARED, ALL_GROUPS, point)
        return (prog, per, dimension, group, point)

    def shown(self, period: str) -> str:
        """The release's period a table's period stands for. Showing one standard period of the
        release, a coarser period (the year, when the page shows one quarter by year) holds only
        that period's figures, so it is that period's cell."""
        if period == self.whole_label:
            return self.whole_key
        if self.whole_key != WHOLE and period != self.whole_key and period in _chain(self.whole_key):
            return self.whole_key
        return period

    def is_hidden(self, programme: str | None, period: str, dimension: str, group: str, point: str) -> bool:
        return self.key(programme, period, dimension, group, point) in self.hidden

    def is_reason_hidden(
        self, programme: str | None, dimension: str, group: str, kind: str, reason: str
    ) -> bool:
        """A reason table's cell (over the whole range); ``reason`` may be "All reasons"."""
        return self.is_hidden(programme, WHOLE, dimension, group, f"{REASON}{kind}:{reason}")

    def group_counts(self, programme: str | None, dimension: str, period: str) -> list[GroupCounts]:
        """What ``count_points`` counts for this programme and breakdown by ``period`` (month,
        quarter or year), read from the release: the page counts nothing twice."""
        found: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(POINT_NAMES, 0))
        # By a coarser period than the one shown (one quarter by year): that period, labelled so.
        coarser = next((p for p in _chain(self.whole_key)[1:] if _level(p) == period), None)
        for (_, per, _, group, point), n in self.table(programme, dimension):
            if group == ALL_GROUPS or point.startswith(REASON):
                continue
            if _level(per) == period and self.whole_key in _chain(per):
                found[per, group][point] = n
            elif per == self.whole_key and coarser is not None:
                found[coarser, group][point] = n
        return [GroupCounts(per, group, counts) for (per, group), counts in sorted(found.items())]

    def reason_counts(self, programme: str | None, dimension: str) -> dict[str, list[ReasonCount]]:
        """What ``count_all_reasons`` counts over the whole range, read from the release (reasons
        are published over the release's whole range only: none for one period of it)."""
        found: dict[str, list[ReasonCount]] = defaultdict(list)
        if self.whole_key != WHOLE:
            return found
        for (_, per, _, group, point), n in self.table(programme, dimension):
            parts = _reason_parts(point)
            if per != WHOLE or group == ALL_GROUPS or parts is None:
                continue
            if parts[1] != ALL_REASONS:
                found[parts[0]].append(ReasonCount(self.whole_label, group, parts[1], n))
        return found


def _periods(ym: int) -> tuple[str, str, str, str]:
    year, month = divmod(ym, 100)
    return f"{year:04d}-{month:02d}", f"{year:04d}-Q{(month - 1) // 3 + 1}", f"{year:04d}", WHOLE


def programmes_of(session: Session, reach: Reach | None) -> list[str]:
    if reach is not None:
        return sorted(code for code, _ in reach.programmes)
    return list(session.scalars(select(Programme.code).order_by(Programme.code)))


def ethnic_groups(session: Session) -> dict[str, str]:
    """Each self-defined code's ethnic group (the five groups are sums of the codes)."""
    return {
        code: group
        for code, group in session.execute(
            select(EthnicityCode.code, EthnicityCode.ethnic_group).where(
                EthnicityCode.scheme == "self_defined"
            )
        ).all()
    }


def count_release(
    session: Session, reach: Reach | None, date_from: date | None = None, date_to: date | None = None
) -> tuple[dict[Key, int], list[str], dict[str, str]]:
    """Every count of the release: points by month (added up to quarters, years and the whole
    range) and reasons over the whole range, for each programme and all, for every breakdown."""
    codes = programmes_of(session, reach)
    words = vocabulary(session)
    values: dict[Key, int] = defaultdict(int)
    for programme in [None, *codes]:
        prog = programme or ALL_PROGRAMMES
        for dimension in DIMENSIONS:
            scope = Scope(dimension, "month", programme, date_from, date_to, reach)
            for found in count_points(session, scope):
                ym = int(found.period[:4]) * 100 + int(found.period[5:7])
                for period in _periods(ym):
                    for point, n in found.counts.items():
                        if n:
                            values[prog, period, dimension, found.group, point] += n
            for kind, reasons in count_all_reasons(session, scope, whole_range=WHOLE, words=words).items():
                for c in reasons:
                    if c.count:
                        values[prog, WHOLE, dimension, c.group, f"{REASON}{kind}:{c.reason}"] += c.count
    return dict(values), codes, ethnic_groups(session)


def linked_release(
    session: Session,
    reach: Reach | None,
    date_from: date | None = None,
    date_to: date | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    whole_label: str = WHOLE,
    store: Session | None = None,
    whole_key: str = WHOLE,
) -> Release:
    """Count every table of the release and protect them together, or read the release kept for
    this scope at the current data version (monitoring/cache.py). ``store`` is the session the
    kept releases are written through (the primary, where ``session`` reads a replica)."""
    release = cache.remember(
        session,
        store or session,
        "release",
        _scope_parts(reach, date_from, date_to, threshold),
        partial(_count_and_protect, session, reach, date_from, date_to, threshold),
        _encode,
        _decode,
    )
    return replace(release, whole_label=whole_label, whole_key=whole_key)


def _scope_parts(reach: Reach | None, start: date | None, end: date | None, threshold: int) -> list[Any]:
    return [cache.reach_parts(reach), start, end, threshold]


def _count_and_protect(
    session: Session, reach: Reach | None, date_from: date | None, date_to: date | None, threshold: int
) -> Release:
    counted, codes, groups = count_release(session, reach, date_from, date_to)
    return protect_release(counted, codes, groups, threshold)


def _encode(release: Release) -> dict[str, Any]:
    """Compact JSON: each string once, then seven integers a cell (five string indexes, the count,
    hidden or not)."""
    strings: dict[str, int] = {}
    cells: list[int] = []
    for key, n in release.values.items():
        cells += [strings.setdefault(part, len(strings)) for part in key]
        cells += [n, 1 if key in release.hidden else 0]
    return {"threshold": release.threshold, "strings": list(strings), "cells": cells}


def _decode(body: dict[str, Any]) -> Release:
    strings: list[str] = body["strings"]
    cells: list[int] = body["cells"]
    values: dict[Key, int] = {}
    hidden: list[Key] = []
    for i in range(0, len(cells), 7):
        a, b, c, d, e, n, h = cells[i : i + 7]
        key = (strings[a], strings[b], strings[c], strings[d], strings[e])
        values[key] = n
        if h:
            hidden.append(key)
    return Release(int(body["threshold"]), values, frozenset(hidden))


def protect_release(
    counted: Mapping[Key, int],
    codes: Sequence[str],
    ethnic_group: Mapping[str, str],
    threshold: int = DEFAULT_THRESHOLD,
    whole_label: str = WHOLE,
) -> Release:
    """The release from its counts (pure): totals added, relations found, cells hidden."""
    cells = _with_totals(dict(counted))
    linked = _relations(cells, codes, ethnic_group)
    structure = _Structure(cells, codes, ethnic_group)
    hidden = protect(cells, linked, structure.changes, threshold, _cost)
    return Release(threshold, cells, hidden, whole_label)


_LEVEL_COST = {WHOLE: 8.0, "year": 4.0, "quarter": 2.0, "month": 1.0}


def _cost(key: Key) -> float:
    """What hiding a cell costs readers: the whole range's and all programmes' totals most."""
    prog, period, dimension, _, point = key
    if period == WHOLE:
        level = WHOLE
    elif "-Q" in period:
        level = "quarter"
    else:
        level = "month" if _is_month(period) else "year"
    weight = _LEVEL_COST[level] * (2.0 if prog == ALL_PROGRAMMES else 1.0)
    return weight * (2.0 if dimension == SHARED else 1.0) * (0.5 if point.startswith(REASON) else 1.0)


def _parent(period: str) -> str | None:
    """The period one level up: a month's quarter, a quarter's year, a year's whole range."""
    if period == WHOLE:
        return None
    if "-Q" in period:
        return period[:4]
    if "-" in period:
        return f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"
    return WHOLE


def _chain(period: str) -> list[str]:
    """The period and every period it is part of, up to the whole range."""
    found = [period]
    while (up := _parent(found[-1])) is not None:
        found.append(up)
    return found


class NotStandardPeriod(ValueError):
    """Published figures were asked for a date range that is not one standard period."""


_QUARTER_START = {1: 1, 2: 4, 3: 7, 4: 10}


def standard_period(date_from: date | None, date_to: date | None) -> str:
    """The release period a published date range stands for: the whole release (no dates), or one
    calendar month, quarter or year, exactly. Anything else is refused (``NotStandardPeriod``).

    Published figures for two overlapping ranges would differ by the days between them, and the
    difference would be a table of its own, never protected: 1 January to 31 March minus
    1 January to 30 March is 31 March's figures, small numbers and all. So published figures come
    from one linked release per scope (every month, quarter and year of the data, protected
    together), and a date range picks one of its periods."""
    if date_from is None and date_to is None:
        return WHOLE
    if date_from is None or date_to is None:
        raise NotStandardPeriod(_advice(date_from or date_to, date_from or date_to))
    start, end = date_from, date_to
    if start.day == 1 and _month_end(end) == end and (end.year, end.month) >= (start.year, start.month):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1:
            return f"{start.year:04d}-{start.month:02d}"
        if months == 3 and start.month in _QUARTER_START.values():
            return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
        if months == 12 and start.month == 1:
            return f"{start.year:04d}"
    raise NotStandardPeriod(_advice(start, end))


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _advice(start: date | None, end: date | None) -> str:
    """What to ask for instead: the smallest standard period holding the range, where one does."""
    said = (
        "Published figures are for a whole calendar month, quarter or year, or all dates: "
        "figures for two overlapping date ranges could be subtracted to reveal small numbers."
    )
    if start is None or end is None or start.year != end.year:
        return f"{said} Leave both dates empty for all dates, or choose one year, quarter or month."
    if start.month == end.month:
        first, last, name = date(start.year, start.month, 1), _month_end(start), "that month"
    elif (start.month - 1) // 3 == (end.month - 1) // 3:
        q = (start.month - 1) // 3 + 1
        first = date(start.year, _QUARTER_START[q], 1)
        last, name = _month_end(date(start.year, _QUARTER_START[q] + 2, 1)), f"quarter {q}"
    else:
        first, last, name = date(start.year, 1, 1), date(start.year, 12, 31), f"the year {start.year}"
    return f"{said} For {name}, choose {first.isoformat()} to {last.isoformat()}."


def _level(period: str) -> str:
    if period == WHOLE:
        return WHOLE
    if "-Q" in period:
        return "quarter"
    return "month" if _is_month(period) else "year"


def _is_month(period: str) -> bool:
    return len(period) == 7 and period[4] == "-" and period[5] != "Q"


def _reason_parts(point: str) -> tuple[str, str] | None:
    if not point.startswith(REASON):
        return None
    kind, _, reason = point.removeprefix(REASON).partition(":")
    return kind, reason


def _with_totals(values: dict[Key, int]) -> dict[Key, int]:
    """Add each table's totals: over the groups (one shared cell where every breakdown counts the
    same people, as they always do) and, for reasons, over the reasons."""
    cells = dict(values)
    for (prog, period, dimension, group, point), n in values.items():
        parts = _reason_parts(point)
        if parts is not None:
            cells.setdefault((prog, period, dimension, group, f"{REASON}{parts[0]}:{ALL_REASONS}"), 0)
            cells[prog, period, dimension, group, f"{REASON}{parts[0]}:{ALL_REASONS}"] += n
    totals: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (prog, period, dimension, _, point), n in cells.items():
        totals[prog, period, point][dimension] += n
    for (prog, period, point), by_dimension in totals.items():
        if len(set(by_dimension.values())) == 1 and len(by_dimension) == len(DIMENSIONS):
            cells[prog, period, SHARED, ALL_GROUPS, point] = next(iter(by_dimension.values()))
        else:
            for dimension, n in by_dimension.items():
                cells[prog, period, dimension, ALL_GROUPS, point] = n
    return cells


def _total(cells: Mapping[Key, int], prog: str, period: str, dimension: str, point: str) -> Key:
    shared = (prog, period, SHARED, ALL_GROUPS, point)
    return shared if shared in cells else (prog, period, dimension, ALL_GROUPS, point)


def _relations(cells: dict[Key, int], codes: Sequence[str], ethnic_group: Mapping[str, str]) -> Linked[Key]:
    """Every relation an analyst can see between the cells (the attacker's knowledge)."""
    sums: list[Margin[Key]] = []
    members: dict[tuple[Key, str], list[Key]] = defaultdict(list)
    code_groups: dict[Key, list[Key]] = defaultdict(list)
    reason_sums: dict[Key, list[Key]] = defaultdict(list)
    for key in cells:
        prog, period, dimension, group, point = key
        parts = _reason_parts(point)
        if parts is not None and parts[1] != ALL_REASONS:
            reason_sums[prog, period, dimension, group, f"{REASON}{parts[0]}:{ALL_REASONS}"].append(key)
        if group == ALL_GROUPS:
            continue
        members[_total(cells, prog, period, dimension, point), dimension].append(key)
        if dimension == "ethnicity_code" and group in ethnic_group:
            code_groups[prog, period, "ethnicity_group", ethnic_group[group], point].append(key)
    sums += [Margin(t, tuple(m)) for (t, _), m in members.items()]
    sums += [Margin(t, tuple(m)) for t, m in code_groups.items() if t in cells]
    sums += [Margin(t, tuple(m)) for t, m in reason_sums.items() if t in cells]
    # A quarter is the sum of its months, a year of its quarters, the whole range of its years.
    by_period: dict[Key, list[Key]] = defaultdict(list)
    for key in cells:
        prog, period, dimension, group, point = key
        parent = _parent(period)
        if parent is not None:
            by_period[prog, parent, dimension, group, point].append(key)
    sums += [Margin(t, tuple(m)) for t, m in by_period.items() if t in cells]
    at_most: list[tuple[Key, Key]] = []
    for key in cells:
        prog, period, dimension, group, point = key
        base = next((p.base for p in POINTS if p.name == point), None)
        if base is not None:
            at_most.append((key, (prog, period, dimension, group, base)))
    # Programmes against all programmes. A reason is given on a case, and each case is one
    # programme's, so all programmes' reason counts are the sums of each programme's; a point
    # counts an encounter once however many programmes decided it, so all programmes' count is
    # between the largest programme's and their sum. Only relations that hold in the data are
    # known to an analyst (an encounter decided under a programme outside the reach can break one).
    at_most_sum: list[Margin[Key]] = []
    for key in cells:
        if key[0] != ALL_PROGRAMMES:
            continue
        each: list[Key] = [(c, *key[1:]) for c in codes if (c, *key[1:]) in cells]
        total = sum(cells[m] for m in each)
        if _reason_parts(key[4]) is not None and total == cells[key]:
            sums.append(Margin(key, tuple(each)))
            continue
        at_most += [(m, key) for m in each]
        if each:
            at_most_sum.append(Margin(key, tuple(each)))
    at_most = [(a, b) for a, b in at_most if cells.get(a, 0) <= cells.get(b, 0)]
    at_most_sum = [m for m in at_most_sum if cells[m.total] <= sum(cells[p] for p in m.members)]
    return Linked(sums, at_most, at_most_sum)


Vector = dict[str, int]  # one axis of a change: coordinate -> +1 or -1
GroupCoord = tuple[str, str]  # (dimension, group); the shared total is (SHARED, ALL_GROUPS)
GroupVector = dict[GroupCoord, int]
ROOT: GroupCoord = (SHARED, ALL_GROUPS)
_PARTNERS = 8  # partners tried per axis, the largest first
_LEAVES = 3
_MONTHS = 4  # other months a month's change is set against
_SHARERS = 12  # groups that share out one group's change


def _combine(vector: dict[Any, int], more: Mapping[Any, int], sign: int) -> None:
    for k, s in more.items():
        vector[k] = vector.get(k, 0) + sign * s
        if vector[k] == 0:
            del vector[k]


class _Structure:
    """The candidate changes for a hidden cell, built along the release's own structure."""

    def __init__(self, cells: Mapping[Key, int], codes: Sequence[str], ethnic_group: Mapping[str, str]):
        self.cells = cells
        self.codes = list(codes)
        self.ethnic_group = dict(ethnic_group)
        groups: dict[str, set[str]] = defaultdict(set)
        months: set[str] = set()
        reasons: dict[str, set[str]] = defaultdict(set)
        for _, period, dimension, group, point in cells:
            if dimension != SHARED:
                groups[dimension].add(group)
            if _is_month(period):
                months.add(period)
            parts = _reason_parts(point)
            if parts is not None and parts[1] != ALL_REASONS:
                reasons[parts[0]].add(parts[1])
        self.months = sorted(months)
        self.reasons = {k: sorted(v) for k, v in reasons.items()}
        # Breakdowns that are sums of another's groups form one family: the five ethnic groups
        # are sums of the codes. A family's leaves are the finest groups.
        self.leaves: dict[str, list[str]] = {}
        self.family: dict[str, str] = {}
        for dimension in DIMENSIONS:
            if dimension == "ethnicity_group" and "ethnicity_code" in DIMENSIONS:
                self.family[dimension] = "ethnicity_code"
                continue
            self.family[dimension] = dimension
            self.leaves[dimension] = sorted(groups[dimension] - {ALL_GROUPS})

    # --- axes ---------------------------------------------------------------------------

    def chain(self, month: str) -> list[str]:
        found = [month]
        while (up := _parent(found[-1])) is not None:
            found.append(up)
        return found

    def period_vectors(self, period: str, value: Callable[[str], int]) -> list[Vector]:
        """A month under ``period`` up its chain, against another month outside it or nothing."""
        under = [m for m in self.months if period in self.chain(m)]
        inside = sorted(under, key=lambda m: -value(m))[:_LEAVES]
        outside = sorted((m for m in self.months if m not in under), key=lambda m: -value(m))[:_MONTHS]
        found: list[Vector] = []
        for a in inside:
            for b in [None, *outside]:
                vector: Vector = {}
                _combine(vector, dict.fromkeys(self.chain(a), 1), 1)
                if b is not None:
                    _combine(vector, dict.fromkeys(self.chain(b), 1), -1)
                found.append(vector)
        return found

    def leaf(self, family: str, group: str) -> GroupVector:
        found: GroupVector = {(family, group): 1}
        if family == "ethnicity_code" and group in self.ethnic_group:
            found["ethnicity_group", self.ethnic_group[group]] = 1
        return found

    def root(self, fixed: Mapping[str, str], value: Callable[[GroupCoord], int], rank: int) -> GroupVector:
        """The total with one group of every family (the ``rank``-th largest where not fixed)."""
        found: GroupVector = {ROOT: 1}
        for family, leaves in self.leaves.items():
            if family in fixed:
                chosen = fixed[family]
            else:
                ranked = sorted(leaves, key=lambda g: -value((family, g)))
                if not ranked:
                    continue
                chosen = ranked[min(rank, len(ranked) - 1)]
            found.update(self.leaf(family, chosen))
        return found

    def group_vectors(self, coord: GroupCoord, value: Callable[[GroupCoord], int]) -> _Groups:
        """The ways to move the group ``coord`` while every breakdown's groups still add up."""
        if coord == ROOT:
            return _Groups([], [], [self.root({}, value, 0), self.root({}, value, 1)], [])
        dimension, group = coord
        family = self.family[dimension]
        leaves = self.leaves[family]
        if dimension == family:
            firsts = [group]
            others = [g for g in leaves if g != group]
        else:  # an ethnic group: one of its codes against codes of other groups
            mine = [c for c in leaves if self.ethnic_group.get(c) == group]
            firsts = sorted(mine, key=lambda c: -value((family, c)))[:_LEAVES]
            others = [c for c in leaves if self.ethnic_group.get(c) != group]
        others = sorted(others, key=lambda g: -value((family, g)))
        found = _Groups([], [], [], [self.root({family: a}, value, 0) for a in firsts])
        for a in firsts:
            # One group against several others at once: the others share out the change.
            found.against.append(
                (self.leaf(family, a), [_negate(self.leaf(family, b)) for b in others[:_SHARERS]])
            )
            for b in others[:_PARTNERS]:
                pair: GroupVector = {}
                _combine(pair, self.leaf(family, a), 1)
                _combine(pair, self.leaf(family, b), -1)
                found.pairs.append(pair)
        return found

    def point_sets(self, point: str) -> list[Vector]:
        """The point alone, then with its base points upwards, each with or without every point
        based on it: moving them together keeps "a point is at most its base" between them."""
        ancestors = []
        up = next(p.base for p in POINTS if p.name == point)
        while up is not None:
            ancestors.append(up)
            up = next(p.base for p in POINTS if p.name == up)
        below = self.descendants(point)
        found: list[Vector] = []
        for chain in ([], ancestors[:1], ancestors):
            for extra in ([], below) if below else ([],):
                vector = dict.fromkeys([point, *chain, *extra], 1)
                if vector not in found:
                    found.append(vector)
        return found[1:]

    def descendants(self, point: str) -> list[str]:
        found: list[str] = []
        for p in POINTS:
            if p.base == point:
                found += [p.name, *self.descendants(p.name)]
        return found

    # --- changes -----------------------------------------------------------------------

    def changes(self, cell: Key, hidden: set[Key]) -> Iterator[list[Change[Key]]]:
        if _reason_parts(cell[4]) is not None:
            yield from self._reason_changes(cell)
        else:
            yield from self._point_changes(cell)

    def _point_changes(self, cell: Key) -> Iterator[list[Change[Key]]]:
        prog, period, dimension, group, point = cell
        coord: GroupCoord = (dimension, group)
        cells = self.cells

        def period_value(p: str) -> int:
            return cells.get((prog, p, dimension, group, point), 0)

        def moving(pv: Vector) -> _Groups:
            # Groups are chosen by their smallest count across the programmes that move, so
            # that none of them is a zero there.
            def value(c: GroupCoord) -> int:
                return min(
                    cells.get(
                        _total(cells, p, period, SHARED, point) if c == ROOT else (p, period, *c, point), 0
                    )
                    for p in pv
                )

            return self.group_vectors(coord, value)

        periods = self.period_vectors(period, period_value)
        alone: list[Vector] = [{prog: 1}]
        if prog == ALL_PROGRAMMES:
            more = [{ALL_PROGRAMMES: 1, code: 1} for code in self.codes]
            more.append(dict.fromkeys([ALL_PROGRAMMES, *self.codes], 1))
        else:
            more = [{prog: 1, ALL_PROGRAMMES: 1}]
        points: list[Vector] = [{point: 1}]
        widened = points + self.point_sets(point)
        groups = {i: moving(pv) for i, pv in enumerate(alone + more)}
        yield self._products(
            [alone[0]], periods, groups[0].against, groups[0].pairs + groups[0].roots, points
        )
        for last in (False, True):
            found: list[Change[Key]] = []
            for i, pv in enumerate(alone + more):
                g = groups[i]
                if last:
                    found += self._products([pv], periods, [], g.through, widened)
                else:
                    found += self._products([pv], periods, g.against, g.pairs + g.roots, widened)
            yield found

    def _products(
        self,
        programmes: Sequence[Vector],
        periods: Sequence[Vector],
        against: Sequence[tuple[GroupVector, list[GroupVector]]],
        simple: Sequence[GroupVector],
        points: Sequence[Vector],
    ) -> list[Change[Key]]:
        found: list[Change[Key]] = []
        for pv, tv, qv in itertools.product(programmes, periods, points):
            size = len(pv) * len(tv) * len(qv)
            for first, others in against:
                found.append(
                    Change(
                        2 * size * len(first),
                        partial(self._point_cells, pv, tv, first, qv),
                        [partial(self._point_cells, pv, tv, other, qv) for other in others],
                    )
                )
            for gv in simple:
                found.append(Change(size * len(gv), partial(self._point_cells, pv, tv, gv, qv)))
        return found

    def _point_cells(self, pv: Vector, tv: Vector, gv: GroupVector, qv: Vector) -> Iterator[tuple[Key, int]]:
        for (p, sp), (t, st), (g, sg), (q, sq) in itertools.product(
            pv.items(), tv.items(), gv.items(), qv.items()
        ):
            key = _total(self.cells, p, t, SHARED, q) if g == ROOT else (p, t, g[0], g[1], q)
            yield key, sp * st * sg * sq

    def _reason_changes(self, cell: Key) -> Iterator[list[Change[Key]]]:
        prog, _, dimension, group, point = cell
        parts = _reason_parts(point)
        assert parts is not None
        kind, reason = parts
        coord: GroupCoord = (dimension, group)
        cells = self.cells

        def at(p: str, c: GroupCoord, r: str) -> int:
            name = f"{REASON}{kind}:{r}"
            key = _total(cells, p, WHOLE, SHARED, name) if c == ROOT else (p, WHOLE, c[0], c[1], name)
            return cells.get(key, 0)

        # All programmes is the sum of the programmes; all reasons the sum of the reasons.
        programmes: list[Vector]
        if prog == ALL_PROGRAMMES:
            ranked = sorted(self.codes, key=lambda c: -at(c, coord, reason))
            programmes = [{ALL_PROGRAMMES: 1, c: 1} for c in ranked[:_PARTNERS]]
        else:
            others = sorted((c for c in self.codes if c != prog), key=lambda c: -at(c, coord, reason))
            programmes = [{prog: 1, c: -1} for c in others[:_PARTNERS]] + [{prog: 1, ALL_PROGRAMMES: 1}]
        reasons_here = self.reasons.get(kind, [])
        reasons: list[Vector]
        if reason == ALL_REASONS:
            ranked_r = sorted(reasons_here, key=lambda r: -at(prog, coord, r))
            reasons = [{ALL_REASONS: 1, r: 1} for r in ranked_r[:_PARTNERS]]
        else:
            others_r = sorted((r for r in reasons_here if r != reason), key=lambda r: -at(prog, coord, r))
            reasons = [{reason: 1, r: -1} for r in others_r[:_PARTNERS]] + [{reason: 1, ALL_REASONS: 1}]
        moving = {
            i: self.group_vectors(coord, partial(_least, at, tuple(pv), reason))
            for i, pv in enumerate(programmes)
        }
        for last in (False, True):
            found: list[Change[Key]] = []
            for (i, pv), rv in itertools.product(enumerate(programmes), reasons):
                groups = moving[i]
                simple = groups.through if last else groups.pairs + groups.roots
                against = [] if last else groups.against
                size = len(pv) * len(rv)
                for first, sharers in against:
                    found.append(
                        Change(
                            2 * size * len(first),
                            partial(self._reason_cells, kind, pv, first, rv),
                            [partial(self._reason_cells, kind, pv, other, rv) for other in sharers],
                        )
                    )
                for gv in simple:
                    found.append(Change(size * len(gv), partial(self._reason_cells, kind, pv, gv, rv)))
            yield found

    def _reason_cells(self, kind: str, pv: Vector, gv: GroupVector, rv: Vector) -> Iterator[tuple[Key, int]]:
        for (p, sp), (g, sg), (r, sr) in itertools.product(pv.items(), gv.items(), rv.items()):
            point = f"{REASON}{kind}:{r}"
            key = _total(self.cells, p, WHOLE, SHARED, point) if g == ROOT else (p, WHOLE, g[0], g[1], point)
            yield key, sp * sg * sr


@dataclass(slots=True)
class _Groups:
    pairs: list[GroupVector]  # one group against one other, a change that adds up by itself
    against: list[tuple[GroupVector, list[GroupVector]]]  # one group, and the others to share it
    roots: list[GroupVector]  # the total with one group of every breakdown
    through: list[GroupVector]  # the group with the total and one group of every other breakdown


def _least(
    at: Callable[[str, GroupCoord, str], int], programmes: Sequence[str], reason: str, c: GroupCoord
) -> int:
    return min(at(p, c, reason) for p in programmes)


def _negate(vector: GroupVector) -> GroupVector:
    return {k: -s for k, s in vector.items()}
