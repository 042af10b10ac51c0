"""The rules' decision for each new row, with the person's history as it stood at the encounter.

History is what the database holds for the person (their record and any merged into it) plus the
file's own earlier rows for them, so a file holding someone's first and second possession decides
the second as a repeat, as recording them one by one would have.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import uk_date
from divert.models import Encounter, Person, Programme, ProgrammeVersion, Referral
from divert.models.programme import compiled
from divert.pathways.facts import DIVERTED_STAGES
from divert.pathways.importing.columns import Problem
from divert.pathways.importing.pathway import CasePlan, plan_case
from divert.pathways.importing.people import PersonRef, chunks
from divert.pathways.importing.reference import routing_only
from divert.pathways.importing.validate import Row
from divert.rules import Decision as RuleDecision
from divert.rules import EncounterFacts, PriorEncounter
from divert.rules.decision import DecisionMemo

Dated = tuple[datetime, int, PriorEncounter]  # (when, tie-break, what)


@dataclass
class LiveCase:
    """A case of the person still open: stored (``referral_id``), or opened by an earlier row."""

    programme_id: int
    occurred_at: datetime
    referral_id: int | None = None
    reference: str | None = None
    row: Decided | None = None


@dataclass
class Decided:
    row: Row
    person: PersonRef
    facts: EncounterFacts
    rules: RuleDecision
    eligible: bool  # what is recorded: the file's answer if it gave one, else the rules'
    route: str | None
    case: CasePlan | None
    # The live case of this row's programme that it is folded into instead of opening a second.
    live_case: LiveCase | None = None
    # The person's live cases this encounter came during: each gets a reoffending review flag.
    during: list[LiveCase] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return self.eligible != self.rules.eligible


def stored_history(session: Session, person_ids: set[int]) -> dict[int, list[Dated]]:
    """Earlier encounters of stored people and records merged into them, as ``pathways.facts`` sees them."""
    owner = {i: i for i in person_ids}
    for part in chunks(sorted(person_ids)):
        for merged, into in session.execute(
            select(Person.id, Person.merged_into_id).where(Person.merged_into_id.in_(part))
        ):
            owner[merged] = into
    encounters: list[tuple[int, int, datetime, str | None]] = []
    for part in chunks(sorted(owner)):
        encounters.extend(
            session.execute(
                select(
                    Encounter.id, Encounter.person_id, Encounter.occurred_at, Encounter.offence_category
                ).where(Encounter.person_id.in_(part))
            ).tuples()
        )
    cases: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for part in chunks([e[0] for e in encounters]):
        for encounter_id, code, state, version_id in session.execute(
            select(Referral.encounter_id, Programme.code, Referral.state, Referral.programme_version_id)
            .join(Programme, Programme.id == Referral.programme_id)
            .where(Referral.encounter_id.in_(part))
        ):
            cases[encounter_id].append((code, state, version_id))
    history: dict[int, list[Dated]] = defaultdict(list)
    for encounter_id, person_id, occurred_at, recorded_offence in encounters:
        offence = recorded_offence or ""
        target = history[owner[person_id]]
        if not cases[encounter_id]:
            target.append((occurred_at, encounter_id, PriorEncounter(uk_date(occurred_at), offence)))
        for code, state, version_id in cases[encounter_id]:
            version = session.get(ProgrammeVersion, version_id)
            assert version is not None
            stage = compiled(version).state(state).stage
            prior = PriorEncounter(uk_date(occurred_at), offence, code, stage in DIVERTED_STAGES, state)
            target.append((occurred_at, encounter_id, prior))
    return history


def stored_live_cases(session: Session, person_ids: set[int]) -> dict[int, list[LiveCase]]:
    """The stored people's live cases (open, and accepted: a place on the programme), with when
    each one's encounter happened."""
    live: dict[int, list[LiveCase]] = defaultdict(list)
    for part in chunks(sorted(person_ids)):
        for referral_id, reference, person_id, programme_id, occurred_at in session.execute(
            select(
                Referral.id,
                Referral.reference,
                Referral.person_id,
                Referral.programme_id,
                Encounter.occurred_at,
            )
            .join(Encounter, Encounter.id == Referral.encounter_id)
            .where(
                Referral.person_id.in_(part),
                Referral.closed_at.is_(None),
                Referral.accepted_at.is_not(None),
            )
            .order_by(Encounter.occurred_at, Referral.id)
        ):
            live[person_id].append(LiveCase(programme_id, occurred_at, referral_id, reference))
    return live


