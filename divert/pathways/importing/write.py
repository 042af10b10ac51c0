"""Writing checked rows with bulk inserts, a few thousand rows a statement.

Per-row ORM flushes would take minutes for a large file, so rows go in as Core-level bulk inserts.
Those bypass the session hooks that write field-level change history (``models/guards.py``), so
the import as a whole is audited instead (see ``operation.py``), and every case's timeline still
says it came from the file.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Table, bindparam, insert, or_, select, text, update
from sqlalchemy.orm import Session

from divert.app.clock import uk_date
from divert.models import (
    CaseFlag,
    Decision,
    Encounter,
    EncounterJourney,
    Person,
    Programme,
    ProgrammeJourney,
    ProgrammeOperator,
    Referral,
    ReferralEvent,
    ReferralParty,
)
from divert.models.person import normalise_name
from divert.models.programme import compiled
from divert.monitoring import journeys
from divert.pathways.cases import acting_organisations, reference_for, reoffending_detail
from divert.pathways.importing.history import Decided, live_case_named, stored_facts
from divert.pathways.importing.stages import Stages
from divert.rules import ProgrammeDefinition
from divert.rules.definition import (
    DECISION_ROUTE,
    DIVERTED_AGAIN,
    FORMAL_OUTCOME,
    IMPORTED_OVERRIDE,
    decision_milestones,
)

CHUNK_ROWS = 5000


@dataclass
class Written:
    people: int = 0
    encounters: int = 0
    decisions: int = 0
    cases: int = 0


class Writer:
    def __init__(
        self,
        session: Session,
        organisation_id: int,
        actor_id: int | None,
        source: str,
        now: datetime,
        stages: Stages | None = None,
    ):
        self.session = session
        self.stages = stages or Stages()
        self.organisation_id = organisation_id
        self.actor_id = actor_id
        self.source = source
        self.now = now
        self.written = Written()
        self._receivers: dict[tuple[int, str, str | None, int], list[int]] = {}
        self._boundaries: dict[int, list[date]] = {}
        self._names: dict[str, str] = {}
        # The referral each row opened and the encounter of each row that came during a live case.
        self._referral_ids: dict[int, int] = {}
        self._encounter_ids: dict[int, int] = {}
        # People this import created, as written (an import never changes a person afterwards):
        # their journey rows' person columns are worked out here. Those of people already on
        # record are filled from the stored record (``refresh_people``) at the end.
        self._created_people: dict[int, dict[str, Any]] = {}
        self._journey_people: set[int] = set()

    def write(self, rows: Sequence[Decided], progress: Callable[[int], None]) -> Written:
        stage = self.stages
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            with stage("write people"):
                self._people(chunk)
            with stage("write encounters"):
                encounters = [self._encounter(d) for d in chunk]
                encounter_ids = self._insert(Encounter, encounters)
            with stage("write decisions"):
                decision_ids, effective = self._decisions(chunk, encounter_ids)
            with stage("write cases"):
                cases = self._cases(chunk, encounter_ids, decision_ids)
            self._encounter_ids.update(
                (id(d), e) for d, e in zip(chunk, encounter_ids, strict=True) if d.during
            )
            # Core inserts pass the session hook by, so the monitoring rows are written here, from
            # the rows just written (not read back); the encounters are all new, so only inserted.
            with stage("write journey rows"):
                self._journeys(chunk, encounter_ids, encounters, effective, cases)
            progress(len(chunk))
        # After every chunk: a row may come during a case that a later chunk's row opened.
        with stage("write flags"):
            self._flag_live_cases([d for d in rows if d.during])
        # What the journey rows copy from each person already on record (ethnicity, gender, age),
        # from the record as stored, not the file's spelling of them. Set-based, once.
        if self._journey_people:
            with stage("write journey rows"):
                journeys.refresh_people(self.session.connection(), self._journey_people)
        if rows and self.session.get_bind().dialect.name == "postgresql":
            with stage("analyze"):
                self._analyze()
        return self.written

    def _analyze(self) -> None:
        """Fresh planner statistics for the tables the import wrote to.

        After a bulk load the planner still thinks these tables are as small as before, and has
        no statistics for a force new to them, so it picks plans (an organisation-wide index scan
        to find references) that take minutes on a large file; autovacuum would notice only later.
        Analysing only the tables grown by a tenth (autovacuum's threshold) saves 3-6 s of an
        import into a national database, but what goes stale is the new force's rows, whatever
        the table's size; a re-import measured slower without it, on a machine too loaded to be
        sure (docs/benchmarks.md). The statistics commit with us.
        """
        for model in _ANALYZED:
            self.session.execute(text(f"ANALYZE {_table(model).name}"))

    def _journeys(
        self,
        chunk: Sequence[Decided],
        encounter_ids: list[int],
        encounters: list[dict[str, Any]],
        decisions: list[dict[str, Any]],
        cases: dict[int, dict[str, Any]],
    ) -> None:
        """Each encounter's journey rows (monitoring/journeys.py), from its effective decision and
        the case the row opened. A row folded into a live case opened none for its encounter, as
        recording it on the form would not."""
        programme_rows = []
        for i, (decided, encounter_id) in enumerate(zip(chunk, encounter_ids, strict=True)):
            person = self._created_people.get(encounters[i]["person_id"])
            row = journeys.programme_row(
                encounter_id,
                encounters[i],
                decisions[i],
                decided.row.version.programme_id,
                cases.get(i),
                person,
            )
            if row is not None:
                programme_rows.append(row)
                if person is None:
                    self._journey_people.add(row["person_id"])
        self._insert(ProgrammeJourney, programme_rows, ids=False)
        self._insert(EncounterJourney, journeys.encounter_rows(programme_rows), ids=False)

    def _insert(self, model: Any, rows: list[dict[str, Any]], *, ids: bool = True) -> list[int]:
        """Insert rows (all with the same keys) and return their new ids, in order."""
        if not rows:
            return []
        table = _table(model)
        if self.session.get_bind().dialect.name == "postgresql":
            return self._copy(table, rows, ids=ids)
        # The table, not the mapped class: ORM bulk inserts leave out None values, so rows that
        # differ in which columns are empty would go one statement each.
        if not ids:
            self.session.execute(insert(table), rows)
            return []
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.session.scalars(statement, rows))

    def _copy(self, table: Table, rows: list[dict[str, Any]], *, ids: bool) -> list[int]:
        """PostgreSQL's COPY: far faster than batched INSERTs for a large file (docs/benchmarks.md).

        The ids are taken from the table's sequence first, which is safe beside other writers (a
        sequence never hands out a number twice), so no RETURNING is needed. COPY bypasses
        SQLAlchemy's type handling, so JSON values are serialised here.
        """
        new_ids = (
            list(
                self.session.scalars(
                    text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                    {"table": table.name, "n": len(rows)},
                )
            )
            if ids
            else []
        )
        columns = list(rows[0])
        missing = [c.name for c in table.columns if c.default is not None and c.name not in {*columns, "id"}]
        if missing:  # COPY would store NULL where an INSERT gives the column's default
            raise ValueError(f"{table.name}: give {', '.join(missing)} explicitly")
        json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
        names = ", ".join([*columns, "id"] if ids else columns)
        driver: Any = self.session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            # By position, worked out once: this loop runs for every row of every table.
            encoded = [i for i, c in enumerate(columns) if c in json_columns]
            for position, row in enumerate(rows):
                values = [row[c] for c in columns]
                for i in encoded:
                    values[i] = json.dumps(values[i])
                if ids:
                    values.append(new_ids[position])
                copy.write_row(values)
        return new_ids

    def _stamps(self) -> dict[str, Any]:
        return {"created_at": self.now, "updated_at": self.now, "version_id": 1}

    def _people(self, chunk: Sequence[Decided]) -> None:
        new = []
        for decided in chunk:
            ref = decided.person
            if ref.id is None and ref.row is decided.row:  # created by this, its first row
                new.append(ref)
        rows = []
        for ref in new:
            row = ref.row
            assert row is not None
            rows.append(
                {
                    "organisation_id": self.organisation_id,
                    "given_name": row.forenames,
                    "family_name": row.surname,
                    "given_name_key": self._name_key(row.forenames),
                    "family_name_key": self._name_key(row.surname),
                    "date_of_birth": row.date_of_birth,
                    "pnc_id": row.pnc_id,
                    "gender": row.gender,
                    "self_defined_ethnicity": row.self_defined_ethnicity,
                    "officer_defined_ethnicity": row.officer_defined_ethnicity,
                    "postcode_district": row.postcode_district,
                    "restricted_reason": "",  # not restricted (issue 17)
                    **self._stamps(),
                }
            )
        for ref, person_id, written in zip(new, self._insert(Person, rows), rows, strict=True):
            ref.id = person_id
            self._created_people[person_id] = written
        self.written.people += len(new)

    def _name_key(self, name: str) -> str:
        """``normalise_name``, once per distinct name in the file (surnames repeat). Held by this
        writer only, so no name outlives the import in the process's memory."""
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = normalise_name(name)
        return found

    def _encounter(self, decided: Decided) -> dict[str, Any]:
        row = decided.row
        assert decided.person.id is not None
        return {
            "person_id": decided.person.id,
            "occurred_at": row.occurred_at,
            "location": "",
            "area": row.area,
            # The file holds no answers to questions a definition declares (issue 14).
            "declared_facts": {},
            "setting": row.setting,
            "officer_id": None,
            "organisation_id": self.organisation_id,
            "offence_category": row.offence,
            "drug_class": row.drug_class,
            "personal_use": row.personal_use,
            "supply_suspected": row.supply_suspected,
            "admission": row.admission,
            "vulnerabilities": [],
            "external_ref": row.ref,
            # Not in the file. Given here because COPY applies no Python-side column defaults.
            "offence_date": None,
            "drug_type": None,
            "hate_crime": False,
            "domestic_abuse": False,
            "lives_in_area": None,
            "offended_in_area": None,
            "on_court_order": False,
            "co_accused": False,
            "notes": "",
            "submission_key": None,
            **self._stamps(),
        }

    def _decision(self, decided: Decided, encounter_id: int, *, recorded: bool) -> dict[str, Any]:
        reasons = decided.rules.to_dict()["reasons"]
        eligible, route = decided.rules.eligible, decided.rules.route
        if recorded:
            eligible, route = decided.eligible, decided.route
            said = "eligible" if eligible else "not eligible"
            reasons = [
                *reasons,
                {"rule_id": "import", "text": f"Recorded as {said} in the imported file", "passed": eligible},
            ]
        if decided.live_case is not None and (recorded or not decided.overridden):
            reasons = [
                *reasons,
                {
                    "rule_id": "live_case",
                    "text": f"Already in the programme ({live_case_named(decided.live_case)}, still open): "
                    "no second case is opened, and that case's team is asked to review it.",
                    "passed": True,
                },
            ]
        return {
            "encounter_id": encounter_id,
            "programme_version_id": decided.row.version.id,
            "eligible": eligible,
            "route": route,
            "reasons": reasons,
            "facts": stored_facts(decided.facts),
            "decided_at": self.now,
            "decided_by_id": self.actor_id,
            "overrides_id": None,
            "override_reason": "",
            "override_reason_code": None,
            "in_population": decided.rules.in_population,
        }

    def _decisions(
        self, chunk: Sequence[Decided], encounter_ids: list[int]
    ) -> tuple[list[int], list[dict[str, Any]]]:
        """The decision each case follows: the rules', or an override recording the file's answer
        (its id and the row written for it, by the chunk's row)."""
        first = [
            self._decision(d, e, recorded=d.row.eligible is not None and not d.overridden)
            for d, e in zip(chunk, encounter_ids, strict=True)
        ]
        ids = self._insert(Decision, first)
        # Where the file disagrees with the rules both are kept, as a supervisor's override would be.
        overridden = [i for i, d in enumerate(chunk) if d.overridden]
        overrides = []
        for i in overridden:
            override = self._decision(chunk[i], encounter_ids[i], recorded=True)
            overrides.append(
                override
                | {
                    "overrides_id": ids[i],
                    "override_reason": "Imported record",
                    # Not anyone's words: the file said so. Monitoring names it (breakdowns.py).
                    "override_reason_code": IMPORTED_OVERRIDE,
                }
            )
        effective = list(first)
        for i, override_id, override in zip(
            overridden, self._insert(Decision, overrides), overrides, strict=True
        ):
            ids[i] = override_id
            effective[i] = override
        self.written.decisions += len(first) + len(overrides)
        return ids, effective

    def _cases(
        self, chunk: Sequence[Decided], encounter_ids: list[int], decision_ids: list[int]
    ) -> dict[int, dict[str, Any]]:
        """Write the cases the rows open; the row written for each, by the chunk's row."""
        positions = [i for i, d in enumerate(chunk) if d.case is not None]
        opened = [(chunk[i], encounter_ids[i], decision_ids[i]) for i in positions]
        rows = []
        for decided, encounter_id, decision_id in opened:
            case, row = decided.case, decided.row
            assert case is not None
            reached = case.milestones  # a property that builds a dict: once per case, not per column
            rows.append(
                {
                    "reference": reference_for(row.programme, encounter_id),
                    "person_id": decided.person.id,
                    "encounter_id": encounter_id,
                    "programme_id": row.version.programme_id,
                    "programme_version_id": row.version.id,
                    "state": case.state,
                    "route": decided.route,
                    "assigned_user_id": None,
                    "opened_at": row.occurred_at,
                    "closed_at": case.closed_at,
                    "outcome_code": case.outcome_code,
                    "decision_id": decision_id,
                    "exit_reason": case.exit_reason,
                    **{m: reached.get(m) for m in _MILESTONES},
                    **{m: None for m in _DECISION_MILESTONES} | _decision_milestones(decided),
                    **self._stamps(),
                }
            )
        referral_ids = self._insert(Referral, rows)
        parties, events = [], []
        for (decided, _, decision_id), referral_id in zip(opened, referral_ids, strict=True):
            self._referral_ids[id(decided)] = referral_id
            parties.extend(self._parties(decided, referral_id))
            events.extend(self._events(decided, referral_id, decision_id))
        if parties:
            self._insert(ReferralParty, parties, ids=False)
        if events:
            self._insert(ReferralEvent, events, ids=False)
        self.written.cases += len(rows)
        return dict(zip(positions, rows, strict=True))

    def _parties(self, decided: Decided, referral_id: int) -> list[dict[str, Any]]:
        """The recording force, and every organisation whose roles act on a state the case was in,
        as recording the case one step at a time makes them (``cases.acting_organisations``): a
        DIVERT case still "eligible" has the coaches as party, who make the offer."""
        case, row = decided.case, decided.row
        assert case is not None
        # Assignments have effective dates: the receivers are the ones on the encounter's UK date.
        on = uk_date(row.occurred_at)
        programme_id = row.version.programme_id
        states = [case.eligible_state, *(step.to_state for step in case.steps)]
        receivers: list[int] = []
        period = self._period(programme_id, on)
        for state in dict.fromkeys(states):
            key = (row.version.id, state, decided.route, period)
            if key not in self._receivers:
                programme = self.session.get(Programme, programme_id)
                assert programme is not None
                self._receivers[key] = acting_organisations(
                    self.session, programme, compiled(row.version), state, decided.route, on
                )
            receivers.extend(r for r in self._receivers[key] if r not in receivers)
        out = [{"referral_id": referral_id, "organisation_id": self.organisation_id, "role": "police"}]
        out.extend(
            {"referral_id": referral_id, "organisation_id": receiver, "role": "receiving"}
            for receiver in receivers
            if receiver != self.organisation_id
        )
        return out

    def _period(self, programme_id: int, on: date) -> int:
        """Which stretch of days, between the dates a receiving assignment of the programme starts or
        ends, ``on`` falls in: the same assignments hold on every day of one stretch, so the
        receivers found for one day of it (``acting_organisations``) hold for all of them, and a
        file of three years asks a few times, not once per day."""
        if programme_id not in self._boundaries:
            days: set[date] = set()
            for starts, ends in self.session.execute(
                select(ProgrammeOperator.effective_from, ProgrammeOperator.effective_to).where(
                    ProgrammeOperator.programme_id == programme_id, ProgrammeOperator.role == "receiving"
                )
            ):
                if starts is not None:
                    days.add(starts)
                if ends is not None:
                    days.add(ends + timedelta(days=1))  # ``effective_to`` is the last day it holds
            self._boundaries[programme_id] = sorted(days)
        return bisect.bisect_right(self._boundaries[programme_id], on)

    def _flag_live_cases(self, rows: Sequence[Decided]) -> None:
        """A reoffending review flag on each live case a row's encounter came during, as the form
        raises (``cases.raise_reoffending_flag``), and the re-arrest DIVERT counts."""
        flags: list[dict[str, Any]] = []
        for decided in rows:
            encounter_id = self._encounter_ids[id(decided)]
            for case in decided.during:
                referral_id = case.referral_id or self._referral_ids.get(id(case.row))
                if referral_id is None:
                    continue
                flags.append(
                    {
                        "referral_id": referral_id,
                        "kind": "reoffending_review",
                        "key": f"reoffending:{encounter_id}",
                        "detail": reoffending_detail(uk_date(decided.row.occurred_at), decided.row.offence),
                        "raised_at": self.now,
                        "due_on": uk_date(self.now),
                        "assigned_to_id": None,
                        "resolved_at": None,
                        "resolved_by_id": None,
                        "resolution": "",
                        "_at": decided.row.occurred_at,
                        "_encounter": encounter_id,
                    }
                )
        if not flags:
            return
        stored = [{k: v for k, v in f.items() if not k.startswith("_")} for f in flags]
        flag_ids = self._insert(CaseFlag, stored)
        self._insert(
            ReferralEvent,
            [
                {
                    "referral_id": f["referral_id"],
                    "occurred_at": self.now,
                    "recorded_at": self.now,
                    "actor_id": self.actor_id,
                    "kind": "flag_raised",
                    "from_state": None,
                    "to_state": None,
                    "reason": f["detail"],
                    "data": {
                        "flag_id": flag_id,
                        "flag_kind": "reoffending_review",
                        "encounter_id": f["_encounter"],
                        "import": self.source,
                    },
                }
                for f, flag_id in zip(flags, flag_ids, strict=True)
            ],
            ids=False,
        )
        # The first new encounter while each case was open (the earliest, whatever the row order),
        # unless the case was re-arrested earlier still: one statement for every case.
        first: dict[int, datetime] = {}
        for f in flags:
            if f["referral_id"] not in first or f["_at"] < first[f["referral_id"]]:
                first[f["referral_id"]] = f["_at"]
        referrals = _table(Referral)
        self.session.execute(
            update(referrals)
            .where(
                referrals.c.id == bindparam("referral"),
                or_(referrals.c.rearrested_at.is_(None), referrals.c.rearrested_at > bindparam("at")),
            )
            .values(rearrested_at=bindparam("at")),
            [{"referral": referral_id, "at": at} for referral_id, at in sorted(first.items())],
        )

    def _events(self, decided: Decided, referral_id: int, decision_id: int) -> list[dict[str, Any]]:
        case, row = decided.case, decided.row
        assert case is not None
        origin = {"import": self.source, "row": row.number}
        common = {"referral_id": referral_id, "recorded_at": self.now, "actor_id": self.actor_id}
        reasons = decided.rules.reasons if not decided.overridden else ()
        events = [
            common
            | {
                "occurred_at": row.occurred_at,
                "kind": "decision",
                "from_state": case.initial_state,
                "to_state": case.eligible_state,
                "reason": " ".join(r.text for r in reasons if r.passed)
                or "Recorded as eligible in the imported file",
                "data": {"decision_id": decision_id, "route": decided.route, **origin},
                "reason_code": None,
            }
        ]
        state = case.eligible_state
        definition = compiled(row.version)
        for step in case.steps:
            data = origin | ({"milestone": step.milestone} if step.milestone else {})
            if reached := list(_milestones_of(definition, state, step.to_state)):
                data["decision_milestones"] = reached
            events.append(
                common
                | {
                    "occurred_at": step.at,
                    "kind": "import",
                    "from_state": state,
                    "to_state": step.to_state,
                    "reason": step.reason or f"Imported from {self.source}, row {row.number}",
                    "reason_code": step.reason_code,
                    "data": data,
                }
            )
            state = step.to_state
        return events


