"""Population baseline CSV: the documented format, errors that name the line, and share comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from divert.monitoring.population import BaselineError, parse_baseline, population_by
from divert.monitoring.stats import compare_shares

SAMPLE = Path(__file__).resolve().parents[2] / "seeds" / "population" / "sample-population.csv"


def test_the_shipped_sample_parses_and_says_it_is_not_real() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert "NOT REAL DATA" in text.splitlines()[0]
    rows = parse_baseline(text)
    assert len(rows) == 50
    assert population_by(rows, "ethnicity_group", area="ox1")["Black"] == 60 + 58 + 40 + 41 + 90 + 95


def test_every_problem_is_reported_with_its_line() -> None:
    text = (
        "area,ethnic_group,gender,age_band,population\n"
        "OX1,White,male,15-17,10\n"  # a hyphen is fine
        "OX1,Purple,male,15–17,10\n"
        "OX1,Black,man,15–17,ten\n"
        "OX1,White,male,15–17,3\n"
        "OX1,White,male\n"
    )
    with pytest.raises(BaselineError) as raised:
        parse_baseline(text)
    assert raised.value.problems == [
        "Line 3: ethnic group must be one of White, Mixed, Asian, Black, Other, not 'Purple'",
        "Line 4: gender must be one of male, female, other, not 'man'",
        "Line 4: population must be a whole number, 0 or more, not 'ten'",
        "Line 5: repeats line 2 (OX1, White, male, 15–17)",
        "Line 6: has 3 values; it must have 5",
    ]


def test_header_and_empty_file_are_refused() -> None:
    with pytest.raises(BaselineError, match="Line 1: the header must be"):
        parse_baseline("area,group,gender,age,population\n")
    with pytest.raises(BaselineError, match="empty"):
        parse_baseline("# only a comment\n")


def test_whole_area_rows_are_not_added_to_district_rows() -> None:
    rows = parse_baseline(
        "area,ethnic_group,gender,age_band,population\n*,White,male,36+,100\nOX1,White,male,36+,60\n"
    )
    assert population_by(rows, "gender") == {"male": 100}
    assert population_by(rows, "gender", area="OX1") == {"male": 60}
    with pytest.raises(ValueError):
        population_by(rows, "officer_ethnicity")


def test_share_of_encounters_against_share_of_population() -> None:
    rows = parse_baseline(SAMPLE.read_text(encoding="utf-8"))
    population = population_by(rows, "ethnicity_group")
    encounters = {"White": 50, "Black": 30, "Asian": 10, "Mixed": 5, "Other": 5, "Not stated": 7}
    compared = compare_shares(encounters, population, ["White", "Mixed", "Asian", "Black", "Other"])
    black = next(c for c in compared if c.group == "Black")
    total = sum(population.values())
    assert black.population_share == pytest.approx(population["Black"] / total)
    assert black.difference_pp == pytest.approx((0.30 - population["Black"] / total) * 100)
    assert [c.group for c in compared][-1] == "Not stated"
