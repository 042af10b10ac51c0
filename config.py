"""Settings, read from the environment so one build runs anywhere.

The default is a SQLite file in the instance folder so a fresh clone needs no set-up; set
``DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host/divert``) for PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("DIVERT_INSTANCE", Path(__file__).resolve().parent / "instance"))
DEV_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused in production below


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'divert.sqlite'}")
    SQL_ECHO = _flag("SQL_ECHO", False)
    # A read replica for the monitoring pages and exports (empty: they read the main database).
    REPORTS_DATABASE_URL = os.environ.get("REPORTS_DATABASE_URL", "")

    # Cookie security is a setting because plain-http clients (local tools, load tests) lose a
    # Secure cookie; production turns it on.
    SECURE_COOKIES = _flag("SECURE_COOKIES", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Idle expiry: a shared custody terminal must not stay signed in.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_MINUTES", "30")))

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which already expires

    # Sign-in throttling; storage can be redis:// in production so limits hold across processes.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)

    FORCE_HTTPS = _flag("FORCE_HTTPS", False)
    # The largest request body read (413 beyond it), so a 60 MB body is refused before it is read.
    # Forms are far smaller; the import page takes files up to its own, smaller limit.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_REQUEST_MB", "10")) * 1024 * 1024
    # Published monitoring figures hide counts from 1 up to one below this (and what reveals them).
    MONITORING_SUPPRESSION_THRESHOLD = int(os.environ.get("MONITORING_SUPPRESSION_THRESHOLD", "5"))
    DEMO_SEED = int(os.environ.get("DEMO_SEED", "20261124"))

    @classmethod
    def as_dict(cls) -> dict[str, Any]:
        return {key: getattr(cls, key) for key in dir(cls) if key.isupper()}


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REPORTS_DATABASE_URL = ""
    # The limiter stays on so its wiring is exercised; the suite signs in often, so the bar is high.
    LOGIN_RATE_LIMIT = "10000 per minute"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECURE_COOKIES = _flag("SECURE_COOKIES", True)
    FORCE_HTTPS = _flag("FORCE_HTTPS", True)


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load(name: str | None = None) -> dict[str, Any]:
    """The settings for ``name`` (default: ``DIVERT_ENV``, else development)."""
    name = name or os.environ.get("DIVERT_ENV", "development")
    try:
        settings = CONFIGS[name].as_dict()
    except KeyError:
        raise RuntimeError(f"Unknown DIVERT_ENV {name!r}; expected one of {sorted(CONFIGS)}") from None
    if name == "production" and (
        settings["SECRET_KEY"] in {DEV_SECRET, ""} or len(settings["SECRET_KEY"]) < 32
    ):
        raise RuntimeError("Production needs SECRET_KEY set to a random value of at least 32 characters.")
    settings["SESSION_COOKIE_SECURE"] = settings["SECURE_COOKIES"]
    settings["REMEMBER_COOKIE_SECURE"] = settings["SECURE_COOKIES"]
    return settings
