"""The nightly sweep: raise a flag for a person wherever an open case meets a non-engagement criterion.

It never moves a case: the brief requires non-engagement to escalate only by a person's recorded decision.
Each flag has a stable key (criterion and the day it was first met), and the table keeps one flag per key,
so running the sweep again, or twice a night from cron, raises nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date
from divert.models import (
    AuditEntry,
    CaseContact,
    CaseFlag,
    Contract,
    Encounter,
    ProgrammeVersion,
    Referral,
    ReferralEvent,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways import notices
from divert.rules import (
    CaseFacts,
    ProgrammeDefinition,
    SessionRecord,
    Signal,
    non_engagement_signals,
)
from divert.rules.engagement import ATTENDED_STATUSES as ATTENDED
from divert.rules.engagement import EVENT_KINDS

# Cases are checked this many at a time: a handful of queries per batch, however many contacts they have.
BATCH_SIZE = 1000
FLAG_KINDS = {"no_first_contact": "first_contact_overdue", "contract_expired": "contract_expired"}
COUNTED = ("attended", "late", "missed")


@dataclass(frozen=True)
class SweepReport:
    as_of: date
    cases_checked: int = 0
    flags_raised: int = 0
    by_kind: Mapping[str, int] = field(default_factory=dict)


@dataclass
class _Case:
    referral_id: int
    version_id: int
    assigned_user_id: int | None
    encounter_on: date
    referred_on: date | None = None
    # The last time a person chose to carry on with a revised plan: misses before it were already decided on.
    fresh_start: datetime | None = None
    contacts: list[tuple[datetime, str, bool | None]] = field(default_factory=list)
    contract: tuple[date, date] | None = None
    flag_keys: set[str] = field(default_factory=set)

    def facts(self) -> CaseFacts:
        attended = [when for when, status, _ in self.contacts if status in ATTENDED]
        sessions = tuple(
            SessionRecord(uk_date(when), status, bool(acceptable))
            for when, status, acceptable in self.contacts
            if self.fresh_start is None or when > self.fresh_start
        )
        return CaseFacts(
            referred_on=self.referred_on,
            first_contact_on=uk_date(min(attended)) if attended else None,
            encounter_on=self.encounter_on,
            # Entering the route is the coach's custody contact in DIVERT, the programme that counts from it.
            custody_contact_on=self.referred_on,
            sessions=sessions,
            contract_start=self.contract[0] if self.contract else None,
            contract_end=self.contract[1] if self.contract else None,
        )


def sweep(
    session: Session, as_of: date, holidays: Container[date] = frozenset(), *, batch_size: int = BATCH_SIZE
) -> SweepReport:
    """Check every open case as of ``as_of`` and raise the flags not raised before. Flushes; never commits."""
    definitions: dict[int, ProgrammeDefinition] = {}
    checked, raised = 0, Counter[str]()
    after = 0
    while True:
        rows = session.execute(
            select(
                Referral.id, Referral.programme_version_id, Referral.assigned_user_id, Encounter.occurred_at
            )
            .join(Encounter, Encounter.id == Referral.encounter_id)
            .where(Referral.closed_at.is_(None), Referral.id > after)
            .order_by(Referral.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        after = rows[-1][0]
        _load_definitions(session, definitions, {row[1] for row in rows})
        cases = _load_cases(session, rows, definitions)
        checked += len(cases)
        raised.update(_raise_flags(session, cases, definitions, as_of, holidays))
        if len(rows) < batch_size:
            break
    return SweepReport(as_of, checked, sum(raised.values()), dict(sorted(raised.items())))


def flag_at_once(session: Session, referral_id: int, as_of: date) -> int:
    """Raise now the flags a just-recorded event meets (two unacceptable misses), with the sweep's own
    criteria and keys, so tonight's sweep finds them raised. Calendar criteria are left to the sweep,
    which knows the bank holidays."""
    rows = session.execute(
        select(Referral.id, Referral.programme_version_id, Referral.assigned_user_id, Encounter.occurred_at)
        .join(Encounter, Encounter.id == Referral.encounter_id)
        .where(Referral.id == referral_id, Referral.closed_at.is_(None))
    ).all()
    if not rows:
        return 0
    definitions: dict[int, ProgrammeDefinition] = {}
    _load_definitions(session, definitions, {rows[0][1]})
    cases = _load_cases(session, rows, definitions)
    return sum(_raise_flags(session, cases, definitions, as_of, frozenset(), kinds=EVENT_KINDS).values())


def _load_definitions(session: Session, known: dict[int, ProgrammeDefinition], wanted: set[int]) -> None:
    missing = wanted - known.keys()
    if missing:
        for version in session.scalars(select(ProgrammeVersion).where(ProgrammeVersion.id.in_(missing))):
            known[version.id] = compiled(version)


def _load_cases(
    session: Session, rows: Sequence[Row[Any]], definitions: Mapping[int, ProgrammeDefinition]
) -> dict[int, _Case]:
    cases = {
        referral_id: _Case(referral_id, version_id, assigned, uk_date(occurred_at))
        for referral_id, version_id, assigned, occurred_at in rows
    }
    ids = list(cases)
    moves = session.execute(
        select(
            ReferralEvent.referral_id, ReferralEvent.kind, ReferralEvent.to_state, ReferralEvent.occurred_at
        )
        .where(ReferralEvent.referral_id.in_(ids), ReferralEvent.to_state.is_not(None))
        .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
    )
    for referral_id, kind, to_state, occurred_at in moves:
        case = cases[referral_id]
        definition = definitions[case.version_id]
        # The latest entry into a route state, not the first: a YJU case is referred to the YOT when the unit
        # decides, and the YOT's deadline runs from then. A correction is not a new referral.
        if kind != "correction" and definition.state(to_state).stage == "route":
            case.referred_on = uk_date(occurred_at)
        if kind == "escalation":
            case.fresh_start = occurred_at
    contacts = session.execute(
        select(
            CaseContact.referral_id,
            CaseContact.scheduled_at,
            CaseContact.attendance,
            CaseContact.reason_acceptable,
        )
        .where(CaseContact.referral_id.in_(ids), CaseContact.attendance.in_(COUNTED))
        .order_by(CaseContact.scheduled_at, CaseContact.id)
    )
    for referral_id, scheduled_at, attendance, acceptable in contacts:
        cases[referral_id].contacts.append((scheduled_at, attendance, acceptable))
    contracts = session.execute(
        select(Contract.referral_id, Contract.starts_on, Contract.ends_on).where(
            Contract.referral_id.in_(ids)
        )
    )
    for referral_id, starts_on, ends_on in contracts:
        cases[referral_id].contract = (starts_on, ends_on)
    flags = session.execute(select(CaseFlag.referral_id, CaseFlag.key).where(CaseFlag.referral_id.in_(ids)))
    for referral_id, key in flags:
        cases[referral_id].flag_keys.add(key)
    return cases


def flag_key(signal: Signal) -> str:
    return f"{signal.criterion_id}:{signal.since.isoformat()}"


def _raise_flags(
    session: Session,
    cases: Mapping[int, _Case],
    definitions: Mapping[int, ProgrammeDefinition],
    as_of: date,
    holidays: Container[date],
    *,
    kinds: Container[str] | None = None,
) -> Counter[str]:
    new: list[tuple[_Case, Signal]] = []
    for case in cases.values():
        for signal in non_engagement_signals(definitions[case.version_id], case.facts(), as_of, holidays):
            if kinds is not None and signal.kind not in kinds:
                continue
            if flag_key(signal) not in case.flag_keys:
                new.append((case, signal))
    if not new:
        return Counter()
    # One multi-row statement per table, not one per flag: a first run over a backlog can raise thousands,
    # and the ORM inserts rows one at a time on SQLite because it must read back each id.
    now = utcnow()
    session.execute(
        insert(CaseFlag),
        [
            {
                "referral_id": case.referral_id,
                "kind": _flag_kind(signal),
                "key": flag_key(signal),
                "detail": signal.text,
                "raised_at": now,
                "due_on": as_of,
                # Unassigned flags land on the supervisors' list.
                "assigned_to_id": case.assigned_user_id,
            }
            for case, signal in new
        ],
    )
    ids = {
        (referral_id, key): flag_id
        for flag_id, referral_id, key in session.execute(
            select(CaseFlag.id, CaseFlag.referral_id, CaseFlag.key).where(
                CaseFlag.referral_id.in_(sorted({case.referral_id for case, _ in new}))
            )
        )
    }
    raised = [(case, signal, ids[case.referral_id, flag_key(signal)]) for case, signal in new]
    session.execute(
        insert(ReferralEvent),
        [
            {
                "referral_id": case.referral_id,
                "occurred_at": now,
                "recorded_at": now,
                "actor_id": None,
                "kind": "flag_raised",
                "from_state": None,
                "to_state": None,
                "reason": signal.text,
                "data": {
                    "flag_id": flag_id,
                    "flag_kind": _flag_kind(signal),
                    "criterion": signal.criterion_id,
                    "since": signal.since.isoformat(),
                    "as_of": as_of.isoformat(),
                },
            }
            for case, signal, flag_id in raised
        ],
    )
    notices.flags_raised(
        session,
        [
            notices.RaisedFlag(
                case.referral_id,
                flag_id,
                case.assigned_user_id,
                signal.text,
                _deciders(definitions[case.version_id]),
            )
            for case, signal, flag_id in raised
        ],
    )
    # What audit.record would write for the system (the sweep acts as no user), in one statement.
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "user_id": None,
                "action": "create",
                "object_type": "case_flag",
                "object_id": str(flag_id),
                "detail": f"{_flag_kind(signal)} on referral {case.referral_id}",
            }
            for case, signal, flag_id in raised
        ],
    )
    return Counter(_flag_kind(signal) for _, signal in new)


def _deciders(definition: ProgrammeDefinition) -> tuple[str, ...]:
    return definition.escalation.decided_by if definition.escalation is not None else ()


def _flag_kind(signal: Signal) -> str:
    return FLAG_KINDS.get(signal.kind, "non_engagement")
