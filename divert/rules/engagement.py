"""Non-engagement signals: flags for a person to look at, never actions.

The brief is explicit that non-engagement escalates only "as a recorded decision by a person, with room to try
again"; nothing here changes a case, it only says which of the programme's criteria are met.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta

from divert.rules.dates import add_duration, add_working_days
from divert.rules.definition import Deadline, NonEngagementCriterion, ProgrammeDefinition

SESSION_STATUSES = frozenset({"attended", "late", "missed"})
# Attendance that counts as having come (late still came).
ATTENDED_STATUSES = frozenset({"attended", "late"})
# Criteria a recorded attendance can meet on the spot; the others depend on the calendar (the sweep).
EVENT_KINDS = frozenset({"missed_sessions", "late_sessions"})


@dataclass(frozen=True, slots=True)
class SessionRecord:
    on: date
    status: str
    # An acceptable reason (illness, a clash the service agreed) means a missed session is not counted.
    acceptable_reason: bool = False


@dataclass(frozen=True, slots=True)
class CaseFacts:
    referred_on: date | None = None
    first_contact_on: date | None = None
    encounter_on: date | None = None
    custody_contact_on: date | None = None
    sessions: tuple[SessionRecord, ...] = ()
    contract_start: date | None = None
    # The contract's final day; when absent it is worked out from the programme's contract length.
    contract_end: date | None = None
    completed: bool = False


@dataclass(frozen=True, slots=True)
class Signal:
    criterion_id: str
    kind: str
    text: str
    since: date


def deadline_due(deadline: Deadline, start: date, holidays: Container[date] = frozenset()) -> date:
    if deadline.working_days is not None:
        return add_working_days(start, deadline.working_days, holidays)
    if deadline.duration is not None:
        return add_duration(start, deadline.duration.amount, deadline.duration.unit)
    return start + timedelta(days=deadline.days or 0)


def contract_end(definition: ProgrammeDefinition, case: CaseFacts) -> date | None:
    if case.contract_end is not None:
        return case.contract_end
    if case.contract_start is None or definition.contract is None:
        return None
    length = definition.contract.length
    return add_duration(case.contract_start, length.amount, length.unit)


def non_engagement_signals(
    definition: ProgrammeDefinition, case: CaseFacts, as_of: date, holidays: Container[date] = frozenset()
) -> list[Signal]:
    if case.completed:
        return []
    signals = []
    for criterion in definition.non_engagement:
        since = _met_since(definition, criterion, case, as_of, holidays)
        if since is not None:
            signals.append(Signal(criterion.id, criterion.kind, criterion.text, since))
    return signals


def _met_since(
    definition: ProgrammeDefinition,
    criterion: NonEngagementCriterion,
    case: CaseFacts,
    as_of: date,
    holidays: Container[date],
) -> date | None:
    if criterion.kind in ("missed_sessions", "late_sessions"):
        status = "missed" if criterion.kind == "missed_sessions" else "late"
        counted = sorted(
            s.on for s in case.sessions if s.status == status and not s.acceptable_reason and s.on <= as_of
        )
        threshold = criterion.threshold or 1
        return counted[threshold - 1] if len(counted) >= threshold else None
    if criterion.kind == "no_first_contact":
        deadline = definition.deadline(criterion.deadline or "")
        start = _event_date(deadline.starts, case)
        if start is None:
            return None
        due = deadline_due(deadline, start, holidays)
        contacted = case.first_contact_on is not None and case.first_contact_on <= as_of
        return due + timedelta(days=1) if as_of > due and not contacted else None
    if criterion.kind == "contract_expired":
        end = contract_end(definition, case)
        return end + timedelta(days=1) if end is not None and as_of > end else None
    raise ValueError(f"unknown non-engagement kind {criterion.kind!r}")


def _event_date(event: str, case: CaseFacts) -> date | None:
    return {
        "referral": case.referred_on,
        "first_contact": case.first_contact_on,
        "encounter": case.encounter_on,
        "custody_contact": case.custody_contact_on,
        "contract_start": case.contract_start,
    }.get(event)
