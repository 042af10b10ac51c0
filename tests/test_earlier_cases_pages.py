"""The Youth Justice Unit decides a repeat possession seeing how the person's earlier cases went.

The unit was party to none of them (the first went to the YOT or ended with the officer), so the
policy's ``see_case_history`` lets it see their course and outcome, not their notes, and not
their pages. Every access test has a second organisation: another youth justice unit, and another
force holding a record of someone with the same name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Programme, Referral
from divert.pathways.cases import offer, respond, transition
from divert.pathways.casework import add_note, escalation_decision
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, parse
from .factories import PASSWORD, create_organisation, create_person, create_user
from .pathways.helpers import open_case, refer

BORN = date(2010, 2, 2)


@pytest.fixture
def youth(db_session: Session, org: Any) -> dict[str, Any]:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    yot = create_organisation(db_session, kind="yot", name="Oxford YOT")
    yju = create_organisation(db_session, kind="yju", name="Thames Valley YJU")
    assign_operator(db_session, programme, yot.id, "receiving", "yot")
    assign_operator(db_session, programme, yju.id, "receiving", "yju")
    return {
        "officer": create_user(db_session, "officer", org),
        "force_supervisor": create_user(db_session, "supervisor", org),
        "yot_worker": create_user(db_session, "yot_caseworker", yot),
        "yot_supervisor": create_user(db_session, "supervisor", yot),
        "decider": create_user(db_session, "yju_decision_maker", yju),
        "other_decider": create_user(
            db_session, "yju_decision_maker", create_organisation(db_session, kind="yju")
        ),
    }


def _history(db_session: Session, youth: dict[str, Any]) -> tuple[Any, Referral, Referral, Referral]:
    """Two earlier cases (declined with the officer; referred by the YJU to the YOT and escalated
    after non-engagement), then a repeat at the YJU."""
    officer = youth["officer"]
    person = create_person(db_session, given_name="Jordan", family_name="Reeve", date_of_birth=BORN)
    declined = open_case(
        db_session,
        "tvp-youth-drugs",
        officer,
        person=person,
        occurred_at=datetime(2026, 11, 2, 15, tzinfo=UTC),
    )
    offer(db_session, officer, declined, True)
    respond(db_session, officer, declined, False, "Wanted to go to court")
    escalated = refer(
        db_session,
        officer,
        open_case(
            db_session,
            "tvp-youth-drugs",
            officer,
            person=person,
            occurred_at=datetime(2026, 11, 9, 15, tzinfo=UTC),
        ),
    )
    # The first possession is on record, so the unit decided this one too, and referred it to the YOT.
    transition(db_session, youth["decider"], escalated, "referred_yot", "First refusal; try the YOT")
    transition(db_session, youth["yot_worker"], escalated, "non_engagement_review", "Never answered the door")
    add_note(db_session, youth["yot_worker"], escalated, "Mum says he is using every day")
    escalation_decision(
        db_session, youth["yot_supervisor"], escalated, "escalate", "Three visits, no contact"
    )
    repeat = refer(
        db_session,
        officer,
        open_case(
            db_session,
            "tvp-youth-drugs",
            officer,
            person=person,
            occurred_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        ),
    )
    assert repeat.state == "awaiting_yju"
    return person, declined, escalated, repeat


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _rows(page: Any) -> list[list[str]]:
    shown = page.select_one("[data-testid=earlier-cases]")
    assert shown is not None, "no earlier cases shown"
    return [
        [dd.get_text(" ", strip=True) for dd in case.select("dd")]
        for case in shown.select("[data-testid=earlier-case]")
    ]


def test_the_yju_deciding_a_repeat_sees_the_earlier_cases_and_how_they_ended_not_their_notes(
    app: Any, db_session: Session, youth: dict[str, Any]
) -> None:
    _, declined, escalated, repeat = _history(db_session, youth)
    decider = _client(app, youth["decider"])
    response = decider.get(f"/cases/{repeat.id}")
    assert response.status_code == 200
    page = parse(response)
    rows = _rows(page)
    # Newest first: the escalation is what the unit most needs to see.
    assert [r[0] for r in rows] == [escalated.reference, declined.reference]
    assert "Escalated to the traditional pathway" in rows[0][2] and rows[0][3].startswith("Closed")
    assert "Declined (traditional pathway)" in rows[1][2] and "(Declined)" in rows[1][3]
    assert "Drug possession" in rows[0][1]
    # Their course, not what was said in them; the page only of the one the unit decided itself.
    assert "using every day" not in page.text
    links = [a["href"] for a in page.select("[data-testid=earlier-cases] a")]
    assert links == [f"/cases/{escalated.id}"]
    assert decider.get(f"/cases/{escalated.id}").status_code == 200
    assert decider.get(f"/cases/{declined.id}").status_code == 404
    # The decision itself is still there to make.
    assert page.select_one("[data-testid=step-form]") is not None
    shown = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.user_id == youth["decider"].id,
            AuditEntry.object_type == "referral",
            AuditEntry.detail.like(f"earlier cases on case {repeat.reference}%"),
        )
    ).one()
    assert shown.detail is not None
    assert shown.detail.endswith(
        f"2 shown: {min(declined.id, escalated.id)},{max(declined.id, escalated.id)}"
    )


def test_the_force_sees_and_opens_its_own_earlier_cases_and_other_organisations_see_none(
    app: Any, db_session: Session, youth: dict[str, Any], org: Any
) -> None:
    person, declined, escalated, repeat = _history(db_session, youth)
    # Another force holds its own record of someone with the same name and date of birth, with a case.
    elsewhere = create_organisation(db_session, name="Surrey Police")
    sync_definitions(db_session)
    stranger = create_person(
        db_session, elsewhere, given_name="Jordan", family_name="Reeve", date_of_birth=BORN
    )
    theirs = open_case(
        db_session,
        "tvp-youth-drugs",
        create_user(db_session, "officer", elsewhere),
        person=stranger,
        occurred_at=datetime(2026, 11, 5, 15, tzinfo=UTC),
    )

    supervisor = _client(app, youth["force_supervisor"])
    page = parse(supervisor.get(f"/cases/{repeat.id}"))
    assert [r[0] for r in _rows(page)] == [escalated.reference, declined.reference]
    links = {a["href"] for a in page.select("[data-testid=earlier-cases] a")}
    assert links == {f"/cases/{escalated.id}", f"/cases/{declined.id}"}
    assert theirs.reference not in page.text

    # The earliest case has no earlier one: no table at all.
    assert parse(supervisor.get(f"/cases/{declined.id}")).select_one("[data-testid=earlier-cases]") is None
    # Another youth justice unit is party to nothing here.
    assert _client(app, youth["other_decider"]).get(f"/cases/{repeat.id}").status_code == 404
    assert person.organisation_id == org.id
