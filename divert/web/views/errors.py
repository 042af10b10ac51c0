"""GOV.UK-styled error pages, and JSON errors for the API.

Every failure has an answer a person or a partner system can act on: a refusal (403) is audited,
an oversized request is 413, a database that cannot be reached is 503 with ``Retry-After``, and an
unexpected error is a 500 page that renders even when the request's transaction has failed.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from divert.app.extensions import db, login_manager
from divert.auth.refusal import record_refusal

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
    503: "errors/503.html",
}
# The database cannot be reached, or is refusing connections or locked: try again shortly.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
RETRY_AFTER = "30"


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _fresh_transaction() -> None:
    # A failed statement leaves the transaction unusable (PostgreSQL refuses every later query in
    # it), and the error page reads the signed-in user; start again before rendering.
    try:
        db.session.rollback()
    except UNAVAILABLE:
        g._login_user = login_manager.anonymous_user()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str | Response, int]:
        if _wants_json():
            return jsonify(error={"code": "csrf", "message": error.description}), 400
        return render_template(
            "errors/400.html", message="Your form expired. Go back, reload the page and try again."
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int]:
        code = error.code or 500
        if code == 403 and current_user.is_authenticated:
            record_refusal(db.session, "route", request.endpoint, f"403 {request.method} {request.path}")
        if _wants_json():
            return jsonify(
                error={"code": error.name.lower().replace(" ", "_"), "message": error.description}
            ), code
        return render_template(PAGES.get(code, "errors/500.html"), message=None), code

    @app.errorhandler(StaleDataError)
    def stale(error: StaleDataError) -> tuple[str | Response, int]:
        # Two requests changed one record at once: the version column let one through and stopped
        # the other at its flush (or the request's commit). That is a conflict, not a fault; the
        # views that can say what changed catch it first.
        message = "Someone else changed this record at the same time. Reload it and make your change again."
        if _wants_json():
            return jsonify(error={"code": "conflict", "message": message}), 409
        return render_template("errors/409.html", message=message), 409

    @app.errorhandler(DataError)
    def refused_by_database(error: DataError) -> tuple[str | Response, int]:
        # Input the checks let through but a column cannot hold. Every known case is refused
        # earlier with a field error; this keeps a missed one a 400, and the log says which.
        app.logger.warning("Database refused a value: %s", error.orig)
        _fresh_transaction()
        if _wants_json():
            return jsonify(
                error={"code": "invalid", "message": "A value is too large or not valid text."}
            ), 400
        return render_template(
            "errors/400.html", message="A value you entered is too long or is not valid text."
        ), 400

    def database_unavailable(error: Exception) -> tuple[str | Response, int, dict[str, str]]:
        app.logger.error("Database unavailable: %s", error)
        # The page must not load the signed-in user (a query to the missing database): it is drawn
        # for no one. Flask-Login reads the user from here before it would query for one.
        g._login_user = login_manager.anonymous_user()
        headers = {"Retry-After": RETRY_AFTER}
        if _wants_json():
            body = jsonify(
                error={
                    "code": "service_unavailable",
                    "message": "The service is unavailable. Try again in a few minutes.",
                }
            )
            return body, 503, headers
        return render_template("errors/503.html"), 503, headers

    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, database_unavailable)

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str | Response, int]:
        app.logger.exception("Unhandled error")
        _fresh_transaction()
        if _wants_json():
            return jsonify(
                error={"code": "server_error", "message": "Something went wrong on our side."}
            ), 500
        return render_template("errors/500.html"), 500
