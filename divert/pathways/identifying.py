"""Every column that can identify a person, once: what anonymisation clears or coarsens.

Anonymisation (pathways/anonymise.py) walks ``IDENTIFYING`` and nothing else, so a new table that
holds something about a person (contact details for reminders, consent records, ...) is covered
by adding one entry here: the table, how its rows belong to a person (``reach``), and what
happens to each column. ``tests/test_retention_anonymise.py`` searches every text column of
every table for the anonymised person's name, PNC ID and date of birth, so a table left off this
list fails it.

The people table itself (names, date of birth, PNC ID, postcode district) is coarsened by
``anonymise.py`` directly because its values are replaced, not cleared; so are the change
history rows of the person's records and the audit entries that name them.

Kept, deliberately: the encounter's area (the postcode district where it happened, which the
monitoring figures are broken down by, never the person's address), gender and ethnicity (also
monitoring breakdowns), codes (offence, outcome, exit reasons that are a definition's codes) and
dates of what happened (cohorts and rates are by period).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# How a row belongs to a person: its own ``person_id``, an encounter, a case or a contract of
# theirs, or either side of a merge.
REACHES = ("person_id", "encounter_id", "referral_id", "contract_id", "merge")

# What is done to a column.
NULL = "null"  # set to NULL
REMOVED = "removed"  # text that was given becomes REMOVED_TEXT; blank stays blank
JSON_TEXT = "json_text"  # JSON: every string that is not a code or a date becomes REMOVED_TEXT
EXIT_REASON = "exit_reason"  # kept where it is one of a definition's codes, else REMOVED_TEXT
TREATMENTS = (NULL, REMOVED, JSON_TEXT, EXIT_REASON)

# Not blank, so the monitoring breakdowns that count "a reason was given" ("Other (free text)")
# count it still; never a code (codes are lower-case slugs), so never counted as one.
REMOVED_TEXT = "[removed]"
# Keys of JSON values that hold a person's identity outright (decision facts, merge records).
IDENTITY_KEYS = frozenset({"given_name", "family_name", "date_of_birth", "pnc_id", "postcode_district"})


@dataclass(frozen=True, slots=True)
class Identifying:
    table: str
    reach: str
    columns: Mapping[str, str] = field(default_factory=dict)
    # The ``change_history.object_type`` of these rows, whose old and new values of the same
    # columns are removed too (None: the table keeps no field history).
    history: str | None = None
    # Delete the rows outright (contact details: nothing in them is needed once anonymised).
    delete_rows: bool = False


IDENTIFYING: tuple[Identifying, ...] = (
    Identifying(
        "encounters",
        "person_id",
        {"location": REMOVED, "notes": REMOVED, "external_ref": NULL, "drug_type": REMOVED},
        history="encounter",
    ),
    Identifying(
        "decisions",
        "encounter_id",
        {"facts": JSON_TEXT, "reasons": JSON_TEXT, "override_reason": REMOVED},
    ),
    Identifying("referrals", "person_id", {"exit_reason": EXIT_REASON}, history="referral"),
    Identifying("referral_events", "referral_id", {"reason": REMOVED, "data": JSON_TEXT}),
    Identifying(
        "case_contacts", "referral_id", {"missed_reason": REMOVED, "notes": REMOVED}, history="casecontact"
    ),
    Identifying("needs_assessments", "referral_id", {"needs": JSON_TEXT, "summary": REMOVED}),
    Identifying("case_goals", "referral_id", {"placement": REMOVED}, history="casegoal"),
    Identifying("contract_conditions", "contract_id", {"description": REMOVED, "removed_reason": REMOVED}),
    Identifying("case_flags", "referral_id", {"detail": REMOVED, "resolution": REMOVED}),
    Identifying("person_merges", "merge", {"reason": REMOVED, "undo_reason": REMOVED, "moved": JSON_TEXT}),
    # Reminders (issue 18): the participant's contact details and consent go altogether; the
    # messages keep their kind and status (the attendance figures by reminder read them) but lose
    # where they went and what they said; staff notices lose their words.
    Identifying(
        "reminder_consents",
        "referral_id",
        {"phone": NULL, "email": NULL},
        history="reminderconsent",
        delete_rows=True,
    ),
    Identifying(
        "outbox_messages",
        "referral_id",
        {"recipient": REMOVED, "personalisation": JSON_TEXT, "last_error": REMOVED},
    ),
    Identifying("staff_notifications", "referral_id", {"text": REMOVED}),
)

# The person's own columns, coarsened in place; their history values are removed as well.
PERSON_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "pnc_id",
    "postcode_district",
    "restricted_reason",
)
PERSON_HISTORY = "person"
