"""Retention: when a person's record is due for review, and what happens to it then.

Pure: the caller gathers the facts (each case's programme and closing day, each encounter that
led to no case with its day and the programmes that found it not eligible) and the rules (each
programme definition's ``retention`` block, else the configured default). Days are UK dates.

A record is due only once *everything* about the person is past its retention: one open case, or
one recent encounter, keeps the whole record, because anonymising half a person leaves the other
half pointing at them. What governs (and is counted on the review list) is the item whose period
ends last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from divert.rules.dates import add_months

# What is done to a record at review. Anonymisation keeps the monitoring journey rows, so
# published figures for past periods stay as they are; erasure deletes everything, and those
# figures can then change. Erasure is for where the law requires it (DPA 2018 s.47).
ACTIONS = ("anonymise", "erase")
# What governs the review date: a case that closed, an encounter a programme found not
# eligible, or an encounter of someone never referred to any programme.
KINDS = ("case_closed", "not_eligible", "never_referred")

_PERIOD = re.compile(r"^\s*(\d{1,3})\s+(year|years|month|months)\s*$")


class PeriodError(ValueError):
    """A retention period that is not written as 'N years' or 'N months'."""


def parse_period(text: str) -> int:
    """'6 years' or '18 months' as a number of months."""
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None:
        raise PeriodError(f"'{text}' must be written as a number of years or months, e.g. '6 years'")
    count = int(match.group(1))
    return count * 12 if match.group(2).startswith("year") else count


def describe_months(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"{years} year{'' if years == 1 else 's'}"
    return f"{months} month{'' if months == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long a programme keeps a record: after its case closes, and after an encounter it
    found not eligible; and what is done then."""

    review_after_closed_months: int
    not_eligible_months: int
    action: str = "anonymise"


@dataclass(frozen=True, slots=True)
class ClosedCase:
    programme: str
    closed_on: date | None  # None: still open


@dataclass(frozen=True, slots=True)
class UnreferredEncounter:
    """An encounter that led to no case, with the programmes that decided it was not eligible."""

    occurred_on: date
    not_eligible_for: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Due:
    """What is due for a person: on which day, because of what, and what is to be done."""

    due_on: date
    kind: str
    programme: str | None
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class Retention:
    """The rules in force: each programme's own, the default for programmes without one, and the
    period for encounter records of people never referred."""

    programmes: Mapping[str, RetentionRule]
    default: RetentionRule
    never_referred_months: int
    never_referred_action: str = "anonymise"

    def rule(self, programme: str) -> RetentionRule:
        return self.programmes.get(programme, self.default)


def due(
    cases: Iterable[ClosedCase],
    encounters: Iterable[UnreferredEncounter],
    retention: Retention,
    as_of: date,
) -> Due | None:
    """What is due for one person as of ``as_of`` (a UK date), or None while anything is kept."""
    candidates: list[Due] = []
    for case in cases:
        if case.closed_on is None:
            return None
        rule = retention.rule(case.programme)
        months = rule.review_after_closed_months
        candidates.append(
            Due(
                add_months(case.closed_on, months),
                "case_closed",
                case.programme,
                rule.action,
                f"{describe_months(months)} after a {case.programme} case closed on "
                f"{case.closed_on.isoformat()}",
            )
        )
    for encounter in encounters:
        if encounter.not_eligible_for:
            # The longest of the programmes' periods: each one that decided keeps it that long.
            ruled = [(retention.rule(code), code) for code in sorted(encounter.not_eligible_for)]
            rule, code = max(ruled, key=lambda pair: pair[0].not_eligible_months)
            months = rule.not_eligible_months
            candidates.append(
                Due(
                    add_months(encounter.occurred_on, months),
                    "not_eligible",
                    code,
                    rule.action,
                    f"{describe_months(months)} after an encounter on {encounter.occurred_on.isoformat()} "
                    f"not eligible for {code}",
                )
            )
        else:
            months = retention.never_referred_months
            candidates.append(
                Due(
                    add_months(encounter.occurred_on, months),
                    "never_referred",
                    None,
                    retention.never_referred_action,
                    f"{describe_months(months)} after an encounter on {encounter.occurred_on.isoformat()} "
                    "that led to no referral",
                )
            )
    if not candidates:
        return None
    governing = max(candidates, key=lambda c: (c.due_on, KINDS.index(c.kind)))
    if governing.due_on > as_of:
        return None
    # Erase only when every rule that applies says so: one that keeps figures keeps the rows.
    action = "erase" if all(c.action == "erase" for c in candidates) else "anonymise"
    return Due(governing.due_on, governing.kind, governing.programme, action, governing.reason)


# The age bands monitoring reports (monitoring/points.py); a person's date of birth becomes the
# band they were in at each encounter, stored as the band's lowest age.
AGE_FLOORS = (36, 26, 21, 18, 15, 10)


def age_floor(date_of_birth: date | None, on: date) -> int | None:
    """The lowest age of the band the person was in on ``on`` (0 under 10, -1 born after it,
    None without a date of birth): what monitoring needs once the date of birth is gone."""
    if date_of_birth is None:
        return None
    years = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    if years < 0:
        return -1
    return next((floor for floor in AGE_FLOORS if years >= floor), 0)


AGE_BAND_LABELS = {36: "36+", 26: "26–35", 21: "21–25", 18: "18–20", 15: "15–17", 10: "10–14", 0: "Under 10"}


def coarse_district(district: str | None) -> str | None:
    """A postcode district coarsened to its postcode area (its leading letters): 'OX4' -> 'OX'."""
    if not district:
        return None
    letters = re.match(r"^[A-Za-z]{1,2}", district.strip())
    return letters.group(0).upper() if letters else None
