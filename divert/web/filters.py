"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from divert.app import clock
from divert.app.clock import uk_moment_text
from divert.auth.policy import can, holds
from divert.models import Referral
from divert.models.programme import compiled
from divert.rules.codes import label

# The service navigation, in order: each section is shown to whoever holds its ability.
NAVIGATION: list[tuple[str, list[tuple[str, str]]]] = [
    ("view_worklist", [("Cases", "worklists.index")]),
    ("record_encounter", [("Record an encounter", "encounters.new")]),
    ("record_intake", [("Take someone in", "intake.new")]),
    ("view_force_referrals", [("Referrals from this force", "intake.force_referrals")]),
    ("view_people", [("People", "people.search")]),
    ("view_monitoring", [("Monitoring", "monitoring.index")]),
    (
        "manage_users",
        [
            ("Users", "admin.users"),
            ("Programmes", "admin.programmes"),
            ("Reference data", "admin.reference"),
            ("API tokens", "api_tokens.index"),
            ("Import", "imports.upload"),
        ],
    ),
    ("search_audit", [("Audit", "audit.search_page")]),
    ("manage_organisations", [("Organisations", "organisations.index")]),
]


def uk_date(value: date | datetime | None) -> str:
    if value is None:
        return "Not recorded"
    if isinstance(value, datetime):
        value = clock.uk_date(value)
    return f"{value.day} {value:%B %Y}"


def uk_datetime(value: datetime | None) -> str:
    return uk_moment_text(value)


def state_name(case: Referral) -> str:
    """A case's state as its programme names it ("Referred to YOT"), not its id."""
    return compiled(case.programme_version).state(case.state).name


def navigation() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    items = [{"text": "Home", "href": url_for("main.home"), "active": request.endpoint == "main.home"}]
    for ability, section in NAVIGATION:
        if not holds(current_user, ability):
            continue
        for text, endpoint in section:
            items.append(
                {
                    "text": text,
                    "href": url_for(endpoint),
                    "active": (request.endpoint or "").split(".")[0] == endpoint.split(".")[0],
                }
            )
    return items


def can_here(name: str, target: object = None) -> bool:
    """``can("override_decision", case)`` in a template: the policy, for the signed-in user."""
    return can(current_user, name, target)


def register_filters(app: Flask) -> None:
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(uk_datetime, "uk_datetime")
    app.add_template_filter(label, "label")
    app.add_template_filter(state_name, "state_name")
    app.add_template_global(navigation, "navigation")
    app.add_template_global(can_here, "can")
    app.add_template_global(lambda: datetime.now(UTC), "now")
    app.context_processor(
        lambda: {
            "service": {
                "name": app.config["SERVICE_NAME"],
                "organisation": app.config["SERVICE_ORGANISATION"],
            }
        }
    )
