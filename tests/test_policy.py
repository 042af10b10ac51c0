"""The policy: each ability once, its roles and its scope, and a second organisation never reached."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from divert.auth.policy import ABILITIES, NotPermitted, can, check, holds, roles_with
from divert.models import Referral, ReferralParty
from divert.models.user import ROLES


def _user(role: str, organisation_id: int = 1, kind: str = "police_force") -> SimpleNamespace:
    return SimpleNamespace(
        role=role,
        organisation_id=organisation_id,
        organisation=SimpleNamespace(kind=kind),
        is_authenticated=True,
    )


def test_every_role_holds_some_ability_and_analysts_never_see_a_person() -> None:
    for role in ROLES:
        assert any(role in a.roles for a in ABILITIES.values()), role
    personal = {
        "view_people",
        "edit_person",
        "record_encounter",
        "work_case",
        "export_person",
        "merge_people",
    }
    assert all("analyst" not in roles_with(name) for name in personal)


def test_an_unknown_ability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown ability"):
        holds(_user("admin"), "launch_rockets")


def test_signed_out_users_hold_nothing() -> None:
    anonymous = SimpleNamespace(role="admin", organisation_id=1, is_authenticated=False)
    assert not holds(anonymous, "use_service")


def test_organisation_scope_stops_at_the_organisation() -> None:
    admin_a, admin_b = _user("admin", 1), _user("admin", 2)
    user_of_a = SimpleNamespace(organisation_id=1)
    assert can(admin_a, "manage_users", user_of_a)
    assert not can(admin_b, "manage_users", user_of_a)


def test_system_administrators_are_the_service_operators_administrators() -> None:
    operator = _user("admin", 3, kind="service")
    assert holds(operator, "manage_organisations") and can(
        operator, "manage_users", SimpleNamespace(organisation_id=1)
    )
    # A force's administrator, or the operator's supervisor, is not one.
    assert not holds(_user("admin", 1), "manage_organisations")
    assert not holds(_user("supervisor", 3, kind="service"), "manage_organisations")


def test_party_scope_reaches_only_cases_the_organisation_is_party_to() -> None:
    case = Referral(parties=[ReferralParty(organisation_id=1, role="police")])
    assert can(_user("supervisor", 1), "correct_step", case)
    assert not can(_user("supervisor", 2), "correct_step", case)
    with pytest.raises(NotPermitted):
        check(_user("supervisor", 2), "correct_step", case)
    # The role decides first: a party's officer still cannot correct a step.
    assert not can(_user("officer", 1), "correct_step", case)
