"""Report rows for the pinned dataset: rates, RRIs with hand-computed intervals, flags, suppression."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from divert.monitoring.points import POINT_NAMES
from divert.monitoring.query import GroupCounts, Scope
from divert.monitoring.release import linked_release
from divert.monitoring.report import ALL_GROUPS, Options, ReportRow, assemble, build_report

from . import dataset


def _rows(rows: list[ReportRow], period: str = "2026-Q1") -> dict[tuple[str, str], ReportRow]:
    return {(r.group, r.point): r for r in rows if r.period == period}


@pytest.fixture
def q1(db_session: Session) -> dict[tuple[str, str], ReportRow]:
    dataset.load(db_session)
    report = build_report(db_session, Scope("ethnicity_group", "quarter", dataset.P))
    assert report.reference == "White"
    return _rows(report.rows)


# (group, point): (count, base, RRI, ci_low, ci_high, significant). Reference White.
# Every interval is exp(ln RRI ± 1.959964·SE), SE = √(1/a − 1/A + 1/b − 1/B):
#   eligible  Black 6/10 vs 8/10: 0.75,   SE 0.302765 -> 0.41433 .. 1.35761
#   offered   Black 3/6  vs 6/8:  0.6667, SE 0.456435 -> 0.27251 .. 1.63090
#   accepted  Black 2/3  vs 5/6:  0.8,    SE 0.447214 -> 0.33298 .. 1.92202
#   engaged   Black 1/2  vs 4/5:  0.625,  SE 0.741620 -> 0.14609 .. 2.67392
#   escalated Black 1/2  vs 1/5:  2.5,    SE 1.140175 -> 0.26756 .. 23.35926
#   formal    Black 3/10 vs 2/10: 1.5,    SE 0.795822 -> 0.31527 .. 7.13669
#   eligible  Asian 3/3  vs 8/10: 1.25,   SE 0.158114 -> 0.91690 .. 1.70411
#   completed Asian 3/3  vs 3/4:  1.3333, SE 0.288675 -> 0.75721 .. 2.34779
EXPECTED = {
    ("Black", "eligible"): (6, 10, 0.75, 0.41433, 1.35761),
    ("Black", "offered"): (3, 6, 2 / 3, 0.27251, 1.63090),
    ("Black", "accepted"): (2, 3, 0.8, 0.33298, 1.92202),
    ("Black", "engaged"): (1, 2, 0.625, 0.14609, 2.67392),
    ("Black", "escalated"): (1, 2, 2.5, 0.26756, 23.35926),
    ("Black", "formal_outcome"): (3, 10, 1.5, 0.31527, 7.13669),
    ("Asian", "eligible"): (3, 3, 1.25, 0.91690, 1.70411),
    ("Asian", "completed"): (3, 3, 4 / 3, 0.75721, 2.34779),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_rri_and_interval_match_the_hand_computation(
    q1: dict[tuple[str, str], ReportRow], key: tuple[str, str]
) -> None:
    count, base, rri, low, high = EXPECTED[key]
    row = q1[key]
    assert (row.count, row.base_count) == (count, base)
    assert row.rate == pytest.approx(count / base)
    assert row.rri == pytest.approx(rri)
    assert row.ci_low == pytest.approx(low, abs=1e-5)
    assert row.ci_high == pytest.approx(high, abs=1e-5)
    assert row.significant is False
    assert row.reference_group == "White"


def test_zero_count_rri_is_not_computable_and_says_so(q1: dict[tuple[str, str], ReportRow]) -> None:
    row = q1["Black", "completed"]
    assert (row.count, row.base_count, row.rate) == (0, 1, 0.0)
    assert row.rri is None and "count is 0" in row.note


def test_not_stated_counted_but_not_compared_and_empty_groups_show_zero(
    q1: dict[tuple[str, str], ReportRow],
) -> None:
    row = q1["Not stated", "eligible"]
    assert (row.count, row.base_count, row.rri, row.four_fifths_flag) == (1, 2, None, None)
    assert "left out of comparisons" in row.note
    mixed = q1["Mixed", "eligible"]
    assert (mixed.count, mixed.base_count, mixed.rate) == (0, 0, None)
    assert "nobody in this group" in mixed.note
    assert q1[ALL_GROUPS, "encountered"].count == 25  # 10 + 10 + 3 + 2: nobody dropped


def test_reference_row_and_four_fifths(q1: dict[tuple[str, str], ReportRow]) -> None:
    assert q1["White", "eligible"].rri == 1.0
    # offered: White 6/8 = 0.75, Black 3/6 = 0.5, Asian 3/3 = 1.0; four-fifths line 0.8.
    assert q1["White", "offered"].four_fifths_flag is True
    assert q1["Black", "offered"].four_fifths_flag is True
    assert q1["Asian", "offered"].four_fifths_flag is False
    # Adverse points carry no four-fifths flag.
    assert q1["Black", "escalated"].four_fifths_flag is None


def test_selectable_reference_and_refused_reference(db_session: Session) -> None:
    dataset.load(db_session)
    scope = Scope("ethnicity_group", "quarter", dataset.P)
    rows = _rows(build_report(db_session, scope, Options(reference="Black")).rows)
    # White against Black at eligible: 0.8 / 0.6.
    assert rows["White", "eligible"].rri == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="cannot be the reference"):
        build_report(db_session, scope, Options(reference="Not stated"))


def test_published_report_suppresses_small_counts_and_what_is_built_on_them(db_session: Session) -> None:
    dataset.load(db_session)
    scope = Scope("ethnicity_group", "quarter", dataset.P)
    report = build_report(db_session, scope, Options(published=True))
    release = linked_release(db_session, None, threshold=5)
    raw = _rows(build_report(db_session, scope).rows)
    for row in report.rows:
        true = raw[row.group, row.point] if row.period == "2026-Q1" else None
        hidden = release.is_hidden(dataset.P, row.period, "ethnicity_group", row.group, row.point)
        # The report hides exactly what the linked release hides, every count 1–4 among them.
        assert (row.count is None) == hidden
        if true is not None and true.count is not None and 0 < true.count < 5:
            assert row.count is None and row.suppressed
        # Nothing is built on a hidden count: rate, RRI, its interval, significance.
        if row.count is None or (row.base_point and row.base_count is None):
            assert (row.rate, row.rri, row.ci_low, row.ci_high, row.significant) == (None,) * 5
            assert row.suppressed
    rows = _rows(report.rows)
    asian = rows["Asian", "eligible"]  # 3 of 3: both hidden
    assert (asian.count, asian.base_count, asian.rate, asian.rri, asian.suppressed) == (
        None,
        None,
        None,
        None,
        True,
    )
    assert rows["Mixed", "eligible"].count == 0  # zero shows as 0
    # White escalated 1 of 5: the reference is hidden, so every escalated RRI is.
    assert all(rows[g, "escalated"].rri is None for g in ("Black", "Asian"))


def test_secondary_suppression_in_a_published_table() -> None:
    # White 10, Black 3, Asian 20 (All 33) encountered: Black alone hidden would be 33 − 10 − 20.
    counts = [
        GroupCounts("2026-Q1", g, {p: (n if p == "encountered" else 0) for p in POINT_NAMES})
        for g, n in (("White", 10), ("Black", 3), ("Asian", 20))
    ]
    report = assemble(Scope("ethnicity_group"), counts, ["White", "Black", "Asian"], Options(published=True))
    shown = {r.group: r.count for r in report.rows if r.point == "encountered"}
    # The next-smallest, White, is hidden too; the total stays.
    assert shown == {"White": None, "Black": None, "Asian": 20, ALL_GROUPS: 33}


def test_reference_group_with_base_zero_is_not_computable() -> None:
    counts = [
        GroupCounts("2026-Q1", "White", dict.fromkeys(POINT_NAMES, 0)),
        GroupCounts("2026-Q1", "Black", {**dict.fromkeys(POINT_NAMES, 0), "encountered": 6, "eligible": 3}),
    ]
    report = assemble(Scope("ethnicity_group"), counts, ["White", "Black"])
    by = _rows(report.rows)
    assert by["White", "eligible"].rri is None
    assert by["White", "eligible"].note.startswith("Not computable")
    assert by["Black", "eligible"].rri is None
