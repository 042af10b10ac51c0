"""Synthetic people, encounters, decisions and cases at scale, bulk-loaded into PostgreSQL.

Run from the repository root:

    .venv/bin/python -m bench.generate --n 1000000 --scratch           # into a throwaway database
    .venv/bin/python -m bench.generate --n 100000 --database-url URL   # into an empty database
    .venv/bin/python -m bench.generate --n 100000 --scratch --disparity offered:Black=0.6

Reference data, programme definitions, organisations and who runs what are stored with the app's
own code. The bulk (people, encounters, decisions, cases, their parties and timelines) is written
with COPY, which is what makes a million encounters fit in minutes, so nothing goes through the ORM
and no audit or field-history rows are written for it.

What makes the data worth monitoring:

- People look like the people forces meet: mostly male, self-defined ethnicity in roughly England
  and Wales shares (``seeds/demo.yaml``), an officer-defined code for most, ages that fit each
  force's programmes (10–17 for youth schemes, 18–25 for DIVERT, adults) and a few gaps.
- About a quarter of people are met more than once, so "an earlier possession" and "already
  diverted" history exists, and the facts a later decision saw include it.
- Every decision is made by the real rules engine, with the programme version in force on the
  encounter's date, and stored with its reasons and facts exactly as ``pathways.cases`` stores
  them; about 1% are overridden by a supervisor.
- Cases move through the states their programme's definition names, with one timeline event per
  step and the milestone timestamps monitoring counts; recent cases are still open at ``NOW``.
- ``Disparities`` make some groups less (or more) likely to reach a decision point, so the
  monitoring report has something to find.

The same seed gives the same rows: all randomness comes from two ``random.Random`` streams seeded
from it (one for people and encounters, one for what happens to cases, so changing disparities
changes no person or encounter), and the only clock is the fixed ``NOW``. Loading 1,000,000
encounters took about 4 minutes on a shared 2-core machine; the server (foreign keys, indexes) is
the slower side, so rows are drawn on one thread while the previous chunk is COPYed on another.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import operator
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/generate.py`
    sys.path.insert(0, str(ROOT))

import click  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from divert import session_factory  # noqa: E402
from divert.app.clock import uk_date  # noqa: E402
from divert.app.db import make_engine  # noqa: E402
from divert.models import Organisation, Programme, ProgrammeVersion  # noqa: E402
from divert.models.person import normalise_name  # noqa: E402
from divert.models.programme import compiled  # noqa: E402
from divert.monitoring import journeys  # noqa: E402
from divert.pathways.cases import milestone_for, reference_for  # noqa: E402
from divert.pathways.facts import DIVERTED_STAGES  # noqa: E402
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions  # noqa: E402
from divert.rules import (  # noqa: E402
    EncounterFacts,
    PriorEncounter,
    ProgrammeDefinition,
    Reason,
    State,
    decide,
    load_directory,
)
from divert.rules.decision import reason_dict  # noqa: E402
from divert.seeding.demo import ODE_FOR_GROUP, VULNERABILITIES, load_settings  # noqa: E402
from divert.seeding.reference import SEEDS, load_reference_data  # noqa: E402

T = TypeVar("T")

START = datetime(2022, 1, 1, tzinfo=UTC)
# Encounters fall in [START, END): four years. END is also "now": a step that would happen later
# has not happened yet, so recent cases are still open, as in a live system.
END = datetime(2026, 1, 1, tzinfo=UTC)
NOW = END
SPAN_SECONDS = int((END - START).total_seconds())
# Encounters per round of COPYs: bounds memory, and each round is one tick of the progress bar.
CHUNK = 25_000

POINTS = ("eligible", "offered", "accepted", "engaged", "completed", "escalated")
# The chance of reaching each point from the one before it, before any disparity.
BASE = {"offered": 0.85, "accepted": 0.8, "engaged": 0.8, "completed": 0.78, "escalated": 0.6}
DEFAULT_FACTORS: Mapping[tuple[str, str], float] = {("offered", "Black"): 0.8, ("offered", "Mixed"): 0.9}
# Supervisors set aside few decisions, and more often to let someone in than to keep them out.
OVERRIDE_CHANCE = {True: 0.005, False: 0.015}
# A Youth Justice Unit (or a similar gatekeeper on the route) chooses a formal outcome this often.
SIDE_EXIT_CHANCE = 0.3

# Forces beyond the demo's, so every programme in seeds/programmes has someone running it.
EXTRA_ORGANISATIONS = (
    {"code": "avon", "name": "Avon and Somerset Constabulary", "kind": "police_force"},
    {"code": "avon-dep", "name": "Avon and Somerset Drug Education Provider", "kind": "provider"},
)
EXTRA_OPERATORS = {"avon-somerset-dep": {"police": "avon", "receiving": {"education": "avon-dep"}}}
EXTRA_FORCES = {"avon": 1}
EXTRA_DISTRICTS = {"avon": ["BS1", "BS2", "BS5", "BS13", "BA1", "TA1"]}
# Age bands (inclusive) at a person's first encounter, weighted to the programmes each force runs.
ADULT_MIX = {(10, 17): 8, (18, 25): 32, (26, 64): 60}
AGE_MIX = {
    "tvp": {(10, 17): 30, (18, 25): 30, (26, 64): 40},
    "met": {(10, 17): 8, (18, 25): 67, (26, 64): 25},
}
GENDERS = {"male": 78, "female": 19, "other": 1, "not_stated": 2}
ENCOUNTERS_PER_PERSON = {1: 74, 2: 17, 3: 6, 4: 2, 5: 1}
SETTINGS = {"street": 60, "custody": 30, "community": 10}
ADMISSIONS = {"admitted": 55, "no_comment": 15, "denied": 10, "not_asked": 20}
VULNERABILITY_COUNTS = {0: 40, 1: 25, 2: 15, 3: 12, 4: 8}
DRUG_CLASSES = {"A": 15, "B": 75, "C": 10}
NOT_OFFERED = ("Person left before the offer could be made", "Not suitable at the time")
DROP_OUT = ("not_contactable", "chose_to_stop", "moved_away", "health")


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# The columns each COPY fills, in the order the generator builds its row tuples.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "people": _columns(
        "id given_name family_name given_name_key family_name_key date_of_birth pnc_id gender"
        " self_defined_ethnicity officer_defined_ethnicity postcode_district created_at updated_at"
        " version_id organisation_id"
    ),
    "encounters": _columns(
        "id person_id occurred_at location area setting organisation_id offence_category offence_date"
        " drug_class drug_type personal_use supply_suspected admission hate_crime domestic_abuse"
        " lives_in_area offended_in_area on_court_order co_accused vulnerabilities notes created_at"
        " updated_at version_id"
    ),
    "decisions": _columns(
        "id encounter_id programme_version_id eligible route reasons facts decided_at overrides_id"
        " override_reason"
    ),
    "referrals": _columns(
        "id reference person_id encounter_id programme_id programme_version_id state route opened_at"
        " closed_at outcome_code decision_id exit_reason offered_at accepted_at engaged_at completed_at"
        " escalated_at created_at updated_at version_id"
    ),
    "referral_parties": _columns("id referral_id organisation_id role"),
    "referral_events": _columns(
        "id referral_id occurred_at recorded_at kind from_state to_state reason data"
    ),
    # The monitoring journey rows (monitoring/journeys.py), worked out as each encounter is drawn
    # rather than by an INSERT ... SELECT over everything afterwards (a third of the run).
    "monitoring_journeys": journeys.PROGRAMME_COLUMNS,
    "monitoring_encounters": journeys.ENCOUNTER_COLUMNS,
}
# COPY order: every table after the tables its foreign keys point at.
TABLES = tuple(COLUMNS)
# A case's columns a journey row reads, and each journey table's row as COPY takes it, picked by
# position once rather than by name per row: this runs for every encounter of a million.
_CASE_COLUMNS = ("offered_at", "accepted_at", "engaged_at", "completed_at", "escalated_at", "outcome_code")
_CASE_VALUES = operator.itemgetter(*(COLUMNS["referrals"].index(c) for c in _CASE_COLUMNS))
_JOURNEY_VALUES = operator.itemgetter(*COLUMNS["monitoring_journeys"])
_ENCOUNTER_VALUES = operator.itemgetter(*COLUMNS["monitoring_encounters"])
# The tables whose ids the generator hands out (the journey rows are keyed by encounter).
ID_TABLES = tuple(table for table in TABLES if "id" in COLUMNS[table])


class Weighted(Generic[T]):
    """A weighted choice that costs one random number and a bisect (``rng.choices`` re-sums each call)."""

    __slots__ = ("cumulative", "total", "values")

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.values = tuple(weights)
        self.cumulative = tuple(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        index = bisect.bisect(self.cumulative, rng.random() * self.total)
        return self.values[min(index, len(self.values) - 1)]


# ---- Disparities ------------------------------------------------------------------------------


def ethnic_groups() -> dict[str, str]:
    """Self-defined ethnicity code -> its five-group name, from the reference data the app loads."""
    with (SEEDS / "reference" / "ethnicity_codes.csv").open(newline="", encoding="utf-8") as handle:
        return {
            row["code"]: row["ethnic_group"]
            for row in csv.DictReader(handle)
            if row["scheme"] == "self_defined"
        }


@dataclass(frozen=True)
class Disparities:
    """Multipliers on the chance of reaching a decision point, by self-defined ethnic group.

    ``{("offered", "Black"): 0.8}`` makes an eligible Black person's case 0.8 times as likely to be
    offered. ``eligible`` works through what the officer records on drug cases (supply suspected,
    not for personal use), because eligibility itself is the rules engine's to decide: below 1 it
    scales eligibility for the drug programmes exactly; above 1 it clears those judgements with
    probability ``factor - 1``. Chances are capped at 1.
    """

    factors: Mapping[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_FACTORS))

    def __post_init__(self) -> None:
        groups = set(ethnic_groups().values())
        for (point, group), factor in self.factors.items():
            if point not in POINTS:
                raise ValueError(f"Unknown point '{point}'; choose one of {', '.join(POINTS)}")
            if group not in groups:
                raise ValueError(f"Unknown ethnic group '{group}'; choose one of {', '.join(sorted(groups))}")
            if factor < 0:
                raise ValueError(f"A disparity factor must be 0 or more, not {factor}")

    @classmethod
    def none(cls) -> Disparities:
        return cls({})

    def factor(self, point: str, group: str) -> float:
        return self.factors.get((point, group), 1.0)

    def overridden(self, specs: Iterable[str]) -> Disparities:
        """These factors with ``point:group=factor`` settings (from the command line) on top."""
        factors = dict(self.factors)
        for spec in specs:
            key, _, value = spec.partition("=")
            point, _, group = key.partition(":")
            try:
                factors[(point.strip(), group.strip())] = float(value)
            except ValueError:
                raise ValueError(f"Write a disparity as point:group=factor, not '{spec}'") from None
        return Disparities(factors)


# ---- What the database holds: forces, programmes and the paths their cases can take ----------


GOALS: Mapping[str, Callable[[State], bool]] = {
    "engagement": lambda s: s.stage == "engagement" and not s.terminal,
    "completed": lambda s: s.result == "completed",
    "escalated": lambda s: s.result == "escalated",
}


class Plan:
    """Where a case can go under one programme version, worked out once from its definition."""

    def __init__(self, definition: ProgrammeDefinition) -> None:
        self.definition = definition
        self.states = {state.id: state for state in definition.states}
        self.onward: dict[str, list[str]] = {state.id: [] for state in definition.states}
        self.reason_required = set()
        for step in definition.transitions:
            self.onward[step.from_state].append(step.to_state)
            if step.reason_required:
                self.reason_required.add((step.from_state, step.to_state))
        self.initial = definition.initial_state.id
        self.routes = tuple(route.id for route in definition.routes)
        self.eligible = definition.on_decision["eligible"]
        self.not_eligible = definition.on_decision["not_eligible"]
        self.offered = self._next(self.eligible, lambda s: s.stage == "offer" and not s.terminal)
        self.not_offered = self._next(self.eligible, lambda s: s.stage == "offer" and s.terminal)
        self.declined = self._next(self.offered, lambda s: s.stage == "acceptance" and s.terminal)
        self.milestones = {s.id: m for s in definition.states if (m := milestone_for(s)) is not None}
        escalation = definition.escalation
        self.review = escalation.from_state if escalation else None
        self._paths: dict[tuple[str, str], tuple[str, ...] | None] = {}

    def _next(self, state: str, wanted: Callable[[State], bool]) -> str:
        return next(s for s in self.onward[state] if wanted(self.states[s]))

    def step_to(self, state: str, wanted: Callable[[State], bool]) -> str | None:
        return next((s for s in self.onward[state] if wanted(self.states[s])), None)

    def path(self, start: str, goal: str) -> tuple[str, ...] | None:
        """The shortest way from ``start`` to a state meeting ``goal``, not through a review or an end."""
        key = (start, goal)
        if key not in self._paths:
            self._paths[key] = self._search(start, GOALS[goal])
        return self._paths[key]

    def _search(self, start: str, wanted: Callable[[State], bool]) -> tuple[str, ...] | None:
        came_from: dict[str, str] = {start: start}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for onward in self.onward[current]:
                if onward in came_from:
                    continue
                came_from[onward] = current
                if wanted(self.states[onward]):
                    path = [onward]
                    while came_from[path[-1]] != start:
                        path.append(came_from[path[-1]])
                    return tuple(reversed(path))
                if not self.states[onward].terminal and onward != self.review:
                    queue.append(onward)
        return None


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    effective_from: date
    number: int
    plan: Plan


# Compared by identity: each is made once, and they are keys of a weighted choice.
@dataclass(frozen=True, slots=True, eq=False)
class Scheme:
    """A programme as the generator uses it: its versions, newest first, and who receives by route."""

    id: int
    code: str
    versions: tuple[Version, ...]
    receiving: Mapping[str, int]

    def in_force(self, on: date) -> Version | None:
        # The same choice as ``pathways.programmes.version_in_force``: latest effective date, then version.
        return next((v for v in self.versions if v.effective_from <= on), None)


@dataclass(frozen=True, slots=True, eq=False)
class Force:
    id: int
    code: str
    districts: tuple[str, ...]
    schemes: tuple[Scheme, ...]
    ages: Weighted[tuple[int, int]]


@dataclass(frozen=True)
class Catalogue:
    forces: Weighted[Force]
    groups: Mapping[str, str]


def generator_settings() -> dict[str, Any]:
    settings = load_settings()
    settings["organisations"] = [*settings["organisations"], *EXTRA_ORGANISATIONS]
    settings["operators"] = {**settings["operators"], **EXTRA_OPERATORS}
    settings["forces"] = {**settings["forces"], **EXTRA_FORCES}
    settings["districts"] = {**settings["districts"], **EXTRA_DISTRICTS}
    return settings


def build_catalogue(
    settings: Mapping[str, Any],
    organisations: Mapping[str, int],
    versions: Iterable[tuple[int, int, str, ProgrammeDefinition]],
) -> Catalogue:
    """Forces and schemes from organisation ids and (version id, programme id, code, definition) rows."""
    by_code: dict[str, list[tuple[int, int, ProgrammeDefinition]]] = {}
    for version_id, programme_id, code, definition in versions:
        by_code.setdefault(code, []).append((version_id, programme_id, definition))
    schemes: dict[str, Scheme] = {}
    for code, rows in by_code.items():
        ordered = sorted(rows, key=lambda r: (r[2].effective_from, r[2].version), reverse=True)
        receiving = settings["operators"].get(code, {}).get("receiving", {})
        schemes[code] = Scheme(
            id=ordered[0][1],
            code=code,
            versions=tuple(Version(v, d.effective_from, d.version, Plan(d)) for v, _, d in ordered),
            receiving={route: organisations[org] for route, org in receiving.items()},
        )
    forces = {}
    for force, weight in settings["forces"].items():
        run = sorted(code for code, spec in settings["operators"].items() if spec["police"] == force)
        mix = AGE_MIX.get(force, ADULT_MIX)
        forces[
            Force(
                organisations[force],
                force,
                tuple(settings["districts"][force]),
                tuple(schemes[c] for c in run if c in schemes),
                Weighted(mix),
            )
        ] = weight
    return Catalogue(Weighted(forces), ethnic_groups())


def offline_catalogue() -> Catalogue:
    """The catalogue with made-up ids (in file order), for drawing rows without a database."""
    settings = generator_settings()
    organisations = {spec["code"]: i for i, spec in enumerate(settings["organisations"], 1)}
    definitions = sorted(load_directory(PROGRAMMES_DIR), key=lambda d: (d.code, d.version))
    codes = sorted({d.code for d in definitions})
    return build_catalogue(
        settings,
        organisations,
        ((i, codes.index(d.code) + 1, d.code, d) for i, d in enumerate(definitions, 1)),
    )


# ---- People and encounters ----------------------------------------------------------------------


class World:
    """Draws people and their encounters. Uses its own random stream, so changing disparities
    (which only change what happens to cases) leaves the people and encounters exactly as they were."""

    def __init__(self, rng: random.Random, settings: Mapping[str, Any], catalogue: Catalogue) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.genders = Weighted(GENDERS)
        self.ethnicity = Weighted(settings["ethnicity"])
        self.offences = Weighted(settings["offences"])
        self.visits = Weighted(ENCOUNTERS_PER_PERSON)
        self.settings = Weighted(SETTINGS)
        self.admissions = Weighted(ADMISSIONS)
        self.vulnerability_counts = Weighted(VULNERABILITY_COUNTS)
        self.drug_classes = Weighted(DRUG_CLASSES)
        self.given = {g: tuple(names) for g, names in settings["given_names"].items()}
        self.family = tuple(settings["family_names"])
        self.keys = {
            name: normalise_name(name) for name in itertools.chain(self.family, *self.given.values())
        }
        self.ic_codes = tuple(sorted(set(ODE_FOR_GROUP.values())))

    def person(self, person_id: int) -> tuple[Force, tuple[Any, ...], list[datetime]]:
        """A person's row, their force and the times of their encounters (oldest first)."""
        rng = self.rng
        force = self.catalogue.forces.pick(rng)
        gender = self.genders.pick(rng)
        code = self.ethnicity.pick(rng)
        times = self._times()
        low, high = force.ages.pick(rng)
        first = uk_date(times[0])
        born = first - timedelta(days=int(365.25 * rng.randint(low, high)) + rng.randrange(365))
        group = self.catalogue.groups[code]
        officer_code = None
        if rng.random() < 0.7:
            # Officers mostly see what the person says; sometimes not.
            officer_code = ODE_FOR_GROUP[group] if rng.random() < 0.9 else rng.choice(self.ic_codes)
        given = rng.choice(self.given["female" if gender == "female" else "male"])
        family = rng.choice(self.family)
        pnc = (
            f"{born.year % 100:02d}/{person_id:07d}{chr(65 + person_id % 26)}"
            if rng.random() < 0.85
            else None
        )
        row = (
            person_id,
            given,
            family,
            self.keys[given],
            self.keys[family],
            None if rng.random() < 0.02 else born,
            pnc,
            gender,
            code,
            officer_code,
            rng.choice(force.districts),
            times[0],
            times[0],
            1,
            force.id,  # the holder: the force of every encounter the generator gives them
        )
        return force, row, times

    def _times(self) -> list[datetime]:
        rng = self.rng
        at = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        times = [at]
        for _ in range(self.visits.pick(rng) - 1):
            at += timedelta(days=rng.randint(30, 400), seconds=rng.randrange(86400))
            if at >= END:
                break
            times.append(at)
        return times

    def encounter(
        self, encounter_id: int, person: tuple[Any, ...], force: Force, at: datetime, eligible_factor: float
    ) -> tuple[Any, ...]:
        rng = self.rng
        offence = self.offences.pick(rng)
        drugs = offence in ("drug_possession", "drug_supply")
        personal_use = (offence == "drug_possession" and rng.random() < 0.92) if drugs else None
        supply = offence == "drug_supply" or (drugs and rng.random() < 0.03)
        # Drawn for every encounter, so later draws are the same whatever the factor.
        tilt = rng.random()
        if drugs and eligible_factor < 1 and tilt < 1 - eligible_factor:
            personal_use, supply = False, True
        elif offence == "drug_possession" and eligible_factor > 1 and tilt < eligible_factor - 1:
            personal_use, supply = True, False
        day = uk_date(at)
        lag = rng.random()
        offence_date = (
            day if lag < 0.85 else (None if lag > 0.98 else day - timedelta(days=rng.randint(1, 200)))
        )
        in_area = rng.random()
        custody_force = force.code == "met"
        return (
            encounter_id,
            person[0],
            at,
            "",
            self._area(person, force),
            "custody" if custody_force and rng.random() < 0.8 else self.settings.pick(rng),
            force.id,
            offence,
            offence_date,
            self.drug_classes.pick(rng) if drugs else None,
            ("cannabis" if rng.random() < 0.7 else "cocaine") if drugs else None,
            personal_use,
            supply,
            self.admissions.pick(rng),
            rng.random() < 0.02,
            offence in ("common_assault", "abh") and rng.random() < 0.2,
            None if in_area < 0.03 else in_area < 0.9,
            None if rng.random() < 0.02 else rng.random() < 0.95,
            rng.random() < 0.08,
            rng.random() < 0.05,
            sorted(rng.sample(VULNERABILITIES, self.vulnerability_counts.pick(rng))),
            "",
            at,
            at,
            1,
        )

    def _area(self, person: tuple[Any, ...], force: Force) -> str | None:
        # Mostly where the person lives; a few not recorded, so monitoring's "Not known" has members.
        draw = self.rng.random()
        if draw < 0.01:
            return None
        return str(person[10]) if draw < 0.8 else self.rng.choice(force.districts)


