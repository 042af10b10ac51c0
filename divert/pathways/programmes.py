"""Programme definitions in the database: loading versions from files, and finding the one in force.

Versions are immutable once loaded: a changed file with the same version number is refused,
because old decisions must stay reproducible against exactly what they used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, defer

from divert.app.clock import today
from divert.models import Programme, ProgrammeOperator, ProgrammeVersion, User, audit
from divert.models.base import utcnow
from divert.models.programme import DRAFT, PUBLISHED, compiled
from divert.pathways.errors import OperationError
from divert.rules import (
    ROLES,
    DefinitionError,
    ProgrammeDefinition,
    content_hash,
    definition_from_dict,
    definition_to_dict,
    load_directory,
    parse_definition,
)
from divert.rules.codes import label
from divert.rules.definition import RoleDeclaration

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
        .where(
            ProgrammeVersion.programme_id == programme.id,
            ProgrammeVersion.status == PUBLISHED,
            ProgrammeVersion.effective_from <= on,
        )
        .order_by(ProgrammeVersion.effective_from.desc(), ProgrammeVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise no_version_in_force(programme, on)
    return version


def _in_effect(on: date | None) -> list[ColumnElement[bool]]:
    """Conditions for an assignment holding on ``on`` (None: any assignment, whatever its dates)."""
    if on is None:
        return []
    return [
        or_(ProgrammeOperator.effective_from.is_(None), ProgrammeOperator.effective_from <= on),
        or_(ProgrammeOperator.effective_to.is_(None), ProgrammeOperator.effective_to >= on),
    ]


def programmes_run_by(session: Session, organisation_id: int, on: date | None = None) -> list[Programme]:
    """Programmes under which this organisation's officers record encounters (on ``on``, a UK date)."""
    return list(
        session.scalars(
            select(Programme)
            .join(ProgrammeOperator, ProgrammeOperator.programme_id == Programme.id)
            .where(
                ProgrammeOperator.organisation_id == organisation_id,
                ProgrammeOperator.role == "police",
                Programme.active.is_(True),
                *_in_effect(on),
            )
            .order_by(Programme.code)
        )
    )


def versions_in_force(
    session: Session, organisation_id: int, on: date
) -> list[tuple[Programme, ProgrammeVersion | None]]:
    """Each programme the organisation's officers record under on ``on``, with its version then in
    force (None if none was yet): one statement for all of them, the definitions deferred (each
    version is compiled once per process, ``compiled``)."""
    pv = ProgrammeVersion
    latest = (
        select(pv.id)
        .where(pv.programme_id == Programme.id, pv.status == PUBLISHED, pv.effective_from <= on)
        .order_by(pv.effective_from.desc(), pv.version.desc())
        .limit(1)
        .correlate(Programme)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Programme, pv)
        .join(ProgrammeOperator, ProgrammeOperator.programme_id == Programme.id)
        .outerjoin(pv, pv.id == latest)
        .options(defer(pv.definition))
        .where(
            ProgrammeOperator.organisation_id == organisation_id,
            ProgrammeOperator.role == "police",
            Programme.active.is_(True),
            *_in_effect(on),
        )
        .order_by(Programme.code)
    ).all()
    return [(programme, version) for programme, version in rows]


def no_version_in_force(programme: Programme, on: date) -> OperationError:
    return OperationError(f"No version of {programme.name} was in force on {on:%d %B %Y}.")


# How an organisation takes part in a programme: it records encounters under it (a force), receives
# its referrals (a YOT, YJU or provider), or oversees it (a PCC or scrutiny panel: monitoring only).
OPERATOR_ROLES = ("police", "receiving", "oversight")


