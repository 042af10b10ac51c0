from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, PersonMerge

from .client import parse
from .factories import create_encounter, create_person


def _pair(db_session: Session, org: Any) -> tuple[Any, Any]:
    keep = create_person(
        db_session, given_name="Jordan", family_name="Reeve", date_of_birth=date(2010, 2, 14)
    )
    typo = create_person(
        db_session, given_name="Jordan", family_name="Reeves", date_of_birth=date(2010, 2, 14)
    )
    create_encounter(db_session, keep, org)
    create_encounter(db_session, typo, org)
    return keep, typo


def test_a_supervisor_confirms_a_possible_match_and_can_undo_it(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    signed_in("supervisor")
    keep, typo = _pair(db_session, org)
    page = parse(client.get(f"/people/{keep.id}/matches"))
    labels = [label.text for label in page.select("#duplicate_id label")]
    assert len(labels) == 1 and "Jordan Reeves" in labels[0]
    assert "family name" in page.select_one("#duplicate_id .govuk-hint").text.lower()

    bad = client.submit(f"/people/{keep.id}/matches", {"duplicate_id": str(typo.id), "reason": ""})
    assert bad.status_code == 400
    assert "Enter a reason for merging these records" in parse(bad).select_one(".govuk-error-summary").text

    done = client.submit(
        f"/people/{keep.id}/matches", {"duplicate_id": str(typo.id), "reason": "Same school, same address"}
    )
    assert done.status_code == 302
    db_session.expire_all()
    assert {e.person_id for e in db_session.scalars(select(Encounter))} == {keep.id}
    merge = db_session.scalars(select(PersonMerge)).one()

    page = parse(client.get(f"/people/{keep.id}/matches"))
    assert "Same school, same address" in page.select_one("[data-testid=merge]").text
    undone = client.submit(
        f"/merges/{merge.id}/undo",
        {"reason": "Different people after all"},
        token_from=f"/people/{keep.id}/matches",
    )
    assert undone.status_code == 302
    db_session.expire_all()
    assert {e.person_id for e in db_session.scalars(select(Encounter))} == {keep.id, typo.id}
    assert db_session.get(PersonMerge, merge.id).undone_at is not None


def test_only_listed_matches_can_be_merged(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    signed_in("supervisor")
    keep, _ = _pair(db_session, org)
    stranger = create_person(
        db_session, given_name="Sam", family_name="Other", date_of_birth=date(1980, 1, 1)
    )
    create_encounter(db_session, stranger, org)
    response = client.submit(f"/people/{keep.id}/matches", {"duplicate_id": str(stranger.id), "reason": "x"})
    assert response.status_code == 400
    assert "Select one of the possible matches listed" in parse(response).text
