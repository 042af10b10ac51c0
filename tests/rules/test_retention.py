"""Retention rules: the definition block, and what is due for a person as of a day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from divert.rules.definition import DefinitionError
from divert.rules.retention import (
    ClosedCase,
    PeriodError,
    Retention,
    RetentionRule,
    UnreferredEncounter,
    age_floor,
    coarse_district,
    due,
    parse_period,
)
from divert.rules.schema import definition_from_dict

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "programmes"

RULES = Retention(
    programmes={"tvp-youth": RetentionRule(72, 24), "strict": RetentionRule(12, 6, "erase")},
    default=RetentionRule(36, 12),
    never_referred_months=18,
)


def _document(**extra: Any) -> dict[str, Any]:
    with (SEEDS / "tvp-youth-drugs-v3.yaml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return {**data, **extra}


def test_periods_are_years_or_months() -> None:
    assert parse_period("6 years") == 72
    assert parse_period("1 year") == 12
    assert parse_period(" 18 months ") == 18
    for bad in ("six years", "6 weeks", "", "-1 years", "6"):
        with pytest.raises(PeriodError):
            parse_period(bad)


def test_a_definition_may_say_how_long_it_keeps_records() -> None:
    definition = definition_from_dict(
        _document(retention={"review_after_closed": "6 years", "not_eligible": "2 years", "action": "erase"})
    )
    assert definition.retention == RetentionRule(72, 24, "erase")
    assert definition_from_dict(_document()).retention is None


def test_a_bad_retention_block_names_each_field() -> None:
    with pytest.raises(DefinitionError) as raised:
        definition_from_dict(
            _document(retention={"review_after_closed": "soon", "action": "shred", "keep": True})
        )
    paths = {path for path, _ in raised.value.problems}
    assert paths == {
        "retention.review_after_closed",
        "retention.not_eligible",
        "retention.action",
        "retention.keep",
    }


def test_an_open_case_keeps_the_whole_record() -> None:
    cases = [ClosedCase("tvp-youth", date(2010, 1, 1)), ClosedCase("other", None)]
    assert due(cases, [], RULES, date(2040, 1, 1)) is None


def test_due_once_the_programmes_period_after_closing_has_passed() -> None:
    cases = [ClosedCase("tvp-youth", date(2020, 3, 15))]
    assert due(cases, [], RULES, date(2026, 3, 14)) is None
    decided = due(cases, [], RULES, date(2026, 3, 15))
    assert decided is not None
    assert (decided.due_on, decided.kind, decided.programme, decided.action) == (
        date(2026, 3, 15), "case_closed", "tvp-youth", "anonymise"
    )  # fmt: skip


def test_a_programme_without_a_rule_takes_the_default() -> None:
    decided = due([ClosedCase("unlisted", date(2020, 1, 31))], [], RULES, date(2023, 1, 31))
    assert decided is not None and decided.due_on == date(2023, 1, 31)


def test_the_latest_item_governs() -> None:
    cases = [ClosedCase("tvp-youth", date(2018, 1, 1))]
    encounters = [UnreferredEncounter(date(2025, 6, 1), ("tvp-youth",))]
    assert due(cases, encounters, RULES, date(2026, 12, 1)) is None
    decided = due(cases, encounters, RULES, date(2027, 6, 1))
    assert decided is not None and (decided.kind, decided.due_on) == ("not_eligible", date(2027, 6, 1))


def test_never_referred_encounters_use_their_own_period() -> None:
    decided = due([], [UnreferredEncounter(date(2024, 1, 1))], RULES, date(2025, 7, 1))
    assert decided is not None and (decided.kind, decided.programme) == ("never_referred", None)
    assert due([], [UnreferredEncounter(date(2024, 1, 2))], RULES, date(2025, 7, 1)) is None


def test_erasure_only_when_every_rule_that_applies_says_so() -> None:
    alone = due([ClosedCase("strict", date(2020, 1, 1))], [], RULES, date(2030, 1, 1))
    assert alone is not None and alone.action == "erase"
    mixed = due(
        [ClosedCase("strict", date(2020, 1, 1)), ClosedCase("tvp-youth", date(2020, 1, 1))],
        [],
        RULES,
        date(2030, 1, 1),
    )
    assert mixed is not None and mixed.action == "anonymise"


def test_nothing_recorded_is_nothing_due() -> None:
    assert due([], [], RULES, date(2100, 1, 1)) is None


def test_the_age_band_kept_in_place_of_a_date_of_birth() -> None:
    born = date(2008, 2, 29)
    assert age_floor(born, date(2023, 2, 28)) == 10  # 14 until 1 March
    assert age_floor(born, date(2023, 3, 1)) == 15
    assert age_floor(born, date(2026, 3, 1)) == 18
    assert age_floor(born, date(2012, 1, 1)) == 0
    assert age_floor(born, date(2007, 1, 1)) == -1
    assert age_floor(None, date(2020, 1, 1)) is None


def test_a_postcode_district_becomes_its_area() -> None:
    assert coarse_district("OX4") == "OX"
    assert coarse_district("w1a") == "W"
    assert coarse_district(None) is None
    assert coarse_district("4X") is None
