"""Rows whose ``encounter_ref`` the organisation already holds: unchanged, or a problem.

An import never changes a stored record. A row that says the same as what is stored is skipped
("unchanged"); a row that contradicts it is reported, column by column, because silently changing
a record someone may have worked on since is worse than asking. A milestone the file leaves blank
but the case has since reached is not a contradiction: the case moved on in divert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date
from divert.models import Decision, Encounter, Person, Programme, ProgrammeVersion, Referral
from divert.models.person import normalise_name
from divert.models.programme import compiled
from divert.pathways.importing.columns import Problem
from divert.pathways.importing.people import chunks
from divert.pathways.importing.validate import Row
from divert.rules import ProgrammeDefinition

_ENCOUNTER = (
    Encounter.external_ref,
    Encounter.id,
    Encounter.person_id,
    Encounter.occurred_at,
    Encounter.area,
    Encounter.setting,
    Encounter.offence_category,
    Encounter.drug_class,
    Encounter.personal_use,
    Encounter.supply_suspected,
    Encounter.admission,
)
_PERSON = (Person.id, Person.given_name_key, Person.family_name_key, Person.date_of_birth, Person.pnc_id)
_CASE = (
    Referral.encounter_id,
    Referral.programme_id,
    Referral.programme_version_id,
    Referral.state,
    Referral.offered_at,
    Referral.accepted_at,
    Referral.engaged_at,
    Referral.completed_at,
    Referral.escalated_at,
    Referral.outcome_code,
    Referral.closed_at,
)


def stored_refs(session: Session, organisation_id: int, refs: Sequence[str]) -> dict[str, Any]:
    """The stored encounters with these references, as column tuples.

    Plain columns rather than ORM objects: with 100,000 objects in the session every later query's
    autoflush check walks them all, which made re-importing a large file take minutes.
    """
    found: dict[str, Any] = {}
    for part in chunks(sorted(refs)):
        for encounter in session.execute(
            select(*_ENCOUNTER).where(
                Encounter.organisation_id == organisation_id, Encounter.external_ref.in_(part)
            )
        ):
            found[encounter.external_ref] = encounter
    return found


def differences(session: Session, rows: Sequence[Row], stored: dict[str, Any]) -> list[Problem]:
    """Every column in which a row contradicts the record imported (or recorded) under its reference."""
    encounters = [stored[row.ref] for row in rows]
    people: dict[int, Any] = {}
    decisions: dict[tuple[int, str], bool] = {}
    cases: dict[tuple[int, int], Any] = {}
    for part in chunks(encounters):
        ids = [e.id for e in part]
        people.update(
            (p.id, p)
            for p in session.execute(select(*_PERSON).where(Person.id.in_({e.person_id for e in part})))
        )
        for encounter_id, code, eligible in session.execute(
            select(Decision.encounter_id, Programme.code, Decision.eligible)
            .join(ProgrammeVersion, ProgrammeVersion.id == Decision.programme_version_id)
            .join(Programme, Programme.id == ProgrammeVersion.programme_id)
            .where(Decision.encounter_id.in_(ids))
            .order_by(Decision.id)
        ).tuples():
            decisions[(encounter_id, code)] = eligible  # the latest decision wins
        cases.update(
            ((r.encounter_id, r.programme_id), r)
            for r in session.execute(select(*_CASE).where(Referral.encounter_id.in_(ids)))
        )
    versions: dict[int, ProgrammeDefinition] = {}
    problems = []
    for row, encounter in zip(rows, encounters, strict=True):
        case = cases.get((encounter.id, row.version.programme_id))
        if case is not None and case.programme_version_id not in versions:
            version = session.get(ProgrammeVersion, case.programme_version_id)
            assert version is not None
            versions[case.programme_version_id] = compiled(version)
        definition = versions[case.programme_version_id] if case is not None else None
        said = _stored_values(
            encounter,
            people[encounter.person_id],
            decisions.get((encounter.id, row.programme)),
            case,
            definition,
        )
        for column, (then, now) in _compare(row, said).items():
            problems.append(
                Problem(
                    row.number,
                    column,
                    f"Encounter reference {row.ref} was imported before with {column} {then or 'blank'}, "
                    f"not {now or 'blank'}; an import never changes a stored record",
                )
            )
    return problems


def _day(value: datetime | None) -> date | None:
    return uk_date(value) if value else None


def _stored_values(
    encounter: Any, person: Any, eligible: bool | None, case: Any, definition: ProgrammeDefinition | None
) -> dict[str, Any]:
    said: dict[str, Any] = {
        "occurred_at": encounter.occurred_at,
        "programme": eligible is not None,
        "forenames": person.given_name_key,
        "surname": person.family_name_key,
        "date_of_birth": person.date_of_birth,
        "pnc_id": person.pnc_id,
        "area": encounter.area,
        "setting": encounter.setting,
        "offence": encounter.offence_category,
        "drug_class": encounter.drug_class,
        "personal_use": encounter.personal_use,
        "supply_suspected": encounter.supply_suspected,
        "admission": encounter.admission,
        "eligible": eligible,
    }
    if case is not None and definition is not None:
        state = definition.state(case.state)
        said |= {
            "offered": True
            if case.offered_at
            else (False if state.stage == "offer" and state.terminal else None),
            "accepted": True if case.accepted_at else (False if state.stage == "acceptance" else None),
            "engaged_on": _day(case.engaged_at),
            "completed_on": _day(case.completed_at),
            "escalated_on": _day(case.escalated_at),
            "outcome_code": case.outcome_code,
            "closed_on": _day(case.closed_at),
        }
    return said


def _compare(row: Row, said: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Column -> (stored, file) wherever the file states something the record contradicts."""
    says: dict[str, Any] = {
        "occurred_at": row.occurred_at,
        "programme": True,
        "forenames": normalise_name(row.forenames),
        "surname": normalise_name(row.surname),
        "date_of_birth": row.date_of_birth,
        "area": row.area,
        "setting": row.setting,
        "offence": row.offence,
        "drug_class": row.drug_class,
        "personal_use": row.personal_use,
        "supply_suspected": row.supply_suspected,
        "admission": row.admission,
    }
    # Only what the file states is compared: blanks may have been filled in since.
    optional = {
        "pnc_id": row.pnc_id,
        "eligible": row.eligible,
        "offered": row.offered,
        "accepted": row.accepted,
        "engaged_on": row.engaged_on,
        "completed_on": row.completed_on,
        "escalated_on": row.escalated_on,
        "closed_on": row.closed_on,
        "outcome_code": row.outcome_code,
    }
    says |= {k: v for k, v in optional.items() if v is not None and (k in said or k == "offered")}
    out = {}
    if said.get("pnc_id") is None:
        says.pop("pnc_id", None)  # an import never adds a PNC ID to a stored person, so none is no change
    for column, value in says.items():
        if said.get(column) != value:
            then, now = said.get(column), value
            if column == "programme":
                then, now = "no decision for this programme", row.programme
            out[column] = (_shown(then), _shown(now))
    return out


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
