"""Merging two records found to be one person, and undoing that.

A merge moves rows rather than deleting anything: the duplicate record stays, pointing at the
survivor, and the merge keeps exactly what moved, so undoing it puts back what it changed and
nothing else (not encounters added to the survivor since).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, PersonMerge, Referral, User, audit, utcnow
from divert.pathways.errors import OperationError

# Fields the survivor takes from the duplicate when it has nothing recorded. Names are never
# taken (the survivor's are the ones someone chose to keep), nor self-defined ethnicity or gender,
# whose defaults ("not stated") may be what the person said.
FILLABLE = ("pnc_id", "date_of_birth", "postcode_district", "officer_defined_ethnicity")


def _stored(value: object) -> Any:
    """A field's value as the merge's JSON keeps it."""
    return value.isoformat() if isinstance(value, date) else value


def check_can_merge(survivor: Person, duplicate: Person, reason: str) -> None:
    if not reason.strip():
        raise OperationError("Enter a reason for merging these records")
    if survivor.id == duplicate.id:
        raise OperationError("Select a different record – a record cannot be merged into itself")
    if survivor.organisation_id != duplicate.organisation_id:
        # Sharing a person between organisations is an explicit agreement, never a merge.
        raise OperationError("Select one of the possible matches listed")
    if duplicate.merged_into_id is not None:
        raise OperationError(f"{duplicate.full_name}’s record has already been merged into another record")
    if survivor.merged_into_id is not None:
        raise OperationError(
            f"{survivor.full_name}’s record has been merged into another record – "
            "merge into that record instead"
        )
    if survivor.pnc_id and duplicate.pnc_id and survivor.pnc_id != duplicate.pnc_id:
        raise OperationError(
            f"These records have different PNC IDs ({survivor.pnc_id} and {duplicate.pnc_id}), so they are "
            "recorded as different people – correct the wrong PNC ID before merging"
        )


def merge_people(
    session: Session, actor: User, survivor: Person, duplicate: Person, reason: str
) -> PersonMerge:
    """Move ``duplicate``'s encounters and referrals to ``survivor`` and mark it merged."""
    check_can_merge(survivor, duplicate, reason)
    encounters = list(
        session.scalars(select(Encounter).where(Encounter.person_id == duplicate.id).order_by(Encounter.id))
    )
    referrals = list(
        session.scalars(select(Referral).where(Referral.person_id == duplicate.id).order_by(Referral.id))
    )
    rows: list[Encounter | Referral] = [*encounters, *referrals]
    for row in rows:
        # Through the ORM, not a bulk UPDATE, so the session hooks write each row's history.
        row.person = survivor
    # Marked merged before the survivor takes its PNC ID: one live record per organisation and PNC
    # ID (a unique index), and the updates of one flush may come in either order.
    duplicate.merged_into_id = survivor.id
    session.flush()
    filled = {}
    for field in FILLABLE:
        value = getattr(duplicate, field)
        if getattr(survivor, field) is None and value is not None:
            setattr(survivor, field, value)
            filled[field] = _stored(value)
    merge = PersonMerge(
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        reason=reason.strip(),
        moved={
            "encounters": [e.id for e in encounters],
            "referrals": [r.id for r in referrals],
            "filled": filled,
        },
        merged_at=utcnow(),
        merged_by_id=actor.id,
    )
    session.add(merge)
    session.flush()
    summary = f"{len(encounters)} encounter(s), {len(referrals)} referral(s)"
    if filled:
        summary += "; filled " + ", ".join(filled)
    audit.record(
        session,
        actor,
        "update",
        "person",
        survivor.id,
        detail=f"merge {merge.id}: took in person {duplicate.id}: {summary}",
    )
    audit.record(
        session,
        actor,
        "update",
        "person",
        duplicate.id,
        detail=f"merge {merge.id}: merged into person {survivor.id}",
    )
    return merge


def check_can_undo(merge: PersonMerge, survivor: Person, duplicate: Person, reason: str) -> None:
    if not reason.strip():
        raise OperationError("Enter a reason for undoing this merge")
    if merge.undone_at is not None:
        raise OperationError("This merge has already been undone")
    if survivor.merged_into_id is not None:
        # Its rows may have moved on again; undoing this merge first would leave them split.
        raise OperationError(
            f"{survivor.full_name}’s record has since been merged into another record – undo that merge first"
        )
    filled = dict(merge.moved).get("filled", {})
    kept_pnc = survivor.pnc_id if "pnc_id" not in filled or survivor.pnc_id != filled["pnc_id"] else None
    if duplicate.pnc_id and duplicate.pnc_id == kept_pnc:
        raise OperationError(
            f"Both records have PNC ID {duplicate.pnc_id}, so they are one person – "
            "they cannot be separate records again"
        )


def undo_merge(session: Session, actor: User, merge: PersonMerge, reason: str) -> None:
    """Put back what ``merge`` moved and filled in, where nobody has changed it since."""
    survivor = session.get_one(Person, merge.survivor_id)
    duplicate = session.get_one(Person, merge.merged_id)
    check_can_undo(merge, survivor, duplicate, reason)
    moved: dict[str, Any] = dict(merge.moved)
    back: list[Encounter | Referral] = []
    for model, key in ((Encounter, "encounters"), (Referral, "referrals")):
        back.extend(
            session.scalars(
                select(model).where(model.id.in_(moved.get(key, [])), model.person_id == survivor.id)
            )
        )
    for row in back:
        row.person = duplicate
    restored = []
    for field, value in moved.get("filled", {}).items():
        if _stored(getattr(survivor, field)) == value:
            setattr(survivor, field, None)
            restored.append(field)
    # The survivor gives the PNC ID back before the duplicate is live again (the unique index).
    session.flush()
    duplicate.merged_into_id = None
    merge.undone_at = utcnow()
    merge.undone_by_id = actor.id
    merge.undo_reason = reason.strip()
    session.flush()
    detail = f"merge {merge.id} undone: {len(back)} record(s) moved back"
    if restored:
        detail += "; cleared " + ", ".join(restored)
    audit.record(session, actor, "update", "person", survivor.id, detail=detail)
    audit.record(session, actor, "update", "person", duplicate.id, detail=f"merge {merge.id} undone")
