"""Route access declarations.

Every view declares who may use it with ``@requires(...)`` or ``@public``; a test walks the URL
map and fails on any endpoint without a declaration. Anonymous page requests are sent to
sign-in, anonymous API requests get 401, and a signed-in user without the role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from divert.app.extensions import login_manager
from divert.models.user import ROLES

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = frozenset({"public"})
SIGNED_IN = frozenset(ROLES)
CASEWORKING = frozenset(ROLES) - {"analyst"}  # analysts see aggregates only, never a person


def requires(*roles: str | frozenset[str]) -> Callable[[F], F]:
    allowed: set[str] = set()
    for role in roles:
        allowed |= {role} if isinstance(role, str) else set(role)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    frozen = frozenset(allowed)

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in frozen:
                abort(403)
            return view(*args, **kwargs)

        guarded.access = frozen  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def access_of(view: Callable[..., Any]) -> frozenset[str] | None:
    return getattr(view, "access", None)
