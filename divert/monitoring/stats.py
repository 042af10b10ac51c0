"""Rates, the Relative Rate Index with its confidence interval, the four-fifths flag, population shares.

Pure functions over counts, so each can be checked by hand. The RRI interval is the usual one on the
log scale (the method of the US OJJDP and the Lammy Review):

    RRI = (a/A) / (b/B)
    exp(ln RRI ± z·√(1/a − 1/A + 1/b − 1/B))

with a/A the group's count and base, b/B the reference group's, and z the normal quantile for the
confidence level (1.96 for 95%). It cannot be computed when a or b is 0 (the logarithm of 0), which
is reported as such, never as 0 or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

# The advisory four-fifths rule: a favourable rate below 80% of the highest group's is flagged.
FOUR_FIFTHS = 0.8


@dataclass(frozen=True, slots=True)
class RelativeRate:
    rri: float | None
    ci_low: float | None
    ci_high: float | None
    # None when not computed; otherwise whether the interval excludes 1.
    significant: bool | None
    # Why the RRI is missing, in words for the page and the export's readers; "" when computed.
    note: str = ""


def rate(count: int, base: int) -> float | None:
    """count / base, or None when nobody reached the base point (there is no rate, not a 0% rate)."""
    if count < 0 or base < 0 or count > base:
        raise ValueError(f"A count must be between 0 and its base: {count} of {base}")
    return count / base if base else None


# scipy.stats.norm.ppf's own values for the usual levels, to the last bit (tests/monitoring/
# test_stats.py checks them against scipy). Importing scipy.stats costs the report process 44 MiB
# for this one number, and the closed forms at hand (statistics.NormalDist) differ from it in the
# last bit, which could move a rounded interval; so scipy is imported only for another level.
Z_VALUES: dict[float, float] = {0.9: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}


@cache
def z_value(confidence: float = 0.95) -> float:
    """The two-sided normal quantile: 1.959964… for 95%."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    known = Z_VALUES.get(confidence)
    if known is not None:
        return known
    # scipy ships no type information (scipy-stubs would add it; see the monitoring README note).
    from scipy.stats import norm

    return float(norm.ppf(1 - (1 - confidence) / 2))


def relative_rate(a: int, base_a: int, b: int, base_b: int, confidence: float = 0.95) -> RelativeRate:
    """The group's rate (a/base_a) against the reference group's (b/base_b), with its interval."""
    rate_a, rate_b = rate(a, base_a), rate(b, base_b)
    if rate_a is None:
        return RelativeRate(None, None, None, None, "Not computable: nobody in this group reached the base")
    if rate_b is None:
        return RelativeRate(
            None, None, None, None, "Not computable: nobody in the reference group reached the base"
        )
    if a == 0:
        return RelativeRate(None, None, None, None, "Not computable: this group's count is 0")
    if b == 0:
        return RelativeRate(None, None, None, None, "Not computable: the reference group's count is 0")
    rri = rate_a / rate_b
    se = math.sqrt(1 / a - 1 / base_a + 1 / b - 1 / base_b)
    margin = z_value(confidence) * se
    low, high = math.exp(math.log(rri) - margin), math.exp(math.log(rri) + margin)
    return RelativeRate(rri, low, high, low > 1 or high < 1)


def four_fifths(rates: Mapping[str, float | None], compared: Iterable[str]) -> dict[str, bool | None]:
    """For each group in ``rates``: is its rate below 4/5 of the highest rate among ``compared``?

    Groups without a rate, or outside ``compared`` (not stated, not known), get None: no flag either way.
    """
    eligible = [g for g in compared if rates.get(g) is not None]
    if not eligible:
        return dict.fromkeys(rates)
    highest = max(rates[g] or 0.0 for g in eligible)
    inside = set(eligible)
    return {
        group: (value < FOUR_FIFTHS * highest) if group in inside and value is not None else None
        for group, value in rates.items()
    }


@dataclass(frozen=True, slots=True)
class ShareComparison:
    group: str
    encounters: int
    encounter_share: float | None
    population: int | None
    population_share: float | None
    # Encounter share minus population share, in percentage points; positive is over-represented.
    difference_pp: float | None


def compare_shares(
    encounters: Mapping[str, int], population: Mapping[str, int], compared: Iterable[str]
) -> list[ShareComparison]:
    """Each compared group's share of encounters against its share of the population.

    Shares are taken among the compared groups only: a baseline has no "not stated" people, so
    including them in one share and not the other would understate every group. Groups left out are
    returned with no shares, so nobody disappears from the table.
    """
    groups = list(compared)
    enc_total = sum(encounters.get(g, 0) for g in groups)
    pop_total = sum(population.get(g, 0) for g in groups)
    result = []
    for group in [*groups, *(g for g in encounters if g not in groups)]:
        count = encounters.get(group, 0)
        pop = population.get(group)
        in_scope = group in groups
        enc_share = count / enc_total if in_scope and enc_total else None
        pop_share = pop / pop_total if in_scope and pop is not None and pop_total else None
        diff = (enc_share - pop_share) * 100 if enc_share is not None and pop_share is not None else None
        result.append(ShareComparison(group, count, enc_share, pop, pop_share, diff))
    return result
