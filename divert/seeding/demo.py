"""Synthetic demo data: organisations, one user per role (and a supervisor in every organisation,
an officer in every force), and a few hundred people and encounters.

Each force's encounters are recorded by its own officer; each case opens, is offered and is
answered in the hours and days after its encounter, not on the day the seed ran; and the sweep
runs at the end, so the flag and overdue lists have something on them. Deterministic from a seed,
and idempotent: running it again creates nothing new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.models import (
    Encounter,
    Organisation,
    Person,
    Programme,
    Referral,
    SharingAgreement,
    SharingAgreementProgramme,
    User,
)
from divert.models.programme import compiled
from divert.models.user import ROLES
from divert.pathways.cases import offer, record_encounter, respond
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.pathways.sweep import sweep
from divert.pathways.users import create_user
from divert.rules import BANK_HOLIDAYS, codes
from divert.rules.sharing import CATEGORIES

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "seeds" / "demo.yaml"
ODE_FOR_GROUP = {
    "White": "IC1",
    "Black": "IC3",
    "Asian": "IC4",
    "Mixed": "IC9",
    "Other": "IC6",
    "Not stated": "IC9",
}
VULNERABILITIES = list(codes.VULNERABILITIES)
SDE_GROUP = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other", "N": "Not stated"}


def demo_password(role: str) -> str:
    # Predictable on purpose: demo installations are local, and the README prints these.
    return f"demo-{role.replace('_', '-')}-2026"


@dataclass
class DemoResult:
    organisations: int
    users: list[tuple[str, str, str]]
    people: int
    encounters: int
    created: bool


def load_settings(path: Path = SETTINGS_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def seed_demo(
    session: Session, seed: int | None = None, settings: dict[str, Any] | None = None
) -> DemoResult:
    settings = settings or load_settings()
    rng = random.Random(seed if seed is not None else settings["seed"])
    orgs = _organisations(session, settings)
    users = _users(session, settings, orgs)
    sync_definitions(session)
    _operators(session, settings, orgs)
    _agreements(session, settings, orgs)
    officer = next(u for u in users if u.role == "officer")
    officers = {u.organisation_id: u for u in reversed(users) if u.role == "officer"}
    already = session.scalar(
        select(func.count()).select_from(Encounter).where(Encounter.officer_id == officer.id)
    )
    created = not already
    if created:
        _people_and_encounters(session, settings, orgs, officers, rng)
        _decide_and_progress(session, settings, users, rng)
        # What the worker's nightly sweep would have raised by now.
        sweep(session, today(), BANK_HOLIDAYS)
    people = session.scalar(select(func.count()).select_from(Person)) or 0
    encounters = session.scalar(select(func.count()).select_from(Encounter)) or 0
    return DemoResult(
        organisations=len(orgs),
        users=[
            (u.role, u.email, demo_password(u.role))
            for u in sorted(users, key=lambda u: ROLES.index(u.role) if u.role in ROLES else len(ROLES))
        ],
        people=people,
        encounters=encounters,
        created=created,
    )


def _organisations(session: Session, settings: dict[str, Any]) -> dict[str, Organisation]:
    orgs = {}
    for spec in settings["organisations"]:
        org = session.scalar(select(Organisation).where(Organisation.code == spec["code"]))
        if org is None:
            org = Organisation(code=spec["code"], name=spec["name"], kind=spec["kind"])
            session.add(org)
        orgs[spec["code"]] = org
    session.flush()
    return orgs


def _users(session: Session, settings: dict[str, Any], orgs: dict[str, Organisation]) -> list[User]:
    specs = [dict(spec) for spec in settings["users"]]
    # Every organisation has a supervisor, and every force an officer of its own.
    for code, org in orgs.items():
        roles = {spec["role"] for spec in specs if spec["organisation"] == code}
        wanted = ["supervisor"] + (["officer"] if org.kind == "police_force" else [])
        for role in wanted:
            if role not in roles:
                title = "Supervisor" if role == "supervisor" else "Officer"
                specs.append({"role": role, "name": f"{org.name} {title}", "organisation": code, "own": True})
    users = []
    for spec in specs:
        email = f"{spec['role'].replace('_', '.')}@demo.divert.example"
        if spec.get("own"):
            email = f"{spec['role'].replace('_', '.')}.{spec['organisation']}@demo.divert.example"
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session,
                email=email,
                name=spec["name"],
                role=spec["role"],
                password=demo_password(spec["role"]),
                organisation=orgs[spec["organisation"]],
            )
        users.append(user)
    return users


def _operators(session: Session, settings: dict[str, Any], orgs: dict[str, Organisation]) -> None:
    for code, spec in settings["operators"].items():
        programme = session.scalar(select(Programme).where(Programme.code == code))
        if programme is None:
            continue
        assign_operator(session, programme, orgs[spec["police"]].id, "police")
        for route, org_code in spec.get("receiving", {}).items():
            assign_operator(session, programme, orgs[org_code].id, "receiving", route)


def _agreements(session: Session, settings: dict[str, Any], orgs: dict[str, Organisation]) -> None:
    """The information-sharing agreements the demo's teams work under (issue 17): each force shares
    everything about its cases with the teams it refers to, and they share their notes, needs
    assessments and outcomes back, from before the first demo encounter."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for code, spec in settings["operators"].items():
        for org_code in spec.get("receiving", {}).values():
            pairs.setdefault((spec["police"], org_code), []).append(code)
    for (force, team), codes_ in pairs.items():
        name = f"{orgs[force].name} and {orgs[team].name}"
        if session.scalar(select(SharingAgreement.id).where(SharingAgreement.name == name)) is not None:
            continue
        programmes = session.scalars(
            select(Programme).where(Programme.code.in_(codes_)).order_by(Programme.code)
        ).all()
        agreement = SharingAgreement(
            name=name,
            first_organisation_id=orgs[force].id,
            second_organisation_id=orgs[team].id,
            to_second=",".join(CATEGORIES),
            to_first="needs,notes,outcome",
            programme_codes=",".join(p.code for p in programmes),
            lawful_basis="s35_2_b",
            lawful_basis_text="Crime and Disorder Act 1998 s.115; the diversion scheme's protocol.",
            valid_from=settings["from"],
            version_id=1,
        )
        agreement.programme_links = [SharingAgreementProgramme(programme_id=p.id) for p in programmes]
        session.add(agreement)
    session.flush()


