"""Who works a case: taking a new referral, and a supervisor reallocating cases (for staff who leave)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from divert.auth.policy import can, holds
from divert.models import Referral, ReferralEvent, User, audit
from divert.pathways import notices
from divert.pathways.errors import OperationError, check_text
from divert.rules import limits


def take(session: Session, actor: User, referral: Referral) -> None:
    """A caseworker picks up an unassigned case that their organisation is party to."""
    if not can(actor, "take_case", referral):
        raise OperationError("Only caseworkers of an organisation working this case can take it.")
    if referral.assigned_user_id is not None:
        raise OperationError(f"Case {referral.reference} is already assigned.")
    _assign(session, actor, referral, actor, "Taken by the caseworker")


def reallocate(
    session: Session, actor: User, referrals: Sequence[Referral], assignee: User, reason: str
) -> int:
    """Give cases to any worker of the supervisor's organisation, with a reason; one event per case.

    The supervisor's organisation must be one of the teams working each case (a YOT's supervisor
    gives a case the Youth Justice Unit referred on to any of the YOT's caseworkers), not only the
    force that referred it.
    """
    if not holds(actor, "reallocate"):
        raise OperationError("Only a supervisor can reallocate cases.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Enter a reason for reallocating the cases")
    check_text("Reason", reason, limits.REASON)
    if not referrals:
        raise OperationError("Select at least one case to reallocate")
    elsewhere = [r.reference for r in referrals if not can(actor, "reallocate", r)]
    if elsewhere:
        # The referring force sees its cases, but the team working them allocates them.
        raise OperationError(
            f"Another organisation's team works case {', '.join(elsewhere)}: its supervisor reallocates it."
        )
    if (
        assignee.organisation_id != actor.organisation_id
        or not can(assignee, "hold_caseload", actor)
        or not assignee.active
    ):
        raise OperationError("Select a caseworker in your organisation")
    moved = 0
    for referral in referrals:
        if referral.assigned_user_id != assignee.id:
            _assign(session, actor, referral, assignee, reason)
            moved += 1
    return moved


def _assign(session: Session, actor: User, referral: Referral, assignee: User, reason: str) -> None:
    previous = referral.assigned_user_id
    referral.assigned_user_id = assignee.id
    event = ReferralEvent(
        referral_id=referral.id,
        actor_id=actor.id,
        kind="allocation",
        reason=reason,
        data={"from_user": previous, "to_user": assignee.id},
    )
    session.add(event)
    session.flush()
    if assignee.id != actor.id:  # someone taking a case knows they took it
        notices.reallocated(session, referral, assignee, cause=f"event{event.id}")
    audit.record(session, actor, "update", "referral", referral.id, detail=f"assigned to user {assignee.id}")
