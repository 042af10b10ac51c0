"""Audit what a page showed: one entry per list, naming every record on it (DPA 2018 s.62).

A list of people (a worklist, a home page, search results, possible matches) discloses each of
them as much as their own page does, so it is audited as a view of each, in one entry.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_login import current_user

from divert.app.extensions import db
from divert.models import audit


def audit_shown(what: str, object_type: str, ids: Iterable[int | None], action: str = "view") -> None:
    """One audit entry for a page listing ``object_type`` records: what it was, and every id shown."""
    shown = sorted({i for i in ids if i is not None})
    listed = ",".join(str(i) for i in shown)
    audit.record(
        db.session, current_user, action, object_type, None, detail=f"{what}; {len(shown)} shown: {listed}"
    )
