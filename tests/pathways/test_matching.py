"""Finding a person's earlier records (without asking) and possible matches (to confirm)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from divert.models import Organisation, Person
from divert.pathways.matching import (
    Identity,
    PossibleMatch,
    Record,
    earlier_encounters,
    edit_distance,
    linked_records,
    pnc_variants,
    possible_matches,
    same_person_ids,
    score_match,
    transposed,
)

from ..factories import create_encounter, create_organisation, create_person

DOB = date(2009, 3, 5)


def at(day: int, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


# ---- Pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("smith", "smith", 0),
        ("smith", "smyth", 1),
        ("smith", "smtih", 1),  # neighbouring letters swapped count once
        ("smith", "smiths", 1),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("brown", "braun", 2),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_transposed_dates() -> None:
    assert transposed(date(2009, 3, 5)) == date(2009, 5, 3)
    assert transposed(date(2009, 3, 13)) is None  # there is no 13th month
    assert transposed(date(2009, 4, 4)) is None  # swapping changes nothing


def test_pnc_variants_are_every_one_character_slip() -> None:
    variants = pnc_variants("12/345678A")
    assert {"12/345678B", "12/345687A", "12/34567A", "12/3456789A", "12/345678"} <= variants
    assert "12/345678A" not in variants
    assert "12/345699A" not in variants
    assert all(edit_distance(v, "12/345678A") == 1 for v in variants)


def test_score_family_name_typo_with_same_date_of_birth() -> None:
    scored = score_match(Identity("Alex", "Smyth", DOB), Identity("Alex", "Smith", DOB))
    assert scored is not None
    assert scored[1] == [
        "Same date of birth",
        "Family name differs by one letter (Smyth / Smith)",
        "Same forename",
    ]
    match = PossibleMatch(Person(given_name="Alex", family_name="Smith"), *scored)
    assert match.summary == (
        "Same date of birth; family name differs by one letter (Smyth / Smith); same forename"
    )


@pytest.mark.parametrize(
    ("other", "reasons"),
    [
        (
            Identity("Taylor", "Alex", DOB),
            ["Same date of birth", "Forename and family name swapped (Alex Taylor / Taylor Alex)"],
        ),
        (
            Identity("Alex", "Taylor", date(2009, 5, 3)),
            ["Day and month of birth swapped (05/03/2009 / 03/05/2009)", "Same name"],
        ),
        (
            Identity("Alexander", "Taylor", DOB),
            ["Same date of birth", "Same family name", "Forename begins the same way (Alex / Alexander)"],
        ),
        (Identity("Sam", "Taylor", DOB), ["Same date of birth", "Same family name"]),
        (Identity("Alex", "Taylor"), ["Same name"]),  # no date of birth on one record
        (
            Identity("Sam", "Jones", date(1990, 1, 1), "12/345687A"),
            ["PNC IDs differ by one character (12/345678A / 12/345687A)"],
        ),
    ],
)
def test_score_reasons(other: Identity, reasons: list[str]) -> None:
    scored = score_match(Identity("Alex", "Taylor", DOB, "12/345678A" if other.pnc_id else None), other)
    assert scored is not None
    assert scored[1] == reasons


@pytest.mark.parametrize(
    "other",
    [
        Identity("Sam", "Jones", DOB),  # same date of birth is not enough on its own
        Identity("Alex", "Taylor", date(2001, 7, 9)),  # nor the same name with another date of birth
        Identity("Alex", "Tailor", date(2009, 5, 3)),  # nor a typo AND a transposed date
        Identity("Alex", "Taylor", DOB, "99/999999Z"),  # different PNC IDs are different people
    ],
)
def test_score_rejects(other: Identity) -> None:
    assert score_match(Identity("Alex", "Taylor", DOB, "12/345678A"), other) is None


def test_likelier_matches_score_higher() -> None:
    me = Identity("Alex", "Taylor", DOB)
    scores = [
        score_match(me, other)
        for other in (
            Identity("Alex", "Taylor", DOB),
            Identity("Alex", "Tayler", DOB),
            Identity("Sam", "Taylor", DOB),
        )
    ]
    assert [s[0] for s in scores if s] == sorted((s[0] for s in scores if s), reverse=True)
    assert len({s[0] for s in scores if s}) == 3


KEY = ("alex", "taylor", DOB)


@pytest.mark.parametrize(
    ("records", "linked"),
    [
        # Same name and date of birth without PNC IDs.
        ([Record(2, None, KEY)], {2}),
        # ... and the one PNC ID that name and date of birth has.
        ([Record(2, None, KEY), Record(3, "X", KEY)], {2, 3}),
        # Two PNC IDs share the name and date of birth: nobody can tell whose it is.
        ([Record(2, None, KEY), Record(3, "X", KEY), Record(4, "Y", KEY)], set()),
    ],
)
def test_linking_rule_for_a_record_without_pnc(records: list[Record], linked: set[int]) -> None:
    me = Record(1, None, KEY)
    assert linked_records({1}, {r.id: r for r in [me, *records]}) == linked


def test_linking_rule_does_not_guess_between_two_pncs_for_a_merged_cluster() -> None:
    other_key = ("sam", "jones", DOB)
    cluster = [Record(1, None, KEY), Record(2, None, other_key, merged_into_id=1)]
    others = [Record(3, "X", KEY), Record(4, "Y", other_key), Record(5, None, KEY)]
    assert linked_records({1, 2}, {r.id: r for r in [*cluster, *others]}) == set()
    assert linked_records({1, 2}, {r.id: r for r in [*cluster, *others[::2]]}) == {3, 5}


def test_linking_rule_for_a_record_with_pnc() -> None:
    me = Record(1, "X", KEY)
    others = [Record(2, None, KEY), Record(3, "Y", KEY), Record(4, "X", None)]
    # Y has the same name and date of birth but is someone else, which makes record 2 ambiguous.
    assert linked_records({1}, {r.id: r for r in [me, *others]}) == {4}
    assert linked_records({1}, {r.id: r for r in [me, others[0], others[2]]}) == {2, 4}


# ---- Earlier records, against the database -------------------------------------------------


def test_pnc_links_records_whatever_their_names(db_session: Session, org: Organisation) -> None:
    # One live record per organisation and PNC ID: a record merged away keeps its PNC ID.
    me = create_person(db_session, org, given_name="Alex", family_name="Smith", pnc_id="12/345678A")
    kept = create_person(db_session, org, given_name="Lex", family_name="Smithers", date_of_birth=None)
    alias = create_person(
        db_session,
        org,
        given_name="Lexi",
        family_name="Smythe",
        date_of_birth=date(2008, 1, 1),
        pnc_id="12/345678a",
        merged_into_id=kept.id,
    )
    stranger = create_person(db_session, org, given_name="Alex", family_name="Smith", pnc_id="99/111111B")
    old = create_encounter(db_session, alias, org, occurred_at=at(1, 1))
    create_encounter(db_session, stranger, org, occurred_at=at(2, 1))
    assert same_person_ids(db_session, me) == {me.id, alias.id, kept.id}
    assert same_person_ids(db_session, alias) == {me.id, alias.id, kept.id}
    assert earlier_encounters(db_session, me, at(1)) == [old]


def test_another_organisations_record_is_never_linked(db_session: Session, org: Organisation) -> None:
    """Two forces meeting one person hold two records: neither's history is the other's."""
    other = create_organisation(db_session, name="Other Police")
    me = create_person(db_session, org, given_name="Alex", family_name="Smith", pnc_id="12/345678A")
    same_pnc = create_person(db_session, other, given_name="Alex", family_name="Smith", pnc_id="12/345678A")
    same_name = create_person(db_session, other, given_name="Alex", family_name="Smith")
    for person in (same_pnc, same_name):
        create_encounter(db_session, person, other, occurred_at=at(1, 1))
    assert same_person_ids(db_session, me) == {me.id}
    assert earlier_encounters(db_session, me, at(1)) == []
    assert possible_matches(db_session, me) == []
    assert same_person_ids(db_session, same_pnc) == {same_pnc.id, same_name.id}


def test_name_and_date_of_birth_link_records_without_pnc(db_session: Session, org: Organisation) -> None:
    me = create_person(db_session, given_name="Siobhán", family_name="O'Brien")
    earlier = create_person(db_session, given_name="siobhan", family_name="OBRIEN ")
    other_dob = create_person(
        db_session, given_name="Siobhan", family_name="O'Brien", date_of_birth=date(2009, 5, 2)
    )
    encounters = [create_encounter(db_session, p, org, occurred_at=at(1, 2)) for p in (earlier, other_dob)]
    assert same_person_ids(db_session, me) == {me.id, earlier.id}
    assert earlier_encounters(db_session, me, at(1)) == [encounters[0]]


def test_different_pncs_are_different_people(db_session: Session, org: Organisation) -> None:
    me = create_person(db_session, pnc_id="12/345678A")
    twin = create_person(db_session, pnc_id="12/345679B")
    create_encounter(db_session, twin, org, occurred_at=at(1, 1))
    assert same_person_ids(db_session, me) == {me.id}
    assert earlier_encounters(db_session, me, at(1)) == []


def test_a_record_without_pnc_joins_the_one_pnc_with_its_name(db_session: Session) -> None:
    no_pnc = create_person(db_session)
    with_pnc = create_person(db_session, pnc_id="12/345678A")
    survivor = create_person(db_session, given_name="Alexander", family_name="Other", date_of_birth=None)
    renamed = create_person(
        db_session, given_name="Alexander", pnc_id="12/345678A", merged_into_id=survivor.id
    )
    everyone = {no_pnc.id, with_pnc.id, renamed.id, survivor.id}
    # Whichever record is asked about, the answer is the same.
    assert {
        p.id: same_person_ids(db_session, p) for p in (no_pnc, with_pnc, renamed, survivor)
    } == dict.fromkeys(everyone, everyone)


def test_a_name_shared_by_two_pncs_links_nobody_by_name(db_session: Session) -> None:
    no_pnc = create_person(db_session)
    first = create_person(db_session, pnc_id="12/345678A")
    second = create_person(db_session, pnc_id="13/222222C")
    assert same_person_ids(db_session, no_pnc) == {no_pnc.id}
    assert same_person_ids(db_session, first) == {first.id}
    assert same_person_ids(db_session, second) == {second.id}
    # It is shown for someone to decide instead.
    assert no_pnc in [m.person for m in possible_matches(db_session, first)]


def test_merged_records_count_in_both_directions(db_session: Session, org: Organisation) -> None:
    survivor = create_person(db_session, given_name="Jo", family_name="Bloggs")
    merged = create_person(
        db_session, given_name="Joanne", family_name="Blogs", date_of_birth=date(2009, 5, 3)
    )
    merged_earlier = create_person(db_session, given_name="J", family_name="Bloggs", date_of_birth=None)
    merged.merged_into_id = survivor.id
    merged_earlier.merged_into_id = merged.id  # a chain: merged into a record later merged itself
    db_session.flush()
    expected = {survivor.id, merged.id, merged_earlier.id}
    for person in (survivor, merged, merged_earlier):
        assert same_person_ids(db_session, person) == expected
    old = create_encounter(db_session, merged_earlier, org, occurred_at=at(1, 1))
    assert earlier_encounters(db_session, survivor, at(1)) == [old]


def test_only_encounters_strictly_before_count_oldest_first(db_session: Session, org: Organisation) -> None:
    me = create_person(db_session, pnc_id="12/345678A")
    other = create_person(db_session, given_name="Al", pnc_id="12/345678A", merged_into_id=me.id)
    second = create_encounter(db_session, me, org, occurred_at=at(2, 2))
    first = create_encounter(db_session, other, org, occurred_at=at(1, 1))
    create_encounter(db_session, other, org, occurred_at=at(1))  # the encounter being dealt with
    create_encounter(db_session, me, org, occurred_at=at(2))
    assert earlier_encounters(db_session, me, at(1)) == [first, second]


@contextmanager
def counting_queries(session: Session) -> Iterator[list[str]]:
    session.flush()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", count)


def test_earlier_encounters_uses_a_few_queries_however_many_records(
    db_session: Session, org: Organisation
) -> None:
    me = create_person(db_session, pnc_id="12/345678A")
    # Records merged away keep their PNC ID (one live record per organisation and PNC ID).
    away = create_person(db_session, given_name="Kept", family_name="Elsewhere", date_of_birth=None)
    by_pnc = [
        create_person(db_session, given_name=f"Alias{n}", pnc_id="12/345678A", merged_into_id=away.id)
        for n in range(2)
    ]
    by_name = create_person(db_session)
    merged = create_person(db_session, given_name="Merged", family_name="Away", date_of_birth=None)
    merged.merged_into_id = by_pnc[0].id
    linked = [*by_pnc, by_name, merged, away]
    for n, person in enumerate(linked, 1):
        create_encounter(db_session, person, org, occurred_at=at(n, 1))
        create_encounter(db_session, person, org, occurred_at=at(n, 2))
    with counting_queries(db_session) as statements:
        history = earlier_encounters(db_session, me, at(1))
    assert len(history) == 10
    assert {e.person_id for e in history} == {p.id for p in linked}
    assert len(statements) <= 5, statements


# ---- Possible matches ------------------------------------------------------------------------


def matches_of(session: Session, person: Person) -> dict[int, list[str]]:
    return {m.person.id: m.reasons for m in possible_matches(session, person)}


def test_possible_matches_find_slips(db_session: Session) -> None:
    me = create_person(
        db_session, given_name="Alex", family_name="Smyth", date_of_birth=DOB, pnc_id="12/345678A"
    )
    typo = create_person(db_session, given_name="Alex", family_name="Smith", date_of_birth=DOB)
    swapped = create_person(db_session, given_name="Smyth", family_name="Alex", date_of_birth=DOB)
    american = create_person(
        db_session, given_name="Alex", family_name="Smyth", date_of_birth=date(2009, 5, 3)
    )
    pnc_slip = create_person(
        db_session,
        given_name="Robin",
        family_name="Hood",
        date_of_birth=date(1990, 1, 1),
        pnc_id="12/345687A",
    )
    assert matches_of(db_session, me) == {
        typo.id: ["Same date of birth", "Family name differs by one letter (Smyth / Smith)", "Same forename"],
        swapped.id: ["Same date of birth", "Forename and family name swapped (Alex Smyth / Smyth Alex)"],
        american.id: ["Day and month of birth swapped (05/03/2009 / 03/05/2009)", "Same name"],
        pnc_slip.id: ["PNC IDs differ by one character (12/345678A / 12/345687A)"],
    }


def test_possible_matches_leave_out_the_person_and_the_unlike(db_session: Session) -> None:
    me = create_person(db_session, given_name="Alex", family_name="Smyth", pnc_id="12/345678A")
    survivor = create_person(db_session, given_name="Al", family_name="Smy", date_of_birth=None)
    # The same person, merged away (one live record per PNC ID).
    create_person(
        db_session,
        given_name="Alexander",
        family_name="Smyth",
        pnc_id="12/345678A",
        merged_into_id=survivor.id,
    )
    create_person(db_session, given_name="Alex", family_name="Smyth")  # same person by name and DOB
    create_person(db_session, given_name="Sam", family_name="Jones", date_of_birth=date(1999, 9, 9))
    # Alike but recorded as another person by the police.
    create_person(db_session, given_name="Alex", family_name="Smith", pnc_id="55/555555E")
    joined = create_person(db_session, given_name="Jo", family_name="Jones")
    merged = create_person(db_session, given_name="Alex", family_name="Smith")
    merged.merged_into_id = joined.id
    db_session.flush()
    assert matches_of(db_session, me) == {}
    # The merged record is shown through its survivor, never by itself.
    assert merged.id not in matches_of(db_session, create_person(db_session, family_name="Smiths"))


def test_possible_matches_are_likeliest_first_and_limited(db_session: Session) -> None:
    me = create_person(db_session, given_name="Alex", family_name="Taylor")
    weak = [create_person(db_session, given_name=f"Sam{n}", family_name="Taylor") for n in range(3)]
    strong = create_person(db_session, given_name="Alex", family_name="Tayler")
    found = possible_matches(db_session, me, limit=3)
    assert [m.person.id for m in found] == [strong.id, weak[0].id, weak[1].id]
    assert found[0].score > found[1].score
