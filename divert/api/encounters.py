"""Programmes, and recording an encounter to get each programme's decision with its reasons."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask_login import current_user
from sqlalchemy import literal, select, union_all

from divert.api import bp
from divert.api.errors import FieldProblem, Invalid
from divert.api.schemas import (
    DecisionOut,
    EncounterIn,
    PersonIn,
    ProgrammeList,
    ProgrammeOut,
    RecordedEncounter,
    RecordEncounter,
)
from divert.api.spec import operation
from divert.app.clock import uk_date
from divert.app.extensions import db
from divert.models import Decision, EthnicityCode, OffenceCategory, Programme
from divert.models.programme import compiled
from divert.pathways.cases import Outcome
from divert.pathways.encounters import InForce, record_from_form
from divert.pathways.programmes import programmes_run_by, versions_in_force
from divert.rules.codes import DRUG_OFFENCES
from divert.rules.declared import answer_problem


@operation(
    bp,
    "/programmes",
    summary="Programmes your organisation runs",
    ability="use_service",
    response=ProgrammeList,
)
def list_programmes() -> ProgrammeList:
    """The programmes an encounter recorded by your organisation is decided against."""
    return ProgrammeList(
        programmes=[
            ProgrammeOut(code=p.code, name=p.name, description=p.description)
            for p in programmes_run_by(db.session, current_user.organisation_id)
        ]
    )


def _known_codes(person: PersonIn, encounter: EncounterIn) -> set[tuple[str, str]]:
    """Which of the codes sent are in the reference lists, as (list, code): one statement that
    asks only about the (at most three) codes sent, not for whole lists."""
    offence = select(literal("offence"), OffenceCategory.slug).where(
        OffenceCategory.active.is_(True), OffenceCategory.slug == encounter.offence_category
    )
    sent = [c for c in (person.self_defined_ethnicity, person.officer_defined_ethnicity) if c]
    ethnicity = select(EthnicityCode.scheme, EthnicityCode.code).where(EthnicityCode.code.in_(sent))
    return {(kind, code) for kind, code in db.session.execute(union_all(offence, ethnicity))}


def check_encounter(person: PersonIn, encounter: EncounterIn) -> None:
    """The rules the JSON Schema cannot state: reference data and questions that depend on the offence."""
    problems = []
    known = _known_codes(person, encounter)
    if ("offence", encounter.offence_category) not in known:
        problems.append(FieldProblem("encounter.offence_category", "Select an offence from the offence list"))
    if ("self_defined", person.self_defined_ethnicity) not in known:
        problems.append(FieldProblem("person.self_defined_ethnicity", "Select the person's ethnicity, or NS"))
    if (
        person.officer_defined_ethnicity
        and ("officer_defined", person.officer_defined_ethnicity) not in known
    ):
        problems.append(
            FieldProblem("person.officer_defined_ethnicity", "Select an officer-defined ethnicity")
        )
    drugs = encounter.offence_category in DRUG_OFFENCES
    if drugs and encounter.personal_use is None:
        problems.append(
            FieldProblem("encounter.personal_use", "Select whether the drugs were for personal use")
        )
    if encounter.drug_class and not drugs:
        problems.append(FieldProblem("encounter.drug_class", "Only give a drug class for a drug offence"))
    if uk_date(encounter.occurred_at) < person.date_of_birth:
        problems.append(
            FieldProblem("encounter.occurred_at", "The encounter must be after the date of birth")
        )
    if problems:
        raise Invalid(problems)


def encounter_details(encounter: EncounterIn, person: PersonIn) -> dict[str, Any]:
    # The same mapping as the officer's form (forms/encounter.py), from JSON instead of form fields.
    drugs = encounter.offence_category in DRUG_OFFENCES
    facts = set(encounter.facts)
    return {
        "occurred_at": encounter.occurred_at.astimezone(UTC),
        "offence_date": uk_date(encounter.occurred_at),
        "area": encounter.area or person.postcode_district,
        "setting": encounter.setting,
        "offence_category": encounter.offence_category,
        "drug_class": encounter.drug_class if drugs else None,
        "drug_type": encounter.drug_type if drugs else None,
        "personal_use": encounter.personal_use if drugs else None,
        "supply_suspected": encounter.supply_suspected,
        "admission": encounter.admission,
        "lives_in_area": True if "lives_in_area" in facts else None,
        "offended_in_area": True if "offended_in_area" in facts else None,
        "on_court_order": "on_court_order" in facts,
        "co_accused": "co_accused" in facts,
        "hate_crime": "hate_crime" in facts,
        "domestic_abuse": "domestic_abuse" in facts,
        "vulnerabilities": sorted(set(encounter.vulnerabilities)),
        "declared_facts": dict(encounter.answers),
    }


def check_answers(encounter: EncounterIn, in_force: InForce) -> None:
    """Answers to declared questions must be ones the programmes in scope on the day ask, of their
    type. ``in_force``: the force's programmes and their versions on the encounter's day."""
    if not encounter.answers:
        return
    declared = {
        fact.name: fact for _, version in in_force if version is not None for fact in compiled(version).facts
    }
    problems = [
        FieldProblem(f"encounter.answers.{name}", problem)
        for name, value in encounter.answers.items()
        if (problem := answer_problem(declared.get(name), value)) is not None
    ]
    if problems:
        raise Invalid(problems)


def decision_out(
    programme: Programme, decision: Decision, case_id: int | None, reference: str | None
) -> DecisionOut:
    return DecisionOut(
        programme=programme.code,
        programme_name=programme.name,
        decision_id=decision.id,
        eligible=decision.eligible,
        route=decision.route,
        reasons=decision.reasons,
        case_id=case_id,
        case_reference=reference,
    )


def _outcome_out(outcome: Outcome) -> DecisionOut:
    referral = outcome.referral
    return decision_out(
        outcome.programme,
        outcome.decision,
        referral.id if referral else None,
        referral.reference if referral else None,
    )


@operation(
    bp,
    "/encounters",
    method="POST",
    status=201,
    summary="Record an encounter and get each programme's decision",
    ability="record_encounter",
    body=RecordEncounter,
    response=RecordedEncounter,
    idempotent=True,
)
def record_encounter(body: RecordEncounter) -> RecordedEncounter:
    """Finds the person (same PNC ID, or same name and date of birth) or adds them, then decides.

    Send an ``Idempotency-Key`` header so that a retry returns this response instead of recording
    the encounter twice.
    """
    check_encounter(body.person, body.encounter)
    # Read once for the answers' check and the decisions.
    in_force = versions_in_force(
        db.session, current_user.organisation_id, uk_date(body.encounter.occurred_at)
    )
    check_answers(body.encounter, in_force)
    recorded = record_from_form(
        db.session,
        current_user,
        body.person.model_dump(),
        encounter_details(body.encounter, body.person),
        submission_key=None,
        in_force=in_force,
    )
    return RecordedEncounter(
        encounter_id=recorded.encounter.id,
        person_id=recorded.encounter.person_id,
        existing_person=recorded.existing_person,
        decisions=[_outcome_out(o) for o in recorded.outcomes],
    )
