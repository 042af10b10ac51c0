"""Hypothesis strategies for encounters, spread around the boundaries the programmes care about."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from divert.rules import EncounterFacts, PriorEncounter
from divert.rules.codes import ADMISSIONS, DRUG_CLASSES, GENDERS, SETTINGS, VULNERABILITIES

CATEGORIES = (
    "drug_possession",
    "drug_supply",
    "theft",
    "burglary",
    "criminal_damage",
    "fraud",
    "public_order",
    "common_assault",
    "abh",
    "harassment",
    "malicious_communications",
    "cyber",
    "other",
)
PROGRAMMES = (
    "tvp-youth-drugs",
    "tvp-adult-drugs",
    "divert",
    "checkpoint",
    "checkpoint-plus",
    "avon-somerset-dep",
)

encounter_days = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))


def priors(before: date, after: bool = False) -> st.SearchStrategy[PriorEncounter]:
    days = st.integers(min_value=0, max_value=3000).map(
        (lambda n: before + timedelta(days=n)) if after else (lambda n: before - timedelta(days=n + 1))
    )
    return st.builds(
        PriorEncounter,
        occurred_on=days,
        offence_category=st.sampled_from(CATEGORIES),
        programme=st.none() | st.sampled_from(PROGRAMMES),
        diverted=st.booleans(),
        outcome=st.none() | st.sampled_from(("1", "8", "22")),
    )


@st.composite
def encounters(draw: st.DrawFn) -> EncounterFacts:
    on = draw(encounter_days)
    # Ages 5 to 40, so the 10, 18 and 25/26 boundaries come up often; sometimes no date of birth at all.
    age_days = draw(st.integers(min_value=5 * 365, max_value=40 * 366))
    date_of_birth = draw(st.none() | st.just(on - timedelta(days=age_days)))
    offence_date = draw(
        st.none() | st.integers(min_value=-5, max_value=200).map(lambda n: on - timedelta(days=n))
    )
    return EncounterFacts(
        occurred_on=on,
        date_of_birth=date_of_birth,
        gender=draw(st.sampled_from(sorted(GENDERS))),
        setting=draw(st.sampled_from(sorted(SETTINGS))),
        offence_category=draw(st.sampled_from(CATEGORIES)),
        offence_date=offence_date,
        drug_class=draw(st.none() | st.sampled_from(sorted(DRUG_CLASSES))),
        personal_use=draw(st.none() | st.booleans()),
        supply_suspected=draw(st.booleans()),
        admission=draw(st.sampled_from(sorted(ADMISSIONS))),
        hate_crime=draw(st.booleans()),
        domestic_abuse=draw(st.booleans()),
        lives_in_area=draw(st.none() | st.booleans()),
        offended_in_area=draw(st.none() | st.booleans()),
        on_court_order=draw(st.booleans()),
        co_accused=draw(st.booleans()),
        vulnerabilities=draw(st.frozensets(st.sampled_from(VULNERABILITIES))),
        history=tuple(draw(st.lists(priors(on), max_size=4))),
    )
