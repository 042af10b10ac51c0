"""A partner system sends the answers to questions a programme declares for itself, checked as typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, Programme
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions

from ..factories import create_organisation
from ..rules.test_questions import CAUTION_FACTS, CAUTION_RULES
from .payloads import encounter_body


@pytest.fixture
def caution(db_session: Session, org: Any, tmp_path: Path) -> Any:
    document = yaml.safe_load((PROGRAMMES_DIR / "tvp-adult-drugs-v2.yaml").read_text())
    document.update(code="example-caution", name="Conditional caution (example)", version=1)
    document.update(effective_from="2020-01-01", facts=CAUTION_FACTS, eligibility=CAUTION_RULES)
    (tmp_path / "example-caution.yaml").write_text(yaml.safe_dump(document))
    sync_definitions(db_session, tmp_path)
    programme = db_session.scalars(select(Programme).where(Programme.code == "example-caution")).one()
    assign_operator(db_session, programme, org.id, "police")
    return programme


def test_declared_answers_are_stored_and_decide(
    client: Any, token_for: Any, caution: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    answers = {"victim_consents": True, "gravity_score": 2}
    body = encounter_body(offence_category="theft", personal_use=None, drug_class=None, answers=answers)
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 201, response.json
    [decision] = response.json["decisions"]
    assert decision["eligible"] is True, decision["reasons"]
    encounter = db_session.get(Encounter, response.json["encounter_id"])
    assert encounter is not None and encounter.declared_facts == answers


def test_answers_no_programme_asks_or_of_the_wrong_kind_are_refused(
    client: Any, token_for: Any, caution: Any, db_session: Session
) -> None:
    _, headers = token_for("officer")
    answers = {"victim_consents": "yes", "gravity_score": 9, "cautions_two_years": 0, "shoe_size": 9}
    body = encounter_body(offence_category="theft", drug_class=None, answers=answers)
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 422
    problems = {p["field"]: p["message"] for p in response.json["error"]["fields"]}
    assert problems == {
        "encounter.answers.victim_consents": "must be true or false",
        "encounter.answers.gravity_score": "must be from 1 to 5",
        "encounter.answers.cautions_two_years": (
            "is counted from the person's earlier encounters, not answered"
        ),
        "encounter.answers.shoe_size": "no programme your organisation runs asks this",
    }
    assert db_session.scalar(select(Encounter).limit(1)) is None


def test_another_forces_declared_questions_are_not_this_forces(
    client: Any, token_for: Any, caution: Any, db_session: Session
) -> None:
    _, elsewhere = token_for("officer", create_organisation(db_session, kind="police_force"))
    body = encounter_body(offence_category="theft", drug_class=None, answers={"victim_consents": True})
    response = client.post("/api/v1/encounters", json=body, headers=elsewhere)
    assert response.status_code == 422
    [problem] = response.json["error"]["fields"]
    assert problem == {
        "field": "encounter.answers.victim_consents",
        "message": "no programme your organisation runs asks this",
    }