def receiving_organisation(
    session: Session, programme: Programme, route: str | None, on: date | None = None
) -> int | None:
    """The organisation that receives a programme's referrals on ``route`` (or on any route), for
    an encounter on ``on`` (a UK date; None: whatever the assignments' dates)."""
    operators = session.scalars(
        select(ProgrammeOperator)
        .where(
            ProgrammeOperator.programme_id == programme.id,
            ProgrammeOperator.role == "receiving",
            *_in_effect(on),
        )
        .order_by(ProgrammeOperator.id)
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
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> ProgrammeOperator:
    """Say what an organisation does under a programme, and from when until when (both ends
    included; blank ends are open). One assignment per programme and organisation: saving again
    changes it, and the change is audited with what it was."""
    if role not in OPERATOR_ROLES:
        raise OperationError("Role must be 'police', 'receiving' or 'oversight'")
    if role == "oversight" and route is not None:
        raise OperationError("An organisation overseeing a programme oversees all of it: give no route")
    if effective_from and effective_to and effective_to < effective_from:
        raise OperationError("The end date must be the same as or after the start date")
    published = [v for v in programme.versions if v.status == PUBLISHED]
    if route is not None and route not in {r.id for r in compiled(published[-1]).routes}:
        raise OperationError(f"{programme.name} has no route '{route}'")
    existing = session.scalar(
        select(ProgrammeOperator).where(
            ProgrammeOperator.programme_id == programme.id,
            ProgrammeOperator.organisation_id == organisation_id,
        )
    )
    dates = f"from {effective_from or 'the start'} to {effective_to or 'no end'}"
    if existing is not None:
        before = f"{existing.role} {existing.route or ''} {existing.effective_from} {existing.effective_to}"
        existing.role, existing.route = role, route
        existing.effective_from, existing.effective_to = effective_from, effective_to
        session.flush()
        audit.record(
            session,
            actor,
            "update",
            "programme_operator",
            existing.id,
            detail=f"{programme.code} {role} {route or ''} {dates} (was {before})",
        )
        return existing
    operator = ProgrammeOperator(
        programme_id=programme.id,
        organisation_id=organisation_id,
        role=role,
        route=route,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    session.add(operator)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "programme_operator",
        operator.id,
        detail=f"{programme.code} {role} {route or ''} {dates}",
    )
    return operator


# ---- versions uploaded in the browser: draft, compare, publish or discard ---------------------------


def upload_draft(session: Session, text: str, actor: User) -> ProgrammeVersion:
    """Store an uploaded definition as a draft of its programme, or raise ``DefinitionError`` with
    every problem by field path (the validator's, then the database's) and store nothing."""
    definition = parse_definition(text, source="upload")
    # Locked, so two uploads (or an upload and a publish) of one programme take turns on PostgreSQL
    # instead of both reading the same latest version; SQLite serialises writers anyway.
    programme = session.scalar(select(Programme).where(Programme.code == definition.code).with_for_update())
    if programme is None:
        raise DefinitionError("upload", [("code", f"'{definition.code}' is not a programme of this service")])
    latest = session.scalar(
        select(func.max(ProgrammeVersion.version)).where(ProgrammeVersion.programme_id == programme.id)
    )
    if latest is not None and definition.version <= latest:
        raise DefinitionError(
            "upload",
            [("version", f"must be more than {latest}, the latest version of {programme.name} stored")],
        )
    version = ProgrammeVersion(
        programme=programme,
        version=definition.version,
        effective_from=definition.effective_from,
        content_hash=content_hash(definition),
        definition=definition_to_dict(definition),
        status=DRAFT,
        uploaded_by_id=actor.id,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "programme_version",
        version.id,
        detail=f"draft {programme.code}@{version.version}",
    )
    return version


def published_in_force(session: Session, programme: Programme) -> ProgrammeVersion | None:
    """The version a draft is compared with: the one in force today, else the first to come."""
    try:
        return version_in_force(session, programme, today())
    except OperationError:
        return session.scalar(
            select(ProgrammeVersion)
            .where(ProgrammeVersion.programme_id == programme.id, ProgrammeVersion.status == PUBLISHED)
            .order_by(ProgrammeVersion.effective_from)
            .limit(1)
        )


def publish(
    session: Session, version: ProgrammeVersion, effective_from: date, actor: User
) -> ProgrammeVersion:
    """Put a draft in force from ``effective_from``. Decisions already made keep the version they
    used, so the date may be neither in the past nor before a version already published."""
    session.scalar(select(Programme.id).where(Programme.id == version.programme_id).with_for_update())
    session.refresh(version)  # as it is now another publish of it has finished
    _check_draft(version)
    if effective_from < today():
        raise OperationError("The date it takes effect must be today or in the future")
    published = session.execute(
        select(func.max(ProgrammeVersion.effective_from), func.max(ProgrammeVersion.version)).where(
            ProgrammeVersion.programme_id == version.programme_id, ProgrammeVersion.status == PUBLISHED
        )
    ).one()
    latest_date, latest_version = published
    if latest_date is not None and effective_from < latest_date:
        raise OperationError(
            f"The date it takes effect must be on or after {latest_date:%-d %B %Y}, "
            "when the latest published version takes effect"
        )
    if latest_version is not None and version.version <= latest_version:
        raise OperationError(
            f"Version {latest_version} has been published since this draft was uploaded: "
            "upload it again with a higher version number"
        )
    # The stored document says when it takes effect too, so the definition and its row agree.
    document = {**version.definition, "effective_from": effective_from.isoformat()}
    version.definition = document
    version.content_hash = content_hash(definition_from_dict(document, source=f"database:{version.id}"))
    version.effective_from = effective_from
    version.status = PUBLISHED
    version.published_at = utcnow()
    version.published_by_id = actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "programme_version",
        version.id,
        detail=f"published {version.programme.code}@{version.version} from {effective_from.isoformat()}",
    )
    return version


