"""Migration 0018 on a database that holds data: the words recorded before codes existed become
"other", each case's decision milestones are filled from its timeline, and the journey rows are
rebuilt; all exactly as the app itself keeps them (a downgrade to 0016 and back must change nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from divert import session_factory
from divert.app import migrate
from divert.models import Decision, EncounterJourney, ProgrammeJourney, Referral, ReferralEvent
from divert.pathways.cases import offer, override_decision, transition
from divert.seeding.reference import load_reference_data

from ..database import scratch_database
from ..factories import create_encounter, create_person
from ..pathways.helpers import ELIGIBLE, open_case, police_force, refer, staff
from . import dataset

JUNE = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)


def _snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    def rows(*columns: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in connection.execute(select(*columns).order_by(*columns))]

    return {
        "journeys": rows(*ProgrammeJourney.__table__.c),
        "encounters": rows(*EncounterJourney.__table__.c),
        "events": rows(ReferralEvent.id, ReferralEvent.reason_code),
        # The pinned dataset writes its overrides as rows, without a code; monitoring counts those
        # words as "other", which is what the migration stores.
        "overrides": [
            (i, code or ("other" if overrides and reason.strip() else None))
            for i, code, overrides, reason in rows(
                Decision.id, Decision.override_reason_code, Decision.overrides_id, Decision.override_reason
            )
        ],
        "milestones": rows(
            Referral.id, Referral.decision_route_at, Referral.diverted_again_at, Referral.formal_outcome_at
        ),
    }


def _yju_cases(session: Session) -> None:
    force = police_force(session)
    officer, yju = staff(session, "officer", force), staff(session, "yju_decision_maker", force)
    supervisor = staff(session, "supervisor", force)
    decided = []
    for n in range(3):
        person = create_person(session, family_name=f"Repeat{n}", **ELIGIBLE["tvp-youth-drugs"][0])
        create_encounter(session, person, force, occurred_at=datetime(2025, 6, 1, tzinfo=UTC))
        decided.append(
            refer(
                session,
                officer,
                open_case(session, "tvp-youth-drugs", officer, person=person, occurred_at=JUNE),
            )
        )
    transition(session, yju, decided[0], "referred_yot", "Divert again")
    transition(session, yju, decided[1], "youth_caution", "Caution")
    # Words only, as every reason was before codes: the app codes them "other".
    not_offered = open_case(session, "tvp-adult-drugs", officer)
    offer(session, officer, not_offered, False, "Jo Bloggs, 1 Elm Rd")
    case = open_case(session, "tvp-adult-drugs", officer)
    decision = session.get(Decision, case.decision_id)
    assert decision is not None
    override_decision(session, supervisor, decision, eligible=False, route=None, reason="Typed words")


def test_0018_codes_old_reasons_fills_milestones_and_rebuilds_as_the_app_does(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "reasons") as (_, engine):
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            load_reference_data(session)
            dataset.load(session)
            _yju_cases(session)
            session.commit()
        with engine.connect() as connection:
            kept = _snapshot(connection)
        assert {code for _, code in kept["overrides"]} >= {"other"}
        assert any(code == "other" for _, code in kept["events"])
        assert any(route for _, route, _, _ in kept["milestones"])
        formal = [c.name for c in ProgrammeJourney.__table__.c].index("decision_formal")
        assert any(row[formal] for row in kept["journeys"])  # a decision maker's formal outcome
        migrate.downgrade(engine, "0016")
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert _snapshot(connection) == kept
