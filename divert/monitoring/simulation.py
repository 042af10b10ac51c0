"""Policy simulation: what a draft version of a programme's rules would have decided, for whom.

Every stored rules decision of the programme in the chosen period (the facts it saw are kept
beside it) is decided again twice, under the version in force (the baseline) and under the draft,
and the two outcomes are tallied per group of the chosen dimension. Nothing is written: a
simulation reads decisions and journey rows and returns counts; its caller stores the result.

Honest replay:
- a rule over a fact that a stored decision never held (a version that asks something older
  records did not capture) is not guessed: that encounter counts as "cannot tell" and is left
  out of both sides' eligible and route counts, so the two are compared on the same people;
- only the rules' own decision is replayed. What people decided afterwards (a supervisor's
  override, an offer, an acceptance) is held as it was and not modelled.

The group an encounter counts in is the monitoring report's (through its kept journey row, in
the same reach), so a simulation's figures line up with the published ones.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import String, cast, exists, select
from sqlalchemy.orm import Session, aliased

from divert.models import Decision, ProgrammeVersion
from divert.monitoring.adjusted import PRIOR_LEVELS, Adjusted, Cell, fit_point
from divert.monitoring.attacked import protect as protect_linked
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import Scope, age_band, frame_by_encounter, label_group, programme_id, tune
from divert.monitoring.stats import rate, relative_rate
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Linked, Margin
from divert.rules.decision import Decision as RuleDecision
from divert.rules.decision import DecisionMemo
from divert.rules.definition import ProgrammeDefinition
from divert.rules.facts import facts_from_dict, stored_fields
from divert.rules.vocabulary import stored_fact_values

NOT_ELIGIBLE = "not_eligible"
ELIGIBLE = "eligible"  # eligible, no route chosen
CANNOT_TELL = "cannot_tell"
BATCH = 5_000
# Bootstrap draws for the interval of the change in disparity; fixed seed, so a result is repeatable.
DRAWS = 2_000
SEED = 20261201

COLUMNS = (
    "group",
    "point",
    "current_count",
    "draft_count",
    "base_current",
    "base_draft",
    "rate_current",
    "rate_draft",
    "rri_current",
    "rri_draft",
    "changed_in",
    "changed_out",
    "cannot_tell",
)
# The counts a row publishes (the rest are worked out from them and hidden with them).
COUNTS = (
    "current_count",
    "draft_count",
    "base_current",
    "base_draft",
    "changed_in",
    "changed_out",
    "cannot_tell",
)


def outcome(eligible: bool, route: str | None) -> str:
    """One side's outcome for an encounter: not eligible, eligible with a route, or eligible alone."""
    if not eligible:
        return NOT_ELIGIBLE
    return f"route:{route}" if route else ELIGIBLE


def needed_fields(definition: ProgrammeDefinition) -> frozenset[str]:
    """The stored fields a version's rules read (every fact of every condition it can evaluate).

    A fact the definition declares for itself is an officer's answer (``answers:NAME``, held only
    when it was asked and answered) or a count over the earlier encounters (``history``)."""
    facts = {name for rule in definition.eligibility for name in rule.condition.facts}
    facts |= {name for rule in definition.routing for name in rule.condition.facts}
    declared = {fact.name: fact for fact in definition.facts}
    fields: set[str] = {"occurred_on"}
    for name in facts:
        if name in declared:
            fields.add("history" if declared[name].kind == "counted" else f"answers:{name}")
        else:
            fields.update(stored_fields(name))
    return frozenset(fields)


def held_fields(facts_json: Mapping[str, Any]) -> set[str]:
    """The fields a stored decision's facts hold, answers named one by one."""
    return set(facts_json) | {f"answers:{name}" for name, _ in facts_json.get("answers", ())}


@dataclass
class Tally:
    """For each group, how many encounters had each (baseline, draft) pair of outcomes."""

    joint: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    # For each group, encounters that cannot be told (a needed fact was never recorded).
    cannot_tell: Counter[str] = field(default_factory=Counter)
    # Rule ids whose result differs between baseline and draft, among the decisions that changed.
    changed_by: Counter[str] = field(default_factory=Counter)
    # (group, offence, age band, earlier encounters) -> [decided, eligible now, eligible under the
    # draft]: the case mix the adjusted odds ratios are fitted over.
    mix: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)
    decisions: int = 0

    @property
    def groups(self) -> list[str]:
        return sorted(set(self.joint) | set(self.cannot_tell))


