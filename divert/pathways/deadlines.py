"""What is due on a case and when, from its programme's deadlines (working days skip bank holidays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from divert.app.clock import today, uk_date
from divert.models import CaseContact, Contract, NeedsAssessment, Referral
from divert.pathways.casework import ATTENDED
from divert.rules import BANK_HOLIDAYS, ProgrammeDefinition, deadline_due


@dataclass(frozen=True)
class Due:
    label: str
    due_on: date
    done: bool

    @property
    def status(self) -> str:
        if self.done:
            return "Done"
        return "Overdue" if self.due_on < today() else "Due"


def due_dates(
    case: Referral,
    definition: ProgrammeDefinition,
    contacts: Sequence[CaseContact],
    needs: NeedsAssessment | None,
    contract: Contract | None,
) -> list[Due]:
    """Each deadline that has started, with its date and whether the work that meets it is recorded."""
    attended = [c for c in contacts if c.attendance in ATTENDED]
    starts = {
        "encounter": case.encounter.occurred_at,
        "referral": case.accepted_at,
        "custody_contact": case.accepted_at,
        "first_contact": attended[0].scheduled_at if attended else None,
        "contract_start": contract.starts_on if contract else None,
    }
    # Which recorded work meets a deadline: a first contact or meeting, or the needs assessment.
    met = {
        "first_contact": bool(attended),
        "meeting_outside": bool(attended),
        "needs_assessment": needs is not None,
    }
    out = []
    for deadline in definition.deadlines:
        start = starts.get(deadline.starts)
        if start is None:
            continue
        day = uk_date(start) if isinstance(start, datetime) else start
        out.append(
            Due(deadline.label, deadline_due(deadline, day, BANK_HOLIDAYS), met.get(deadline.id, False))
        )
    if contract is not None:
        out.append(Due("Contract ends", contract.ends_on, case.closed_at is not None))
    return out