# The tables an import grows, whose statistics its own later queries (and a re-import's) plan on.
_ANALYZED = (
    Person,
    Encounter,
    Decision,
    Referral,
    ReferralParty,
    ReferralEvent,
    ProgrammeJourney,
    EncounterJourney,
)
_MILESTONES = ("offered_at", "accepted_at", "engaged_at", "completed_at", "escalated_at")
_DECISION_MILESTONES = (DECISION_ROUTE, DIVERTED_AGAIN, FORMAL_OUTCOME)


def _decision_milestones(decided: Decided) -> dict[str, datetime]:
    """When the file's steps first reached each of the case's decision milestones (as ``_move``)."""
    case = decided.case
    assert case is not None
    definition = compiled(decided.row.version)
    reached: dict[str, datetime] = {}
    state = case.eligible_state
    for step in case.steps:
        for milestone in _milestones_of(definition, state, step.to_state):
            reached.setdefault(milestone, step.at)
        state = step.to_state
    return reached


_REACHED: dict[tuple[int, str, str], tuple[ProgrammeDefinition, tuple[str, ...]]] = {}


def _milestones_of(definition: ProgrammeDefinition, from_state: str, to_state: str) -> tuple[str, ...]:
    """``decision_milestones``, worked out once per step of a definition: it walks the definition's
    routes each time, and an import asks it several times for every case. The definition is held
    beside its answer, so its id is never another's while the entry lives."""
    key = (id(definition), from_state, to_state)
    found = _REACHED.get(key)
    if found is None or found[0] is not definition:
        found = _REACHED[key] = (definition, decision_milestones(definition, from_state, to_state))
    return found[1]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table
