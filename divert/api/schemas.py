"""Request and response bodies. Their JSON Schemas are the OpenAPI document's components.

Field rules use the rules vocabulary's codes and validators, as the pages and the import do, so the
API refuses the same things.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from divert.app.clock import today, uk_date
from divert.rules import codes, limits

EARLIEST = date(1900, 1, 1)


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: refuse both as 422.
    if "\x00" in value:
        raise ValueError("Text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode") from None
    return value


def _plausible_date(value: date) -> date:
    if value < EARLIEST:
        raise ValueError(f"Enter a date after {EARLIEST.isoformat()}")
    if value > today():
        raise ValueError("The date must be today or in the past")
    return value


def _plausible_time(value: datetime) -> datetime:
    if uk_date(value) < EARLIEST:
        raise ValueError(f"Enter a time after {EARLIEST.isoformat()}")
    if value > datetime.now(UTC):
        raise ValueError("The time must be now or in the past")
    return value


# Every string a body carries is one of these (or a pattern or a fixed choice), so each has a length
# limit from divert.rules.limits (the forms' and the import's) and refuses NUL.
Name = Annotated[str, Field(min_length=1, max_length=limits.NAME), AfterValidator(_storable)]
Reason = Annotated[str, Field(max_length=limits.REASON), AfterValidator(_storable)]
ShortReason = Annotated[str, Field(max_length=limits.SHORT_REASON), AfterValidator(_storable)]
Notes = Annotated[str, Field(max_length=limits.NOTES), AfterValidator(_storable)]
PastDate = Annotated[date, AfterValidator(_plausible_date)]
Moment = Annotated[AwareDatetime, AfterValidator(_plausible_time)]
Code = Annotated[str, Field(min_length=1, max_length=limits.CODE), AfterValidator(_storable)]
Version = Annotated[int, Field(ge=0, le=limits.MAX_ID)]
# The vocabulary's validators normalise ("ox4" is OX4) and say what to enter; the pattern is documented.
PncId = Annotated[
    str,
    Field(max_length=20, description="A PNC ID, like 12/345678A"),
    AfterValidator(codes.pnc_id),
]
District = Annotated[
    str,
    Field(max_length=10, description="The first half of a postcode, like OX4"),
    AfterValidator(codes.postcode_district),
]


class Body(BaseModel):
    # Unknown fields are refused, so a misspelt optional field is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    pass


# --- Programmes -------------------------------------------------------------------------------


class ProgrammeOut(Out):
    code: str
    name: str
    description: str


class ProgrammeList(Out):
    programmes: list[ProgrammeOut]


# --- Encounters -------------------------------------------------------------------------------


# A fact a programme definition declares for itself (``rules/declared.py``).
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class PersonIn(Body):
    given_name: Name
    family_name: Name
    date_of_birth: PastDate
    pnc_id: PncId | None = None
    gender: codes.Gender = "not_stated"
    self_defined_ethnicity: Code = Field(description="An ethnicity code (self-defined scheme), or NS")
    officer_defined_ethnicity: Code | None = None
    postcode_district: District | None = None


class EncounterIn(Body):
    occurred_at: Moment = Field(description="When it happened, with a time zone")
    area: District | None = None
    setting: codes.Setting
    offence_category: Code = Field(description="An offence category slug")
    drug_class: codes.DrugClass | None = None
    drug_type: Annotated[str, Field(max_length=limits.DRUG_TYPE), AfterValidator(_storable)] | None = None
    personal_use: bool | None = Field(None, description="Required for drug offences")
    supply_suspected: bool = False
    admission: codes.Admission
    facts: list[codes.Fact] = Field(default_factory=list, max_length=len(codes.FACTS))
    vulnerabilities: list[codes.Vulnerability] = Field(
        default_factory=list, max_length=len(codes.VULNERABILITIES)
    )
    answers: dict[FactName, bool | int | Annotated[str, Field(max_length=limits.CODE)]] = Field(
        default_factory=dict,
        max_length=50,
        description="Answers to the questions the programmes your organisation runs declare, by fact name",
    )


class RecordEncounter(Body):
    person: PersonIn
    encounter: EncounterIn


class DecisionOut(Out):
    programme: str
    programme_name: str
    decision_id: int
    eligible: bool
    route: str | None
    reasons: list[dict[str, Any]]
    case_id: int | None
    case_reference: str | None


class RecordedEncounter(Out):
    encounter_id: int
    person_id: int
    existing_person: bool
    decisions: list[DecisionOut]


class EncounterOut(Out):
    id: int
    occurred_at: datetime
    setting: str
    offence_category: str | None
    area: str | None
    decisions: list[DecisionOut]


class EncounterList(Out):
    person_id: int
    encounters: list[EncounterOut]


# --- Referrals --------------------------------------------------------------------------------


class EventOut(Out):
    id: int
    kind: str
    occurred_at: datetime
    from_state: str | None
    to_state: str | None
    reason: str
    # The programme's reason code for a not-offered or declined step (issue 13); None otherwise.
    reason_code: str | None = None
    data: dict[str, Any]


class StepOut(Out):
    to_state: str
    label: str
    reason_required: bool


class ContactOut(Out):
    id: int
    kind: str
    scheduled_at: datetime
    attendance: str
    version: int


class DueOut(Out):
    kind: str
    detail: str
    due_on: date | None


class ConsentOut(Out):
    id: int
    kind: str
    organisation_id: int | None
    given_at: datetime
    withdrawn_at: datetime | None


class ReferralOut(Out):
    id: int
    reference: str
    programme: str
    # None where the reader's sharing agreement does not share identity (issue 17).
    person_id: int | None
    state: str
    state_name: str
    route: str | None
    version: int
    opened_at: datetime
    closed_at: datetime | None
    exit_reason: str | None
    milestones: dict[str, datetime | None]
    due: list[DueOut]
    next_steps: list[StepOut]
    contacts: list[ContactOut]
    events: list[EventOut]
    # What the reader's organisation is shown of the case under its sharing agreements (issue 17),
    # and the participant's consent where the programme asks for it.
    shared: list[str] = Field(default_factory=list)
    consents: list[ConsentOut] = Field(default_factory=list)


class StepIn(Body):
    to_state: Code
    reason: Reason = ""
    version: Version = Field(description="The referral's version the client last read")
    exit_reason: Code | None = None
    # Issue 13: into a not-offered or declined state, the programme's reason code (its definition's
    # reason_codes, or "other"); ``reason`` is then optional and stays on the case.
    reason_code: Code | None = Field(
        default=None,
        description="For a not-offered or declined step: one of the programme's reason codes, or 'other'",
    )


class ContactIn(Body):
    kind: codes.ContactKind
    scheduled_at: AwareDatetime


class AttendanceIn(Body):
    attendance: codes.RecordedAttendance
    missed_reason: ShortReason = ""
    reason_acceptable: bool | None = None
    notes: Notes = ""
    version: Version = Field(description="The contact's version the client last read")


# --- Subject access ---------------------------------------------------------------------------


class SubjectAccessExport(Out):
    """Everything held on one person. Nested records are given as stored."""

    person: dict[str, Any]
    encounters: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    referrals: list[dict[str, Any]]
    change_history: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    audit_log: list[dict[str, Any]]