def _decide_and_progress(
    session: Session, settings: dict[str, Any], users: list[User], rng: random.Random
) -> None:
    """Decide every encounter in date order (history matters), then carry some cases forward,
    each step a little after the one before it, by the users of the organisations concerned."""
    shares = settings["progress"]
    by_role = {user.role: user for user in reversed(users)}  # the first listed of each role
    own = {(user.organisation_id, user.role): user for user in users}
    encounters = session.scalars(select(Encounter).order_by(Encounter.occurred_at, Encounter.id)).all()
    for encounter in encounters:
        force = encounter.organisation_id
        local = {**by_role, **{role: user for (org, role), user in own.items() if org == force}}
        at = encounter.occurred_at + timedelta(minutes=rng.randint(20, 90))
        for outcome in record_encounter(session, local["officer"], encounter, opened_at=at):
            case = outcome.referral
            if case is None:
                continue
            offered = rng.random() < shares["offered"]
            actor = _actor(case, "offer", local)
            at_offer = at + timedelta(minutes=rng.randint(5, 60))
            reason = "" if offered else "Person left before the offer could be made"
            offer(session, actor, case, offered, reason, occurred_at=at_offer)
            if offered:
                accepted = rng.random() < shares["accepted"]
                actor = _actor(case, "route" if accepted else "acceptance", local)
                at_answer = at_offer + timedelta(hours=rng.randint(1, 72))
                reason = "" if accepted else "Did not want to take part"
                respond(session, actor, case, accepted, reason, occurred_at=at_answer)


