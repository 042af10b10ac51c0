"""The linked release's protection against an independent linear-programming attacker (pure).

Random people are counted into every table one analyst can obtain (each programme and all, by
month, quarter, year and the whole range, every breakdown, and a reason table), protected with
``protect_release``, and attacked with everything that is shown (attacker.py). The database-backed
version, through the downloads themselves, is test_release_downloads.py.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from divert.monitoring.points import DIMENSIONS, POINT_NAMES
from divert.monitoring.release import ALL_PROGRAMMES, REASON, WHOLE, Release, protect_release

from .attacker import narrowest

THRESHOLD = 5
ETHNIC = {"W1": "White", "W2": "White", "B1": "Black", "A1": "Asian", "NS": "Not stated"}
PROGRAMMES = ("p1", "p2")
LADDER = ("encountered", "eligible", "offered", "accepted", "engaged", "completed")

person = st.tuples(
    st.sampled_from(sorted(ETHNIC)),
    st.sampled_from(["male", "female"]),
    st.sampled_from(["15–17", "18–20"]),
    st.sampled_from(["OX1", "RG1"]),
    st.integers(1, 4),  # month of 2026: two quarters
    st.dictionaries(st.sampled_from(PROGRAMMES), st.integers(0, 5), min_size=1),  # furthest step
    st.booleans(),  # escalated (if accepted)
    st.sampled_from(["late", "refused"]),  # why not offered
)


def count(people: list[Any]) -> dict[tuple[str, str, str, str, str], int]:
    values: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for code, gender, age, area, month, reached, escalated, why in people:
        groups = {
            "ethnicity_group": ETHNIC[code],
            "ethnicity_code": code,
            "officer_ethnicity": ETHNIC[code],
            "gender": gender,
            "age_band": age,
            "area": area,
        }
        assert set(groups) == set(DIMENSIONS)
        periods = (f"2026-{month:02d}", f"2026-Q{(month - 1) // 3 + 1}", "2026", WHOLE)
        furthest = {**reached, ALL_PROGRAMMES: max(reached.values())}
        for prog, depth in furthest.items():
            points = [*LADDER[: depth + 1], *(["escalated"] if escalated and depth >= 3 else [])]
            for period in periods:
                for dim, group in groups.items():
                    for point in points:
                        values[prog, period, dim, group, point] += 1
            # A reason is given on each programme's case, so all programmes' is their sum.
            if depth == 1:
                for p in (
                    (prog,) if prog != ALL_PROGRAMMES else tuple(k for k, d in reached.items() if d == 1)
                ):
                    for dim, group in groups.items():
                        values[
                            ALL_PROGRAMMES if prog == ALL_PROGRAMMES else p,
                            WHOLE,
                            dim,
                            group,
                            f"{REASON}not_offered:{why}",
                        ] += 0 if prog == ALL_PROGRAMMES else 1
    for key in [k for k in values if k[0] != ALL_PROGRAMMES and k[4].startswith(REASON)]:
        values[(ALL_PROGRAMMES, *key[1:])] += values[key]
    assert set(POINT_NAMES) >= {k[4] for k in values if not k[4].startswith(REASON)}
    return {k: v for k, v in values.items() if v}


def published(release: Release) -> dict[tuple[str, str, str, str, str], int | None]:
    return {k: (None if k in release.hidden else v) for k, v in release.values.items()}


def check(release: Release) -> None:
    values = release.values
    assert {k for k, v in values.items() if 0 < v < THRESHOLD} <= release.hidden
    assert all(values[k] > 0 for k in release.hidden), "zeros are shown"
    for cell, (low, high) in narrowest(published(release), ETHNIC, WHOLE, THRESHOLD).items():
        assert high - low >= THRESHOLD - 1e-6, (cell, values[cell], low, high)


# Few, small examples: each attack is hundreds of linear programmes over every hidden cell. No
# shrinking: a failing example is printed as found, and shrinking one takes many minutes.
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(st.lists(person, min_size=1, max_size=25))
def test_no_hidden_cell_is_narrower_than_the_threshold(people: list[Any]) -> None:
    check(protect_release(count(people), PROGRAMMES, ETHNIC, THRESHOLD))


def test_a_larger_release_keeps_most_figures_and_still_holds() -> None:
    # 40 people in each of 25 combinations: big enough that most of the whole range is shown.
    people = [
        (code, gender, "15–17", area, month, {"p1": 2 + (month % 3)}, month == 2, "late")
        for code in ("W1", "B1", "A1", "W2", "NS")
        for gender in ("male", "female")
        for area in ("OX1", "RG1")
        for month in (1, 2, 3)
        for _ in range(8)
    ] + [("A1", "male", "18–20", "OX1", 4, {"p1": 5, "p2": 1}, False, "refused")]
    release = protect_release(count(people), PROGRAMMES, ETHNIC, THRESHOLD)
    check(release)
    whole = [k for k in release.values if k[1] == WHOLE and k[0] == "p1" and not k[4].startswith(REASON)]
    shown = [k for k in whole if k not in release.hidden]
    assert len(shown) > len(whole) / 2
