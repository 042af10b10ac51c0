"""Ids in URLs, query strings and forms: only values that can be ids of ours reach the database.

PostgreSQL's integer columns end at 2**31 - 1; a larger value bound to a query is a driver error
(a 500), not a record that is absent. Every ``<int:...>`` URL part is converted by ``BoundedInt``
(registered as the app's ``int`` converter), so such a URL matches no route and is a 404; ids read
from query strings and forms go through ``parse_id``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from divert.rules.limits import MAX_ID


class BoundedInt(IntegerConverter):
    """``int`` in URLs, limited to the ids a 32-bit column holds (0 and negatives never match)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(value: object) -> int | None:
    """``value`` as an id, or None if it cannot be one (not ASCII digits, zero, or too large)."""
    text = str(value).strip() if value is not None else ""
    # str.isdigit accepts '²' and other digits int() refuses; only ASCII digits are ids.
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_version(value: object) -> int | None:
    """A record's version as a form sent it back, or None if it is not one (0 is a version)."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_ID else None
