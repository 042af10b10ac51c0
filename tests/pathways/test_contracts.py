"""Checkpoint contracts: the groups' limits, the fixed term, variations that keep what they replace."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import ChangeRecord, Contract, ContractCondition, Referral, User
from divert.pathways.cases import transition
from divert.pathways.casework import complete, record_needs_assessment
from divert.pathways.contracts import draw_up_contract, vary_contract
from divert.pathways.errors import OperationError, StaleEdit

from .helpers import police_force, referred_case, staff, timeline

STARTS = date(2026, 3, 10)
DRUGS = {"group": "pathway", "pathway": "drugs", "description": "Attend the drug service weekly"}
APOLOGY = {"group": "victim_restorative", "description": "Letter of apology to the shop"}


@pytest.fixture
def people(db_session: Session) -> dict[str, User]:
    force = police_force(db_session)
    return {role: staff(db_session, role, force) for role in ("officer", "navigator", "supervisor")}


@pytest.fixture
def assessed(db_session: Session, people: dict[str, User]) -> Referral:
    case = referred_case(db_session, "checkpoint", people["officer"])
    record_needs_assessment(
        db_session,
        people["navigator"],
        case,
        assessed_on=STARTS,
        needs=[{"area": "drugs", "level": "high"}, {"area": "housing", "level": "low"}],
        summary="",
    )
    return case


def draw(session: Session, actor: User, case: Referral, **kwargs: Any) -> Contract:
    arguments: dict[str, Any] = {"starts_on": STARTS, "conditions": [DRUGS, APOLOGY], "voluntary_hours": 24}
    return draw_up_contract(session, actor, case, **(arguments | kwargs))


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(OperationError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def active(contract: Contract) -> list[tuple[str, str | None, str]]:
    return [
        (c.condition_group, c.pathway, c.description) for c in contract.conditions if c.removed_at is None
    ]


def test_a_contract_runs_four_months_and_always_includes_do_not_reoffend(
    db_session: Session, people: dict[str, User], assessed: Referral
) -> None:
    contract = draw(db_session, people["navigator"], assessed)
    db_session.expire_all()
    stored = db_session.scalars(select(Contract).where(Contract.referral_id == assessed.id)).one()
    assert (stored.starts_on, stored.ends_on, stored.voluntary_hours) == (STARTS, date(2026, 7, 10), 24)
    assert active(stored) == [
        ("do_not_reoffend", None, "Do not reoffend"),
        ("pathway", "drugs", "Attend the drug service weekly"),
        ("victim_restorative", None, "Letter of apology to the shop"),
        ("voluntary_work", None, "24 hours of voluntary work"),
    ]
    assert assessed.state == "in_contract"
    event = timeline(db_session, assessed)[-1]
    assert (event.kind, event.from_state, event.to_state, event.actor_id) == (
        "contract",
        "needs_assessment",
        "in_contract",
        people["navigator"].id,
    )
    assert [c["group"] for c in event.data["conditions"]] == [
        "do_not_reoffend",
        "pathway",
        "victim_restorative",
        "voluntary_work",
    ]
    # The contract's field history is written by the model layer, with no extra call here.
    fields = set(
        db_session.scalars(
            select(ChangeRecord.field).where(
                ChangeRecord.object_type == "contract", ChangeRecord.object_id == contract.id
            )
        )
    )
    assert {"starts_on", "ends_on", "voluntary_hours"} <= fields


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"conditions": [APOLOGY]}, "Add at least 1 of: pathway conditions from the needs assessment"),
        (
            {
                "conditions": [
                    DRUGS,
                    {"group": "pathway", "pathway": "housing"},
                    {"group": "pathway", "pathway": "alcohol"},
                ]
            },
            "Choose no more than 2 of: pathway conditions from the needs assessment",
        ),
        (
            {"conditions": [DRUGS, {"group": "pathway", "pathway": "drugs"}]},
            "Choose each pathway only once",
        ),
        (
            {"conditions": [DRUGS, APOLOGY, APOLOGY]},
            "Choose no more than 1 of: victim or restorative condition",
        ),
        ({"voluntary_hours": 12}, "Enter between 18 and 36 hours of voluntary work"),
        ({"voluntary_hours": 40}, "Enter between 18 and 36 hours of voluntary work"),
        (
            {"conditions": [{"group": "pathway", "pathway": "gambling"}]},
            "Select a pathway for the condition: ",
        ),
        ({"conditions": [{"group": "curfew"}]}, "Select the type of condition: do not reoffend, "),
        ({"conditions": [DRUGS, {"group": "victim_restorative"}]}, "Enter what the victim or restorative"),
    ],
)
def test_the_groups_limits_are_enforced(
    db_session: Session, people: dict[str, User], assessed: Referral, changes: dict[str, Any], message: str
) -> None:
    assert refused(draw, db_session, people["navigator"], assessed, **changes).startswith(message)
    assert assessed.state == "needs_assessment"


def test_only_a_navigator_after_a_needs_assessment_and_only_once(
    db_session: Session, people: dict[str, User], assessed: Referral
) -> None:
    assert (
        refused(draw, db_session, people["supervisor"], assessed)
        == "Only a Checkpoint navigator can draw up a contract."
    )
    fresh = referred_case(db_session, "checkpoint", people["officer"])
    assert refused(draw, db_session, people["navigator"], fresh) == (
        "Record the needs assessment before drawing up the contract."
    )
    draw(db_session, people["navigator"], assessed, voluntary_hours=None)
    assert "A contract is drawn up after the needs assessment" in refused(
        draw, db_session, people["navigator"], assessed
    )


def test_programmes_without_contracts_refuse_one(db_session: Session, people: dict[str, User]) -> None:
    case = referred_case(db_session, "tvp-adult-drugs", people["officer"])
    assert refused(draw, db_session, people["navigator"], case) == (
        "Thames Valley drug diversion (adult) does not use contracts."
    )


def test_a_variation_keeps_the_removed_condition_and_records_what_changed(
    db_session: Session, people: dict[str, User], assessed: Referral
) -> None:
    nav = people["navigator"]
    contract = draw(db_session, nav, assessed)
    drugs = next(c for c in contract.conditions if c.pathway == "drugs")
    seen = contract.version_id
    vary_contract(
        db_session,
        nav,
        contract,
        remove_condition_ids=[drugs.id],
        add_conditions=[
            {"group": "pathway", "pathway": "housing", "description": "Meet the housing officer"},
            {"group": "pathway", "pathway": "alcohol"},
        ],
        new_end=date(2026, 8, 7),
        reason="Drug service waiting list is 10 weeks",
        seen_version=seen,
    )
    db_session.expire_all()
    stored = db_session.get(Contract, contract.id)
    assert stored is not None and stored.ends_on == date(2026, 8, 7)
    old = db_session.get(ContractCondition, drugs.id)
    assert old is not None and old.removed_at is not None
    assert old.removed_reason == "Drug service waiting list is 10 weeks"
    assert [(kind, pathway) for kind, pathway, _ in active(stored)] == [
        ("do_not_reoffend", None),
        ("victim_restorative", None),
        ("voluntary_work", None),
        ("pathway", "housing"),
        ("pathway", "alcohol"),
    ]
    assert len(stored.conditions) == 6  # nothing was deleted
    event = timeline(db_session, assessed)[-1]
    assert (event.kind, event.reason, event.actor_id) == (
        "contract_varied",
        "Drug service waiting list is 10 weeks",
        nav.id,
    )
    assert event.data["removed"] == [
        {
            "condition_id": drugs.id,
            "group": "pathway",
            "pathway": "drugs",
            "description": DRUGS["description"],
        }
    ]
    assert [a["pathway"] for a in event.data["added"]] == ["housing", "alcohol"]
    assert event.data["ends_on"] == {"from": "2026-07-10", "to": "2026-08-07"}
    assert (event.from_state, event.to_state) == (None, None)
    # The form that was open before this variation is now out of date.
    with pytest.raises(StaleEdit):
        vary_contract(db_session, nav, stored, new_end=date(2026, 9, 1), reason="again", seen_version=seen)


def test_a_variation_must_leave_a_valid_contract(
    db_session: Session, people: dict[str, User], assessed: Referral
) -> None:
    nav = people["navigator"]
    contract = draw(db_session, nav, assessed)
    by_kind = {c.condition_group: c for c in contract.conditions}

    def vary(**kwargs: Any) -> str:
        return refused(
            vary_contract, db_session, kwargs.pop("actor", nav), contract, **({"reason": "r"} | kwargs)
        )

    assert vary(reason=" ", new_end=date(2026, 8, 1)) == "Enter a reason for varying the contract"
    assert vary() == "Select a condition to remove, add a condition or change the end date"
    assert vary(remove_condition_ids=[by_kind["do_not_reoffend"].id]) == (
        "'Do not reoffend' is part of every contract and cannot be removed"
    )
    assert vary(remove_condition_ids=[by_kind["pathway"].id]).startswith("Add at least 1 of: pathway")
    assert vary(add_conditions=[APOLOGY]) == "Choose no more than 1 of: victim or restorative condition"
    assert (
        vary(remove_condition_ids=[999999]) == "Condition 999999 is not a current condition of this contract"
    )
    assert vary(new_end=STARTS) == "The new end date must be after the contract starts"
    assert (
        vary(actor=people["supervisor"], new_end=date(2026, 8, 1))
        == "Only a Checkpoint navigator can vary a contract."
    )
    assert all(c.removed_at is None for c in contract.conditions)

    # Voluntary work can be replaced with different hours, within the programme's range.
    vary_contract(
        db_session,
        nav,
        contract,
        remove_condition_ids=[by_kind["voluntary_work"].id],
        add_conditions=[{"group": "voluntary_work", "hours": 36}],
        reason="More hours agreed",
    )
    assert contract.voluntary_hours == 36


def test_completing_or_failing_the_contract_are_transitions(
    db_session: Session, people: dict[str, User], assessed: Referral
) -> None:
    draw(db_session, people["navigator"], assessed)
    assert "Enter a reason" in refused(
        transition, db_session, people["navigator"], assessed, "non_compliance_review"
    )
    complete(db_session, people["navigator"], assessed)
    assert (assessed.state, assessed.outcome_code) == ("completed", 22)
    contract = db_session.scalars(select(Contract).where(Contract.referral_id == assessed.id)).one()
    assert refused(
        vary_contract, db_session, people["navigator"], contract, new_end=date(2026, 9, 1), reason="r"
    ) == ("This case is closed, so its contract cannot be varied.")


def test_checkpoint_plus_interventions(db_session: Session, people: dict[str, User]) -> None:
    nav = people["navigator"]
    case = referred_case(db_session, "checkpoint-plus", people["officer"])
    record_needs_assessment(db_session, nav, case, assessed_on=STARTS, needs=[], summary="Care leaver")
    four = [{"group": "interventions", "pathway": p} for p in ("housing", "drugs", "alcohol", "finances")]
    assert refused(draw_up_contract, db_session, nav, case, starts_on=STARTS, conditions=four) == (
        "Choose no more than 3 of: targeted interventions"
    )
    assert refused(
        draw_up_contract, db_session, nav, case, starts_on=STARTS, conditions=four[:1], voluntary_hours=20
    ) == ("Checkpoint Plus (Surrey) contracts have no condition counted in hours.")
    contract = draw_up_contract(db_session, nav, case, starts_on=STARTS, conditions=four[:3])
    assert contract.ends_on == STARTS.replace(month=7) and contract.voluntary_hours is None
    assert [c.condition_group for c in contract.conditions] == [
        "do_not_reoffend",
        "interventions",
        "interventions",
        "interventions",
    ]
    assert contract.ends_on - contract.starts_on == timedelta(days=122)
