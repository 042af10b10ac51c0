"""Restriction of processing (DPA 2018 s.47): a person's record kept but not worked on.

While a record is restricted nobody takes a new step on the person's cases or adds to them
(``check_not_restricted``, called where every step and case entry is written); the record and its
cases say so on every page. Who restricted it, when and why are on the record, in its field
history and in the audit trail; lifting it is recorded the same way. Corrections of the record
keep their history as before (``models/guards.py``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from divert.auth.policy import check
from divert.models import Person, User, audit, utcnow
from divert.pathways.errors import OperationError, StaleEdit, check_text
from divert.rules import limits


class Restricted(OperationError):
    """The person's record is restricted: no new step or entry on their cases."""


def check_not_restricted(person: Person | None) -> None:
    if person is not None and person.restricted_at is not None:
        raise Restricted(
            "Processing of this person's record is restricted, so nothing new can be recorded on their "
            "cases until an administrator or supervisor lifts the restriction."
        )


def restrict(session: Session, actor: User, person: Person, reason: str, seen_version: int) -> None:
    check(actor, "restrict_processing", person)
    if person.version_id != seen_version:
        raise StaleEdit("person's record")
    if person.anonymised_at is not None:
        raise OperationError("This record has been anonymised; there is nothing left to restrict.")
    if person.restricted_at is not None:
        raise OperationError("Processing of this record is already restricted.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter why processing is being restricted")
    check_text("The reason", reason, limits.REASON)
    person.restricted_at = utcnow()
    person.restricted_by_id = actor.id
    person.restricted_reason = reason
    session.flush()
    audit.record(session, actor, "restrict", "person", person.id, detail=reason)


def lift(session: Session, actor: User, person: Person, reason: str, seen_version: int) -> None:
    check(actor, "restrict_processing", person)
    if person.version_id != seen_version:
        raise StaleEdit("person's record")
    if person.restricted_at is None:
        raise OperationError("Processing of this record is not restricted.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter why the restriction is being lifted")
    check_text("The reason", reason, limits.REASON)
    # The field history keeps when, by whom and why it was restricted; the record shows the present.
    person.restricted_at = None
    person.restricted_by_id = None
    person.restricted_reason = ""
    session.flush()
    audit.record(session, actor, "lift_restriction", "person", person.id, detail=reason)
