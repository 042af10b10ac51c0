"""The names a programme's conditions may use, and how each is worked out from an encounter.

Definitions are written by administrators, so every name they use is checked against this catalogue when the
file loads; a typo must fail then, not on an officer's phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from divert.rules.dates import age_on, whole_months_between
from divert.rules.facts import EncounterFacts


class FactType(Enum):
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    STRING_SET = "string_set"


@dataclass(frozen=True, slots=True)
class FactSpec:
    name: str
    type: FactType
    # Set only for facts that may be unrecorded: the sentence shown when a rule needs one that is missing.
    unknown: str | None = None


_OFFENCE_DATE_UNKNOWN = (
    "Offence date not recorded (or later than the encounter), so how old the offence is cannot be checked."
)

_SPECS = (
    FactSpec("age", FactType.NUMBER, "Date of birth not recorded, so age cannot be checked."),
    FactSpec("gender", FactType.STRING),
    FactSpec("setting", FactType.STRING),
    FactSpec("offence_category", FactType.STRING),
    FactSpec(
        "offence_age_days",
        FactType.NUMBER,
        _OFFENCE_DATE_UNKNOWN,
    ),
    FactSpec(
        "offence_age_months",
        FactType.NUMBER,
        _OFFENCE_DATE_UNKNOWN,
    ),
    FactSpec("drug_class", FactType.STRING, "Drug class not recorded, so it cannot be checked."),
    FactSpec(
        "personal_use",
        FactType.BOOLEAN,
        "Not recorded whether the drugs were for personal use, so this cannot be checked.",
    ),
    FactSpec("supply_suspected", FactType.BOOLEAN),
    FactSpec("admission", FactType.STRING),
    FactSpec("hate_crime", FactType.BOOLEAN),
    FactSpec("domestic_abuse", FactType.BOOLEAN),
    FactSpec(
        "lives_in_area",
        FactType.BOOLEAN,
        "Not recorded whether the person lives in the force area, so this cannot be checked.",
    ),
    FactSpec(
        "offended_in_area",
        FactType.BOOLEAN,
        "Not recorded whether the offence was in the force area, so this cannot be checked.",
    ),
    FactSpec("on_court_order", FactType.BOOLEAN),
    FactSpec("co_accused", FactType.BOOLEAN),
    FactSpec("vulnerabilities", FactType.STRING_SET),
    FactSpec("prior_encounters", FactType.NUMBER),
    FactSpec("prior_diversions", FactType.NUMBER),
    FactSpec("prior_offence_categories", FactType.STRING_SET),
    FactSpec("prior_programmes", FactType.STRING_SET),
    FactSpec("prior_diverted_programmes", FactType.STRING_SET),
)

FACTS: dict[str, FactSpec] = {spec.name: spec for spec in _SPECS}

FactValue = int | str | bool | frozenset[str] | None


def fact_values(facts: EncounterFacts) -> dict[str, FactValue]:
    """Every catalogue fact for one encounter, worked out once so all rules read the same values.

    History after the encounter date is ignored here, not trusted to the caller, so a decision replayed
    later with a fuller history is the same decision. History on the same day is the caller's to order
    (by time and id): a repeat recorded minutes after the first, or in the same minute, is a repeat.
    """
    on = facts.occurred_on
    earlier = [prior for prior in facts.history if prior.occurred_on <= on]
    offence_age_days: int | None = None
    offence_age_months: int | None = None
    if facts.offence_date is not None and facts.offence_date <= on:
        offence_age_days = (on - facts.offence_date).days
        offence_age_months = whole_months_between(facts.offence_date, on)
    return {
        "age": None if facts.date_of_birth is None else age_on(facts.date_of_birth, on),
        "gender": facts.gender,
        "setting": facts.setting,
        "offence_category": facts.offence_category,
        "offence_age_days": offence_age_days,
        "offence_age_months": offence_age_months,
        "drug_class": facts.drug_class,
        "personal_use": facts.personal_use,
        "supply_suspected": facts.supply_suspected,
        "admission": facts.admission,
        "hate_crime": facts.hate_crime,
        "domestic_abuse": facts.domestic_abuse,
        "lives_in_area": facts.lives_in_area,
        "offended_in_area": facts.offended_in_area,
        "on_court_order": facts.on_court_order,
        "co_accused": facts.co_accused,
        "vulnerabilities": frozenset(facts.vulnerabilities),
        "prior_encounters": len(earlier),
        "prior_diversions": sum(1 for prior in earlier if prior.diverted),
        "prior_offence_categories": frozenset(prior.offence_category for prior in earlier),
        "prior_programmes": frozenset(prior.programme for prior in earlier if prior.programme),
        "prior_diverted_programmes": frozenset(
            prior.programme for prior in earlier if prior.programme and prior.diverted
        ),
    }