def discard(session: Session, version: ProgrammeVersion, actor: User) -> None:
    """Delete a draft. Nothing points at one: drafts never decide an encounter."""
    _check_draft(version)
    detail = f"discarded draft {version.programme.code}@{version.version}"
    version_id = version.id
    session.delete(version)
    session.flush()
    audit.record(session, actor, "delete", "programme_version", version_id, detail=detail)


def _check_draft(version: ProgrammeVersion) -> None:
    if version.status != DRAFT:
        raise OperationError(
            f"Version {version.version} is published and cannot be changed: "
            "upload a new version to supersede it"
        )


def definitions_in_force(session: Session, organisation_id: int, on: date) -> list[ProgrammeDefinition]:
    """The rules each programme the organisation's officers record under had in force on ``on``: what
    the officer's form asks about (``rules.questions``)."""
    # A programme with no version in force yet decides nothing on that day.
    return [compiled(v) for _, v in versions_in_force(session, organisation_id, on) if v is not None]


# --- Roles as data (issue 14) ---


def declared_roles(session: Session) -> dict[str, RoleDeclaration]:
    """Every role a published programme definition declares, by id; a later version's wording wins."""
    roles: dict[str, RoleDeclaration] = {}
    versions = session.scalars(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.status == PUBLISHED)
        .order_by(ProgrammeVersion.effective_from, ProgrammeVersion.version)
    )
    for version in versions:
        for role in compiled(version).roles:
            known = roles.get(role.id)
            kinds = tuple(
                dict.fromkeys((*(known.organisation_kinds if known else ()), *role.organisation_kinds))
            )
            roles[role.id] = RoleDeclaration(role.id, role.label, kinds)
    return roles


def roles_for(session: Session, organisation_kind: str) -> dict[str, str]:
    """The roles a user of an organisation of this kind may be given, with their labels: the
    built-in ones, then those the programme definitions declare for organisations of the kind."""
    offered = {role: label(role) for role in ROLES}
    for role in declared_roles(session).values():
        if organisation_kind in role.organisation_kinds:
            offered[role.id] = role.label
    return offered
