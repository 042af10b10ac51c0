"""The names a programme's conditions may use, and how each is worked out from an encounter.

Definitions are written by administrators, so every name they use is checked against this catalogue when the
file loads; a typo must fail then, not on an officer's phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import date
from enum import Enum
from typing import Any

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
    earlier = [
        (prior.offence_category, prior.programme, prior.diverted)
        for prior in facts.history
        if prior.occurred_on <= on
    ]
    fields = {name: getattr(facts, name) for name in STORED_AS_IS}
    return _catalogue(on, facts.date_of_birth, facts.offence_date, fields, facts.vulnerabilities, earlier)


# The defaults of EncounterFacts, for facts stored before a field existed.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(EncounterFacts) if f.default is not MISSING}
# The catalogue facts that are an encounter's field as it is.
STORED_AS_IS = (
    "gender",
    "setting",
    "offence_category",
    "drug_class",
    "personal_use",
    "supply_suspected",
    "admission",
    "hate_crime",
    "domestic_abuse",
    "lives_in_area",
    "offended_in_area",
    "on_court_order",
    "co_accused",
)


def stored_fact_values(stored: Mapping[str, Any]) -> dict[str, FactValue]:
    """``fact_values(facts_from_dict(stored))`` straight from the facts stored beside a decision.

    A replay reads a million of these; building the frozen objects field by field first cost as
    much as deciding. History is filtered on the ISO dates as text, which sort as the dates do.
    """
    on_text: str = stored["occurred_on"]
    earlier = [
        (prior["offence_category"], prior.get("programme"), prior.get("diverted", False))
        for prior in stored.get("history", ())
        if prior["occurred_on"] <= on_text
    ]
    return _catalogue(
        date.fromisoformat(on_text),
        _stored_date(stored.get("date_of_birth")),
        _stored_date(stored.get("offence_date")),
        {**_DEFAULTS, **stored},
        stored.get("vulnerabilities", ()),
        earlier,
    )


def _stored_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _catalogue(
    on: date,
    date_of_birth: date | None,
    offence_date: date | None,
    fields: Mapping[str, Any],
    vulnerabilities: Iterable[str],
    earlier: list[tuple[str, str | None, bool]],
) -> dict[str, FactValue]:
    """The catalogue's values from an encounter's fields (by name) and its earlier encounters up to
    its date (offence, programme, diverted): the one place each fact is worked out."""
    offence_age_days: int | None = None
    offence_age_months: int | None = None
    if offence_date is not None and offence_date <= on:
        offence_age_days = (on - offence_date).days
        offence_age_months = whole_months_between(offence_date, on)
    values: dict[str, FactValue] = {
        "age": None if date_of_birth is None else age_on(date_of_birth, on),
        "gender": fields["gender"],
        "setting": fields["setting"],
        "offence_category": fields["offence_category"],
        "offence_age_days": offence_age_days,
        "offence_age_months": offence_age_months,
        "drug_class": fields["drug_class"],
        "personal_use": fields["personal_use"],
        "supply_suspected": fields["supply_suspected"],
        "admission": fields["admission"],
        "hate_crime": fields["hate_crime"],
        "domestic_abuse": fields["domestic_abuse"],
        "lives_in_area": fields["lives_in_area"],
        "offended_in_area": fields["offended_in_area"],
        "on_court_order": fields["on_court_order"],
        "co_accused": fields["co_accused"],
        "vulnerabilities": frozenset(vulnerabilities),
    }
    if not earlier:  # most people: met for the first time
        values.update(_NO_HISTORY)
        return values
    values["prior_encounters"] = len(earlier)
    values["prior_diversions"] = sum(1 for _, _, diverted in earlier if diverted)
    values["prior_offence_categories"] = frozenset(offence for offence, _, _ in earlier)
    values["prior_programmes"] = frozenset(programme for _, programme, _ in earlier if programme)
    values["prior_diverted_programmes"] = frozenset(
        programme for _, programme, diverted in earlier if programme and diverted
    )
    return values


_NO_HISTORY: dict[str, FactValue] = {
    "prior_encounters": 0,
    "prior_diversions": 0,
    "prior_offence_categories": frozenset(),
    "prior_programmes": frozenset(),
    "prior_diverted_programmes": frozenset(),
}
