"""Rates, RRI and interval, significance, four-fifths and population shares, against hand computation."""

from __future__ import annotations

import math

import pytest

from divert.monitoring.stats import Z_VALUES, compare_shares, four_fifths, rate, relative_rate, z_value


def test_rate_is_none_without_a_base_and_refuses_impossible_counts() -> None:
    assert rate(3, 4) == 0.75
    assert rate(0, 4) == 0.0
    assert rate(0, 0) is None
    with pytest.raises(ValueError):
        rate(5, 4)


def test_z_value_comes_from_the_normal_quantile() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.99) == pytest.approx(2.575829, abs=1e-6)


@pytest.mark.parametrize("confidence", sorted(Z_VALUES))
def test_the_kept_quantiles_are_scipys_to_the_last_bit(confidence: float) -> None:
    """The report imports no scipy.stats for the usual levels, and its figures are unchanged."""
    from scipy.stats import norm

    assert z_value(confidence) == float(norm.ppf(1 - (1 - confidence) / 2))


def test_another_level_still_comes_from_scipy() -> None:
    from scipy.stats import norm

    assert z_value(0.8) == float(norm.ppf(0.9))


def test_the_report_imports_no_scipy_stats() -> None:
    """In a fresh interpreter: the report's import and one RRI leave scipy.stats unloaded (44 MiB)."""
    import subprocess
    import sys

    code = (
        "import sys; import divert.monitoring.report, divert.monitoring.page; "
        "from divert.monitoring.stats import relative_rate; relative_rate(3, 10, 4, 12); "
        "print('scipy.stats' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert found.stdout.strip() == "False", found.stderr


def test_rri_and_interval_by_hand() -> None:
    # a/A = 6/10, b/B = 8/10: RRI = 0.6 / 0.8 = 0.75
    # SE = √(1/6 − 1/10 + 1/8 − 1/10) = √0.0916667 = 0.302765
    # ln 0.75 = −0.287682; ± 1.959964 × 0.302765 = ± 0.593408
    # low = exp(−0.881090) = 0.41433, high = exp(0.305726) = 1.35761: includes 1, not significant.
    result = relative_rate(6, 10, 8, 10)
    assert result.rri == pytest.approx(0.75)
    assert result.ci_low == pytest.approx(0.41433, abs=1e-5)
    assert result.ci_high == pytest.approx(1.35761, abs=1e-5)
    assert result.significant is False
    assert result.note == ""


def test_significant_when_the_interval_excludes_one() -> None:
    # 30/100 against 60/100: RRI 0.5; SE = √(1/30 − 1/100 + 1/60 − 1/100) = √0.03 = 0.173205
    # ln 0.5 = −0.693147 ± 0.339478: low = exp(−1.032625) = 0.35607, high = exp(−0.353669) = 0.70210.
    result = relative_rate(30, 100, 60, 100)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(0.35607, abs=1e-5),
        pytest.approx(0.70210, abs=1e-5),
    )
    assert result.significant is True
    # And above 1: the same the other way round.
    assert relative_rate(60, 100, 30, 100).significant is True


@pytest.mark.parametrize(
    ("args", "note"),
    [
        ((0, 10, 8, 10), "this group's count is 0"),
        ((6, 10, 0, 10), "the reference group's count is 0"),
        ((0, 0, 8, 10), "nobody in this group reached the base"),
        ((6, 10, 0, 0), "nobody in the reference group reached the base"),
    ],
)
def test_rri_not_computable_says_so_instead_of_zero_or_infinity(
    args: tuple[int, int, int, int], note: str
) -> None:
    result = relative_rate(*args)
    assert (result.rri, result.ci_low, result.ci_high, result.significant) == (None, None, None, None)
    assert result.note.startswith("Not computable") and note in result.note


def test_interval_collapses_when_everyone_reached_the_point() -> None:
    # a = A and b = B: SE = 0, so the interval is the point itself; RRI 1 is not significant.
    result = relative_rate(5, 5, 7, 7)
    assert (result.rri, result.ci_low, result.ci_high, result.significant) == (1.0, 1.0, 1.0, False)


def test_four_fifths_against_the_highest_compared_rate() -> None:
    rates = {"White": 0.75, "Black": 0.5, "Asian": 1.0, "Mixed": None, "Not stated": 0.1}
    flags = four_fifths(rates, ["White", "Black", "Asian", "Mixed"])
    # Highest compared rate 1.0, so the line is 0.8: 0.75 and 0.5 fall below it.
    assert flags == {"White": True, "Black": True, "Asian": False, "Mixed": None, "Not stated": None}
    # Exactly four-fifths is not below it.
    assert four_fifths({"A": 0.8, "B": 1.0}, ["A", "B"]) == {"A": False, "B": False}
    assert four_fifths({"A": None}, ["A"]) == {"A": None}


def test_population_shares_in_percentage_points() -> None:
    encounters = {"White": 60, "Black": 30, "Asian": 10, "Not stated": 25}
    population = {"White": 800, "Black": 50, "Asian": 150}
    rows = {r.group: r for r in compare_shares(encounters, population, ["White", "Black", "Asian"])}
    # Shares among stated groups: encounters 60/100, 30/100, 10/100; population 0.80, 0.05, 0.15.
    assert rows["White"].difference_pp == pytest.approx(-20.0)
    assert rows["Black"].difference_pp == pytest.approx(25.0)
    assert rows["Asian"].difference_pp == pytest.approx(-5.0)
    # Not stated is kept, with its count, and no shares.
    assert (rows["Not stated"].encounters, rows["Not stated"].encounter_share) == (25, None)
    assert math.isclose(sum(r.difference_pp or 0 for r in rows.values()), 0, abs_tol=1e-9)