def decide_rows(
    rows: Sequence[tuple[Row, PersonRef]],
    stored: dict[int, list[Dated]],
    live: dict[int, list[LiveCase]] | None = None,
) -> tuple[list[Decided], list[Problem]]:
    """Decide every row in date order per person, each seeing the ones before it.

    As on the officer's form, a person has one live case of a programme at a time (open, and
    accepted): a row that only says the encounter was eligible, for someone with a live case of
    the programme, opens no second case; a row whose case is accepted and left open is a problem,
    since the file then holds two live cases at once. Every row is a new encounter during the
    person's live cases that began before it, which flags them for review.
    """
    by_person: dict[int, list[tuple[Row, PersonRef]]] = defaultdict(list)
    for row, person in rows:
        by_person[id(person)].append((row, person))
    decided: list[Decided] = []
    problems: list[Problem] = []
    memo = DecisionMemo()
    for group in by_person.values():
        group.sort(key=lambda item: (item[0].occurred_at, item[0].number))
        person_id = group[0][1].id
        earlier: list[Dated] = list(stored.get(person_id, [])) if person_id is not None else []
        open_cases: list[LiveCase] = list((live or {}).get(person_id, [])) if person_id is not None else []
        for row, person in group:
            history = sorted((d for d in earlier if d[0] < row.occurred_at), key=lambda d: (d[0], d[1]))
            outcome = _decide(row, person, tuple(d[2] for d in history), memo)
            if isinstance(outcome, Problem):
                problems.append(outcome)
                continue
            outcome.during = [c for c in open_cases if c.occurred_at <= row.occurred_at]
            same = next((c for c in open_cases if c.programme_id == row.version.programme_id), None)
            if outcome.case is not None and same is not None:
                if "accepted_at" in outcome.case.milestones and outcome.case.closed_at is None:
                    problems.append(_second_live_case(row, same))
                    continue
                if not outcome.case.steps:
                    outcome.case, outcome.live_case = None, same
            decided.append(outcome)
            earlier.append((row.occurred_at, -row.number, _as_prior(outcome)))
            if (
                outcome.case is not None
                and outcome.case.closed_at is None
                and "accepted_at" in outcome.case.milestones
            ):
                open_cases.append(LiveCase(row.version.programme_id, row.occurred_at, row=outcome))
    decided.sort(key=lambda d: d.row.number)
    return decided, problems


def live_case_named(case: LiveCase) -> str:
    return (
        f"case {case.reference}"
        if case.reference
        else f"the case of row {case.row.row.number if case.row else '?'}"
    )


def _second_live_case(row: Row, same: LiveCase) -> Problem:
    return Problem(
        row.number,
        "offered",
        f"The person's {live_case_named(same)} in this programme is still open, and this row would open a "
        "second one beside it. Leave offered and the later columns blank to record the encounter against "
        "the open case, or complete or escalate the earlier case first",
    )


def _decide(
    row: Row, person: PersonRef, history: tuple[PriorEncounter, ...], memo: DecisionMemo
) -> Decided | Problem:
    facts = EncounterFacts(
        occurred_on=uk_date(row.occurred_at),
        offence_category=row.offence,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        setting=row.setting,
        drug_class=row.drug_class,
        personal_use=row.personal_use,
        supply_suspected=row.supply_suspected,
        admission=row.admission,
        history=history,
    )
    definition = compiled(row.version)
    # Decided in bulk: rows with the same fact values share one decision (rules/decision.py).
    rules = memo.decide(definition, facts)
    eligible = rules.eligible if row.eligible is None else row.eligible
    route = rules.route
    if eligible and route is None:
        route = memo.decide(routing_only(row.version), facts).route
    if not eligible:
        if row.offered is not None:
            failed = next((r.text for r in rules.reasons if not r.passed), "")
            return Problem(
                row.number,
                "offered",
                f"The rules found this encounter not eligible for {definition.name} ({failed}). "
                "Leave offered and the later columns blank, or enter eligible as true",
            )
        return Decided(row, person, facts, rules, False, None, None)
    case = plan_case(definition, route, row)
    if isinstance(case, Problem):
        return case
    return Decided(row, person, facts, rules, True, route, case)


_FACT_FIELDS = tuple(f.name for f in fields(EncounterFacts) if f.name not in {"vulnerabilities", "history"})
_PRIOR_FIELDS = tuple(f.name for f in fields(PriorEncounter))


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def stored_facts(facts: EncounterFacts) -> dict[str, Any]:
    """``pathways.facts.facts_to_dict``, without its deep copy and JSON round trip per row.

    Done for every row, that round trip was a noticeable share of an import; a test holds the two
    equal.
    """
    # The date test inline, not a call per field: this runs for every field of every row.
    out: dict[str, Any] = {
        name: value.isoformat() if isinstance(value := getattr(facts, name), date) else value
        for name in _FACT_FIELDS
    }
    out["vulnerabilities"] = sorted(facts.vulnerabilities)
    out["history"] = [{name: _plain(getattr(p, name)) for name in _PRIOR_FIELDS} for p in facts.history]
    # As facts_to_dict: answers to declared questions only when some were given.
    if facts.answers:
        out["answers"] = [[name, value] for name, value in facts.answers]
    else:
        out.pop("answers", None)
    return out


def _as_prior(decided: Decided) -> PriorEncounter:
    row = decided.row
    if decided.case is None:
        return PriorEncounter(uk_date(row.occurred_at), row.offence)
    stage = compiled(row.version).state(decided.case.state).stage
    return PriorEncounter(
        uk_date(row.occurred_at), row.offence, row.programme, stage in DIVERTED_STAGES, decided.case.state
    )
