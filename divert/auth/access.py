"""Route access declarations.

Every view declares the ability it needs with ``@requires("ability")`` or is ``@public``; a test
walks the URL map and fails on any endpoint without a declaration. Anonymous page requests are sent to
sign-in, anonymous API requests get 401, and a signed-in user without the role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from divert.app.extensions import login_manager
from divert.auth.policy import holds, roles_with

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = frozenset({"public"})


def requires(name: str) -> Callable[[F], F]:
    """Only signed-in users whose role holds ability ``name`` (see ``auth.policy``) reach the view.

    The record-level half of the ability (which organisation, which case) is checked where the
    record is loaded, by the view or the operation, with ``policy.can`` or ``policy.check``.
    """
    roles = roles_with(name)

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not holds(current_user, name):
                abort(403)
            return view(*args, **kwargs)

        guarded.access = roles  # type: ignore[attr-defined]
        guarded.ability = name  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def access_of(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a view admits (PUBLIC for anyone), for the route walk; None if undeclared."""
    return getattr(view, "access", None)


def ability_of(view: Callable[..., Any]) -> str | None:
    return getattr(view, "ability", None)
