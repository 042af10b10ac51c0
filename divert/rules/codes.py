"""The domain's codes, the words for them, and one validator per kind of typed-in value.

Forms, API schemas and the import all take their choices from here and check identifiers, postcode
districts and times through the same functions, so a value one of them accepts the others accept too,
and every page, error and export says the same words for a code.

The code sets are ``Literal`` types first because the API's schemas and the type checker need them as
types; the tuples are read from the types, so there is one spelling of each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import time
from typing import Literal, get_args

# --- Codes and their labels ----------------------------------------------------------------------

Gender = Literal["male", "female", "other", "not_stated"]
GENDERS: tuple[str, ...] = get_args(Gender)
GENDER_LABELS = {"male": "Male", "female": "Female", "other": "Other", "not_stated": "Not stated"}

Setting = Literal["street", "custody", "community"]
SETTINGS: tuple[str, ...] = get_args(Setting)
SETTING_LABELS = {"street": "Street", "custody": "Custody", "community": "Community"}

Admission = Literal["admitted", "no_comment", "denied", "not_asked"]
ADMISSIONS: tuple[str, ...] = get_args(Admission)
ADMISSION_LABELS = {
    "admitted": "Admitted the offence",
    "no_comment": "No comment",
    "denied": "Denied the offence",
    "not_asked": "Not asked",
}

DrugClass = Literal["A", "B", "C"]
DRUG_CLASSES: tuple[str, ...] = get_args(DrugClass)
DRUG_CLASS_LABELS = {code: f"Class {code}" for code in DRUG_CLASSES}
# Offence categories are reference data a force may extend; these two are the ones the encounter
# questions about drugs depend on.
DRUG_OFFENCES = frozenset({"drug_possession", "drug_supply"})

# The yes-or-no facts an officer ticks on the encounter form.
Fact = Literal[
    "lives_in_area", "offended_in_area", "on_court_order", "co_accused", "hate_crime", "domestic_abuse"
]
FACTS: tuple[str, ...] = get_args(Fact)
FACT_LABELS = {
    "lives_in_area": "Lives in the force area",
    "offended_in_area": "Offence was in the force area",
    "on_court_order": "On a court order, suspended sentence or conditional discharge",
    "co_accused": "Has a co-accused",
    "hate_crime": "Hate crime aggravation",
    "domestic_abuse": "Domestic abuse aggravation",
}

Vulnerability = Literal["mental_health", "alcohol", "drugs", "homelessness", "care_leaver"]
VULNERABILITIES: tuple[str, ...] = get_args(Vulnerability)
VULNERABILITY_LABELS = {
    "mental_health": "Mental health",
    "alcohol": "Alcohol",
    "drugs": "Drugs",
    "homelessness": "Homelessness",
    "care_leaver": "Care leaver",
}

# The pathway areas in the product brief; a programme's contract options replace them where it has any.
NEED_AREAS = (
    "alcohol",
    "drugs",
    "housing",
    "mental_health",
    "physical_health",
    "finances",
    "employment",
    "relationships",
    "exploitation",
)
NEED_LEVELS = ("low", "medium", "high")

ContactKind = Literal["contact", "session", "meeting"]
CONTACT_KINDS: tuple[str, ...] = get_args(ContactKind)
Attendance = Literal["scheduled", "attended", "late", "missed", "cancelled"]
ATTENDANCE: tuple[str, ...] = get_args(Attendance)
# What can be recorded after the appointment: "scheduled" is only where it starts.
RecordedAttendance = Literal["attended", "late", "missed", "cancelled"]
RECORDED_ATTENDANCE: tuple[str, ...] = get_args(RecordedAttendance)
ATTENDANCE_LABELS = {
    "scheduled": "Scheduled",
    "attended": "Attended",
    "late": "Attended late",
    "missed": "Missed",
    "cancelled": "Cancelled",
}
# A new encounter while a case is live asks its team to review the case (a Checkpoint contract's
# "do not reoffend"), the same as a missed session asks them to look: a person decides what follows.
FLAG_KINDS = ("non_engagement", "first_contact_overdue", "contract_expired", "reoffending_review")

# Who brought someone to a programme when no officer did: DIVERT takes self-referrals, a friend's
# or family member's referral, and referrals from the DIVERT app's on-call youth worker.
REFERRAL_SOURCE_LABELS = {
    "self": "Self-referral",
    "friend_family": "A friend or family member",
    "app_youth_worker": "DIVERT app on-call youth worker",
}
REFERRAL_SOURCES: tuple[str, ...] = tuple(REFERRAL_SOURCE_LABELS)
# A goal's kind and how its placement stands; a placement started in the first three is "into EET".
GOAL_KIND_LABELS = {
    "education": "Education",
    "training": "Training",
    "employment": "Employment",
    "programme": "Programme",
}
GOAL_KINDS: tuple[str, ...] = tuple(GOAL_KIND_LABELS)
EET_KINDS = frozenset({"education", "training", "employment"})
GOAL_STATUS_LABELS = {
    "planned": "Planned",
    "started": "Started",
    "completed": "Completed",
    "dropped": "Dropped",
}
GOAL_STATUSES: tuple[str, ...] = tuple(GOAL_STATUS_LABELS)
# Who may read a note or an assessment: the team working the case, or also the referring force.
VISIBILITY_LABELS = {
    "team": "Working team only",
    "shared": "Shared with the referring force",
}
VISIBILITIES: tuple[str, ...] = tuple(VISIBILITY_LABELS)

ROLE_LABELS = {
    "officer": "Police officer",
    "yot_caseworker": "YOT caseworker",
    "yju_decision_maker": "Youth Justice Unit decision maker",
    "navigator": "Checkpoint navigator",
    "coach": "Custody intervention coach",
    "supervisor": "Supervisor",
    "analyst": "Analyst",
    "admin": "Administrator",
}

# The kinds of organisation an installation holds. ``service`` is the installation's operator:
# its administrators are the system administrators, who create the other organisations.
ORGANISATION_KIND_LABELS = {
    "police_force": "Police force",
    "yot": "Youth Offending Team",
    "yju": "Youth Justice Unit",
    "provider": "Support provider",
    "pcc": "Police and Crime Commissioner",
    "scrutiny": "Scrutiny panel",
    "service": "Service operator",
}
ORGANISATION_KINDS = tuple(ORGANISATION_KIND_LABELS)

_LABELS: dict[str, str] = {
    **GENDER_LABELS,
    **SETTING_LABELS,
    **ADMISSION_LABELS,
    **FACT_LABELS,
    **VULNERABILITY_LABELS,
    **ATTENDANCE_LABELS,
    **ROLE_LABELS,
    **ORGANISATION_KIND_LABELS,
    **REFERRAL_SOURCE_LABELS,
    **GOAL_KIND_LABELS,
    **GOAL_STATUS_LABELS,
    **VISIBILITY_LABELS,
    # Field names, shown in change histories and import errors.
    "pnc_id": "PNC ID",
    "postcode_district": "Postcode district",
    "date_of_birth": "Date of birth",
    "given_name": "First name",
    "family_name": "Last name",
    "self_defined_ethnicity": "Ethnicity (self-defined)",
    "officer_defined_ethnicity": "Ethnicity (officer-defined)",
    "first_contact_overdue": "First contact overdue",
    "non_engagement": "Non-engagement",
    "reoffending_review": "Reoffending review",
}
# Role labels are names ("Youth Justice Unit decision maker"), so they keep their capitals mid-sentence.
_NAMES = frozenset(ROLE_LABELS)


def learn_labels(labels: Mapping[str, str]) -> None:
    """Labels a programme definition declares (its roles, issue 14), so ``label`` words them as the
    definition does; a built-in label is never replaced."""
    for code, text in labels.items():
        _LABELS.setdefault(code, text)


def label(code: str | None) -> str:
    """The words for a code, as a page shows them: "Youth Justice Unit decision maker", "Mental health".

    Codes without a label of their own (a programme's drop-out reasons or pathways, audit actions) are
    written out from the code, so "moved_away" reads "Moved away".
    """
    if not code:
        return "Not recorded"
    known = _LABELS.get(code)
    if known is not None:
        return known
    written = words(code)
    return written[:1].upper() + written[1:]


_SEPARATORS = re.compile(r"[_\-\s]+")


def words(code: str) -> str:
    """A code written out as it is, without its label: "no_comment" is "no comment".

    For values inside administrator-written sentences ("Interview recorded as {admission}"), whose
    wording was chosen around the bare value.
    """
    return " ".join(part for part in _SEPARATORS.split(code) if part)


def phrase(code: str) -> str:
    """A code's label for the middle of a sentence: "the mental health need", "your role (YOT caseworker)"."""
    text = label(code)
    first = text.split(" ", 1)[0]
    if code in _NAMES or (len(first) > 1 and first.isupper()):
        return text
    return text[:1].lower() + text[1:]


def listed(codes: Iterable[str]) -> str:
    """Codes as a list in a sentence: "housing, mental health or drugs"."""
    words = [phrase(code) for code in codes]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)


