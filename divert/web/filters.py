"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from divert.app.clock import LONDON
from divert.models import Referral
from divert.pathways.programmes import compiled
from divert.rules.codes import label

# Which sections each role sees in the service navigation.
NAVIGATION: dict[str, list[tuple[str, str]]] = {
    "record": [("Record an encounter", "encounters.new")],
    "people": [("People", "people.search")],
    "cases": [("Cases", "worklists.index")],
    "monitoring": [("Monitoring", "monitoring.index")],
    "admin": [
        ("Users", "admin.users"),
        ("Programmes", "admin.programmes"),
        ("Reference data", "admin.reference"),
        ("API tokens", "api_tokens.index"),
        ("Import", "imports.upload"),
    ],
}
ROLE_SECTIONS = {
    "officer": ["record", "people"],
    "yot_caseworker": ["cases", "people"],
    "yju_decision_maker": ["cases", "people"],
    "navigator": ["cases", "people"],
    "coach": ["cases", "people"],
    "supervisor": ["cases", "record", "people", "monitoring"],
    "analyst": ["monitoring"],
    "admin": ["people", "monitoring", "admin"],
}


def uk_date(value: date | datetime | None) -> str:
    if value is None:
        return "Not recorded"
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def uk_datetime(value: datetime | None) -> str:
    if value is None:
        return "Not recorded"
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def state_name(case: Referral) -> str:
    """A case's state as its programme names it ("Referred to YOT"), not its id."""
    return compiled(case.programme_version).state(case.state).name


def navigation() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    items = [{"text": "Home", "href": url_for("main.home"), "active": request.endpoint == "main.home"}]
    for section in ROLE_SECTIONS[current_user.role]:
        for text, endpoint in NAVIGATION[section]:
            items.append(
                {
                    "text": text,
                    "href": url_for(endpoint),
                    "active": (request.endpoint or "").split(".")[0] == endpoint.split(".")[0],
                }
            )
    return items


def register_filters(app: Flask) -> None:
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(uk_datetime, "uk_datetime")
    app.add_template_filter(label, "label")
    app.add_template_filter(state_name, "state_name")
    app.add_template_global(navigation, "navigation")
    app.add_template_global(lambda: datetime.now(UTC), "now")
