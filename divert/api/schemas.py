"""Request and response bodies. Their JSON Schemas are the OpenAPI document's components.

Field rules reuse the encounter form's patterns and vocabularies, so the API and the page refuse
the same things.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from divert.models.casework import ATTENDANCE, CONTACT_KINDS
from divert.models.encounter import ADMISSIONS, DRUG_CLASSES, SETTINGS
from divert.models.person import GENDERS
from divert.rules import limits
from divert.web.forms.encounter import FACTS, VULNERABILITIES
from divert.web.forms.person import DISTRICT_PATTERN, PNC_PATTERN

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
    if value > date.today():
        raise ValueError("The date must be today or in the past")
    return value


def _plausible_time(value: datetime) -> datetime:
    if value.date() < EARLIEST:
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
# Spelt out because a type checker cannot read a Literal built at run time; a test checks they
# still match the officer's form.
Fact = Literal[
    "lives_in_area", "offended_in_area", "on_court_order", "co_accused", "hate_crime", "domestic_abuse"
]
Vulnerability = Literal["mental_health", "alcohol", "drugs", "homelessness", "care_leaver"]


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


class PersonIn(Body):
    given_name: Name
    family_name: Name
    date_of_birth: PastDate
    pnc_id: Annotated[str, Field(pattern=PNC_PATTERN.pattern)] | None = None
    gender: Literal[GENDERS] = "not_stated"  # type: ignore[valid-type]  # the model's tuple
    self_defined_ethnicity: Code = Field(description="An ethnicity code (self-defined scheme), or NS")
    officer_defined_ethnicity: Code | None = None
    postcode_district: Annotated[str, Field(pattern=DISTRICT_PATTERN.pattern)] | None = None


class EncounterIn(Body):
    occurred_at: Moment = Field(description="When it happened, with a time zone")
    area: Annotated[str, Field(pattern=DISTRICT_PATTERN.pattern)] | None = None
    setting: Literal[SETTINGS]  # type: ignore[valid-type]  # the model's tuple
    offence_category: Code = Field(description="An offence category slug")
    drug_class: Literal[DRUG_CLASSES] | None = None  # type: ignore[valid-type]  # the model's tuple
    drug_type: Annotated[str, Field(max_length=limits.DRUG_TYPE), AfterValidator(_storable)] | None = None
    personal_use: bool | None = Field(None, description="Required for drug offences")
    supply_suspected: bool = False
    admission: Literal[ADMISSIONS]  # type: ignore[valid-type]  # the model's tuple
    facts: list[Fact] = Field(default_factory=list, max_length=len(FACTS))
    vulnerabilities: list[Vulnerability] = Field(default_factory=list, max_length=len(VULNERABILITIES))


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
    offence_category: str
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


class ReferralOut(Out):
    id: int
    reference: str
    programme: str
    person_id: int
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


class StepIn(Body):
    to_state: Code
    reason: Reason = ""
    version: Version = Field(description="The referral's version the client last read")
    exit_reason: Code | None = None


class ContactIn(Body):
    kind: Literal[CONTACT_KINDS]  # type: ignore[valid-type]  # the model's tuple
    scheduled_at: AwareDatetime


class AttendanceIn(Body):
    attendance: Literal[tuple(a for a in ATTENDANCE if a != "scheduled")]  # type: ignore[valid-type]  # recorded outcomes only
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
