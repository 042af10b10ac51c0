"""Find-or-create of a person, serialised per organisation and identity.

Recording looks for the organisation's record of a person (same PNC ID, or same name and date of
birth) and adds one when there is none. Two requests recording the same new person at the same
moment would both look, both find nothing and both add. SQLite cannot do that: every write
transaction starts with BEGIN IMMEDIATE (app/db.py), so the second waits for the first to commit.
PostgreSQL lets them run side by side, so there the look-up takes transaction-scoped advisory
locks on the identities it is about to look for; the second request waits for the first to commit
and then, under READ COMMITTED, sees the record the first one added.

The PNC ID is also guarded by a unique index (one live record per organisation and PNC ID);
names cannot be (two people may share a name and date of birth), hence the locks.

An import works through thousands of identities at once; one lock each could exhaust the lock
table, so it takes its organisation's lock exclusively instead, and each recording takes it
shared before its own identity locks. Locks are always taken in that order, the identity locks in
numeric order, so two requests never wait for each other in a circle.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from divert.models.person import name_key


def _lock_id(*parts: object) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock`` from the parts of an identity."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def hold_identity(
    session: Session,
    organisation_id: int,
    *,
    pnc_id: str | None,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
) -> None:
    """Wait until no other transaction is finding or creating this person in this organisation."""
    if not _postgresql(session):
        return
    keys = set()
    if pnc_id:
        keys.add(_lock_id("pnc", organisation_id, pnc_id.strip().upper()))
    key = name_key(given_name, family_name, date_of_birth)
    if key is not None:
        keys.add(_lock_id("name", organisation_id, *key))
    if not keys:
        return
    # One statement, one round trip (only numbered placeholders are formatted into it): PostgreSQL
    # evaluates a select list from left to right, so the organisation's shared lock is still taken
    # first and the identity locks in numeric order.
    ordered = sorted(keys)
    calls = ", ".join(f"pg_advisory_xact_lock(:k{n})" for n in range(len(ordered)))
    params = {"org": _lock_id("org", organisation_id)} | {f"k{n}": key for n, key in enumerate(ordered)}
    session.execute(text(f"SELECT pg_advisory_xact_lock_shared(:org), {calls}"), params)


def hold_organisation(session: Session, organisation_id: int) -> None:
    """Wait until no recording is finding or creating a person in this organisation, and keep
    them waiting until this transaction ends (an import's find-or-create of every row)."""
    if _postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_id("org", organisation_id)})