def replay(
    rows: Iterable[tuple[dict[str, Any], str]],
    baseline: ProgrammeDefinition,
    draft: ProgrammeDefinition,
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> Tally:
    """Decide each stored encounter (its facts and its group) under both versions and tally them."""
    needed = needed_fields(baseline) | needed_fields(draft)
    routing = {rule.id for rule in (*baseline.routing, *draft.routing)}
    # Without sentences, most encounters' decisions are looked up, not made (rules.DecisionMemo).
    memo = DecisionMemo(explain=False)
    declares = bool(baseline.facts or draft.facts)
    tally = Tally()
    for facts_json, group in rows:
        tally.decisions += 1
        if progress is not None and tally.decisions % every == 0:
            progress(tally.decisions)
        if not needed <= facts_json.keys() and not needed <= held_fields(facts_json):
            tally.cannot_tell[group] += 1
            continue
        values = stored_fact_values(facts_json)
        # Facts a version declares for itself (answers, counts over the history) need the facts.
        facts = facts_from_dict(facts_json) if declares else None
        before = memo.decide_values(baseline, values, facts)
        after = memo.decide_values(draft, values, facts)
        pair = (outcome(before.eligible, before.route), outcome(after.eligible, after.route))
        tally.joint[group][pair] += 1
        prior = values["prior_encounters"]
        key = (
            group,
            str(values["offence_category"] or ""),
            age_band(values["age"] if isinstance(values["age"], int) else None),
            PRIOR_LEVELS[min(2, prior if isinstance(prior, int) else 0)],
        )
        cell = tally.mix.setdefault(key, [0, 0, 0])
        cell[0] += 1
        cell[1] += before.eligible
        cell[2] += after.eligible
        if pair[0] != pair[1]:
            tally.changed_by.update(_why_changed(before, after, routing))
    if progress is not None:
        progress(tally.decisions)
    return tally


def _why_changed(before: RuleDecision, after: RuleDecision, routing: set[str]) -> set[str]:
    """The rules that made the two outcomes differ: the eligibility rules whose result differs when
    eligibility changed (a route lost with eligibility is its consequence, not a cause); else the
    routing rules that chose each route."""
    if before.eligible != after.eligible:
        was = {r.rule_id: r.passed for r in before.reasons if r.rule_id not in routing}
        now = {r.rule_id: r.passed for r in after.reasons if r.rule_id not in routing}
        return {rule for rule in was.keys() | now.keys() if was.get(rule) != now.get(rule)}
    return {r.rule_id for r in (*before.reasons, *after.reasons) if r.rule_id in routing}


def stored_rows(session: Session, programme: str, scope: Scope) -> Iterator[tuple[dict[str, Any], str]]:
    """The programme's latest rules decision per encounter in the scope (facts and group), streamed.

    "Latest" is asked as "no later rules decision of the programme for the same encounter" rather
    than as the largest id per encounter: the planner then streams the decisions in the order they
    lie on disk, checking each against the encounter index, where the largest-id form first groups
    every decision and then fetches each winner at random. The version ids are given as values so
    the planner can count how many rows they select."""
    tune(session)
    pid = programme_id(session, programme)
    versions = list(session.scalars(select(ProgrammeVersion.id).where(ProgrammeVersion.programme_id == pid)))
    later = aliased(Decision)
    stmt = select(cast(Decision.facts, String)).where(
        Decision.programme_version_id.in_(versions),
        Decision.overrides_id.is_(None),
        ~exists().where(
            later.encounter_id == Decision.encounter_id,
            later.id > Decision.id,
            later.programme_version_id.in_(versions),
            later.overrides_id.is_(None),
        ),
    )
    framed = frame_by_encounter(session, scope, stmt, Decision.encounter_id)
    result = session.execute(framed.execution_options(yield_per=BATCH))
    # The facts come as text and are decoded here: the driver's own JSON loading cost half as much
    # again per row.
    loads = json.loads
    labels: dict[Any, str] = {}
    for facts, _month, group in result:
        label = labels.get(group)
        if label is None:
            label = labels[group] = label_group(scope.dimension, group)
        yield loads(facts), label


# ---------------------------------------------------------------------------------------------
# The result: a row per group and point, with rates, RRIs and the change in disparity.


@dataclass(frozen=True, slots=True)
class ResultRow:
    group: str
    point: str
    counts: Mapping[str, int]
    rate_current: float | None
    rate_draft: float | None
    rri_current: float | None
    rri_draft: float | None
    # The 95% interval of draft RRI / baseline RRI (1 is no change in disparity), when computable.
    change_low: float | None = None
    change_high: float | None = None
    hidden: frozenset[str] = frozenset()
    # The odds ratio against the reference group adjusted for case mix (offence, age band, earlier
    # encounters), under each version; eligibility point only.
    adjusted_current: Adjusted | None = None
    adjusted_draft: Adjusted | None = None

    @property
    def change_beyond_chance(self) -> bool | None:
        if self.change_low is None or self.change_high is None:
            return None
        return self.change_low > 1 or self.change_high < 1

    def value(self, column: str) -> Any:
        """A column's published value: None where suppression hides it."""
        if column == "group":
            return self.group
        if column == "point":
            return self.point
        if column in self.hidden:
            return None
        if column in self.counts:
            return self.counts[column]
        return getattr(self, column)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    dimension: str
    reference: str | None
    decisions: int
    cannot_tell: int
    changed: int
    rows: tuple[ResultRow, ...]
    # Rules that changed decisions, with how many (only counts that may be published).
    changed_by: tuple[tuple[str, int], ...]
    threshold: int
    # The headline counts as they may be published (None: hidden, as they would reveal a cell).
    shown_decisions: int | None = None
    shown_cannot_tell: int | None = None
    shown_changed: int | None = None


def points_of(tally: Tally) -> list[str]:
    """``eligible``, then one ``route:X`` point per route either version chose."""
    routes = sorted(
        {
            side
            for pairs in tally.joint.values()
            for pair in pairs
            for side in pair
            if side.startswith("route:")
        }
    )
    return ["eligible", *routes]


def _counts(pairs: Counter[tuple[str, str]], point: str, cannot: int) -> dict[str, int]:
    def reached(side: str) -> bool:
        return side != NOT_ELIGIBLE if point == "eligible" else side == point

    def in_base(side: str) -> bool:
        return True if point == "eligible" else side != NOT_ELIGIBLE

    current = sum(n for (b, _), n in pairs.items() if reached(b))
    draft = sum(n for (_, a), n in pairs.items() if reached(a))
    return {
        "current_count": current,
        "draft_count": draft,
        "base_current": sum(n for (b, _), n in pairs.items() if in_base(b)),
        "base_draft": sum(n for (_, a), n in pairs.items() if in_base(a)),
        "changed_in": sum(n for (b, a), n in pairs.items() if reached(a) and not reached(b)),
        "changed_out": sum(n for (b, a), n in pairs.items() if reached(b) and not reached(a)),
        "cannot_tell": cannot,
    }


def _reference(dimension: str, tally: Tally, chosen: str | None) -> str | None:
    spec = DIMENSIONS[dimension]
    comparable = [g for g in tally.groups if g not in spec.not_comparable]
    if chosen and chosen in comparable:
        return chosen
    if spec.default_reference in comparable:
        return spec.default_reference
    sizes = {g: sum(tally.joint[g].values()) for g in comparable}
    return max(sizes, key=lambda g: (sizes[g], g)) if sizes else None


def summarise(
    tally: Tally,
    dimension: str,
    reference: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> SimulationResult:
    ref = _reference(dimension, tally, reference)
    spec = DIMENSIONS[dimension]
    rows: list[ResultRow] = []
    counts: dict[tuple[str, str], dict[str, int]] = {}
    total: Counter[tuple[str, str]] = Counter()
    for pairs in tally.joint.values():
        total.update(pairs)
    for point in points_of(tally):
        for group in tally.groups:
            counts[(group, point)] = _counts(tally.joint[group], point, tally.cannot_tell[group])
        counts[("All", point)] = _counts(total, point, sum(tally.cannot_tell.values()))
    hidden = protect(counts, tally.groups, threshold)
    rng = np.random.default_rng(SEED)
    adjusted = _adjusted(tally, dimension, ref)
    for (group, point), c in counts.items():
        ref_counts = counts.get((ref, point)) if ref else None
        comparable = group not in spec.not_comparable and group != "All" and ref_counts is not None
        rri_now = rri_then = None
        low = high = None
        if comparable and ref_counts is not None:
            rri_now = relative_rate(
                c["current_count"], c["base_current"], ref_counts["current_count"], ref_counts["base_current"]
            ).rri
            rri_then = relative_rate(
                c["draft_count"], c["base_draft"], ref_counts["draft_count"], ref_counts["base_draft"]
            ).rri
            if group != ref and ref is not None:
                low, high = change_interval(tally.joint[group], tally.joint[ref], point, rng)
        cell_hidden = hidden.get((group, point), frozenset())
        ref_hidden = hidden.get((ref, point), frozenset()) if ref else frozenset()
        odds_now, odds_then = adjusted.get((group, point), (None, None))
        if cell_hidden or ref_hidden:
            # A rate or ratio would give a hidden count back: hide what is worked out from it.
            rri_now = rri_then = low = high = None
            odds_now = odds_then = None
        rows.append(
            ResultRow(
                group,
                point,
                c,
                None
                if {"current_count", "base_current"} & cell_hidden
                else rate(c["current_count"], c["base_current"]),
                None
                if {"draft_count", "base_draft"} & cell_hidden
                else rate(c["draft_count"], c["base_draft"]),
                rri_now,
                rri_then,
                low,
                high,
                cell_hidden,
                odds_now,
                odds_then,
            )
        )
    changed = sum(n for pairs in tally.joint.values() for (b, a), n in pairs.items() if b != a)
    # The headline figures are sums of the "All" row's cells: shown only while those cells are,
    # or they would give a hidden one back by subtraction.
    all_hidden = set().union(*(hidden.get(("All", point), frozenset()) for point in points_of(tally)))
    cannot = sum(tally.cannot_tell.values())
    decisions: int | None = tally.decisions
    cannot_shown: int | None = cannot
    eligible_hidden = hidden.get(("All", "eligible"), frozenset())
    if "cannot_tell" in eligible_hidden:
        decisions = cannot_shown = None
    elif {"base_current", "base_draft"} & eligible_hidden:
        decisions = None
    changed_shown: int | None = changed
    changed_by = tuple((rule, n) for rule, n in tally.changed_by.most_common() if not 0 < n < threshold)
    if {"changed_in", "changed_out"} & all_hidden or 0 < changed < threshold:
        changed_shown, changed_by = None, ()
    return SimulationResult(
        dimension,
        ref,
        tally.decisions,
        cannot,
        changed,
        tuple(rows),
        changed_by,
        threshold,
        decisions,
        cannot_shown,
        changed_shown,
    )


def _adjusted(
    tally: Tally, dimension: str, reference: str | None
) -> dict[tuple[str, str], tuple[Adjusted | None, Adjusted | None]]:
    """The eligibility point's odds ratios adjusted for case mix, under each version, by group:
    the same model as the monitoring page's (monitoring/adjusted.py) over the replayed encounters.
    Area is not among the case mix here: stored facts do not hold it."""
    if reference is None or not tally.mix:
        return {}
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    spec = DIMENSIONS[dimension]
    compared = [g for g in tally.groups if g not in spec.not_comparable]
    sides: list[list[Adjusted]] = []
    with threadpool_limits(limits=1, user_api="blas"):
        for side in (1, 2):
            cells = [
                Cell(g, offence, age, prior, "", {"encountered": n[0], "eligible": n[side]})
                for (g, offence, age, prior), n in tally.mix.items()
            ]
            sides.append(fit_point(cells, "eligible", spec, reference, compared))
    now = {a.group: a for a in sides[0]}
    then = {a.group: a for a in sides[1]}
    return {(g, "eligible"): (now.get(g), then.get(g)) for g in set(now) | set(then)}


def change_interval(
    group: Counter[tuple[str, str]],
    reference: Counter[tuple[str, str]],
    point: str,
    rng: np.random.Generator,
    draws: int = DRAWS,
) -> tuple[float | None, float | None]:
    """95% interval of (draft RRI / baseline RRI) for ``group`` against ``reference`` at ``point``.

    The same people are decided under both versions, so the two RRIs are not independent: the
    interval comes from resampling each group's (baseline, draft) outcome pairs together (a
    multinomial bootstrap over the pairs' counts), which keeps that pairing. Not computed when a
    resample leaves a rate of 0 or no base too often (more than 5% of draws)."""

    def sample(pairs: Counter[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        kinds = list(pairs)
        n = sum(pairs.values())
        if n == 0:
            zero = np.zeros(draws)
            return zero, zero, zero, zero
        p = np.array([pairs[k] for k in kinds], dtype=float) / n
        drawn = rng.multinomial(n, p, size=draws)

        def total(test: Callable[[tuple[str, str]], bool]) -> np.ndarray:
            mask = np.array([test(k) for k in kinds], dtype=bool)
            summed: np.ndarray = drawn[:, mask].sum(axis=1).astype(float)
            return summed

        def reached(side: str) -> bool:
            return side != NOT_ELIGIBLE if point == "eligible" else side == point

        def in_base(side: str) -> bool:
            return True if point == "eligible" else side != NOT_ELIGIBLE

        return (
            total(lambda k: reached(k[0])),
            total(lambda k: in_base(k[0])),
            total(lambda k: reached(k[1])),
            total(lambda k: in_base(k[1])),
        )

    a_now, base_a_now, a_then, base_a_then = sample(group)
    b_now, base_b_now, b_then, base_b_then = sample(reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (
            (a_then / base_a_then) / (b_then / base_b_then) / ((a_now / base_a_now) / (b_now / base_b_now))
        )
    finite = ratio[np.isfinite(ratio) & (ratio > 0)]
    if finite.size < 0.95 * draws:
        return None, None
    low, high = np.percentile(finite, [2.5, 97.5])
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, None
    return float(low), float(high)


def protect(
    counts: Mapping[tuple[str, str], Mapping[str, int]], groups: list[str], threshold: int
) -> dict[tuple[str, str], frozenset[str]]:
    """Which counts of which (group, point) to hide, as published figures hide them: so that no
    hidden count can be narrowed to fewer than ``threshold`` possible values by any combination of
    what is shown (monitoring/attacked.py, which attacks these few hundred cells outright).

    The relations anyone can use: each count of the "All" row is the sum of the groups'; within a
    row, draft = current + changed_in - changed_out, written as two sums over an unpublished
    "stayed" cell (reached under both); a route's base is the eligible count on the same side; the
    eligible point's two bases are the same people; "cannot tell" repeats on every point; and a
    count is at most its base, a change at most the count it changed.
    """
    Key = tuple[str, str, str]
    values: dict[Key, int] = {}
    sums: list[Margin[Key]] = []
    at_most: list[tuple[Key, Key]] = []
    points = sorted({p for _, p in counts})
    for (group, point), c in counts.items():
        for name in COUNTS:
            values[(group, point, name)] = c[name]
        values[(group, point, "stayed")] = c["current_count"] - c["changed_out"]

        def key(name: str, g: str = group, p: str = point) -> Key:
            return (g, p, name)

        sums.append(Margin(key("current_count"), (key("stayed"), key("changed_out"))))
        sums.append(Margin(key("draft_count"), (key("stayed"), key("changed_in"))))
        at_most += [
            (key("current_count"), key("base_current")),
            (key("draft_count"), key("base_draft")),
            (key("changed_in"), key("draft_count")),
            (key("changed_out"), key("current_count")),
        ]
        if point == "eligible":
            sums.append(Margin(key("base_current"), (key("base_draft"),)))
        elif (group, "eligible") in counts:
            for side in ("current", "draft"):
                sums.append(Margin(key(f"base_{side}"), (key(f"{side}_count", p="eligible"),)))
            sums.append(Margin(key("cannot_tell"), (key("cannot_tell", p="eligible"),)))
    for point in points:
        if ("All", point) not in counts:
            continue
        for name in (*COUNTS, "stayed"):
            members = tuple((g, point, name) for g in groups if (g, point) in counts)
            sums.append(Margin(("All", point, name), members))
    hidden = protect_linked(values, Linked(sums=sums, at_most=at_most), threshold)
    # "stayed" is never published, whether or not the protection chose to hide it.
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for group, point, name in hidden:
        if name != "stayed":
            out[(group, point)].add(name)
    return {key: frozenset(names) for key, names in out.items()}


def result_rows(result: SimulationResult) -> list[dict[str, Any]]:
    """The result as the CSV's rows: ``COLUMNS``, hidden values empty."""
    return [{column: row.value(column) for column in COLUMNS} for row in result.rows]


def to_json(result: SimulationResult) -> dict[str, Any]:
    """The result as stored on its simulation: only what may be published (hidden cells left out)."""
    return {
        "dimension": result.dimension,
        "reference": result.reference,
        "decisions": result.shown_decisions,
        "cannot_tell": result.shown_cannot_tell,
        "changed": result.shown_changed,
        "threshold": result.threshold,
        "changed_by": [list(pair) for pair in result.changed_by],
        "rows": [
            {
                **{column: row.value(column) for column in COLUMNS},
                "change_low": row.change_low,
                "change_high": row.change_high,
                "change_beyond_chance": row.change_beyond_chance,
                **_adjusted_json("current", row.adjusted_current),
                **_adjusted_json("draft", row.adjusted_draft),
                "hidden": sorted(row.hidden),
            }
            for row in result.rows
        ],
    }


def _adjusted_json(side: str, adjusted: Adjusted | None) -> dict[str, Any]:
    if adjusted is None:
        return {f"adjusted_or_{side}": None, f"adjusted_low_{side}": None, f"adjusted_high_{side}": None}
    return {
        f"adjusted_or_{side}": adjusted.odds_ratio,
        f"adjusted_low_{side}": adjusted.ci_low,
        f"adjusted_high_{side}": adjusted.ci_high,
        f"adjusted_note_{side}": adjusted.note,
    }
