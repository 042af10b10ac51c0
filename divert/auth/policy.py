"""Who may do what: every ability named once, with the roles that hold it and the scope it reaches.

Views and API handlers declare an ability (``@requires("record_encounter")``), operations check the
same ability (``check(actor, "override_decision", case)``) and templates ask ``can("work_case",
case)``. Nothing else in the code lists roles, so a page cannot offer what its operation refuses.

A scope says which records the ability reaches once the role allows it:

- ``any``: no record, or every record the user can already see (visibility is ``auth.visibility``);
- ``organisation``: records held by the user's own organisation (a user, a person, a token);
- ``party``: a case the user's organisation is party to;
- ``team``: a case the user's organisation is party to as one of the teams working it, not only
  as the force that referred it (whose supervisor must not take a YOT's cases into the force);
- ``case_state``: a case the user's organisation is party to, in a state the user's role works
  (the programme definition says which roles move a case on from each stage; supervisors always).

Roles are the built-in ones below and any a programme definition declares (a women's-centre
keyworker, a drug-service worker): a declared role holds the case-working abilities marked
``declared`` and no other, and reaches a case only through the states its programme lets it work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import or_

from divert.auth.sharing import shares_anything
from divert.auth.visibility import works_with_team
from divert.models import Referral, User
from divert.models.programme import compiled
from divert.models.user import ROLES
from divert.rules.pathway import case_roles

Scope = Literal["any", "organisation", "party", "team", "case_state"]

# Everyone who works with people; analysts see aggregates only, never a person.
_CASEWORKING = frozenset(ROLES) - {"analyst"}
# Roles that hold a caseload; officers, analysts and administrators do not.
_CASEWORKERS = frozenset({"yot_caseworker", "yju_decision_maker", "navigator", "coach", "supervisor"})


@dataclass(frozen=True)
class Ability:
    name: str
    roles: frozenset[str]
    scope: Scope
    description: str
    # Only users of organisations of these kinds hold it (None: any organisation).
    kinds: frozenset[str] | None = None
    # Also held by every role a programme definition declares (issue 14: roles as data).
    declared: bool = False


def _ability(
    name: str,
    roles: frozenset[str] | set[str],
    scope: Scope,
    description: str,
    kinds: set[str] | None = None,
    *,
    declared: bool = False,
) -> Ability:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"ability {name!r} names unknown roles {sorted(unknown)}")
    return Ability(
        name, frozenset(roles), scope, description, None if kinds is None else frozenset(kinds), declared
    )


# A system administrator is an administrator of the installation's operator (an organisation of
# kind ``service``), not a role or a flag on users: the roles are the programme definitions'
# vocabulary, and a flag would let a force's administrator be made one by a slip of a checkbox.
# Creating the operator's first administrator is ``flask create-user --organisation-kind service``.
_SERVICE = {"service"}


ABILITIES: dict[str, Ability] = {
    a.name: a
    for a in (
        _ability(
            "use_service",
            set(ROLES),
            "any",
            "sign in, see a home page, read the API's description",
            declared=True,
        ),
        _ability(
            "view_people",
            _CASEWORKING,
            "party",
            "find people and open the people and cases they may see",
            declared=True,
        ),
        _ability(
            "edit_person", {"officer", "supervisor", "admin"}, "organisation", "correct a person's details"
        ),
        _ability("see_ethnicity", {"officer", "supervisor", "admin"}, "any", "see recorded ethnicity"),
        _ability("record_encounter", {"officer", "supervisor"}, "any", "record an encounter and the offer"),
        _ability(
            "work_case",
            _CASEWORKING,
            "case_state",
            "notes, steps, appointments, needs and contracts",
            declared=True,
        ),
        _ability("view_worklist", _CASEWORKERS, "any", "see and take the team's cases", declared=True),
        _ability("record_intake", {"coach"}, "any", "take in someone referred without an officer (DIVERT)"),
        _ability(
            "view_force_referrals",
            {"officer", "supervisor"},
            "any",
            "see the progress and outcome of the force's referrals",
        ),
        _ability(
            "see_case_history",
            _CASEWORKERS,
            "party",
            "see how the person's earlier cases of the programme went (not their notes)",
        ),
        _ability("take_case", _CASEWORKERS, "party", "pick up an unassigned case", declared=True),
        _ability("supervise_cases", {"supervisor"}, "party", "work any case of the team, in any state"),
        _ability("reallocate", {"supervisor"}, "team", "give cases to another worker"),
        _ability("hold_caseload", _CASEWORKERS, "organisation", "be given cases", declared=True),
        _ability("override_decision", {"supervisor"}, "any", "set a rule decision aside with a reason"),
        _ability("correct_step", {"supervisor", "admin"}, "party", "undo a case's last step"),
        _ability(
            "merge_people", {"supervisor"}, "organisation", "merge two records of one person, or undo it"
        ),
        # A declared role may draw contracts too (a conditional caution's practitioner), in the states
        # its programme lets it work.
        _ability(
            "draw_contract",
            {"navigator"},
            "case_state",
            "draw up and vary a deferred-prosecution contract",
            declared=True,
        ),
        _ability("export_person", {"supervisor", "admin"}, "any", "subject access export"),
        _ability("view_monitoring", {"analyst", "supervisor", "admin"}, "any", "aggregate monitoring"),
        _ability(
            "view_unpublished_figures", {"supervisor", "admin"}, "any", "monitoring without suppression"
        ),
        _ability("manage_population", {"admin"}, "any", "load population baselines"),
        _ability(
            "run_simulation",
            {"analyst", "admin"},
            "organisation",
            "replay a draft definition against the history and read what would change, in aggregate",
        ),
        _ability("manage_users", {"admin"}, "organisation", "create and manage users"),
        _ability(
            "manage_organisations",
            {"admin"},
            "any",
            "create organisations and say who runs each programme",
            kinds=_SERVICE,
        ),
        _ability("search_audit", {"admin"}, "organisation", "search the audit trail and export it"),
        _ability("manage_programmes", {"admin"}, "any", "programme definitions and reference data"),
        _ability("manage_tokens", {"admin"}, "organisation", "issue and revoke API tokens"),
        _ability("import_records", {"admin"}, "any", "bulk import of historical records"),
        # Retention and restriction (issue 17): on the records the organisation holds.
        _ability(
            "review_retention",
            {"admin"},
            "organisation",
            "review the records due under the retention rules and confirm their anonymisation",
        ),
        # Information-sharing agreements (issue 17): an organisation's administrators manage the
        # ones it is party to (``pathways.sharing.may_manage``), the service's every one.
        _ability(
            "manage_agreements",
            {"admin"},
            "any",
            "record and change information-sharing agreements with other organisations",
        ),
        _ability(
            "share_person",
            {"supervisor", "admin"},
            "organisation",
            "share a person's record with another force under a force-to-force agreement",
        ),
        _ability(
            "restrict_processing",
            {"supervisor", "admin"},
            "organisation",
            "restrict processing of a person's record, or lift the restriction",
        ),
    )
}


class NotPermitted(Exception):
    """The actor's role or organisation does not give them this ability on this record."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ability(name: str) -> Ability:
    try:
        return ABILITIES[name]
    except KeyError:
        raise ValueError(f"unknown ability {name!r}") from None


