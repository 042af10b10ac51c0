"""Programme definitions in the database: loading versions from files, and finding the one in force.

Versions are immutable once loaded: a changed file with the same version number is refused,
because old decisions must stay reproducible against exactly what they used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from divert.app.clock import today
from divert.models import Programme, ProgrammeOperator, ProgrammeVersion, User, audit
from divert.models.programme import compiled
from divert.pathways.errors import OperationError
from divert.rules import (
    content_hash,
    definition_to_dict,
    load_directory,
)

PROGRAMMES_DIR = Path(__file__).resolve().parents[2] / "seeds" / "programmes"


@dataclass(frozen=True)
class SyncResult:
    code: str
    version: int
    status: str  # "added" or "unchanged"


def sync_definitions(
    session: Session, directory: Path = PROGRAMMES_DIR, actor: User | None = None
) -> list[SyncResult]:
    """Store every definition version found in ``directory``; idempotent."""
    results = []
    for definition in sorted(load_directory(directory), key=lambda d: (d.code, d.version)):
        programme = session.scalar(select(Programme).where(Programme.code == definition.code))
        if programme is None:
            programme = Programme(
                code=definition.code, name=definition.name, description=definition.description
            )
            session.add(programme)
            session.flush()
        digest = content_hash(definition)
        stored = session.scalar(
            select(ProgrammeVersion).where(
                ProgrammeVersion.programme_id == programme.id, ProgrammeVersion.version == definition.version
            )
        )
        if stored is not None:
            if stored.content_hash != digest:
                raise OperationError(
                    f"{definition.source}: programme '{definition.code}' version {definition.version} "
                    "differs from the version already loaded. Give the changed definition a new version "
                    "number and effective date."
                )
            results.append(SyncResult(definition.code, definition.version, "unchanged"))
            continue
        session.add(
            ProgrammeVersion(
                programme=programme,
                version=definition.version,
                effective_from=definition.effective_from,
                content_hash=digest,
                definition=definition_to_dict(definition),
            )
        )
        # The newest version's name and description describe the programme.
        programme.name = definition.name
        programme.description = definition.description
        session.flush()
        audit.record(session, actor, "create", "programme_version", f"{definition.code}@{definition.version}")
        results.append(SyncResult(definition.code, definition.version, "added"))
    return results


def version_in_force(session: Session, programme: Programme, on: date) -> ProgrammeVersion:
    version = session.scalar(
        select(ProgrammeVersion)
        # The definition (kilobytes of JSON) is read only when this process has not compiled the
        # version yet (``compiled``); every recording looks a version up for each programme.
        .options(defer(ProgrammeVersion.definition))
        .where(ProgrammeVersion.programme_id == programme.id, ProgrammeVersion.effective_from <= on)
        .order_by(ProgrammeVersion.effective_from.desc(), ProgrammeVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise OperationError(f"No version of {programme.name} was in force on {on:%d %B %Y}.")
    return version


def programmes_run_by(session: Session, organisation_id: int) -> list[Programme]:
    """Programmes under which this organisation's officers record encounters."""
    return list(
        session.scalars(
            select(Programme)
            .join(ProgrammeOperator, ProgrammeOperator.programme_id == Programme.id)
            .where(
                ProgrammeOperator.organisation_id == organisation_id,
                ProgrammeOperator.role == "police",
                Programme.active.is_(True),
            )
            .order_by(Programme.code)
        )
    )


def receiving_organisation(session: Session, programme: Programme, route: str | None) -> int | None:
    """The organisation that receives a programme's referrals on ``route`` (or on any route)."""
    operators = session.scalars(
        select(ProgrammeOperator).where(
            ProgrammeOperator.programme_id == programme.id, ProgrammeOperator.role == "receiving"
        )
    ).all()
    for operator in operators:
        if operator.route == route:
            return operator.organisation_id
    for operator in operators:
        if operator.route is None:
            return operator.organisation_id
    return None


def assign_operator(
    session: Session,
    programme: Programme,
    organisation_id: int,
    role: str,
    route: str | None = None,
    actor: User | None = None,
) -> ProgrammeOperator:
    if role not in {"police", "receiving"}:
        raise OperationError("Role must be 'police' or 'receiving'")
    if route is not None and route not in {r.id for r in compiled(programme.versions[-1]).routes}:
        raise OperationError(f"{programme.name} has no route '{route}'")
    existing = session.scalar(
        select(ProgrammeOperator).where(
            ProgrammeOperator.programme_id == programme.id,
            ProgrammeOperator.organisation_id == organisation_id,
        )
    )
    if existing is not None:
        existing.role, existing.route = role, route
        session.flush()
        return existing
    operator = ProgrammeOperator(
        programme_id=programme.id, organisation_id=organisation_id, role=role, route=route
    )
    session.add(operator)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "programme_operator",
        operator.id,
        detail=f"{programme.code} {role} {route or ''}",
    )
    return operator


OFFENCE_AGE_FACTS = frozenset({"offence_age_days", "offence_age_months"})


def uses_offence_date(session: Session, organisation_id: int) -> bool:
    """Whether a programme this organisation records encounters under decides by the offence's age, so the
    officer's form must ask for the offence date rather than assume the encounter's day."""
    for programme in programmes_run_by(session, organisation_id):
        try:
            definition = compiled(version_in_force(session, programme, today()))
        except OperationError:
            continue
        if any(OFFENCE_AGE_FACTS.intersection(rule.condition.facts) for rule in definition.eligibility):
            return True
    return False
