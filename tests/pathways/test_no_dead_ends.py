"""Every state a case can stop in has someone who can see it and move it on.

Walks every shipped definition from its initial state, keeping track of which organisations are party to
the case on the way (the police force from the start, each route's receiving organisation once the case
enters that route), and fails on any non-terminal state that no role held in those organisations can leave.
Leaving a review state by its decision is only for the decision's deciders, as the case page offers it.
"""

from __future__ import annotations

from collections import deque

import pytest

from divert.pathways.programmes import PROGRAMMES_DIR
from divert.rules import ProgrammeDefinition, definition_from_dict, load_definition

# The roles each organisation holds in the schemes as they run (seeds/demo.yaml): the force's officers and
# supervisors, and the receiving organisation of each route with its own staff and supervisors.
POLICE = frozenset({"officer", "supervisor"})
RECEIVING = {
    "yot": frozenset({"yot_caseworker", "supervisor"}),
    "yju": frozenset({"yju_decision_maker", "supervisor"}),
    "navigator": frozenset({"navigator", "supervisor"}),
    "coach": frozenset({"coach", "supervisor"}),
    # Drug services and education providers have no built-in role: the officer works these cases,
    # unless the definition declares a role their staff hold (below).
    "drug_service": frozenset(),
    "education": frozenset(),
}
# The kind of organisation receiving each route in the demo; a route the demo does not run (the example
# schemes') is received by a provider.
RECEIVER_KIND = {"yot": "yot", "yju": "yju"}
# Definitions known to stall; empty now that the organisations whose roles act on a state are made party
# to the case when it enters that state (pathways.cases._add_acting_parties).
KNOWN: dict[str, str] = {}


def shipped() -> list[ProgrammeDefinition]:
    return [load_definition(path) for path in sorted(PROGRAMMES_DIR.glob("*.yaml"))]


def _leavers(definition: ProgrammeDefinition, state: str) -> dict[str, frozenset[str]]:
    """Each state reachable from ``state`` with the roles that may take that step."""
    escalation = definition.escalation
    steps: dict[str, frozenset[str]] = {}
    for t in definition.transitions:
        if t.from_state != state:
            continue
        roles = frozenset(t.roles)
        deciding = escalation is not None and state == escalation.from_state
        if deciding and escalation is not None and t.to_state in {o.to_state for o in escalation.options}:
            roles &= frozenset(escalation.decided_by)
        steps[t.to_state] = roles
    return steps


def _receiving(definition: ProgrammeDefinition, route: str) -> frozenset[str]:
    """The roles a route's receiving organisation holds: its built-in ones (a supervisor at least), and
    those the definition declares for organisations of its kind (roles as data, issue 14)."""
    kind = RECEIVER_KIND.get(route, "provider")
    declared = {role.id for role in definition.roles if kind in role.organisation_kinds}
    return RECEIVING.get(route, frozenset({"supervisor"})) | declared


def dead_ends(definition: ProgrammeDefinition) -> list[str]:
    entered_by = {route.enters: route.id for route in definition.routes}
    start = (definition.initial_state.id, frozenset[str]())
    seen = {start}
    queue = deque([start])
    problems = []
    while queue:
        state, routes = queue.popleft()
        if definition.state(state).terminal:
            continue
        # Entering a state that staff other than the police must act on makes the receiving organisation of
        # the case's route party to it (before routing: the route the decision chose, any of them here).
        movers = {role for t in definition.transitions if t.from_state == state for role in t.roles}
        if movers - POLICE and not routes:
            routes = frozenset(r.id for r in definition.routes)
        held = POLICE.union(*(_receiving(definition, r) for r in routes))
        leavers = _leavers(definition, state)
        if not any(roles & held for roles in leavers.values()):
            parties = ", ".join(["police", *sorted(routes)])
            problems.append(f"'{definition.state(state).name}' (parties: {parties}) cannot be left")
        for target, roles in leavers.items():
            if not roles & held:
                continue
            nxt = (target, routes | ({entered_by[target]} if target in entered_by else set()))
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return problems


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(d, marks=pytest.mark.xfail(strict=True, reason=KNOWN[d.code]) if d.code in KNOWN else ())
        for d in shipped()
    ],
    ids=lambda d: f"{d.code}-v{d.version}",
)
def test_every_state_a_case_reaches_can_be_left_by_a_party(definition: ProgrammeDefinition) -> None:
    assert dead_ends(definition) == []


def test_the_walk_finds_a_dead_end() -> None:
    # Checkpoint Plus version 1 had none by this walk (its dead end was a terminal state with no outcome);
    # a definition whose review only the YJU may decide, on a case the YJU is not party to, has one.
    youth = next(d for d in shipped() if d.code == "tvp-youth-drugs" and d.version == 2)
    document = dict(youth.document or {})
    document["transitions"] = [
        {**t, "roles": ["yju_decision_maker"]} if t["from"] == "non_engagement_review" else t
        for t in document["transitions"]
    ]
    document["escalation"] = {**document["escalation"], "decided_by": ["yju_decision_maker"]}
    broken = definition_from_dict(document)
    assert dead_ends(broken) == [
        "'Non-engagement under review' (parties: police, yot) cannot be left",
    ]


def test_shipped_definitions_include_declared_roles() -> None:
    """The walk above covers definitions whose steps are taken by roles they declare."""
    declared = {role.id for d in shipped() for role in d.roles}
    assert {"womens_centre_keyworker", "liaison_diversion_practitioner"} <= declared


def test_the_walk_finds_a_declared_role_no_party_holds() -> None:
    # Only the keyworker takes a referral on, but the keyworker is declared for organisations the case
    # never reaches (a PCC's office): the women's centre, a provider, holds no one who can.
    womens = next(d for d in shipped() if d.code == "womens-diversion")
    document = dict(womens.document or {})
    document["roles"] = [{**role, "organisation_kinds": ["pcc"]} for role in document["roles"]]
    document["transitions"] = [
        {**t, "roles": ["womens_centre_keyworker"]} if t["from"] == "referred" else t
        for t in document["transitions"]
    ]
    broken = definition_from_dict(document)
    assert dead_ends(broken) == [
        "'Referred to the women's centre' (parties: police, womens_centre) cannot be left",
    ]
