"""Every non-terminal state of every shipped definition can be left by someone who can see the case.

The definition names the roles that take each step; the programme's operators name the
organisations. The installation here is the demo's (``seeds/demo.yaml``): each programme's force
and receiving organisations, each organisation holding the roles the demo gives organisations of
its kind, and a supervisor. Each state is reached the way a case reaches it, step by step, each
step taken by a user of an organisation party to the case at that moment; a state no party's role
can leave is a dead end (a DIVERT case stuck at "eligible", its coaches unable to see it).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Organisation, Programme, ProgrammeVersion, Referral, User
from divert.models.programme import compiled
from divert.pathways.cases import transition
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions
from divert.pathways.sharing import give_consent_with_acceptance
from divert.rules import ProgrammeDefinition, load_directory
from divert.seeding.demo import load_settings

from ..factories import create_organisation, create_user
from .helpers import open_case

DEFINITIONS = sorted(load_directory(PROGRAMMES_DIR), key=lambda d: (d.code, d.version))
DEMO = load_settings()
KINDS = {spec["code"]: spec["kind"] for spec in DEMO["organisations"]}
# The roles the demo's users hold in organisations of each kind; every organisation has supervisors.
ROLES_BY_KIND: dict[str, set[str]] = {}
for _user in DEMO["users"]:
    ROLES_BY_KIND.setdefault(KINDS[_user["organisation"]], set()).add(_user["role"])
# Roles a definition declares are held by staff of the organisation kinds it names (issue 14).
for _definition in DEFINITIONS:
    for _role in _definition.roles:
        for _kind in _role.organisation_kinds:
            ROLES_BY_KIND.setdefault(_kind, set()).add(_role.id)


def _installation(session: Session, definition: ProgrammeDefinition) -> User:
    """The programme's force (returned: its officer) and a receiving organisation for each route."""
    sync_definitions(session)
    programme = session.scalars(select(Programme).where(Programme.code == definition.code)).one()
    operators = DEMO["operators"].get(definition.code, {})
    force = create_organisation(session, kind="police_force")
    _staff(session, force)
    for route in definition.routes:
        demo_org = operators.get("receiving", {}).get(route.id)
        team = create_organisation(session, kind=KINDS[demo_org] if demo_org else "provider")
        _staff(session, team)
        assign_operator(session, programme, team.id, "receiving", route.id)
    return session.scalars(select(User).where(User.organisation_id == force.id, User.role == "officer")).one()


def _staff(session: Session, organisation: Organisation) -> None:
    for role in sorted(ROLES_BY_KIND.get(organisation.kind, set()) | {"supervisor"}):
        create_user(session, role, organisation)


def _actors(session: Session, case: Referral, roles: frozenset[str]) -> list[User]:
    parties = [p.organisation_id for p in case.parties]
    return list(
        session.scalars(
            select(User).where(User.organisation_id.in_(parties), User.role.in_(roles)).order_by(User.id)
        )
    )


def _case(session: Session, definition: ProgrammeDefinition, officer: User) -> Referral:
    case = open_case(session, definition.code, officer)
    # The case follows the version being walked, whichever was in force on the encounter's date.
    version = session.scalars(
        select(ProgrammeVersion)
        .join(Programme)
        .where(Programme.code == definition.code, ProgrammeVersion.version == definition.version)
    ).one()
    case.programme_version_id = version.id
    session.flush()
    session.refresh(case)
    return case


def _walk(session: Session, definition: ProgrammeDefinition) -> list[str]:
    officer = _installation(session, definition)
    start = compiled(_case(session, definition, officer).programme_version).on_decision["eligible"]
    problems: list[str] = []
    seen = {start}
    paths: deque[list[str]] = deque([[start]])
    while paths:
        path = paths.popleft()
        case = _case(session, definition, officer)
        for to_state in path[1:]:
            step = next(
                t for t in definition.transitions if (t.from_state, t.to_state) == (case.state, to_state)
            )
            if definition.consent is not None:
                # The person consents, as the officer records with the acceptance (issue 17).
                give_consent_with_acceptance(session, officer, case)
            transition(session, _actors(session, case, step.roles)[0], case, to_state, "Walking the pathway")
        state = definition.state(path[-1])
        if state.terminal:
            continue
        leaving = [t for t in definition.transitions if t.from_state == state.id]
        open_to = [t for t in leaving if _actors(session, case, t.roles)]
        if not open_to:
            held = sorted({role for p in case.parties for role in _roles_of(session, p.organisation_id)})
            problems.append(
                f"{definition.code} v{definition.version}: '{state.id}' (via {' -> '.join(path)}) can be "
                f"left only by {sorted({r for t in leaving for r in t.roles})}; parties hold {held}"
            )
            continue
        for step in open_to:
            if step.to_state not in seen:
                seen.add(step.to_state)
                paths.append([*path, step.to_state])
    return problems


def _roles_of(session: Session, organisation_id: int) -> set[str]:
    return set(session.scalars(select(User.role).where(User.organisation_id == organisation_id)))


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: f"{d.code}-v{d.version}")
def test_every_state_can_be_left_by_a_party_to_the_case(db_session: Session, definition: Any) -> None:
    assert _walk(db_session, definition) == []


def test_divert_coaches_are_party_from_eligible_and_the_walk_would_see_it(db_session: Session) -> None:
    """The failure the walk exists for: with no receiving organisation, nobody can offer DIVERT."""
    divert = next(d for d in DEFINITIONS if d.code == "divert")
    officer = _installation(db_session, divert)
    case = _case(db_session, divert, officer)
    coaches = _actors(db_session, case, frozenset({"coach"}))
    assert case.state == "eligible"
    assert [u.organisation.kind for u in coaches] == ["provider"]
    assert {p.role for p in case.parties} == {"police", "receiving"}
