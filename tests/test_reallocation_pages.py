"""The receiving team's supervisor gives a case to any of the team's workers; nobody else does.

A youth repeat goes to the Youth Justice Unit, whose decision maker takes it and refers it to the
YOT: the case is still the decision maker's, so it is on no YOT caseworker's list until the YOT's
supervisor reallocates it. The referring force's supervisor sees the case but does not allocate
the YOT's work; another YOT's supervisor cannot reach it at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme, Referral, ReferralEvent
from divert.pathways.allocation import take
from divert.pathways.cases import transition
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, parse
from .factories import PASSWORD, create_organisation, create_user
from .pathways.helpers import refer, repeat_possession


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _reallocate(
    client: PageClient, case: Referral, assignee: Any, reason: str = "Referred on by the YJU"
) -> str:
    response = client.submit(
        "/worklist/reallocate",
        {"case": str(case.id), "assignee": str(assignee.id), "reason": reason},
        token_from="/worklist?view=team",
    )
    assert response.status_code == 302
    return parse(client.get(response.headers["Location"])).text


def test_the_yots_supervisor_gives_a_case_the_yju_referred_to_any_yot_worker(
    app: Any, db_session: Session, org: Any
) -> None:
    sync_definitions(db_session)
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    yot = create_organisation(db_session, kind="yot", name="Oxford YOT")
    yju = create_organisation(db_session, kind="yju")
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    assign_operator(db_session, youth, yju.id, "receiving", "yju")
    officer = create_user(db_session, "officer", org)
    decider = create_user(db_session, "yju_decision_maker", yju)
    case = refer(db_session, officer, repeat_possession(db_session, officer))
    take(db_session, decider, case)
    transition(db_session, decider, case, "referred_yot", "Divert again: first repeat")
    worker = create_user(db_session, "yot_caseworker", yot, name="Priya Worker")
    yot_supervisor = create_user(db_session, "supervisor", yot)
    deputy = create_user(db_session, "supervisor", yot, name="Deputy Lead")

    # Still the decision maker's: no YOT caseworker would find it.
    assert case.reference not in parse(_client(app, worker).get("/worklist?view=new")).text

    supervisor = _client(app, yot_supervisor)
    team = parse(supervisor.get("/worklist?view=team"))
    assert team.select_one(f"#case-{case.id}") is not None
    offered = {o.text.split(" (")[0] for o in team.select("#assignee option")}
    assert {"Priya Worker", "Deputy Lead"} <= offered and decider.name not in offered
    # Any worker of the receiving team: a caseworker, or another supervisor.
    assert "1 case reallocated to Priya Worker" in _reallocate(supervisor, case, worker)
    assert "1 case reallocated to Deputy Lead" in _reallocate(supervisor, case, deputy, "Priya is on leave")
    assert "1 case reallocated to Priya Worker" in _reallocate(supervisor, case, worker, "Priya is back")
    db_session.expire_all()
    assert db_session.get(Referral, case.id).assigned_user_id == worker.id  # type: ignore[union-attr]
    assert case.reference in parse(_client(app, worker).get("/worklist?view=mine")).text
    moves = db_session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id == case.id, ReferralEvent.kind == "allocation")
    ).all()
    assert [m.data["to_user"] for m in moves] == [decider.id, worker.id, deputy.id, worker.id]

    # Nor to someone outside the team.
    assert "Select a caseworker in your organisation" in _reallocate(supervisor, case, decider)

    # The referring force's supervisor sees the case but not to allocate it.
    force_supervisor = create_user(db_session, "supervisor", org)
    police = _client(app, force_supervisor)
    team = parse(police.get("/worklist?view=team"))
    assert case.reference in team.text and team.select_one(f"#case-{case.id}") is None
    refused = _reallocate(police, case, force_supervisor)
    assert f"Another organisation's team works case {case.reference}" in refused

    # Another YOT's supervisor cannot reach the case at all.
    elsewhere = create_organisation(db_session, kind="yot")
    other = _client(app, create_user(db_session, "supervisor", elsewhere))
    assert case.reference not in parse(other.get("/worklist?view=team")).text
    theirs = create_user(db_session, "yot_caseworker", elsewhere)
    assert "Select at least one case to reallocate" in _reallocate(other, case, theirs)
    db_session.expire_all()
    assert db_session.get(Referral, case.id).assigned_user_id == worker.id  # type: ignore[union-attr]
