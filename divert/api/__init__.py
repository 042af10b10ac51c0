"""The JSON API under /api/v1, for partner systems, authenticated by bearer tokens only.

Importing the package registers the routes, the token request loader and the hook that keeps
browser sessions out of the API (see ``auth``).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The modules register their routes on bp.
from divert.api import (  # noqa: E402
    auth,
    encounters,
    imports,
    openapi,
    people,
    referrals,
    simulations,
)

auth.register_bearer_only(bp)

__all__ = ["bp", "encounters", "imports", "openapi", "people", "referrals", "simulations"]
