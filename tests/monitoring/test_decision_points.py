"""The decision points after the offer: the route to the Youth Justice Unit, its decision (divert
again or a formal outcome), each over its base; and formal outcomes by the definition's rule, so an
ending with no outcome code (version 1's "formal outcome", an escalation) is counted too."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from divert.models import Referral, User
from divert.monitoring.points import BY_NAME
from divert.monitoring.query import Scope, count_points
from divert.pathways.cases import correct_last_step, transition
from divert.pathways.programmes import PROGRAMMES_DIR
from divert.rules import load_directory
from divert.rules.definition import decision_route_entries, is_formal_outcome

from ..factories import create_encounter, create_person
from ..pathways.helpers import ELIGIBLE, open_case, police_force, refer, repeat_possession, staff

YOUTH = "tvp-youth-drugs"
JUNE = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)
_names = itertools.count(1)
POINTS = ("accepted", "decision_route", "diverted_again", "decision_formal", "formal_outcome")


def _totals(session: Session, programme: str | None = YOUTH) -> dict[str, int]:
    totals = dict.fromkeys(POINTS, 0)
    for r in count_points(session, Scope("gender", "year", programme)):
        for name in POINTS:
            totals[name] += r.counts[name]
    return totals


def test_each_new_point_has_its_base() -> None:
    assert BY_NAME["decision_route"].base == "accepted"
    assert BY_NAME["diverted_again"].base == "decision_route"
    assert BY_NAME["decision_formal"].base == "decision_route"


def test_formal_endings_by_the_definitions_rule_in_every_shipped_version() -> None:
    formal = {
        (d.code, d.version): sorted(s.id for s in d.states if is_formal_outcome(d, s))
        for d in load_directory(PROGRAMMES_DIR)
    }
    assert formal[(YOUTH, 1)] == ["escalated", "formal_outcome"]  # no outcome code on either
    assert formal[(YOUTH, 3)] == ["charged", "escalated", "youth_caution"]
    assert formal[(YOUTH, 4)] == ["charged", "escalated", "youth_caution"]  # said by the flag
    assert formal[("checkpoint-plus", 1)] == ["returned_to_officer"]
    assert formal[("divert", 1)] == []  # it never changes the criminal case
    routes = {(d.code, d.version): decision_route_entries(d) for d in load_directory(PROGRAMMES_DIR)}
    assert routes[(YOUTH, 1)] == {"awaiting_yju"} and routes[("tvp-adult-drugs", 2)] == set()


def test_the_yju_route_and_its_decisions_are_counted(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    yju = staff(db_session, "yju_decision_maker", force)
    # Version 2 (from April 2026), whose YJU records which formal outcome it chose.
    first = refer(db_session, officer, open_case(db_session, YOUTH, officer, occurred_at=JUNE))  # to the YOT
    again, charged, waiting = (
        refer(db_session, officer, _repeat(db_session, officer, JUNE)) for _ in range(3)
    )
    assert (first.route, again.route, charged.route, waiting.route) == ("yot", "yju", "yju", "yju")
    transition(db_session, yju, again, "referred_yot", "Divert again: first repeat")
    transition(db_session, yju, charged, "charged", "Third possession in a month")
    assert _totals(db_session) == {
        "accepted": 4,
        "decision_route": 3,
        "diverted_again": 1,
        "decision_formal": 1,
        "formal_outcome": 1,
    }
    assert _totals(db_session, None)["decision_route"] == 3  # all programmes together too
    # A correction undoes the decision it corrects.
    supervisor = staff(db_session, "supervisor", force)
    correct_last_step(db_session, supervisor, charged, "Recorded against the wrong case")
    assert _totals(db_session)["decision_formal"] == 0 and _totals(db_session)["formal_outcome"] == 0


def test_version_1s_formal_outcome_without_a_code_counts(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    yju = staff(db_session, "yju_decision_maker", force)
    # Before 1 April 2026: version 1, whose YJU ending records no outcome code.
    case = refer(db_session, officer, repeat_possession(db_session, officer))
    assert case.programme_version.version == 1
    transition(db_session, yju, case, "formal_outcome", "Formal outcome pursued")
    assert case.outcome_code is None
    assert _totals(db_session)["formal_outcome"] == 1
    assert _totals(db_session)["decision_formal"] == 1


def _repeat(session: Session, officer: User, when: datetime) -> Referral:
    """A youth case on ``when`` with an earlier possession on record: the YJU decides."""
    person_fields, _ = ELIGIBLE[YOUTH]
    person = create_person(session, family_name=f"Earlier{when:%j}{next(_names)}", **person_fields)
    create_encounter(session, person, officer.organisation, occurred_at=datetime(2025, 6, 1, tzinfo=UTC))
    return open_case(session, YOUTH, officer, person=person, occurred_at=when)
