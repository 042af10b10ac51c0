"""divert: case management for police diversion programmes in England and Wales."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

import config as settings
from divert.app.extensions import csrf, db, login_manager
from divert.app.uploads import DivertRequest
from divert.models import audit


def create_app(overrides: Mapping[str, Any] | None = None, env: str | None = None) -> Flask:
    app = Flask(__name__, static_folder="web/static", static_url_path="/assets")
    app.request_class = DivertRequest
    app.config.update(settings.load(env))
    if overrides:
        app.config.update(overrides)
    register_converters(app)
    register_extensions(app)
    register_templates(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_cli(app)
    return app


def register_converters(app: Flask) -> None:
    from divert.app.ids import BoundedInt

    # Before any route is added: every <int:...> then refuses ids no column can hold (a 404).
    app.url_map.converters["int"] = BoundedInt


def register_extensions(app: Flask) -> None:
    from divert.app.db import register_transaction
    from divert.app.security import register_security

    db.init_app(app)
    register_session_hooks(db.factory)
    register_transaction(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = "strong"
    register_security(app)

    from divert.app import jobs

    jobs.init_app(app)
    # The tasks register on the queue as their modules load; the worker runs them.
    import divert.background  # noqa: F401
    from divert.auth.session import register_session_handling

    register_session_handling(app)


def register_session_hooks(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """What every session that writes the app's data needs: append-only tables and field history
    (models/guards.py), the monitoring journey rows kept in step (monitoring upkeep), and every
    change to what monitoring counts noted (monitoring/cache.py), so a kept release is never
    used after it."""
    from divert.models import guards
    from divert.monitoring import cache, journeys

    guards.register(factory)
    journeys.register(factory)
    cache.register(factory)
    return factory


def session_factory(bind: Engine | Connection) -> sessionmaker[Session]:
    """A factory with the app's session hooks, for work on a database without an app (loading a
    test or benchmark database, a scratch copy): a bare ``Session(engine)`` has none of them."""
    return register_session_hooks(sessionmaker(bind=bind))


def register_templates(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    from divert.web.filters import register_filters

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("divert", "web/templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.autoescape = True
    WTFormsHelpers(app)
    register_filters(app)


def register_blueprints(app: Flask) -> None:
    from divert.api import bp as api_bp
    from divert.api.admin import bp as api_tokens_bp
    from divert.auth.views import bp as auth_bp
    from divert.web.views.accounts import bp as accounts_bp
    from divert.web.views.admin import bp as admin_bp
    from divert.web.views.audit import bp as audit_bp
    from divert.web.views.cases import bp as cases_bp
    from divert.web.views.casework import bp as casework_bp
    from divert.web.views.decisions import bp as decisions_bp
    from divert.web.views.encounters import bp as encounters_bp
    from divert.web.views.errors import register_error_handlers
    from divert.web.views.imports import bp as imports_bp
    from divert.web.views.intake import bp as intake_bp
    from divert.web.views.main import bp as main_bp
    from divert.web.views.merges import bp as merges_bp
    from divert.web.views.messages import bp as messages_bp
    from divert.web.views.monitoring import bp as monitoring_bp
    from divert.web.views.organisations import bp as organisations_bp
    from divert.web.views.people import bp as people_bp
    from divert.web.views.programmes_admin import bp as programmes_admin_bp
    from divert.web.views.retention import bp as retention_bp
    from divert.web.views.sharing import bp as sharing_bp
    from divert.web.views.simulations import bp as simulations_bp
    from divert.web.views.subject_access import bp as subject_access_bp
    from divert.web.views.worklists import bp as worklists_bp

    blueprints = (
        auth_bp,
        main_bp,
        people_bp,
        encounters_bp,
        cases_bp,
        casework_bp,
        worklists_bp,
        decisions_bp,
        merges_bp,
        monitoring_bp,
        simulations_bp,
        admin_bp,
        programmes_admin_bp,
        api_bp,
        api_tokens_bp,
        imports_bp,
        accounts_bp,
        organisations_bp,
        audit_bp,
        subject_access_bp,
        intake_bp,
        retention_bp,
        messages_bp,
        sharing_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    # The API takes bearer tokens only (a session cookie is refused there), so CSRF cannot apply.
    csrf.exempt(api_bp)
    register_error_handlers(app)
    # Flask's own static route: the GOV.UK assets are public by nature. It only reads (the
    # signed-in user, before every request), so on SQLite it never waits behind a long import's
    # write lock: a page's CSS and fonts must arrive while the worker writes.
    from divert.app.db import reads_only
    from divert.auth.access import public

    app.view_functions["static"] = reads_only(public(app.view_functions["static"]))


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _unit_of_work() -> None:
        # The request is one unit of work: its history rows name the signed-in user, and its
        # audit entries say where it came from. Operations are given the actor explicitly.
        user_id = current_user.id if current_user.is_authenticated else None
        origin = audit.Origin(request.remote_addr, request.user_agent.string or "", request.full_path)
        audit.act_as(db.session, user_id, origin)
        g.user = current_user


def register_cli(app: Flask) -> None:
    from divert.cli import register_commands

    register_commands(app)
