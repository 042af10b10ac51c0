"""The bulk import works out the monitoring journey rows in the same pass as the cases, and decides
rows with a memo of whole decisions; both must give exactly what the slow, obvious way gives."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from divert.models import Decision, EncounterJourney, ProgrammeJourney, ProgrammeVersion
from divert.models.programme import compiled
from divert.monitoring import journeys
from divert.pathways.importing import import_file
from divert.pathways.programmes import sync_definitions
from divert.rules import EncounterFacts, PriorEncounter, decide
from divert.rules.decision import DecisionMemo

from ..factories import create_organisation, create_user
from .helpers import SAMPLE, row, to_csv


@pytest.fixture
def admin(db_session: Session, make_user: Any) -> Any:
    sync_definitions(db_session)
    return make_user("admin")


def _snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__tablename__: [
            tuple(r)
            for r in connection.execute(
                select(model.__table__).order_by(*model.__table__.primary_key.columns)
            )
        ]
        for model in (ProgrammeJourney, EncounterJourney)
    }


def _varied_rows(count: int, seed: int = 7) -> list[dict[str, str]]:
    """Rows reaching every point the file can say: not offered, declined, engaged, completed,
    escalated, overridden either way, repeats of one person, and encounters during a live case."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    rows = []
    live: set[tuple[int, str]] = set()
    for i in range(count):
        person = rng.randrange(count // 3)
        programme = rng.choice(["tvp-youth-drugs", "tvp-adult-drugs", "divert"])
        born = {"tvp-youth-drugs": 2009, "tvp-adult-drugs": 1990, "divert": 2004}[programme]
        when = date(2024, 1, 1) + timedelta(days=rng.randrange(600), minutes=rng.randrange(1440))
        values = {
            "encounter_ref": f"V-{i}",
            "occurred_at": f"{when.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}",
            "programme": programme,
            "pnc_id": f"24/{person:06d}A" if person % 2 else "",
            "forenames": f"Given{person}",
            "surname": f"Family{person}",
            "date_of_birth": date(born, 1 + person % 12, 1 + person % 28).isoformat(),
            "area": rng.choice(["OX1", "RG2", "MK3"]),
        }
        if programme == "divert":
            values |= {"setting": "custody", "offence": "theft", "drug_class": "", "personal_use": ""}
        else:
            values["personal_use"] = rng.choice(["true", "true", "true", "false"])
        step = rng.random()
        if step < 0.1:
            values["eligible"] = "true"  # overrides the rules when they say not eligible
        elif step < 0.15:
            values["eligible"] = "false"
        if (values["personal_use"] == "false" and values.get("eligible") != "true") or step < 0.25:
            rows.append(row(**values))
            continue
        if step < 0.35:
            values |= {"offered": "false", "not_offered_reason": "Could not be contacted"}
        elif step < 0.45:
            values |= {"offered": "true", "accepted": "false"}
        elif (person, programme) not in live or (step > 0.7 and programme != "divert"):
            # A second case beside a live one must be closed (or the file has a problem).
            values |= {"offered": "true", "accepted": "true"}
            if rng.random() < 0.6:
                values["engaged_on"] = (when + timedelta(days=5)).isoformat()
            if step > 0.7 and programme != "divert":
                end = (when + timedelta(days=40)).isoformat()
                values |= {"completed_on" if step > 0.85 else "escalated_on": end, "closed_on": end}
            else:
                live.add((person, programme))
        rows.append(row(**values))
    return rows


def test_imported_journey_rows_are_what_a_rebuild_gives(db_session: Session, admin: Any) -> None:
    import_file(
        db_session, SAMPLE.read_bytes(), "sample.csv", organisation_id=admin.organisation_id, actor=admin
    )
    # A second file, with a row for a person the first one added (history and a live case stored).
    again = row(
        encounter_ref="V-again",
        occurred_at="2024-08-01T10:00",
        pnc_id="00/000001A",
        forenames="Alex",
        surname="Samplename",
        date_of_birth="2009-05-01",
    )
    result = import_file(
        db_session,
        to_csv([*_varied_rows(400), again]),
        "varied.csv",
        organisation_id=admin.organisation_id,
        actor=admin,
    )
    assert result.encounters == 401 and result.cases > 100 and result.people_matched >= 1
    assert db_session.scalar(select(Decision.id).where(Decision.overrides_id.is_not(None)).limit(1))
    # Another force's file in the same database: its rows are its own.
    other = create_organisation(db_session, code="other", name="Other force")
    other_admin = create_user(db_session, role="admin", organisation=other)
    import_file(
        db_session, to_csv(_varied_rows(150, seed=8)), "o.csv", organisation_id=other.id, actor=other_admin
    )
    db_session.flush()
    connection = db_session.connection()
    written = _snapshot(connection)
    assert len(written["monitoring_journeys"]) > 500
    journeys.rebuild_all(connection)
    assert _snapshot(connection) == written


def test_deciding_with_the_memo_gives_the_rules_own_decision(db_session: Session) -> None:
    sync_definitions(db_session)
    definitions = [compiled(v) for v in db_session.scalars(select(ProgrammeVersion))]
    memo = DecisionMemo()
    rng = random.Random(3)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(600):
        definition = rng.choice(definitions)
        on = date(2025, 1, 1) + timedelta(days=rng.randrange(300))
        history = tuple(
            PriorEncounter(
                on - timedelta(days=rng.randrange(1, 900)), rng.choice(["drug_possession", "theft"])
            )
            for _ in range(rng.randrange(3))
        )
        facts = EncounterFacts(
            occurred_on=on,
            offence_category=rng.choice(["drug_possession", "theft", "public_order"]),
            date_of_birth=rng.choice([None, date(2009, 3, 3), date(2004, 6, 6), date(1990, 1, 1)]),
            gender="male",
            setting=rng.choice(["street", "custody"]),
            drug_class=rng.choice([None, "A", "B"]),
            personal_use=rng.choice([None, True, False]),
            supply_suspected=False,
            admission="admitted",
            history=history,
        )
        assert memo.decide(definition, facts) == decide(definition, facts)
    assert len(memo) < 600, "the memo should have been used"
