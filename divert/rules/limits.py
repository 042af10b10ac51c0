"""How long each kind of free text may be, in one place, so the forms, the API, the import and the
operations refuse the same things.

Names and codes are ``String(n)`` columns and these match them; notes and reasons are ``Text`` columns,
which have no length of their own, so these limits are what keeps one request from storing megabytes.
Pure: no Flask, no database.
"""

from __future__ import annotations

NAME = 100  # given and family names: String(100)
EMAIL = 254
USER_NAME = 200  # a member of staff's full name, or an API token's name: String(200)
PASSWORD = 200
CODE = 60  # reference-data codes and slugs
DRUG_TYPE = 80
PNC_ID = 20  # longer than any PNC ID, so a pasted one is checked by pattern, not cut off
DISTRICT = 10
TIME = 10
SHORT_REASON = 500  # an offer's reason, a missed appointment's reason, an import's not-offered reason
REASON = 1000  # a step, override, correction, merge, reallocation or variation reason
CONDITION = 500  # a contract condition's description
NOTES = 2000  # attendance notes, a condition's progress note
NOTE = 4000  # a case note
SUMMARY = 5000  # a needs assessment's summary
# The most any single text value may hold, whatever field it is: the base form and the API apply it
# to fields that have no tighter limit of their own (hidden fields, query strings).
ANY_TEXT = 10_000

# Ids are 32-bit integer columns on every database we run on; a larger one is not an id of ours.
MAX_ID = 2**31 - 1


def too_long(label: str, limit: int) -> str:
    """The GOV.UK message for a value over its limit, e.g. 'Summary must be 5,000 characters or fewer'."""
    return f"{label} must be {limit:,} characters or fewer"


def unstorable(label: str) -> str:
    return f"{label} must not contain control characters such as NUL"


def text_problem(label: str, value: str | None, limit: int) -> str | None:
    """What is wrong with a free-text value, or None: too long, or holding a character no database
    column can store (PostgreSQL text refuses NUL; a lone surrogate cannot be encoded)."""
    if not value:
        return None
    if len(value) > limit:
        return too_long(label, limit)
    if "\x00" in value:
        return unstorable(label)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{label} must be valid text"
    return None
