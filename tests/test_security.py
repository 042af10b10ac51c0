from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

import config

from .apps import another_app
from .client import PageClient

# The key config.py used to fall back on, printed in the source for anyone to read.
OLD_DEVELOPMENT_KEY = "dev-only-insecure-secret"


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


def test_production_refuses_to_start_without_a_real_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Even with an instance key lying about, production wants its own SECRET_KEY.
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    config.instance_secret_key(tmp_path)
    for weak in ("", OLD_DEVELOPMENT_KEY):
        monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", weak)
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


def _no_secret_in_environment(monkeypatch: pytest.MonkeyPatch, instance: Path) -> None:
    monkeypatch.setattr(config, "INSTANCE_DIR", instance)
    monkeypatch.setattr(config.Config, "SECRET_KEY", "")


def test_without_a_secret_key_each_installation_makes_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_secret_in_environment(monkeypatch, tmp_path / "instance")
    with (
        another_app({"DATABASE_URL": "sqlite://"}, env="development") as first,
        another_app({"DATABASE_URL": "sqlite://"}, env="testing") as second,
    ):
        key = first.config["SECRET_KEY"]
        assert len(key) >= 32 and key != OLD_DEVELOPMENT_KEY
        # Two app instances (processes) on one instance folder share the key, so a session
        # signed by one is good at the other.
        assert second.config["SECRET_KEY"] == key
    path = tmp_path / "instance" / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left behind

    _no_secret_in_environment(monkeypatch, tmp_path / "another")
    assert config.load("development")["SECRET_KEY"] != key


def _signed_with(secret: str, contents: dict[str, Any]) -> str:
    signer = Flask("forger")
    signer.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    assert serializer is not None
    return str(serializer.dumps(contents))


def test_a_session_forged_with_the_old_development_key_opens_nothing(
    app: Flask, client: Any, signed_in: Any
) -> None:
    signed_in("admin")
    assert client.get("/admin/users").status_code == 200
    with client.session_transaction() as session:
        contents = dict(session)

    forged: PageClient = app.test_client()  # type: ignore[assignment]
    forged.set_cookie("session", _signed_with(OLD_DEVELOPMENT_KEY, contents))
    response = forged.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")

    # The same contents signed with this installation's key do open the page: the refusal above
    # is the key's doing, not something else wrong with the cookie.
    genuine: PageClient = app.test_client()  # type: ignore[assignment]
    genuine.set_cookie("session", _signed_with(str(app.config["SECRET_KEY"]), contents))
    assert genuine.get("/admin/users").status_code == 200
