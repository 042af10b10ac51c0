"""Read-only figures and lists for each role's home page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from divert.auth.sharing import split_identity, with_identity_shown
from divert.auth.visibility import visible_referrals
from divert.models import (
    AuditEntry,
    Encounter,
    EthnicityCode,
    OffenceCategory,
    OutcomeCode,
    Programme,
    ProgrammeVersion,
    Referral,
    User,
)
from divert.models.programme import compiled

SMALL_NUMBER = 5  # counts below this are not shown to analysts, even on their home page


@dataclass(frozen=True)
class Figure:
    label: str
    value: int

    @property
    def shown(self) -> str:
        return f"Fewer than {SMALL_NUMBER}" if 0 < self.value < SMALL_NUMBER else f"{self.value:,}"


def officer_home(session: Session, user: User) -> dict[str, Any]:
    recent = session.scalars(
        select(Encounter)
        .options(joinedload(Encounter.person))
        .where(Encounter.officer_id == user.id)
        .order_by(Encounter.occurred_at.desc())
        .limit(20)
    ).all()
    return {"encounters": recent}


def caseworker_home(session: Session, user: User) -> dict[str, Any]:
    open_cases = visible_referrals(user).where(Referral.closed_at.is_(None))

    def listed(assigned: ColumnElement[bool]) -> tuple[list[Referral], set[int]]:
        return split_identity(
            user,
            session.execute(
                with_identity_shown(user, open_cases)
                .options(
                    joinedload(Referral.person),
                    joinedload(Referral.programme),
                    joinedload(Referral.programme_version),
                )
                .where(assigned)
                .order_by(Referral.opened_at)
                .limit(50)
            ).all(),
        )

    mine, unnamed_mine = listed(Referral.assigned_user_id == user.id)
    unassigned, unnamed_unassigned = listed(Referral.assigned_user_id.is_(None))
    # Cases whose person the organisation's sharing agreements do not name (issue 17).
    return {"mine": mine, "unassigned": unassigned, "unnamed": unnamed_mine | unnamed_unassigned}


def supervisor_home(session: Session, user: User) -> dict[str, Any]:
    scoped = visible_referrals(user).where(Referral.closed_at.is_(None)).subquery()
    counted = session.execute(
        select(scoped.c.programme_version_id, scoped.c.state, func.count()).group_by(
            scoped.c.programme_version_id, scoped.c.state
        )
    ).all()
    ids = {version_id for version_id, _, _ in counted}
    versions = {
        v.id: v for v in session.scalars(select(ProgrammeVersion).where(ProgrammeVersion.id.in_(ids)))
    }
    totals: dict[tuple[str, str], int] = {}
    for version_id, state, count in counted:
        definition = compiled(versions[version_id])
        key = (definition.name, definition.state(state).name)
        totals[key] = totals.get(key, 0) + count
    rows = [(programme, state, count) for (programme, state), count in sorted(totals.items())]
    unassigned = session.scalar(
        select(func.count()).select_from(scoped).where(scoped.c.assigned_user_id.is_(None))
    )
    return {"by_state": rows, "unassigned_count": unassigned or 0, **caseworker_home(session, user)}


def analyst_home(session: Session, user: User) -> dict[str, Any]:
    encounters = session.scalar(
        select(func.count()).select_from(Encounter).where(Encounter.organisation_id == user.organisation_id)
    )
    per_programme = session.execute(
        select(Programme.name, func.count(Referral.id))
        .join(Referral, Referral.programme_id == Programme.id)
        .join(Encounter, Encounter.id == Referral.encounter_id)
        .where(Encounter.organisation_id == user.organisation_id)
        .group_by(Programme.name)
        .order_by(Programme.name)
    ).all()
    return {
        "figures": [Figure("Encounters recorded", encounters or 0)]
        + [Figure(f"Referrals to {name}", count) for name, count in per_programme]
    }


def admin_home(session: Session, user: User) -> dict[str, Any]:
    users_by_role = session.execute(
        select(User.role, func.count())
        .where(User.organisation_id == user.organisation_id)
        .group_by(User.role)
        .order_by(User.role)
    ).all()
    reference = [
        ("Ethnicity codes", session.scalar(select(func.count()).select_from(EthnicityCode)) or 0),
        ("Home Office outcome codes", session.scalar(select(func.count()).select_from(OutcomeCode)) or 0),
        ("Offence categories", session.scalar(select(func.count()).select_from(OffenceCategory)) or 0),
        ("Programme versions", session.scalar(select(func.count()).select_from(ProgrammeVersion)) or 0),
    ]
    recent_audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10)).all()
    return {"users_by_role": users_by_role, "reference": reference, "recent_audit": recent_audit}


HOMES = {
    "officer": ("home/officer.html", officer_home),
    "yot_caseworker": ("home/caseworker.html", caseworker_home),
    "yju_decision_maker": ("home/caseworker.html", caseworker_home),
    "navigator": ("home/caseworker.html", caseworker_home),
    "coach": ("home/caseworker.html", caseworker_home),
    "supervisor": ("home/supervisor.html", supervisor_home),
    "analyst": ("home/analyst.html", analyst_home),
    "admin": ("home/admin.html", admin_home),
}


def home_for(role: str) -> tuple[str, Any]:
    """The home page of a role; one a programme definition declares works cases, so it has the
    caseworker's home (its cases and the team's unassigned ones)."""
    return HOMES.get(role, ("home/caseworker.html", caseworker_home))