def roles_with(name: str) -> frozenset[str]:
    return ability(name).roles


def is_declared_role(role: str) -> bool:
    """Whether ``role`` is one a programme definition declared rather than a built-in one.

    ``pathways.users`` gives a user only a built-in role or one a stored definition declares for
    their organisation's kind, so a role outside the built-in list is a declared one.
    """
    return role not in ROLES


def role_holds(role: str, name: str) -> bool:
    """Whether ``role`` carries ability ``name`` (organisation kind aside): for choosing users by role."""
    held = ability(name)
    return role in held.roles or (held.declared and is_declared_role(role))


def role_clause(name: str, column: Any) -> Any:
    """A SQL condition on a role column: the roles that carry ability ``name`` (declared ones too)."""
    held = ability(name)
    clause = column.in_(sorted(held.roles))
    return or_(clause, column.not_in(ROLES)) if held.declared else clause


def holds(user: Any, name: str) -> bool:
    """Whether the user's role carries the ability at all (before any record is considered)."""
    if not getattr(user, "is_authenticated", False):
        return False
    held = ability(name)
    if not role_holds(user.role, name):
        return False
    return held.kinds is None or user.organisation.kind in held.kinds


def can(user: Any, name: str, target: object = None) -> bool:
    """Whether ``user`` may use ability ``name`` on ``target`` (None: the ability in general)."""
    if not holds(user, name):
        return False
    if target is None:
        return True
    scope = ability(name).scope
    if scope == "organisation":
        if name == "manage_users" and holds(user, "manage_organisations"):
            # System administrators look after every organisation's users (its first administrator,
            # or one whose administrators have all left); an organisation's own admins only theirs.
            return True
        return bool(getattr(target, "organisation_id", None) == user.organisation_id)
    if scope in {"party", "team", "case_state"} and isinstance(target, Referral):
        if not _party_to(user, target):
            return False
        if scope == "team":
            return works_with_team(user, target)
        if scope == "case_state":
            return user.role in case_roles(compiled(target.programme_version), target.state)
    return True


def check(user: User, name: str, target: object = None, *, message: str | None = None) -> None:
    """Raise ``NotPermitted`` unless ``can(user, name, target)``; operations call this first."""
    if not can(user, name, target):
        raise NotPermitted(message or f"You cannot {ability(name).description} here.")


def _party_to(user: User, case: Referral) -> bool:
    """Party to the case, and shown it: a party that does not hold the person acts on a case only
    while an information-sharing agreement (and the person's consent) shares it (``auth.sharing``)."""
    if not any(party.organisation_id == user.organisation_id for party in case.parties):
        return False
    return shares_anything(user, case)
