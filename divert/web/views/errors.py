"""GOV.UK-styled error pages, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

PAGES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


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

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str | Response, int]:
        app.logger.exception("Unhandled error")
        if _wants_json():
            return jsonify(
                error={"code": "server_error", "message": "Something went wrong on our side."}
            ), 500
        return render_template("errors/500.html"), 500
