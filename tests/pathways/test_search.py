"""Finding a person: by PNC ID or the start of a name, only among the people the user may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from divert.pathways.cases import offer, respond
from divert.pathways.people import search_people
from divert.pathways.programmes import assign_operator

from ..factories import create_encounter, create_organisation, create_person
from .helpers import open_case, police_force, referred_case, staff


def _seen(session: Session, organisation: Any, given: str, family: str, **fields: Any) -> Any:
    person = create_person(session, given_name=given, family_name=family, **fields)
    create_encounter(session, person, organisation)
    return person


def _names(people: list[Any]) -> list[str]:
    return [p.full_name for p in people]


def test_pnc_family_and_given_names_match_in_name_order(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    _seen(db_session, force, "Zoë", "Brown", pnc_id="24/0001234A")
    _seen(db_session, force, "Ben", "Okafor")
    _seen(db_session, force, "Okafor", "Adeyemi")  # matched by the given name
    _seen(db_session, force, "Ada", "Okafor")
    _seen(db_session, force, "Ada", "Oke")
    assert _names(search_people(db_session, officer, "okaf")) == [
        "Okafor Adeyemi",
        "Ada Okafor",
        "Ben Okafor",
    ]
    assert _names(search_people(db_session, officer, "24/0001234a")) == ["Zoë Brown"]
    assert _names(search_people(db_session, officer, "Zoe")) == ["Zoë Brown"]  # accents ignored
    assert search_people(db_session, officer, "okafo b") == []


def test_someone_matched_more_than_one_way_is_listed_once(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    _seen(db_session, force, "Lee", "Lee", pnc_id="LEE")
    assert _names(search_people(db_session, officer, "lee")) == ["Lee Lee"]


def test_the_limit_takes_the_first_in_name_order_across_ways_of_matching(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    for family in ("Tate", "Tamm", "Tang"):
        _seen(db_session, force, "Ann", family)
    for family in ("Abbot", "Zeller", "Ng"):
        _seen(db_session, force, "Tai", family)
    found = search_people(db_session, officer, "ta", limit=4)
    assert _names(found) == ["Tai Abbot", "Tai Ng", "Ann Tamm", "Ann Tang"]


def test_only_people_the_organisation_met_or_has_a_case_for(db_session: Session) -> None:
    force, elsewhere = police_force(db_session), police_force(db_session)
    officer = staff(db_session, "officer", force)
    _seen(db_session, force, "Ada", "Mensah")
    _seen(db_session, elsewhere, "Ben", "Mensah")
    assert _names(search_people(db_session, officer, "mensah")) == ["Ada Mensah"]

    yot = create_organisation(db_session, kind="yot")
    # Declined, so closed: a repeat during a live case would be folded into it, not opened beside it.
    case = open_case(db_session, "tvp-youth-drugs", officer)
    offer(db_session, officer, case, True)
    respond(db_session, officer, case, False, "Wanted to go to court")
    assign_operator(db_session, case.programme, yot.id, "receiving", "yot")
    caseworker = staff(db_session, "yot_caseworker", yot)
    family = case.person.family_name
    assert search_people(db_session, caseworker, family) == []  # never referred to the YOT
    # The second possession is a repeat (recorded in the same minute, but after the first), so it goes
    # to the Youth Justice Unit: party to the second case only, never met them, but may find them.
    yju = create_organisation(db_session, kind="yju")
    assign_operator(db_session, case.programme, yju.id, "receiving", "yju")
    decider = staff(db_session, "yju_decision_maker", yju)
    assert search_people(db_session, decider, family) == []
    second = referred_case(db_session, "tvp-youth-drugs", officer, person=case.person)
    assert second.route == "yju"
    assert search_people(db_session, decider, family) == [case.person]
    assert search_people(db_session, caseworker, family) == []
