"""What the engine is told about an encounter: plain, frozen data the database layer can build.

The engine never looks anything up itself, so a decision can be replayed years later from the stored facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class PriorEncounter:
    """An earlier encounter with the same person, as recorded at the time."""

    occurred_on: date
    offence_category: str
    programme: str | None = None
    diverted: bool = False
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class EncounterFacts:
    """Everything a programme's rules may ask about one encounter.

    Unknown answers stay ``None`` rather than defaulting, because "not recorded" must fail a rule with its own
    reason instead of silently counting as "no".
    """

    occurred_on: date
    offence_category: str
    date_of_birth: date | None = None
    gender: str = "not_stated"
    setting: str = "street"
    offence_date: date | None = None
    drug_class: str | None = None
    personal_use: bool | None = None
    supply_suspected: bool = False
    admission: str = "not_asked"
    hate_crime: bool = False
    domestic_abuse: bool = False
    lives_in_area: bool | None = None
    offended_in_area: bool | None = None
    on_court_order: bool = False
    co_accused: bool = False
    vulnerabilities: frozenset[str] = field(default_factory=frozenset)
    history: tuple[PriorEncounter, ...] = ()
    # The officer's answers to questions a programme declared for itself (``declared.py``), by fact name.
    answers: tuple[tuple[str, int | str | bool], ...] = ()
