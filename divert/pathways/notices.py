"""Telling staff: a new referral for their team, a flag on their case, a decision waiting, a case given.

Each notice is a row on the person's home page and an email in the outbox, written in the caller's
transaction (sent by the worker after commit). Emails leave the service, so they name the case's
reference, never the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from divert.auth.policy import roles_with
from divert.models import (
    Organisation,
    OutboxMessage,
    Referral,
    ReferralParty,
    StaffNotification,
    User,
    utcnow,
)
from divert.rules.messages import STAFF_KINDS

# Words on the home page; the email's words are the (editable) templates of the same kind.
_TEXT = {
    "new_referral": "New referral {reference} for your team",
    "flag_raised": "Flag raised on your case {reference}: {detail}",
    "escalation_waiting": "Case {reference} is waiting for a non-engagement decision",
    "case_reallocated": "Case {reference} has been given to you",
}


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    user_id: int
    email: str
    referral_id: int
    reference: str
    detail: str = ""
    service: str = ""
    # What makes this notice this one (a flag's id, an event's id): the same cause never emails twice.
    cause: str = ""


def write(session: Session, notices: Iterable[Notice], now: datetime | None = None) -> int:
    """Write each notice to the home page and the outbox: two statements, however many there are."""
    now = now or utcnow()
    rows = [n for n in notices if n.kind in STAFF_KINDS]
    if not rows:
        return 0
    session.execute(
        insert(StaffNotification),
        [
            {
                "user_id": n.user_id,
                "kind": n.kind,
                "referral_id": n.referral_id,
                "text": _TEXT[n.kind].format(reference=n.reference, detail=n.detail)[:300],
                "created_at": now,
            }
            for n in rows
        ],
    )
    session.execute(
        insert(OutboxMessage),
        [
            {
                "kind": n.kind,
                "channel": "email",
                "recipient": n.email,
                "recipient_user_id": n.user_id,
                "language": "en",
                "template": n.kind,
                "personalisation": {"reference": n.reference, "detail": n.detail[:200], "service": n.service},
                "referral_id": n.referral_id,
                "scheduled_for": now,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "idempotency_key": f"staff:{n.kind}:{n.referral_id}:{n.user_id}:{n.cause}"[:120],
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            }
            for n in rows
        ],
    )
    return len(rows)


def _people(session: Session, organisation_ids: Iterable[int], roles: Iterable[str]) -> Sequence[User]:
    wanted_roles, orgs = sorted(set(roles)), sorted(set(organisation_ids))
    if not wanted_roles or not orgs:
        return []
    return session.scalars(
        select(User).where(User.organisation_id.in_(orgs), User.role.in_(wanted_roles), User.active.is_(True))
    ).all()


def new_referral(session: Session, referral: Referral, organisation_id: int, cause: str) -> int:
    """A case has come to a receiving organisation: everyone there who picks up the team's cases."""
    team = session.get(Organisation, organisation_id)
    people = _people(session, [organisation_id], roles_with("take_case"))
    return write(
        session,
        (
            Notice(
                "new_referral",
                p.id,
                p.email,
                referral.id,
                referral.reference,
                service=team.name if team else "",
                cause=cause,
            )
            for p in people
        ),
    )


def reallocated(session: Session, referral: Referral, assignee: User, cause: str) -> int:
    return write(
        session,
        [
            Notice(
                "case_reallocated", assignee.id, assignee.email, referral.id, referral.reference, cause=cause
            )
        ],
    )


@dataclass(frozen=True, slots=True)
class RaisedFlag:
    referral_id: int
    flag_id: int
    assigned_user_id: int | None
    detail: str
    # The roles that decide non-engagement on this programme (its escalation), if it has any.
    deciders: tuple[str, ...] = ()


def flags_raised(session: Session, flags: Sequence[RaisedFlag]) -> int:
    """The case's worker hears of each flag; the programme's deciders, in the organisations party to
    the case, hear that a non-engagement decision is waiting. Two reads and two writes per batch,
    however many flags (the sweep raises thousands on a first run)."""
    if not flags:
        return 0
    references: dict[int, str] = {}
    parties: dict[int, set[int]] = {}
    for referral_id, reference, organisation_id in session.execute(
        select(Referral.id, Referral.reference, ReferralParty.organisation_id)
        .join(ReferralParty, ReferralParty.referral_id == Referral.id)
        .where(Referral.id.in_(sorted({f.referral_id for f in flags})))
    ):
        references[referral_id] = reference
        parties.setdefault(referral_id, set()).add(organisation_id)
    workers = sorted({f.assigned_user_id for f in flags if f.assigned_user_id})
    roles = sorted({role for f in flags for role in f.deciders})
    organisations = sorted({org for f in flags if f.deciders for org in parties.get(f.referral_id, ())})
    readers = session.scalars(
        select(User).where(
            User.active.is_(True),
            or_(User.id.in_(workers), and_(User.organisation_id.in_(organisations), User.role.in_(roles))),
        )
    ).all()
    by_id = {u.id: u for u in readers}
    notices: list[Notice] = []
    for flag in flags:
        reference, cause = references.get(flag.referral_id, ""), f"flag{flag.flag_id}"
        worker = by_id.get(flag.assigned_user_id or 0)
        if worker is not None:
            notices.append(
                Notice(
                    "flag_raised",
                    worker.id,
                    worker.email,
                    flag.referral_id,
                    reference,
                    flag.detail,
                    cause=cause,
                )
            )
        for person in readers:
            if person.role in flag.deciders and person.organisation_id in parties.get(flag.referral_id, ()):
                notices.append(
                    Notice(
                        "escalation_waiting",
                        person.id,
                        person.email,
                        flag.referral_id,
                        reference,
                        cause=cause,
                    )
                )
    return write(session, notices)
