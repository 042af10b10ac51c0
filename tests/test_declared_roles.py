"""A role a programme definition declares (issue 14) holds the case-working abilities and no others."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from werkzeug.routing.converters import NumberConverter

from divert.auth import PUBLIC, access_of
from divert.auth.access import ability_of
from divert.auth.policy import ABILITIES, holds, role_holds
from divert.pathways.programmes import sync_definitions

from .factories import PASSWORD, create_organisation, create_user

CASEWORKING = {"use_service", "view_people", "work_case", "view_worklist", "take_case", "hold_caseload"}


def test_a_declared_role_works_cases_and_nothing_else(db_session: Session) -> None:
    sync_definitions(db_session)
    keyworker = create_user(
        db_session, "womens_centre_keyworker", create_organisation(db_session, kind="provider")
    )
    held = {name for name in ABILITIES if holds(keyworker, name)}
    # Drawing a contract is case work too, reached only in the states its programme lets the role work.
    assert held == CASEWORKING | {"draw_contract"}
    for name in (
        "record_encounter",
        "supervise_cases",
        "override_decision",
        "manage_users",
        "view_monitoring",
    ):
        assert not role_holds("womens_centre_keyworker", name)


def test_built_in_roles_keep_their_abilities() -> None:
    assert role_holds("officer", "record_encounter") and not role_holds("officer", "draw_contract")
    assert role_holds("navigator", "draw_contract") and not role_holds("analyst", "work_case")


def test_a_declared_role_is_refused_every_route_of_an_ability_it_does_not_hold(
    app: Any, client: Any, db_session: Session
) -> None:
    """The route walk of ``test_access`` for a declared role: ``requires`` asks the same policy."""
    sync_definitions(db_session)
    keyworker = create_user(
        db_session, "womens_centre_keyworker", create_organisation(db_session, kind="provider")
    )
    assert client.sign_in(keyworker.email, PASSWORD).status_code == 302
    token = client.csrf_token("/home")
    refused = reached = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        name = ability_of(view)
        if access_of(view) == PUBLIC or name is None:
            continue
        methods = rule.methods or set()
        method = "GET" if "GET" in methods else sorted(methods - {"OPTIONS", "HEAD"})[0]
        values = {
            arg: 1 if isinstance(rule._converters[arg], NumberConverter) else "x" for arg in rule.arguments
        }
        url = rule.build(values, append_unknown=False)[1]
        held = role_holds(keyworker.role, name)
        if held and (method != "GET" or url.startswith("/api/")):
            # A change (signing out, say) would end the walk, and the API takes tokens: pages are enough.
            continue
        response = client.open(url, method=method, data={"csrf_token": token} if method != "GET" else None)
        if held:
            assert response.status_code != 403, (rule.endpoint, response.status_code)
            reached += 1
        else:
            assert response.status_code == 403, (rule.endpoint, response.status_code)
            refused += 1
    assert refused > 10 and reached > 5
