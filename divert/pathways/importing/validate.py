"""Checking each row on its own: formats, codes, and whether its milestones make sense together.

Every problem in a row is collected (not only the first), each naming its column and saying what
to do in GOV.UK style, so a file can be fixed in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from divert.app.clock import LONDON, uk_date
from divert.models.programme import ProgrammeVersion, compiled
from divert.pathways.importing.columns import Problem
from divert.pathways.importing.parse import RawRow
from divert.pathways.importing.reference import Reference
from divert.rules import codes
from divert.rules.codes import ADMISSIONS, DRUG_CLASSES, GENDERS, SETTINGS
from divert.rules.definition import reason_codes

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
# What each column is called in a sentence.
NOUNS = {
    "encounter_ref": "encounter reference",
    "occurred_at": "date and time of the encounter",
    "programme": "programme",
    "forenames": "forenames",
    "surname": "surname",
    "date_of_birth": "date of birth",
    "engaged_on": "date engaged",
    "completed_on": "date completed",
    "escalated_on": "date escalated",
    "closed_on": "date closed",
    "not_offered_reason": "reason for not offering diversion",
}
LATER = ("accepted", "engaged_on", "completed_on", "escalated_on", "outcome_code", "closed_on")


@dataclass(frozen=True)
class Row:
    """One row, typed and checked on its own."""

    number: int
    ref: str
    occurred_at: datetime  # UTC
    programme: str
    version: ProgrammeVersion
    pnc_id: str | None
    forenames: str
    surname: str
    date_of_birth: date | None
    gender: str
    self_defined_ethnicity: str
    officer_defined_ethnicity: str | None
    postcode_district: str | None
    area: str | None
    setting: str
    offence: str
    drug_class: str | None
    personal_use: bool | None
    supply_suspected: bool
    admission: str
    eligible: bool | None
    offered: bool | None
    not_offered_reason: str
    # The programme's reason code for not offered or declined (None: no reason given).
    reason_code: str | None
    accepted: bool | None
    engaged_on: date | None
    completed_on: date | None
    escalated_on: date | None
    outcome_code: int | None
    closed_on: date | None


def check_rows(
    raw: Sequence[RawRow], reference: Reference, today: date, first_seen: dict[str, int] | None = None
) -> tuple[list[Row], list[Problem]]:
    """Typed rows and every problem; ``first_seen`` carries references across calls made in chunks."""
    rows, problems = [], []
    first_seen = {} if first_seen is None else first_seen
    for raw_row in raw:
        checker = _RowChecker(raw_row, reference, today)
        row = checker.row()
        ref = raw_row.values["encounter_ref"]
        if ref in first_seen:
            problems.append(
                Problem(
                    raw_row.number,
                    "encounter_ref",
                    f"Encounter reference {ref} is also on row {first_seen[ref]}",
                )
            )
            row = None
        elif ref:
            first_seen[ref] = raw_row.number
        problems.extend(checker.problems)
        if row is not None:
            rows.append(row)
    return rows, problems


class _RowChecker:
    def __init__(self, raw: RawRow, reference: Reference, today: date) -> None:
        self.values = raw.values
        self.number = raw.number
        self.reference = reference
        self.today = today
        self.problems: list[Problem] = []

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))

    # ---- single values -----------------------------------------------------------------------

    def text(self, column: str, max_length: int, *, required: bool = False) -> str:
        value = self.values[column]
        if required and not value:
            self.problem(column, f"Enter the {NOUNS[column]}")
        elif len(value) > max_length:
            self.problem(column, f"The {NOUNS[column]} must be {max_length} characters or fewer")
        return value

    def choice(
        self, column: str, options: tuple[str, ...] | frozenset[str], default: str | None
    ) -> str | None:
        value = self.values[column]
        if not value:
            if default is None and column in {"setting", "offence"}:
                self.problem(column, f"Enter the {column}: one of {_listed(options)}")
            return default
        if value not in options:
            self.problem(column, f"{codes.label(column)} must be one of {_listed(options)}")
            return default
        return value

    def boolean(self, column: str) -> bool | None:
        value = self.values[column].lower()
        if not value:
            return None
        if value not in {"true", "false"}:
            self.problem(column, f"Enter {column} as true or false")
            return None
        return value == "true"

    def reason_code(self, version: ProgrammeVersion | None) -> str | None:
        """The version's code for not offered (offered is false) or declined, as the pages take it."""
        value = self.values.get("reason_code", "")
        if not value or version is None:
            return None
        kind = "not_offered" if self.values["offered"].lower() == "false" else "declined"
        choices = reason_codes(compiled(version), kind)
        if value not in {c.code for c in choices}:
            self.problem("reason_code", "Enter a reason code: one of " + ", ".join(c.code for c in choices))
            return None
        return value

    def day(self, column: str, example: str) -> date | None:
        value = self.values[column]
        if not value:
            return None
        if not _DATE.fullmatch(value):
            self.problem(column, f"Enter a {NOUNS[column]} in the format {example}")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.problem(column, f"The {NOUNS[column]} must be a real date")
            return None
        if parsed > self.today:
            self.problem(column, f"The {NOUNS[column]} must be today or in the past")
            return None
        return parsed

    def timestamp(self, column: str) -> datetime | None:
        value = self.values[column]
        if not value:
            self.problem(column, f"Enter the {NOUNS[column]}")
            return None
        try:
            if not _TIMESTAMP.fullmatch(value):
                raise ValueError(value)
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.problem(
                column,
                f"Enter the {NOUNS[column]} in the format 2024-03-01T14:30 (UK time) "
                "or 2024-03-01T14:30Z (UTC)",
            )
            return None
        # Without an offset the time is as a person in England and Wales would read it.
        parsed = parsed.replace(tzinfo=LONDON) if parsed.tzinfo is None else parsed
        if uk_date(parsed) > self.today:
            self.problem(column, f"The {NOUNS[column]} must be today or in the past")
            return None
        return parsed.astimezone(UTC)

    def checked(self, column: str, check: Callable[[str], str]) -> str | None:
        """A value of one of the vocabulary's kinds, checked as the pages and the API check it."""
        value = self.values[column]
        if not value:
            return None
        try:
            return check(value)
        except codes.InvalidValue as error:
            self.problem(column, str(error))
            return None

    def outcome(self) -> int | None:
        value = self.values["outcome_code"]
        if not value:
            return None
        if not value.isdigit() or int(value) not in self.reference.outcome_codes:
            self.problem("outcome_code", "Enter a Home Office outcome code, a whole number from 0 to 22")
            return None
        return int(value)

    def version(self, code: str, occurred_at: datetime | None) -> ProgrammeVersion | None:
        if not code:
            self.problem("programme", f"Enter the programme: one of {_listed(self.reference.programmes)}")
            return None
        info = self.reference.programmes.get(code)
        if info is None:
            self.problem("programme", f"Programme must be one of {_listed(self.reference.programmes)}")
            return None
        if occurred_at is None:
            return None
        version = info.in_force(uk_date(occurred_at))
        if version is None:
            first = min(v.effective_from for v in info.versions) if info.versions else None
            since = f"; it starts on {first.isoformat()}" if first else ""
            self.problem(
                "programme", f"{info.programme.name} was not in force on {uk_date(occurred_at)}{since}"
            )
        return version

    # ---- the row -----------------------------------------------------------------------------

    def row(self) -> Row | None:
        ref = self.text("encounter_ref", 80, required=True)
        occurred_at = self.timestamp("occurred_at")
        version = self.version(self.values["programme"], occurred_at)
        pnc = self.checked("pnc_id", codes.pnc_id)
        forenames = self.text("forenames", 100, required=True)
        surname = self.text("surname", 100, required=True)
        dob = self.day("date_of_birth", "2009-05-01")
        if dob and occurred_at and dob >= uk_date(occurred_at):
            self.problem("date_of_birth", "The date of birth must be before the encounter")
        setting = self.choice("setting", SETTINGS, None)
        offence = self.choice("offence", self.reference.offences, None)
        fields = {
            "gender": self.choice("gender", GENDERS, "not_stated"),
            "self_defined_ethnicity": self.choice(
                "self_defined_ethnicity", self.reference.self_defined, "NS"
            ),
            "officer_defined_ethnicity": self.choice(
                "officer_defined_ethnicity", self.reference.officer_defined, None
            ),
            "postcode_district": self.checked("postcode_district", codes.postcode_district),
            "area": self.checked("area", codes.postcode_district),
            "drug_class": self.choice("drug_class", DRUG_CLASSES, None),
            "personal_use": self.boolean("personal_use"),
            "supply_suspected": bool(self.boolean("supply_suspected")),
            "admission": self.choice("admission", ADMISSIONS, "not_asked"),
            "eligible": self.boolean("eligible"),
            "offered": self.boolean("offered"),
            "not_offered_reason": self.text("not_offered_reason", 500),
            "reason_code": self.reason_code(version),
            "accepted": self.boolean("accepted"),
            "engaged_on": self.day("engaged_on", "2024-05-01"),
            "completed_on": self.day("completed_on", "2024-06-01"),
            "escalated_on": self.day("escalated_on", "2024-06-01"),
            "outcome_code": self.outcome(),
            "closed_on": self.day("closed_on", "2024-06-01"),
        }
        if occurred_at is not None:
            self.check_journey(uk_date(occurred_at), fields)
        if self.problems or occurred_at is None or version is None or setting is None or offence is None:
            return None
        return Row(
            number=self.number,
            ref=ref,
            occurred_at=occurred_at,
            programme=self.values["programme"],
            version=version,
            pnc_id=pnc,
            forenames=forenames,
            surname=surname,
            date_of_birth=dob,
            setting=setting,
            offence=offence,
            **fields,  # type: ignore[arg-type]  # each value was checked by its own helper above
        )

    def check_journey(self, occurred_on: date, f: Mapping[str, object]) -> None:
        """The pathway columns must tell one possible story, in date order."""
        given = {c for c in ("offered", "not_offered_reason", *LATER) if self.values[c]}
        # The first answer that ends the journey, and the columns that may still be filled after it.
        allowed: set[str]
        if f["eligible"] is False:
            stop, allowed = "when eligible is false", set()
        elif f["offered"] is None:
            stop, allowed = "unless offered is true", set()
        elif f["offered"] is False:
            stop, allowed = "when offered is false", {"offered", "not_offered_reason", "closed_on"}
        elif f["accepted"] is not True:
            stop, allowed = "unless accepted is true", {"offered", "accepted", "closed_on"}
        else:
            stop, allowed = "", set(given) - {"not_offered_reason"}
        for column in sorted(given - allowed, key=("offered", "not_offered_reason", *LATER).index):
            self.problem(column, f"Leave {column} blank {stop or 'when offered is true'}")
        if self.values.get("reason_code") and f["offered"] is not False and f["accepted"] is not False:
            self.problem("reason_code", "Leave reason_code blank unless offered or accepted is false")
        if f["offered"] is False and not f["not_offered_reason"] and not f["reason_code"]:
            self.problem("not_offered_reason", "Enter the reason the person was not offered diversion")
        if f["accepted"] is True and f["completed_on"] and f["escalated_on"]:
            self.problem(
                "escalated_on", "A case cannot be both completed and escalated; leave one date blank"
            )
        ended = f["completed_on"] or f["escalated_on"]
        if f["accepted"] is True and f["outcome_code"] is not None and not ended:
            self.problem(
                "outcome_code", "Leave outcome_code blank unless the case was completed or escalated"
            )
        if f["accepted"] is True and f["closed_on"] and not ended:
            self.problem(
                "closed_on",
                "Enter the date completed or escalated, or leave closed_on blank while the case is open",
            )
        if f["offered"] is True and f["accepted"] is None and f["closed_on"]:
            self.problem("closed_on", "Leave closed_on blank while the offer is open, or enter accepted")
        self.check_order(occurred_on, f)

    def check_order(self, occurred_on: date, f: Mapping[str, object]) -> None:
        engaged = f["engaged_on"]
        for column in ("engaged_on", "completed_on", "escalated_on", "closed_on"):
            value = f[column]
            if isinstance(value, date) and value < occurred_on:
                self.problem(column, f"The {NOUNS[column]} must be on or after the encounter ({occurred_on})")
            elif (
                isinstance(value, date)
                and isinstance(engaged, date)
                and column != "engaged_on"
                and value < engaged
            ):
                self.problem(column, f"The {NOUNS[column]} must be on or after the date engaged ({engaged})")
        closed, ended = f["closed_on"], f["completed_on"] or f["escalated_on"]
        if isinstance(closed, date) and isinstance(ended, date) and closed < ended:
            self.problem("closed_on", f"The date closed must be on or after {ended}, when the case ended")


def _listed(options: Iterable[object]) -> str:
    names = sorted(str(o) for o in options)
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
