from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Programme, ProgrammeOperator, Referral, ReferralEvent
from divert.pathways.importing import import_file
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.queries.worklists import programmes_for

from .client import parse
from .factories import create_organisation, create_user
from .importing.helpers import SAMPLE
from .pathways.helpers import open_case, refer


def _cases(db_session: Session, org: Any, yot: Any, count: int) -> list[Referral]:
    sync_definitions(db_session)
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", org)
    return [
        refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer)) for _ in range(count)
    ]


def _references(page: Any) -> list[str]:
    return [a.text for a in page.select("[data-testid=worklist] tbody td:nth-of-type(1) a")]


def test_a_caseworker_takes_a_new_referral(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = create_organisation(db_session, kind="yot")
    cases = _cases(db_session, org, yot, 2)
    signed_in("yot_caseworker", organisation=yot)
    new = parse(client.get("/worklist?view=new"))
    assert sorted(a.text for a in new.select("[data-testid=worklist] tbody a")) == sorted(
        c.reference for c in cases
    )
    assert parse(client.get("/worklist")).select_one("[data-testid=total]").text.startswith("0 cases")
    response = client.submit(f"/cases/{cases[0].id}/take", {}, token_from=f"/cases/{cases[0].id}")
    assert response.status_code == 302
    mine = parse(client.get("/worklist?view=mine"))
    assert [a.text for a in mine.select("[data-testid=worklist] tbody a")] == [cases[0].reference]


def test_sorting_and_pagination(client: Any, signed_in: Any, org: Any, db_session: Session) -> None:
    yot = create_organisation(db_session, kind="yot")
    cases = _cases(db_session, org, yot, 27)
    signed_in("supervisor", organisation=yot)
    first = parse(client.get("/worklist?view=team&sort=reference&order=asc"))
    assert first.select_one("[data-testid=total]").text.startswith("27 cases")
    shown = [a.text for a in first.select("[data-testid=worklist] tbody a")]
    assert len(shown) == 25 and shown == sorted(shown)
    second = parse(client.get("/worklist?view=team&sort=reference&order=asc&page=2"))
    rest = [a.text for a in second.select("[data-testid=worklist] tbody a")]
    assert sorted(shown + rest) == sorted(c.reference for c in cases)
    backwards = parse(client.get("/worklist?view=team&sort=reference&order=desc"))
    assert backwards.select_one("[data-testid=worklist] tbody a").text == max(shown + rest)


def test_a_supervisor_reallocates_cases_with_a_reason(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    yot = create_organisation(db_session, kind="yot")
    cases = _cases(db_session, org, yot, 3)
    leaver = create_user(db_session, "yot_caseworker", yot, name="Lee Leaver")
    stayer = create_user(db_session, "yot_caseworker", yot, name="Sam Stayer")
    signed_in("supervisor", organisation=yot)
    no_reason = client.submit(
        "/worklist/reallocate",
        {"case": [str(c.id) for c in cases], "assignee": str(stayer.id), "reason": ""},
        token_from="/worklist?view=team",
    )
    assert no_reason.status_code == 302
    assert "Enter a reason" in parse(client.get(no_reason.headers["Location"])).text
    response = client.submit(
        "/worklist/reallocate",
        {
            "case": [str(c.id) for c in cases[:2]],
            "assignee": str(stayer.id),
            "reason": "Lee has left the team",
        },
        token_from="/worklist?view=team",
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert [db_session.get(Referral, c.id).assigned_user_id for c in cases] == [stayer.id, stayer.id, None]
    events = db_session.scalars(select(ReferralEvent).where(ReferralEvent.kind == "allocation")).all()
    assert {e.reason for e in events} == {"Lee has left the team"} and len(events) == 2
    assert leaver.id is not None


def test_caseworkers_cannot_reallocate(client: Any, signed_in: Any, org: Any) -> None:
    signed_in("yot_caseworker")
    response = client.submit(
        "/worklist/reallocate", {"case": "1", "assignee": "1", "reason": "x"}, token_from="/worklist"
    )
    assert response.status_code == 403


def test_the_programme_filter_offers_what_the_organisation_operates(db_session: Session, org: Any) -> None:
    yot = create_organisation(db_session, kind="yot")
    _cases(db_session, org, yot, 1)
    adult = db_session.scalars(select(Programme).where(Programme.code == "tvp-adult-drugs")).one()
    assign_operator(db_session, adult, yot.id, "receiving")  # no case of it yet
    caseworker = create_user(db_session, "yot_caseworker", yot)
    assert [code for code, _ in programmes_for(db_session, caseworker)] == [
        "tvp-adult-drugs",
        "tvp-youth-drugs",
    ]
    assert (
        programmes_for(db_session, create_user(db_session, "supervisor", create_organisation(db_session)))
        == []
    )


def test_the_programme_filter_offers_imported_cases_programmes(db_session: Session, org: Any) -> None:
    """An import takes rows of any programme: its force is party to cases of programmes it does not run."""
    sync_definitions(db_session)
    admin = create_user(db_session, "admin", org)
    result = import_file(db_session, SAMPLE.read_bytes(), "sample.csv", organisation_id=org.id, actor=admin)
    assert result.cases and db_session.scalars(select(ProgrammeOperator)).all() == []
    imported = set(
        db_session.scalars(
            select(Programme.code).join(Referral, Referral.programme_id == Programme.id).distinct()
        )
    )
    supervisor = create_user(db_session, "supervisor", org)
    assert {code for code, _ in programmes_for(db_session, supervisor)} == imported
