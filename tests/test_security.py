from __future__ import annotations

from typing import Any

import pytest

import config


def test_secure_headers_and_nonce_only_scripts(client: Any) -> None:
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = response.get_data(as_text=True)
    assert html.count("<script") == html.count(f'nonce="{nonce}"')


def test_every_form_carries_a_csrf_token(client: Any, signed_in: Any) -> None:
    signed_in("admin")
    for path in ["/admin/users/new", "/home"]:
        html = client.get(path).get_data(as_text=True)
        assert html.count("<form") == html.count('name="csrf_token"') or path == "/home"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", config.DEV_SECRET)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load("production")
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "x" * 40)
    settings = config.load("production")
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_cookie_security_is_a_setting() -> None:
    assert config.load("development")["SESSION_COOKIE_SECURE"] is False


def test_error_pages_are_govuk_styled(client: Any, signed_in: Any) -> None:
    signed_in("analyst")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    page = client.get("/people")
    assert page.status_code == 403 and "You do not have permission" in page.get_data(as_text=True)


def test_api_errors_are_json(client: Any) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
