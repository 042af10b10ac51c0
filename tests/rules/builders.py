"""Small builders so each test states only the facts it is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from divert.rules import EncounterFacts, PriorEncounter, ProgrammeDefinition, load_directory, select_version

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "programmes"
ENCOUNTER_DAY = date(2024, 6, 12)


@cache
def shipped() -> tuple[ProgrammeDefinition, ...]:
    return tuple(load_directory(SEEDS))


def programme(code: str, on: date = ENCOUNTER_DAY) -> ProgrammeDefinition:
    return select_version(shipped(), code, on)


def born_years_before(years: int, on: date = ENCOUNTER_DAY, days: int = 0) -> date:
    """A date of birth making someone turn ``years`` exactly on ``on``, shifted by ``days``."""
    return date(on.year - years, on.month, on.day) + timedelta(days=days)


def possession(**overrides: Any) -> EncounterFacts:
    """A clean first drug possession by a 16-year-old; tests change only the facts they are about."""
    base = EncounterFacts(
        occurred_on=ENCOUNTER_DAY,
        date_of_birth=born_years_before(16),
        gender="male",
        setting="street",
        offence_category="drug_possession",
        offence_date=ENCOUNTER_DAY,
        drug_class="B",
        personal_use=True,
        supply_suspected=False,
        admission="not_asked",
    )
    return replace(base, **overrides)


def adult_offence(**overrides: Any) -> EncounterFacts:
    """An offence that passes every Checkpoint rule, for tests to break one rule at a time."""
    base = EncounterFacts(
        occurred_on=ENCOUNTER_DAY,
        date_of_birth=born_years_before(30),
        gender="male",
        setting="custody",
        offence_category="theft",
        offence_date=date(2024, 5, 1),
        admission="admitted",
        lives_in_area=True,
        offended_in_area=True,
    )
    return replace(base, **overrides)


def prior(category: str, on: date = date(2023, 1, 10), **overrides: Any) -> PriorEncounter:
    return PriorEncounter(occurred_on=on, offence_category=category, **overrides)


def failed(decision: Any) -> dict[str, str]:
    return {reason.rule_id: reason.text for reason in decision.reasons if not reason.passed}
