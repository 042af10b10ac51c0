"""Settings, read from the environment so one build runs anywhere.

The default is a SQLite file in the instance folder so a fresh clone needs no set-up; set
``DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host/divert``) for PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("DIVERT_INSTANCE", Path(__file__).resolve().parent / "instance"))
SECRET_FILE = "secret_key"  # noqa: S105 - the file's name, not a secret


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "development"
    # Empty: development and testing make a key once per installation (``instance_secret_key``);
    # production refuses to start.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
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

    # Sign-in throttling (divert/auth/throttle.py), counted in the database so it holds across
    # processes: failed sign-ins one address may make, and the failures an account takes from
    # unfamiliar addresses before each further try must wait (a growing delay, never a lock).
    SIGN_IN_FAILURES_PER_MINUTE = int(os.environ.get("SIGN_IN_FAILURES_PER_MINUTE", "10"))
    SIGN_IN_FAILURES_PER_HOUR = int(os.environ.get("SIGN_IN_FAILURES_PER_HOUR", "50"))
    SIGN_IN_ACCOUNT_FREE_FAILURES = int(os.environ.get("SIGN_IN_ACCOUNT_FREE_FAILURES", "5"))
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none). Without it,
    # behind a proxy every request comes from the proxy's address and shares one address limit.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))

    FORCE_HTTPS = _flag("FORCE_HTTPS", False)
    # The largest request body read (413 beyond it), so a 60 MB body is refused before it is read.
    # Forms are far smaller; the import page takes files up to its own, smaller limit.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_REQUEST_MB", "10")) * 1024 * 1024
    # Published monitoring figures hide counts from 1 up to one below this (and what reveals them).
    MONITORING_SUPPRESSION_THRESHOLD = int(os.environ.get("MONITORING_SUPPRESSION_THRESHOLD", "5"))
    DEMO_SEED = int(os.environ.get("DEMO_SEED", "20261124"))

    # Whose service this is: the name in the header and page titles, the organisation that runs it
    # and its logo (a path to an SVG or PNG file; empty: a plain mark with no crown or arms).
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "divert")
    SERVICE_ORGANISATION = os.environ.get("SERVICE_ORGANISATION", "divert")
    SERVICE_LOGO = os.environ.get("SERVICE_LOGO", "")

    # Background work (divert/app/jobs.py): Huey's queue in a SQLite file here unless JOBS_URL
    # names a Redis server (redis://host:6379/0) for several app servers sharing one queue.
    JOBS_URL = os.environ.get("JOBS_URL", "")
    JOBS_FILE = os.environ.get("JOBS_FILE", str(INSTANCE_DIR / "jobs.sqlite"))
    JOBS_IMMEDIATE = False
    # Uploads larger than this are imported by the worker, with progress on a page.
    IMPORT_INLINE_BYTES = int(os.environ.get("IMPORT_INLINE_BYTES", str(256 * 1024)))
    # The import page takes files up to this size (every other request keeps MAX_CONTENT_LENGTH):
    # 100,000 rows of CSV are about 15 MB.
    IMPORT_MAX_MB = int(os.environ.get("IMPORT_MAX_MB", "100"))
    # Audit searches of more entries than this are written to CSV by the worker, with progress.
    AUDIT_EXPORT_INLINE_ROWS = int(os.environ.get("AUDIT_EXPORT_INLINE_ROWS", "5000"))
    # The nightly non-engagement sweep, HH:MM in UK time.
    SWEEP_AT = os.environ.get("SWEEP_AT", "02:00")

    # Retention (issue 17; rules/retention.py): the default for programmes whose definition has
    # no ``retention`` block, and the period for encounters of people never referred. "N years"
    # or "N months", counted from the UK day a case closed or an encounter happened.
    RETENTION_REVIEW_AFTER_CLOSED = os.environ.get("RETENTION_REVIEW_AFTER_CLOSED", "6 years")
    RETENTION_NOT_ELIGIBLE = os.environ.get("RETENTION_NOT_ELIGIBLE", "2 years")
    RETENTION_NEVER_REFERRED = os.environ.get("RETENTION_NEVER_REFERRED", "2 years")
    # Messages (divert/notify, background/outbox.py): 'log' writes them to the log and sends
    # nothing (the default); 'notify' sends through GOV.UK Notify with the key and the two
    # templates (one text message, one email, each holding only ((subject)) and ((body))).
    NOTIFY_SENDER = os.environ.get("NOTIFY_SENDER", "log")
    NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
    NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
    NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
    NOTIFY_EMAIL_TEMPLATE_ID = os.environ.get("NOTIFY_EMAIL_TEMPLATE_ID", "")
    # How many due messages one run of the worker claims, and how often one is tried before it fails.
    OUTBOX_BATCH = int(os.environ.get("OUTBOX_BATCH", "500"))
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))

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
    # Tasks run at once in the caller's thread; the tests that need a real worker start one.
    JOBS_IMMEDIATE = True
    JOBS_URL = ""
    # No real message ever leaves a test; the Notify tests point a sender at a local fake server.
    NOTIFY_SENDER = "log"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECURE_COOKIES = _flag("SECURE_COOKIES", True)
    FORCE_HTTPS = _flag("FORCE_HTTPS", True)


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def instance_secret_key(instance_dir: Path) -> str:
    """This installation's own random key, made on first use and kept in ``instance_dir``.

    Never a constant in the code: a key anyone can read in the source signs sessions anyone can
    forge. Written to a private temporary file and linked into place, so two processes starting
    at once cannot both make one (the second's link fails and it reads the first's).
    """
    path = instance_dir / SECRET_FILE
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        temporary = instance_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it and a new one is made.")
    return key


def load(name: str | None = None) -> dict[str, Any]:
    """The settings for ``name`` (default: ``DIVERT_ENV``, else development)."""
    name = name or os.environ.get("DIVERT_ENV", "development")
    try:
        settings = CONFIGS[name].as_dict()
    except KeyError:
        raise RuntimeError(f"Unknown DIVERT_ENV {name!r}; expected one of {sorted(CONFIGS)}") from None
    if name == "production":
        if len(settings["SECRET_KEY"]) < 32:
            raise RuntimeError("Production needs SECRET_KEY set to a random value of at least 32 characters.")
    elif not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = instance_secret_key(INSTANCE_DIR)
    settings["SESSION_COOKIE_SECURE"] = settings["SECURE_COOKIES"]
    settings["REMEMBER_COOKIE_SECURE"] = settings["SECURE_COOKIES"]
    return settings
