"""A new encounter during a live case: the case's team is told at once, and no second case opens.

Through the officer's form, the API and the bulk import, as the roles that see each state: the
force's officer, the navigators (or YOT) working the case, their supervisor. Every access test has
a second organisation: navigators who do not run Checkpoint here, another force.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.app.clock import today
from divert.models import CaseFlag, Decision, Encounter, Person, Programme, Referral
from divert.pathways.cases import transition
from divert.pathways.importing import ImportFailed, import_file
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import PageClient, form_fields, parse
from .factories import PASSWORD, create_organisation, create_person, create_user
from .importing.helpers import row, to_csv
from .pathways.helpers import open_case, refer


@pytest.fixture
def checkpoint(db_session: Session, org: Any) -> dict[str, Any]:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    navigators = create_organisation(db_session, kind="provider", name="Checkpoint navigators")
    assign_operator(db_session, programme, org.id, "police")
    assign_operator(db_session, programme, navigators.id, "receiving", "navigator")
    other = create_organisation(db_session, kind="provider", name="Other navigators")
    return {
        "programme": programme,
        "officer": create_user(db_session, "officer", org),
        "navigator": create_user(db_session, "navigator", navigators),
        "nav_supervisor": create_user(db_session, "supervisor", navigators),
        "other_navigator": create_user(db_session, "navigator", other),
        "other_supervisor": create_user(db_session, "supervisor", other),
    }


def _client(app: Any, user: Any) -> PageClient:
    client: PageClient = app.test_client()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return client


def _theft(offence: str = "theft", **changes: Any) -> dict[str, Any]:
    """An adult's recent theft in the force area, admitted: eligible for Checkpoint."""
    recent = today() - timedelta(days=3)
    return {
        "given_name": "Dana",
        "family_name": "Hart",
        "date_of_birth": ["9", "9", "1991"],
        "gender": "female",
        "self_defined_ethnicity": "W1",
        "setting": "street",
        "offence_category": offence,
        "supply_suspected": "no",
        "admission": "admitted",
        "facts": ["lives_in_area", "offended_in_area"],
        "offence_on": [str(recent.day), str(recent.month), str(recent.year)],
        **changes,
    }


def _record(client: PageClient, data: dict[str, Any]) -> Any:
    page = parse(client.get("/encounters/new")).select_one("main form")
    response = client.post("/encounters/new", data={**form_fields(page), **data})
    assert response.status_code == 302, parse(response).select_one(".govuk-error-summary")
    return parse(client.get(response.headers["Location"]))


def _checkpoint_section(page: Any) -> Any:
    return next(s for s in page.select("[data-testid=programme]") if "Checkpoint" in s.h2.text)


def _live_contract(app: Any, db_session: Session, scheme: dict[str, Any]) -> Referral:
    """The officer records a theft on the form and Dana accepts; the navigator's contract runs."""
    officer = _client(app, scheme["officer"])
    section = _checkpoint_section(_record(officer, _theft()))
    form = section.select_one("form")
    accepted = officer.post(form["action"], data={**form_fields(form), "response": "accepted", "reason": ""})
    assert accepted.status_code == 302
    case = db_session.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert case is not None and case.state == "needs_assessment"
    transition(db_session, scheme["navigator"], case, "in_contract")
    return case


def _checkpoint_cases(db_session: Session) -> int:
    return (
        db_session.scalar(
            select(func.count()).select_from(Referral).join(Programme).where(Programme.code == "checkpoint")
        )
        or 0
    )


