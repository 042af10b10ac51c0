"""Two forces meeting one person through the API hold two records; neither sees the other's.

Issue 12, findings 1, 4 (the 409) and 11, through the API: force B recording force A's person's
name and date of birth, or PNC ID, gets a record of its own, and cannot read, export or take over
A's record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, Programme, User
from divert.pathways.programmes import assign_operator

from ..factories import create_encounter, create_organisation
from ..pathways.helpers import open_case, refer, staff
from .payloads import encounter_body


def _person(**fields: Any) -> dict[str, Any]:
    body = encounter_body()
    body["person"].update(fields)
    return body


def _record(client: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return dict(response.json)


def _second_force(db_session: Session, programmes: list[Programme]) -> Any:
    force = create_organisation(db_session, name="Second Police", kind="police_force")
    for programme in programmes:
        assign_operator(db_session, programme, force.id, "police")
    return force


def test_another_force_recording_the_same_person_gets_its_own_record(
    client: Any, token_for: Any, programmes: list[Programme], db_session: Session
) -> None:
    officer_a, a = token_for("officer")
    _, a_supervisor = token_for("supervisor")
    force_b = _second_force(db_session, programmes)
    _, b = token_for("officer", organisation=force_b)
    _, b_supervisor = token_for("supervisor", organisation=force_b)

    theirs = _record(client, a, _person(pnc_id="12/345678A"))
    # The same name and date of birth; then A's PNC ID under a different name.
    by_name = _record(client, b, _person())
    by_pnc = _record(client, b, _person(given_name="Other", family_name="Name", pnc_id="12/345678A"))
    assert by_name["existing_person"] is False and by_pnc["existing_person"] is False
    assert len({theirs["person_id"], by_name["person_id"], by_pnc["person_id"]}) == 3
    # A meeting its own person again still finds its record.
    again = _record(client, a, _person(pnc_id="12/345678A"))
    assert (again["existing_person"], again["person_id"]) == (True, theirs["person_id"])

    a_id = theirs["person_id"]
    for path in (f"/api/v1/people/{a_id}/encounters", f"/api/v1/people/{a_id}/export"):
        response = client.get(path, headers=b_supervisor)
        assert response.status_code == 404, path
        assert "Partner" not in response.get_data(as_text=True)
    db_session.expire_all()
    held = db_session.get_one(Person, a_id)
    assert held.organisation_id == officer_a.organisation_id
    assert {
        e.organisation_id for e in db_session.scalars(select(Encounter).where(Encounter.person_id == a_id))
    } == {officer_a.organisation_id}

    # Each force's export holds its own encounters and its own staff's audit entries only.
    mine = client.get(f"/api/v1/people/{a_id}/export", headers=a_supervisor).json
    assert [e["id"] for e in mine["encounters"]] == sorted([theirs["encounter_id"], again["encounter_id"]])
    b_export = client.get(f"/api/v1/people/{by_name['person_id']}/export", headers=b_supervisor).json
    assert [e["id"] for e in b_export["encounters"]] == [by_name["encounter_id"]]
    staff_of_b = set(db_session.scalars(select(User.id).where(User.organisation_id == force_b.id)))
    assert b_export["audit_log"] and {entry["user_id"] for entry in b_export["audit_log"]} <= staff_of_b
    # A's export, as much as B's, leaves out B's staff's entries.
    assert not {entry["user_id"] for entry in mine["audit_log"]} & staff_of_b


def test_a_receiving_organisation_sees_only_what_it_is_party_to(
    client: Any, token_for: Any, db_session: Session
) -> None:
    """A YOT receiving a referral sees the person and that case's encounter, not the force's others."""
    officer, _ = token_for("officer")
    yot = create_organisation(db_session, kind="yot")
    police = staff(db_session, "officer", officer.organisation)
    case = open_case(db_session, "tvp-youth-drugs", police)
    programme = case.programme
    assign_operator(db_session, programme, yot.id, "receiving", "yot")
    refer(db_session, police, case)
    person = db_session.get_one(Person, case.person_id)
    other = create_encounter(db_session, person, officer.organisation)  # no case, so A's alone
    _, caseworker = token_for("yot_caseworker", organisation=yot)
    police_viewer, police_headers = token_for("officer", organisation=officer.organisation)

    seen = client.get(f"/api/v1/people/{person.id}/encounters", headers=caseworker).json
    assert [e["id"] for e in seen["encounters"]] == [case.encounter_id]
    everything = client.get(f"/api/v1/people/{person.id}/encounters", headers=police_headers).json
    assert {e["id"] for e in everything["encounters"]} == {case.encounter_id, other.id}
    # Its subject access export: the case's encounter, its own staff's entries, not the force's.
    yot_admin, exporter = token_for("admin", organisation=yot)
    export = client.get(f"/api/v1/people/{person.id}/export", headers=exporter).json
    assert [e["id"] for e in export["encounters"]] == [case.encounter_id]
    assert [r["id"] for r in export["referrals"]] == [case.id]
    yot_staff = set(db_session.scalars(select(User.id).where(User.organisation_id == yot.id)))
    logged = {entry["user_id"] for entry in export["audit_log"]}
    assert yot_admin.id in logged and logged <= yot_staff  # not the force's officer who viewed them
    assert police_viewer.id not in {e["user_id"] for e in export["audit_log"]}
    assert all(c["user_id"] != police.id for c in export["change_history"] if c["object_type"] == "person")
    assert export["merges"] == []


def test_names_of_only_symbols_match_nobody(client: Any, token_for: Any, programmes: list[Programme]) -> None:
    _, headers = token_for("officer")
    ids = set()
    for given, family in (("😀", "😀"), ("!!!", "???"), ("😀", "😀")):
        recorded = _record(client, headers, _person(given_name=given, family_name=family))
        assert recorded["existing_person"] is False
        ids.add(recorded["person_id"])
    assert len(ids) == 3
    # A real name is still found again.
    first = _record(client, headers, _person())
    assert _record(client, headers, _person())["person_id"] == first["person_id"]


def test_a_stale_step_is_409_and_says_what_the_case_is_now(
    client: Any, token_for: Any, db_session: Session
) -> None:
    supervisor, headers = token_for("supervisor")
    officer = staff(db_session, "officer", supervisor.organisation)
    case = refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    before = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json
    step = {"to_state": before["next_steps"][0]["to_state"], "reason": "On", "version": before["version"]}
    assert client.post(f"/api/v1/referrals/{case.id}/steps", json=step, headers=headers).status_code == 200
    stale = client.post(f"/api/v1/referrals/{case.id}/steps", json=step, headers=headers)
    assert stale.status_code == 409
    message = stale.json["error"]["message"]
    assert stale.json["error"]["code"] == "conflict"
    assert "Someone else changed this case" in message and "The case is now" in message
    now = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json
    assert f"at version {now['version']}" in message
