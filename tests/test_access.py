"""Every route declares who may use it, and the declaration is enforced."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from divert.auth import PUBLIC, access_of
from divert.models import ROLES


def _routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules()]


def _url(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 1 if isinstance(converter, NumberConverter) else "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def _method(rule: Rule) -> str:
    methods = rule.methods or set()
    return "GET" if "GET" in methods else sorted(methods - {"OPTIONS", "HEAD"})[0]


def test_every_route_declares_access(app: Flask) -> None:
    undeclared = [
        rule.endpoint for rule in _routes(app) if access_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []


def test_anonymous_requests_are_sent_to_sign_in_or_refused(app: Flask, client: Any) -> None:
    checked = 0
    for rule in _routes(app):
        if access_of(app.view_functions[rule.endpoint]) == PUBLIC:
            continue
        url = _url(rule)
        response = client.open(url, method=_method(rule))
        if url.startswith("/api/"):
            assert response.status_code == 401, url
            assert response.json["error"]["code"] == "unauthorised"
        elif _method(rule) == "GET":
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/sign-in"), url
        else:
            # A forged or token-less POST is refused before it reaches sign-in handling.
            assert response.status_code in {302, 400}, url
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("role", ROLES)
def test_users_without_the_role_get_403(app: Flask, client: Any, signed_in: Any, role: str) -> None:
    signed_in(role)
    token = client.csrf_token("/home")
    refused = 0
    for rule in _routes(app):
        allowed = access_of(app.view_functions[rule.endpoint])
        if allowed == PUBLIC or role in (allowed or ()):
            continue
        method = _method(rule)
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(_url(rule), method=method, data=data)
        assert response.status_code == 403, (rule.endpoint, response.status_code)
        refused += 1
    if role != "admin":
        assert refused >= 1, "every role except admin is refused somewhere"


def test_public_routes_are_few_and_known(app: Flask) -> None:
    public = {
        rule.endpoint for rule in _routes(app) if access_of(app.view_functions[rule.endpoint]) == PUBLIC
    }
    # The reset page is public: its one-time link is the credential (pathways.users.live_reset).
    # main.logo: the installation's logo, shown on the sign-in page before anyone signs in.
    assert public == {
        "static",
        "auth.sign_in",
        "main.index",
        "main.health",
        "accounts.reset_password",
        "main.logo",
    }
