"""The monitoring decision points and the dimensions they are broken down by, as data.

The names here are the ones used everywhere (pages, exports, API), so they are defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from divert.rules.definition import FORMAL_OUTCOME_CODES as RULES_FORMAL_CODES

Kind = Literal["base", "favourable", "adverse"]


@dataclass(frozen=True, slots=True)
class Point:
    name: str
    # The point whose count is this point's base (denominator); None for the base population.
    base: str | None
    kind: Kind


# Order matters: every point's base comes before it, so a journey reads top to bottom.
POINTS: tuple[Point, ...] = (
    Point("encountered", None, "base"),
    Point("eligible", "encountered", "favourable"),
    Point("offered", "eligible", "favourable"),
    Point("accepted", "offered", "favourable"),
    Point("engaged", "accepted", "favourable"),
    Point("completed", "engaged", "favourable"),
    Point("escalated", "accepted", "adverse"),
    Point("formal_outcome", "encountered", "adverse"),
    # Issue 13: the route (to a decision maker such as the Youth Justice Unit, rather than straight
    # to the service), and that decision maker's decision: divert again, or a formal outcome.
    Point("decision_route", "accepted", "adverse"),
    Point("diverted_again", "decision_route", "favourable"),
    Point("decision_formal", "decision_route", "adverse"),
)
POINT_NAMES: tuple[str, ...] = tuple(p.name for p in POINTS)
BY_NAME: dict[str, Point] = {p.name: p for p in POINTS}

# Home Office outcome codes that count as a formal outcome: charged/summonsed, youth or adult caution.
# Also an ending the definition marks as one (rules.definition.is_formal_outcome: formal_outcome_at).
FORMAL_OUTCOME_CODES: tuple[int, ...] = RULES_FORMAL_CODES

PERIODS: tuple[str, ...] = ("month", "quarter", "year")

AGE_BANDS: tuple[str, ...] = ("10–14", "15–17", "18–20", "21–25", "26–35", "36+")
# Lower age (inclusive) of each band, for the CASE expression in query.py.
AGE_BAND_FLOORS: tuple[tuple[int, str], ...] = (
    (36, "36+"),
    (26, "26–35"),
    (21, "21–25"),
    (18, "18–20"),
    (15, "15–17"),
    (10, "10–14"),
)
UNDER_10 = "Under 10"
NOT_KNOWN = "Not known"
NOT_RECORDED = "Not recorded"
ALL_GROUPS = "All"


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    label: str
    # The reference group for the Relative Rate Index unless the user picks another; None means
    # "the group with the most encounters in the report", for dimensions with no conventional one.
    default_reference: str | None
    # Groups shown in counts but left out of comparisons (RRI, four-fifths, population shares):
    # they say nothing about a group of people, only that the value was not recorded.
    not_comparable: frozenset[str]
    # Display order of known groups; groups not listed follow in alphabetical order.
    order: tuple[str, ...] = ()


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(
            "ethnicity_group",
            "Ethnicity (self-defined, five groups)",
            "White",
            frozenset({"Not stated"}),
            ("White", "Mixed", "Asian", "Black", "Other", "Not stated"),
        ),
        Dimension(
            "ethnicity_code",
            "Ethnicity (self-defined, 18+1 codes)",
            "W1",
            frozenset({"NS"}),
            # Sorted by the reference table's sort_order in query.py; this is only the fallback.
        ),
        Dimension(
            "officer_ethnicity",
            "Ethnicity (officer-defined, grouped)",
            "White",
            frozenset({"Not stated", NOT_RECORDED}),
            ("White", "Mixed", "Asian", "Black", "Other", "Not stated", NOT_RECORDED),
        ),
        Dimension(
            "gender",
            "Gender",
            None,
            frozenset({"not_stated"}),
            ("male", "female", "other", "not_stated"),
        ),
        Dimension(
            "age_band",
            "Age band at the encounter",
            None,
            # Under 10 is below the age of criminal responsibility, so it can only be a recording error.
            frozenset({NOT_KNOWN, UNDER_10}),
            (UNDER_10, *AGE_BANDS, NOT_KNOWN),
        ),
        Dimension("area", "Area (postcode district)", None, frozenset({NOT_KNOWN})),
    )
}


def ordered_groups(dimension: Dimension, groups: set[str]) -> list[str]:
    """Every listed group (met or not, so an empty group shows as 0), then any others alphabetically."""
    known = list(dimension.order)
    rest = sorted(g for g in groups if g not in dimension.order and g not in dimension.not_comparable)
    tail = sorted(g for g in groups if g not in dimension.order and g in dimension.not_comparable)
    return known + rest + tail
