"""Secure headers and the content security policy.

No inline script runs without the per-request nonce; styles, fonts and images come only from
this site (the GOV.UK assets are served locally, never from a CDN).
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

talisman = Talisman()


def register_security(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        # The client's address from the proxies' X-Forwarded-For, so sign-in limits and the audit
        # trail see people rather than the proxy. Only as many hops as are really there: a client
        # can write any X-Forwarded-For it likes in front of them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    secure = bool(app.config["SECURE_COOKIES"])
    talisman.init_app(
        app,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        force_https=bool(app.config["FORCE_HTTPS"]),
        strict_transport_security=bool(app.config["FORCE_HTTPS"]),
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    @app.after_request
    def _no_store(response):  # type: ignore[no-untyped-def]
        # Pages carry personal data: never keep them in shared or browser caches.
        if not response.headers.get("Cache-Control") and response.mimetype != "text/css":
            response.headers["Cache-Control"] = "no-store"
        return response