def _actor(case: Referral, stage: str, by_role: dict[str, User]) -> User:
    """A demo user whose role may take the case's next step into ``stage``."""
    definition = compiled(case.programme_version)
    for step in definition.transitions:
        if step.from_state == case.state and definition.state(step.to_state).stage == stage:
            return next(by_role[role] for role in step.roles if role in by_role)
    raise LookupError(f"no step from {case.state} into {stage}")


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _people_and_encounters(
    session: Session,
    settings: dict[str, Any],
    orgs: dict[str, Organisation],
    officers: dict[int, User],
    rng: random.Random,
) -> None:
    start: date = settings["from"]
    span = (settings["to"] - start).days
    for _ in range(settings["people"]):
        gender = rng.choices(["male", "female", "other", "not_stated"], weights=[78, 19, 1, 2])[0]
        names = settings["given_names"]["female" if gender == "female" else "male"]
        sde = _weighted(rng, settings["ethnicity"])
        force = _weighted(rng, settings["forces"])
        age_at_first = rng.choices(
            [rng.randint(12, 17), rng.randint(18, 25), rng.randint(26, 60)], [35, 40, 25]
        )[0]
        first_day = start + timedelta(days=rng.randrange(span))
        dob = first_day - timedelta(days=365 * age_at_first + rng.randrange(365))
        person = Person(
            organisation_id=orgs[force].id,
            given_name=rng.choice(names),
            family_name=rng.choice(settings["family_names"]),
            date_of_birth=dob,
            pnc_id=f"{dob.year % 100:02d}/{rng.randrange(10**6):06d}{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}"
            if rng.random() < 0.6
            else None,
            gender=gender,
            self_defined_ethnicity=sde,
            officer_defined_ethnicity=ODE_FOR_GROUP[SDE_GROUP[sde[0]]] if rng.random() < 0.8 else None,
            postcode_district=rng.choice(settings["districts"][force]),
        )
        session.add(person)
        day = first_day
        for _visit in range(rng.choices([1, 2, 3], [75, 20, 5])[0]):
            if day > settings["to"]:
                break
            _encounter(session, settings, rng, person, orgs[force], officers.get(orgs[force].id), day)
            day += timedelta(days=rng.randint(30, 240))
    session.flush()


def _encounter(
    session: Session,
    settings: dict[str, Any],
    rng: random.Random,
    person: Person,
    force: Organisation,
    officer: User | None,
    day: date,
) -> None:
    offence = _weighted(rng, settings["offences"])
    drugs = offence in {"drug_possession", "drug_supply"}
    when = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tzinfo=UTC)
    session.add(
        Encounter(
            person=person,
            occurred_at=when,
            offence_date=day,
            location="Synthetic location",
            area=person.postcode_district,
            setting=rng.choices(["street", "custody", "community"], [60, 30, 10])[0],
            officer_id=officer.id if officer else None,
            organisation_id=force.id,
            offence_category=offence,
            drug_class=rng.choices(["A", "B", "C"], [15, 75, 10])[0] if drugs else None,
            drug_type=("cannabis" if rng.random() < 0.7 else "cocaine") if drugs else None,
            personal_use=(offence == "drug_possession" and rng.random() < 0.92) if drugs else None,
            supply_suspected=offence == "drug_supply",
            admission=rng.choices(["admitted", "no_comment", "denied", "not_asked"], [55, 15, 10, 20])[0],
            hate_crime=rng.random() < 0.02,
            domestic_abuse=offence in {"common_assault", "abh"} and rng.random() < 0.2,
            lives_in_area=rng.random() < 0.9,
            offended_in_area=rng.random() < 0.95,
            on_court_order=rng.random() < 0.08,
            co_accused=rng.random() < 0.05,
            vulnerabilities=sorted(
                rng.sample(VULNERABILITIES, rng.choices([0, 1, 2, 3, 4], [40, 25, 15, 12, 8])[0])
            ),
        )
    )