def test_reoffending_during_a_contract_flags_it_to_the_navigators_and_opens_no_second_case(
    app: Any, db_session: Session, checkpoint: dict[str, Any]
) -> None:
    case = _live_contract(app, db_session, checkpoint)
    officer = _client(app, checkpoint["officer"])
    page = _record(officer, _theft("criminal_damage"))
    section = _checkpoint_section(page)
    # Still eligible by the rules, and the officer is told why no case opened and which one stands.
    assert "Eligible" in section.h2.text
    assert f"Already in Checkpoint (Durham deferred prosecution) (case {case.reference}, still open)" in (
        section.select_one("[data-testid=reasons]").text
    )
    assert section.select_one("form") is None
    assert _checkpoint_cases(db_session) == 1

    navigator = _client(app, checkpoint["navigator"])
    flagged = parse(navigator.get("/worklist?view=flagged"))
    assert case.reference in flagged.select_one("[data-testid=worklist]").text
    shown = parse(navigator.get(f"/cases/{case.id}"))
    warning = shown.select_one("[data-testid=flags]").text
    assert "A new encounter (criminal damage) on" in warning and "review what it means" in warning
    assert "A new encounter (criminal damage)" in shown.select_one("[data-testid=timeline]").text
    (flag,) = db_session.scalars(select(CaseFlag).where(CaseFlag.referral_id == case.id)).all()
    assert flag.kind == "reoffending_review" and flag.resolved_at is None

    # Navigators elsewhere see neither the case nor the flag.
    other = _client(app, checkpoint["other_navigator"])
    assert other.get(f"/cases/{case.id}").status_code == 404
    other_list = parse(_client(app, checkpoint["other_supervisor"]).get("/worklist?view=flagged"))
    assert case.reference not in other_list.text

    # The review: the navigator puts the contract under review, the supervisor decides to carry on.
    form = shown.select_one("[data-testid=step-form]")
    moved = navigator.post(
        form["action"],
        data={
            **form_fields(form),
            "step-to_state": "non_compliance_review",
            "step-reason": "Arrested for criminal damage",
        },
    )
    assert moved.status_code == 302, parse(moved).select_one(".govuk-error-summary")
    supervisor = _client(app, checkpoint["nav_supervisor"])
    form = parse(supervisor.get(f"/cases/{case.id}")).select_one("[data-testid=step-form]")
    decided = supervisor.post(
        form["action"],
        data={
            **form_fields(form),
            "step-to_state": "in_contract",
            "step-reason": "Damage was to her own flat; contract continues",
        },
    )
    assert decided.status_code == 302, parse(decided).select_one(".govuk-error-summary")
    assert parse(supervisor.get(f"/cases/{case.id}")).select_one("[data-testid=flags]") is None
    db_session.expire_all()
    assert db_session.get(CaseFlag, flag.id).resolved_at is not None  # type: ignore[union-attr]


def test_a_new_encounter_before_the_offer_is_accepted_opens_its_own_case(
    app: Any, db_session: Session, checkpoint: dict[str, Any]
) -> None:
    """A case still awaiting its offer is no place on the programme: nothing to review, no flag."""
    officer = _client(app, checkpoint["officer"])
    _record(officer, _theft())
    page = _record(officer, _theft("criminal_damage"))
    assert _checkpoint_section(page).select_one("form") is not None
    assert _checkpoint_cases(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(CaseFlag)) == 0


