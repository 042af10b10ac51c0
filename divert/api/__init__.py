"""The JSON API under /api/v1, for partner systems, authenticated by bearer tokens only.

Importing the package registers the routes, the token request loader and the hook that keeps
browser sessions out of the API (see ``auth``).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from divert.api import auth, encounters, imports, openapi, people, referrals  # noqa: E402  # modules register routes on bp

auth.register_bearer_only(bp)

__all__ = ["bp", "encounters", "imports", "openapi", "people", "referrals"]
