"""What the engine is told about an encounter: plain, frozen data the database layer can build.

The engine never looks anything up itself, so a decision can be replayed years later from the stored facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


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


# Fields that are dates in EncounterFacts and PriorEncounter; everything else is stored as is.
_DATES = frozenset({"occurred_on", "date_of_birth", "offence_date"})


def _dates(data: dict[str, Any]) -> dict[str, Any]:
    return {k: date.fromisoformat(v) if k in _DATES and v else v for k, v in data.items()}


def facts_from_dict(data: dict[str, Any]) -> EncounterFacts:
    """The facts stored beside a decision (as JSON), as the engine takes them: for replay."""
    fields = _dates(data)
    fields["vulnerabilities"] = frozenset(fields.get("vulnerabilities", ()))
    fields["history"] = tuple(PriorEncounter(**_dates(prior)) for prior in fields.get("history", ()))
    # Facts stored before definitions could declare their own have no answers.
    fields["answers"] = tuple((str(name), value) for name, value in fields.get("answers", ()))
    return EncounterFacts(**fields)


# The stored fields each catalogue fact is worked out from (a fact not listed is the field of its
# own name). A replay of a rule over a fact whose fields a stored decision never held cannot tell.
FACT_SOURCES: dict[str, tuple[str, ...]] = {
    "age": ("date_of_birth",),
    "offence_age_days": ("offence_date",),
    "offence_age_months": ("offence_date",),
    "prior_encounters": ("history",),
    "prior_diversions": ("history",),
    "prior_offence_categories": ("history",),
    "prior_programmes": ("history",),
    "prior_diverted_programmes": ("history",),
}


def stored_fields(fact: str) -> tuple[str, ...]:
    return FACT_SOURCES.get(fact, (fact,))