# ---- Decisions ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PriorCase:
    """An earlier case of the same person: its programme and (time, state) timeline."""

    programme: str
    plan: Plan
    timeline: list[tuple[datetime, str]]

    def state_at(self, at: datetime) -> str:
        state = self.timeline[0][1]
        for when, reached in self.timeline:
            if when > at:
                break
            state = reached
        return state


@dataclass(slots=True)
class PriorVisit:
    occurred_on: date
    offence_category: str
    cases: list[PriorCase]


def encounter_facts(
    encounter: tuple[Any, ...], person: tuple[Any, ...], history: list[PriorVisit]
) -> EncounterFacts:
    """The facts ``pathways.facts.encounter_facts`` would build, from the generated rows themselves."""
    at: datetime = encounter[2]
    prior: list[PriorEncounter] = []
    for visit in history:
        if not visit.cases:
            prior.append(PriorEncounter(visit.occurred_on, visit.offence_category))
        for case in visit.cases:
            # The state the case was in when this encounter was decided, as the app would read it then.
            state = case.state_at(at)
            diverted = case.plan.states[state].stage in DIVERTED_STAGES
            prior.append(
                PriorEncounter(visit.occurred_on, visit.offence_category, case.programme, diverted, state)
            )
    return EncounterFacts(
        occurred_on=uk_date(at),
        offence_category=encounter[7],
        date_of_birth=person[5],
        gender=person[7],
        setting=encounter[5],
        offence_date=encounter[8],
        drug_class=encounter[9],
        personal_use=encounter[11],
        supply_suspected=encounter[12],
        admission=encounter[13],
        hate_crime=encounter[14],
        domestic_abuse=encounter[15],
        lives_in_area=encounter[16],
        offended_in_area=encounter[17],
        on_court_order=encounter[18],
        co_accused=encounter[19],
        vulnerabilities=frozenset(encounter[20]),
        history=tuple(prior),
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def facts_json(facts: EncounterFacts) -> str:
    """``facts_to_dict`` as JSON, without its generic asdict-and-round-trip (a third of the run time)."""
    return json.dumps(
        {
            "occurred_on": facts.occurred_on.isoformat(),
            "offence_category": facts.offence_category,
            "date_of_birth": _iso(facts.date_of_birth),
            "gender": facts.gender,
            "setting": facts.setting,
            "offence_date": _iso(facts.offence_date),
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
            "vulnerabilities": sorted(facts.vulnerabilities),
            "history": [
                {
                    "occurred_on": p.occurred_on.isoformat(),
                    "offence_category": p.offence_category,
                    "programme": p.programme,
                    "diverted": p.diverted,
                    "outcome": p.outcome,
                }
                for p in facts.history
            ],
        }
    )


# ---- Cases --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Step:
    at: datetime
    kind: str
    from_state: str
    to_state: str
    reason: str
    data: dict[str, Any]


class Case:
    """One case walked through its programme's states, as officers and caseworkers would move it.

    Each step goes only along a transition the definition allows, with a reason where it needs
    one; a step that would fall after ``NOW`` has not happened, and the case stays where it is.
    """

    def __init__(
        self, plan: Plan, rng: random.Random, opened: datetime, factor: Callable[[str], float]
    ) -> None:
        self.plan = plan
        self.rng = rng
        self.factor = factor
        self.state = plan.eligible
        self.at = opened
        self.steps: list[Step] = []
        self.milestones: dict[str, datetime] = {}
        self.exit_reason: str | None = None
        self.halted = False

    def chance(self, point: str) -> bool:
        return self.rng.random() < BASE[point] * self.factor(point)

    def move(
        self,
        to_state: str,
        days: tuple[float, float],
        *,
        kind: str = "transition",
        reason: str = "",
        **data: Any,
    ) -> bool:
        """Take one step ``days`` after the last; False (and the case stops) if that is after NOW."""
        if self.halted:
            return False
        at = self.at + timedelta(seconds=int(self.rng.uniform(*days) * 86400) + 60)
        if at > NOW:
            self.halted = True
            return False
        if not reason and (self.state, to_state) in self.plan.reason_required:
            reason = "Recorded after a discussion with the person and the team."
        milestone = self.plan.milestones.get(to_state)
        if milestone is not None and milestone not in self.milestones:
            self.milestones[milestone] = at
            data["milestone"] = milestone
        self.steps.append(Step(at, kind, self.state, to_state, reason, data))
        self.state, self.at = to_state, at
        return True

    def follow(self, path: Sequence[str] | None, days: tuple[float, float], last_kind: str) -> bool:
        if not path:
            return False
        for index, state in enumerate(path):
            if not self.move(state, days, kind=last_kind if index == len(path) - 1 else "transition"):
                return False
        return True

    def walk(self, route: str) -> None:
        plan = self.plan
        if not self.chance("offered"):
            self.move(plan.not_offered, (0, 0.1), reason=self.rng.choice(NOT_OFFERED))
            return
        if not self.move(plan.offered, (0, 0.1)):
            return
        if not self.chance("accepted"):
            if self.move(plan.declined, (0, 3), reason="Did not want to take part"):
                self.exit_reason = "declined"
            return
        if self.move(plan.definition.route(route).enters, (0, 3)) and self._engage():
            if self.chance("completed"):
                self.follow(plan.path(self.state, "completed"), (20, 60), "completion")
            else:
                self._falter()

    def _engage(self) -> bool:
        """Along the route into engagement, which a gatekeeper may end first (a formal outcome)."""
        engaged = self.chance("engaged")
        path = self.plan.path(self.state, "engagement") or ()
        for state in path[:-1]:
            side_exit = self.plan.step_to(self.state, lambda s: s.terminal and s.result is None)
            if side_exit is not None and self.rng.random() < SIDE_EXIT_CHANCE:
                self.move(side_exit, (2, 15), reason="The panel decided a formal outcome is needed.")
                return False
            if not self.move(state, (2, 15), reason="The panel decided on a referral."):
                return False
        if not engaged or not path:
            self._falter()
            return False
        return self.move(path[-1], (3, 20))

    def _falter(self) -> None:
        """Non-engagement: a review and a person's decision where the programme has one, else an end."""
        plan = self.plan
        escalate = self.chance("escalated")
        escalation = plan.definition.escalation
        if escalation is not None and plan.review in plan.onward[self.state]:
            self._review(escalate)
            return
        direct = plan.step_to(self.state, GOALS["escalated"])
        if escalate and direct is not None:
            self.move(direct, (10, 40), reason="Did not attend, so the traditional pathway applies.")
            return
        drop = plan.step_to(self.state, lambda s: s.terminal and s.result is None and s.stage == "outcome")
        if drop is not None:
            reason = self.rng.choice(DROP_OUT)
            if self.move(
                drop, (10, 40), kind="drop_out", reason="No longer taking part.", exit_reason=reason
            ):
                self.exit_reason = reason

    def _review(self, escalate: bool) -> None:
        plan = self.plan
        escalation = plan.definition.escalation
        assert escalation is not None and plan.review is not None
        if not self.move(
            plan.review, (10, 40), kind="review", reason="Two sessions missed without a reason."
        ):
            return
        wanted = GOALS["escalated"] if escalate else (lambda s: not s.terminal)
        option = next(o for o in escalation.options if wanted(plan.states[o.to_state]))
        reason = "No engagement after the review." if escalate else "Agreed a revised plan."
        # The data ``escalation_decision`` records; no flags, because no sweep has run here.
        data = {"option": option.id, "label": option.label, "flags": []}
        if not self.move(option.to_state, (5, 30), kind="escalation", reason=reason, **data):
            return
        if escalate:
            drop_outs = plan.definition.drop_out_reasons
            self.exit_reason = self.rng.choice(drop_outs) if drop_outs else option.id
        else:
            self.follow(plan.path(self.state, "completed"), (20, 60), "completion")


# ---- Rows ---------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """Rows for every table from a run of whole people, COPYed together."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    encounters: int = 0


class Generator:
    """Turns drawn people into rows for every table, handing out ids in order.

    People come one at a time with all their encounters, oldest first, so each decision's history
    is the person's earlier encounters and their cases as they stood then.
    """

    def __init__(
        self, catalogue: Catalogue, settings: Mapping[str, Any], seed: int, disparities: Disparities
    ) -> None:
        self.catalogue = catalogue
        self.world = World(random.Random(seed), settings, catalogue)
        # Cases draw from a stream of their own, so disparities never change who was met or when.
        self.cases = random.Random(seed ^ 0x5DEECE66D)
        self.disparities = disparities
        self.ids = dict.fromkeys(ID_TABLES, 0)
        self.counts = dict.fromkeys(TABLES, 0)
        self._reasons: dict[tuple[Reason, ...], tuple[list[dict[str, Any]], str]] = {}
        self._vulnerabilities: dict[tuple[str, ...], str] = {}

    def chunks(self, n: int, size: int = CHUNK) -> Iterator[Chunk]:
        chunk = Chunk()
        made = 0
        while made < n:
            made += self._person(chunk, n - made)
            if chunk.encounters >= size:
                yield self._counted(chunk)
                chunk = Chunk()
        if chunk.encounters:
            yield self._counted(chunk)

    def _counted(self, chunk: Chunk) -> Chunk:
        for table, rows in chunk.rows.items():
            self.counts[table] += len(rows)
        return chunk

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _person(self, chunk: Chunk, limit: int) -> int:
        force, person, times = self.world.person(self._next("people"))
        times = times[:limit]
        chunk.rows["people"].append(person)
        group = self.catalogue.groups[person[8]]
        eligible_factor = self.disparities.factor("eligible", group)
        history: list[PriorVisit] = []
        for at in times:
            row = self.world.encounter(self._next("encounters"), person, force, at, eligible_factor)
            facts = encounter_facts(row, person, history)
            chunk.rows["encounters"].append(self._stored(row))
            cases = self._decide(chunk, row, person, force, facts, group)
            history.append(PriorVisit(uk_date(at), row[7], cases))
        chunk.encounters += len(times)
        return len(times)

    def _stored(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """The encounter as COPY takes it: vulnerabilities as JSON text (few distinct lists, so cached)."""
        listed = tuple(row[20])
        if listed not in self._vulnerabilities:
            self._vulnerabilities[listed] = json.dumps(list(listed))
        return (*row[:20], self._vulnerabilities[listed], *row[21:])

    def _stored_reasons(self, reasons: tuple[Reason, ...]) -> tuple[list[dict[str, Any]], str]:
        """The reasons as ``decide_for`` stores them, and as JSON text.

        Reasons repeat (the same rules, the same ages), so each distinct list is built once; the
        lists are shared, so nothing may change them.
        """
        if reasons not in self._reasons:
            listed = [reason_dict(r) for r in reasons]
            self._reasons[reasons] = (listed, json.dumps(listed))
        return self._reasons[reasons]

    def _decide(
        self,
        chunk: Chunk,
        encounter: tuple[Any, ...],
        person: tuple[Any, ...],
        force: Force,
        facts: EncounterFacts,
        group: str,
    ) -> list[PriorCase]:
        """One decision per programme the force runs (as ``record_encounter``), and a case if eligible."""
        decided = encounter[2] + timedelta(minutes=5)
        stored_facts = facts_json(facts) if force.schemes else ""
        cases = []
        journey_rows = []
        for scheme in force.schemes:
            version = scheme.in_force(facts.occurred_on)
            if version is None:
                continue
            result = decide(version.plan.definition, facts)
            decision_id = self._next("decisions")
            reasons, reasons_text = self._stored_reasons(result.reasons)
            chunk.rows["decisions"].append(
                (decision_id, encounter[0], version.id, result.eligible, result.route,
                 reasons_text, stored_facts, decided, None, "")
            )  # fmt: skip
            opening = Opening(
                scheme, version, encounter, person, force, group, decision_id, result.route, reasons
            )
            overridden = self._override_time(decided, result.eligible)
            effective = result.eligible if overridden is None else not result.eligible
            opened = len(chunk.rows["referrals"])
            if overridden is not None:
                cases.append(self._override(chunk, opening, result.eligible, stored_facts, overridden))
            elif result.eligible:
                cases.append(self._open(chunk, opening, decided))
            case = chunk.rows["referrals"][opened] if len(chunk.rows["referrals"]) > opened else None
            # Every decision stored here is in its programme's population (the column's default).
            row = journeys.programme_row(
                encounter[0],
                {"person_id": encounter[1], "occurred_at": encounter[2], "area": encounter[4],
                 "organisation_id": encounter[6]},
                {"eligible": effective, "in_population": True},
                scheme.id,
                None if case is None else dict(zip(_CASE_COLUMNS, _CASE_VALUES(case), strict=True)),
                {"date_of_birth": person[5], "gender": person[7], "self_defined_ethnicity": person[8],
                 "officer_defined_ethnicity": person[9]},
            )  # fmt: skip
            if row is not None:
                journey_rows.append(row)
        if journey_rows:
            chunk.rows["monitoring_journeys"].extend(map(_JOURNEY_VALUES, journey_rows))
            chunk.rows["monitoring_encounters"].extend(
                map(_ENCOUNTER_VALUES, journeys.encounter_rows(journey_rows))
            )
        return cases

    def _override_time(self, decided: datetime, eligible: bool) -> datetime | None:
        """When a supervisor sets this decision aside, if one does (and it is before NOW)."""
        if self.cases.random() >= OVERRIDE_CHANCE[eligible]:
            return None
        at = decided + timedelta(hours=self.cases.randint(1, 48))
        return at if at <= NOW else None

    def _override(
        self, chunk: Chunk, opening: Opening, eligible: bool, stored_facts: str, at: datetime
    ) -> PriorCase:
        """A supervisor sets the decision aside (as ``override_decision``); both decisions are kept."""
        decided = opening.encounter[2] + timedelta(minutes=5)
        if eligible:
            why, route = "Intelligence not recorded on the form.", None
        else:
            why, route = "Discretion: the circumstances were exceptional.", opening.version.plan.routes[0]
        replacement = self._next("decisions")
        override = {
            "rule_id": "override",
            "text": f"Overridden by a supervisor: {why}",
            "passed": not eligible,
        }
        reasons = [*opening.reasons, override]
        chunk.rows["decisions"].append(
            (replacement, opening.encounter[0], opening.version.id, not eligible, route,
             json.dumps(reasons), stored_facts, at, opening.decision_id, why)
        )  # fmt: skip
        if not eligible:
            # No case was opened, so the new decision opens one.
            return self._open(
                chunk, replace(opening, decision_id=replacement, route=route, reasons=reasons), at
            )
        # The case the rules opened goes back to "not eligible" and follows the new decision.
        return self._open(chunk, opening, decided, override=(replacement, at, why))

    def _open(
        self,
        chunk: Chunk,
        opening: Opening,
        opened: datetime,
        override: tuple[int, datetime, str] | None = None,
    ) -> PriorCase:
        plan = opening.version.plan
        case = Case(plan, self.cases, opened, lambda point: self.disparities.factor(point, opening.group))
        if override is None:
            assert opening.route is not None
            case.walk(opening.route)
        else:
            replacement, at, why = override
            case.at = at
            case.move(plan.not_eligible, (0, 0), kind="override", reason=why, decision_id=replacement)
        self._rows(chunk, opening, case, opened, override[0] if override else opening.decision_id)
        timeline = [(opened, plan.eligible), *((step.at, step.to_state) for step in case.steps)]
        return PriorCase(opening.scheme.code, plan, timeline)

    def _rows(self, chunk: Chunk, opening: Opening, case: Case, opened: datetime, decision_id: int) -> None:
        """The referral, its parties and its timeline: the opening decision, then one event per step."""
        plan = opening.version.plan
        referral_id = self._next("referrals")
        events = chunk.rows["referral_events"]
        parties = chunk.rows["referral_parties"]
        opened_by = json.dumps({"decision_id": opening.decision_id, "route": opening.route})
        because = " ".join(r["text"] for r in opening.reasons if r["passed"])
        events.append(
            (self._next("referral_events"), referral_id, opened, opened, "decision",
             plan.initial, plan.eligible, because, opened_by)
        )  # fmt: skip
        parties.append((self._next("referral_parties"), referral_id, opening.force.id, "police"))
        receivers = opening.scheme.receiving
        entered = {plan.definition.route(r).enters: receivers[r] for r in receivers}
        for step in case.steps:
            events.append(
                (self._next("referral_events"), referral_id, step.at, step.at, step.kind,
                 step.from_state, step.to_state, step.reason, json.dumps(step.data))
            )  # fmt: skip
            # Entering a route's first state makes its receiving organisation party to the case.
            receiver = entered.pop(step.to_state, None)
            if receiver is not None:
                parties.append((self._next("referral_parties"), referral_id, receiver, "receiving"))
        chunk.rows["referrals"].append(self._referral(opening, case, referral_id, opened, decision_id))

    def _referral(
        self, opening: Opening, case: Case, referral_id: int, opened: datetime, decision_id: int
    ) -> tuple[Any, ...]:
        state = opening.version.plan.states[case.state]
        stamps = case.milestones
        encounter_id = opening.encounter[0]
        # An override to "not eligible" takes the route away with the decision.
        route = None if decision_id != opening.decision_id else opening.route
        return (
            referral_id, reference_for(opening.scheme.code, encounter_id), opening.person[0], encounter_id,
            opening.scheme.id, opening.version.id, case.state, route, opened,
            case.at if state.terminal else None, state.outcome_code if state.terminal else None,
            decision_id, case.exit_reason, stamps.get("offered_at"), stamps.get("accepted_at"),
            stamps.get("engaged_at"), stamps.get("completed_at"), stamps.get("escalated_at"),
            opened, case.at, 1 + len(case.steps),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Opening:
    """What a new case needs to know about where it came from."""

    scheme: Scheme
    version: Version
    encounter: tuple[Any, ...]
    person: tuple[Any, ...]
    force: Force
    group: str
    # The decision that opens the case, its route and its reasons (as stored).
    decision_id: int
    route: str | None
    reasons: list[dict[str, Any]]


# ---- Loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationSummary:
    n: int
    seed: int
    rows: Mapping[str, int]
    seconds: float

    def lines(self) -> list[str]:
        width = max(len(table) for table in self.rows)
        out = [f"{table:<{width}} {count:>12,}" for table, count in self.rows.items()]
        out.append(f"generated {self.n:,} encounters (seed {self.seed}) in {self.seconds:.1f} s")
        return out


def prepare(session: Session, settings: Mapping[str, Any]) -> Catalogue:
    """Reference data, programme definitions, organisations and operators, with the app's own code."""
    load_reference_data(session)
    sync_definitions(session)
    organisations = {}
    for spec in settings["organisations"]:
        org = session.scalar(select(Organisation).where(Organisation.code == spec["code"]))
        if org is None:
            org = Organisation(code=spec["code"], name=spec["name"], kind=spec["kind"])
            session.add(org)
            session.flush()
        organisations[spec["code"]] = org.id
    programmes = {p.code: p for p in session.scalars(select(Programme))}
    for code, spec in settings["operators"].items():
        assign_operator(session, programmes[code], organisations[spec["police"]], "police")
        for route, receiver in spec.get("receiving", {}).items():
            assign_operator(session, programmes[code], organisations[receiver], "receiving", route)
    versions = session.execute(select(ProgrammeVersion, Programme.code).join(Programme)).all()
    return build_catalogue(
        settings, organisations, ((v.id, v.programme_id, code, compiled(v)) for v, code in versions)
    )


def _conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI, for a plain psycopg connection that can COPY."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy(connection: psycopg.Connection[Any], chunk: Chunk) -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            rows = chunk.rows[table]
            if not rows:
                continue
            # Table and column names are the constants above, never input.
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def _stream(
    connection: psycopg.Connection[Any], chunks: Iterator[Chunk], done: Callable[[int], None] | None
) -> None:
    """COPY each chunk on a second thread while this one draws the next.

    The server, not Python, is the slower side (it checks every foreign key and fills every
    index), so overlapping the two uses both cores. One chunk in flight keeps memory bounded; the
    worker mostly waits on the socket, which releases the GIL.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: tuple[Future[None], int] | None = None
        for chunk in chunks:
            if pending is not None:
                _wait(pending, done)
            pending = (pool.submit(_copy, connection, chunk), chunk.encounters)
        if pending is not None:
            _wait(pending, done)


def _wait(pending: tuple[Future[None], int], done: Callable[[int], None] | None) -> None:
    future, encounters = pending
    future.result()  # re-raises a failed COPY here, before anything else is drawn
    if done is not None:
        done(encounters)


def _finish(connection: psycopg.Connection[Any]) -> None:
    """Point each id sequence past the ids handed out, give the planner statistics, and vacuum.

    VACUUM as well as ANALYZE: it sets the visibility map, without which an index-only scan still
    reads the table. Autovacuum would do it in time on a normal server; it is off on this one.
    """
    with connection.cursor() as cursor:
        for table in ID_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        connection.commit()
        connection.autocommit = True
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


def generate(
    url: str,
    n: int,
    seed: int = 20261124,
    disparities: Disparities | None = None,
    progress: bool = True,
) -> GenerationSummary:
    """Load ``n`` synthetic encounters (with their people, decisions and cases) into an empty database."""
    started = time.perf_counter()
    settings = generator_settings()
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            raise ValueError("The generator loads with COPY, so it needs PostgreSQL")
        with session_factory(engine)() as session:
            if session.scalar(text("SELECT EXISTS (SELECT 1 FROM encounters)")):
                raise ValueError("The database already has encounters; generate into an empty one")
            catalogue = prepare(session, settings)
            session.commit()
    finally:
        engine.dispose()
    generator = Generator(catalogue, settings, seed, Disparities() if disparities is None else disparities)
    with psycopg.connect(_conninfo(url)) as connection, ExitStack() as stack:
        bar = stack.enter_context(
            click.progressbar(length=n, label="encounters", file=sys.stderr) if progress else nullcontext()
        )
        _stream(connection, generator.chunks(n), bar.update if bar is not None else None)
        connection.commit()
        _finish(connection)
    return GenerationSummary(n, seed, dict(generator.counts), time.perf_counter() - started)


# ---- Command line -------------------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="encounters (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20261124)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--database-url", help="an empty database, already migrated (flask init-db)")
    where.add_argument("--scratch", action="store_true", help="a new database, dropped afterwards")
    parser.add_argument("--keep", action="store_true", help="with --scratch: keep the database")
    parser.add_argument(
        "--disparity",
        action="append",
        default=[],
        metavar="POINT:GROUP=FACTOR",
        help=f"e.g. offered:Black=0.8 (points: {', '.join(POINTS)}); adds to or replaces the defaults",
    )
    parser.add_argument("--no-disparities", action="store_true", help="start from no disparities at all")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    if args.keep and not args.scratch:
        raise SystemExit("--keep only applies to --scratch")
    base = Disparities.none() if args.no_disparities else Disparities()
    disparities = base.overridden(args.disparity)
    with scratch_database(keep=args.keep) if args.scratch else nullcontext(args.database_url) as url:
        summary = generate(url, args.n, args.seed, disparities, progress=not args.quiet)
    for line in summary.lines():
        print(line)


if __name__ == "__main__":
    main()