# --- Validators ----------------------------------------------------------------------------------


class InvalidValue(ValueError):
    """A typed-in value that is not of its kind; the message says what to enter, in GOV.UK style.

    A ``ValueError``, so pydantic reports it as a field problem without an adapter.
    """


# Two or four digit year, a slash, up to seven digits and a check letter (e.g. 12/345678A).
PNC_PATTERN = re.compile(r"^\d{2}(\d{2})?/\d{1,7}[A-Z]$")
# The outward code: one or two letters, a digit, and an optional letter or digit (OX4, SW1A, M1).
DISTRICT_PATTERN = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")

PNC_ID_MESSAGE = "Enter a PNC ID in the correct format, like 12/345678A"
DISTRICT_MESSAGE = "Enter the first half of a postcode, like OX4"
TIME_MESSAGE = "Enter a time in the 24-hour clock, like 14:30"


def pnc_id(value: str) -> str:
    """A Police National Computer ID in capitals, as the PNC prints it."""
    cleaned = value.strip().upper()
    if not PNC_PATTERN.match(cleaned):
        raise InvalidValue(PNC_ID_MESSAGE)
    return cleaned


def postcode_district(value: str) -> str:
    """The first half of a postcode, in capitals without spaces ("ox 4" is OX4)."""
    cleaned = value.replace(" ", "").upper()
    if not DISTRICT_PATTERN.match(cleaned):
        raise InvalidValue(DISTRICT_MESSAGE)
    return cleaned


def time_of_day(value: str) -> time:
    """A time on the 24-hour clock, with a colon or a dot: "14:30", "9.05"."""
    match = TIME_PATTERN.match(value.strip())
    if match is None:
        raise InvalidValue(TIME_MESSAGE)
    return time(int(match.group(1)), int(match.group(2)))