def test_the_api_records_the_encounter_against_the_live_case(
    app: Any, client: Any, db_session: Session, checkpoint: dict[str, Any], org: Any
) -> None:
    case = _live_contract(app, db_session, checkpoint)
    issued = tokens.create(db_session, checkpoint["officer"], "custody system", created_by=None)
    body = {
        "person": {
            "given_name": "Dana",
            "family_name": "Hart",
            "date_of_birth": "1991-09-09",
            "gender": "female",
            "self_defined_ethnicity": "W1",
        },
        "encounter": {
            "occurred_at": datetime.now(UTC).isoformat(),
            "setting": "street",
            "offence_category": "common_assault",
            "admission": "admitted",
            "facts": ["lives_in_area", "offended_in_area"],
        },
    }
    response = client.post(
        "/api/v1/encounters", json=body, headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert response.status_code == 201, response.json
    assert response.json["existing_person"] is True
    decision = next(d for d in response.json["decisions"] if d["programme"] == "checkpoint")
    assert decision["eligible"] is True and decision["case_id"] is None
    assert any(r["rule_id"] == "live_case" and case.reference in r["text"] for r in decision["reasons"])
    assert _checkpoint_cases(db_session) == 1
    (flag,) = db_session.scalars(select(CaseFlag).where(CaseFlag.referral_id == case.id)).all()
    assert "common assault" in flag.detail
    db_session.expire_all()
    assert db_session.get(Referral, case.id).rearrested_at is not None  # type: ignore[union-attr]

    # Another force's token records its own person: the Durham case is not touched.
    elsewhere = create_organisation(db_session, name="Surrey Police")
    assign_operator(db_session, checkpoint["programme"], elsewhere.id, "police")
    theirs = tokens.create(db_session, create_user(db_session, "officer", elsewhere), "x", created_by=None)
    again = client.post("/api/v1/encounters", json=body, headers={"Authorization": f"Bearer {theirs.secret}"})
    assert again.status_code == 201 and again.json["existing_person"] is False
    surrey = next(d for d in again.json["decisions"] if d["programme"] == "checkpoint")
    assert surrey["case_id"] is not None
    assert db_session.scalar(select(func.count()).select_from(CaseFlag)) == 1
    assert org.id != elsewhere.id


# ---- The bulk import ------------------------------------------------------------------------------


@pytest.fixture
def youth(db_session: Session, org: Any) -> dict[str, Any]:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    yot = create_organisation(db_session, kind="yot")
    assign_operator(db_session, programme, org.id, "police")
    assign_operator(db_session, programme, yot.id, "receiving", "yot")
    return {
        "officer": create_user(db_session, "officer", org),
        "admin": create_user(db_session, "admin", org),
        "yot_worker": create_user(db_session, "yot_caseworker", yot),
        "other_worker": create_user(
            db_session, "yot_caseworker", create_organisation(db_session, kind="yot")
        ),
    }


def _import(db_session: Session, admin: Any, rows: list[dict[str, str]]) -> Any:
    return import_file(
        db_session, to_csv(rows), "history.csv", organisation_id=admin.organisation_id, actor=admin
    )


def _cases_of(db_session: Session, pnc: str) -> list[Referral]:
    return list(
        db_session.scalars(select(Referral).join(Person).where(Person.pnc_id == pnc).order_by(Referral.id))
    )


def test_an_imported_encounter_during_a_stored_live_case_flags_it_and_opens_none(
    app: Any, db_session: Session, youth: dict[str, Any]
) -> None:
    person = create_person(db_session, pnc_id="24/000123X", date_of_birth=date(2009, 5, 1))
    live = refer(
        db_session,
        youth["officer"],
        open_case(
            db_session,
            "tvp-youth-drugs",
            youth["officer"],
            person=person,
            occurred_at=datetime(2024, 3, 1, tzinfo=UTC),
        ),
    )
    result = _import(
        db_session,
        youth["admin"],
        [
            row(
                encounter_ref="H-1",
                occurred_at="2024-04-02T16:00",
                pnc_id="24/000123X",
                forenames="Alex",
                surname="Example",
                date_of_birth="2009-05-01",
            )
        ],
    )
    assert (result.encounters, result.cases, result.people_matched) == (1, 0, 1)
    assert [c.id for c in _cases_of(db_session, "24/000123X")] == [live.id]
    encounter = db_session.scalars(select(Encounter).where(Encounter.external_ref == "H-1")).one()
    decision = db_session.scalars(select(Decision).where(Decision.encounter_id == encounter.id)).one()
    assert decision.eligible and any(r["rule_id"] == "live_case" for r in decision.reasons)
    (flag,) = db_session.scalars(select(CaseFlag).where(CaseFlag.referral_id == live.id)).all()
    assert flag.kind == "reoffending_review" and flag.key == f"reoffending:{encounter.id}"

    worker = _client(app, youth["yot_worker"])
    assert "2 April 2024" in parse(worker.get(f"/cases/{live.id}")).select_one("[data-testid=flags]").text
    assert (
        live.reference
        in parse(worker.get("/worklist?view=flagged")).select_one("[data-testid=worklist]").text
    )
    assert _client(app, youth["other_worker"]).get(f"/cases/{live.id}").status_code == 404
    db_session.expire_all()
    assert db_session.get(Referral, live.id).rearrested_at is not None  # type: ignore[union-attr]


def test_a_file_holding_a_live_case_and_a_later_encounter_keeps_one_case_and_refuses_a_second(
    db_session: Session, youth: dict[str, Any]
) -> None:
    who = {"pnc_id": "24/000999Z", "forenames": "Kai", "surname": "Moor", "date_of_birth": "2009-08-08"}
    first = row(encounter_ref="F-1", occurred_at="2024-03-01T10:00", offered="true", accepted="true", **who)
    later = row(encounter_ref="F-2", occurred_at="2024-05-01T10:00", **who)
    second = row(encounter_ref="F-3", occurred_at="2024-06-01T10:00", offered="true", accepted="true", **who)

    with pytest.raises(ImportFailed) as failed:
        _import(db_session, youth["admin"], [later, second, first])
    (problem,) = failed.value.problems
    assert (problem.row, problem.column) == (3, "offered")
    assert "the case of row 4 in this programme is still open" in problem.message
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 0

    result = _import(db_session, youth["admin"], [later, first])
    assert (result.encounters, result.cases) == (2, 1)
    (case,) = _cases_of(db_session, "24/000999Z")
    assert case.encounter.external_ref == "F-1"
    (flag,) = db_session.scalars(select(CaseFlag).where(CaseFlag.referral_id == case.id)).all()
    assert flag.kind == "reoffending_review" and "1 May 2024" in flag.detail


def test_an_override_does_not_open_a_second_case_beside_the_live_one(
    app: Any, db_session: Session, checkpoint: dict[str, Any], org: Any
) -> None:
    case = _live_contract(app, db_session, checkpoint)
    _record(_client(app, checkpoint["officer"]), _theft("harassment"))
    folded = db_session.scalars(
        select(Decision)
        .join(Encounter)
        .where(Encounter.offence_category == "harassment", Decision.eligible.is_(True))
    ).one()
    supervisor = _client(app, create_user(db_session, "supervisor", org))
    refused = supervisor.submit(
        f"/decisions/{folded.id}/override", {"outcome": "route:navigator", "reason": "Wants a fresh start"}
    )
    assert refused.status_code == 400
    assert f"case {case.reference} of this programme is still open" in parse(refused).text
    assert _checkpoint_cases(db_session) == 1
