"""Bulk import: good files (CSV and XLSX), files with many errors, re-imports, a large file, the page."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Decision, Encounter, Person, Referral, ReferralEvent
from divert.pathways.importing import ImportFailed, ImportResult, import_file
from divert.pathways.programmes import sync_definitions

from .client import parse
from .factories import create_encounter, create_person
from .importing.helpers import SAMPLE, csv_to_xlsx, row, to_csv

TABLES = (Person, Encounter, Decision, Referral, ReferralEvent)


@pytest.fixture
def admin(db_session: Session, make_user: Any) -> Any:
    sync_definitions(db_session)
    return make_user("admin")


def _import(session: Session, admin: Any, data: bytes, name: str = "file.csv") -> ImportResult:
    return import_file(session, data, name, organisation_id=admin.organisation_id, actor=admin)


def _problems(session: Session, admin: Any, data: bytes) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportFailed) as failed:
        _import(session, admin, data)
    return [(p.row, p.column, p.message) for p in failed.value.problems]


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0 for model in TABLES)


def _case(session: Session, ref: str) -> Referral | None:
    return session.scalar(select(Referral).join(Encounter).where(Encounter.external_ref == ref))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_sample_file_imports_with_its_milestones(db_session: Session, admin: Any, kind: str) -> None:
    data = SAMPLE.read_bytes()
    result = _import(db_session, admin, data if kind == "csv" else csv_to_xlsx(data), f"sample.{kind}")

    assert (result.rows, result.encounters, result.cases, result.unchanged) == (14, 14, 11, 0)
    assert (result.people_created, result.people_matched) == (13, 0)  # SAMPLE-0001 and -0002 share a PNC ID
    assert result.decisions == 16  # two rows record an answer the rules did not give
    completed = _case(db_session, "SAMPLE-0001")
    assert completed is not None
    assert (completed.state, completed.route, completed.outcome_code) == ("completed", "yot", 22)
    assert completed.engaged_at is not None and completed.engaged_at.date().isoformat() == "2024-02-20"
    assert completed.closed_at is not None and completed.closed_at.date().isoformat() == "2024-04-10"
    kinds = [e.kind for e in completed.events]
    assert kinds == ["decision", "import", "import", "import", "import"]
    assert completed.events[-1].data["milestone"] == "completed_at"
    # The second possession in the same file is a repeat, so the Youth Justice Unit decides.
    repeat = _case(db_session, "SAMPLE-0002")
    assert repeat is not None and (repeat.route, repeat.state) == ("yju", "awaiting_yju")
    escalated = _case(db_session, "SAMPLE-0007")
    assert escalated is not None and (escalated.state, escalated.outcome_code) == ("prosecuted", 1)
    declined = _case(db_session, "SAMPLE-0003")
    assert declined is not None and (declined.state, declined.exit_reason) == ("declined", "declined")
    not_offered = _case(db_session, "SAMPLE-0004")
    assert not_offered is not None and not_offered.state == "not_offered"
    assert not_offered.events[-1].reason == "A parent could not be contacted"
    assert _case(db_session, "SAMPLE-0005") is None  # supply suspected: not eligible, no case
    audit = db_session.scalar(select(AuditEntry).where(AuditEntry.object_type == "import"))
    assert audit is not None and "14 encounters" in audit.detail and audit.user_id == admin.id


def test_a_recorded_answer_that_differs_from_the_rules_is_kept_as_an_override(
    db_session: Session, admin: Any
) -> None:
    _import(db_session, admin, SAMPLE.read_bytes())
    case = _case(db_session, "SAMPLE-0008")  # personal_use false, but recorded as eligible
    assert case is not None and case.state == "referred"
    decision = db_session.get(Decision, case.decision_id)
    assert decision is not None and decision.eligible and decision.override_reason == "Imported record"
    original = decision.overrides
    assert original is not None and original.eligible is False
    assert decision.reasons[-1]["text"] == "Recorded as eligible in the imported file"


def test_blank_eligible_is_decided_by_the_rules(db_session: Session, admin: Any) -> None:
    # Aged 15 at the encounter, first possession for personal use: eligible, to the YOT.
    result = _import(
        db_session, admin, to_csv([row(date_of_birth="2009-01-15", occurred_at="2024-03-01T14:30")])
    )
    assert result.cases == 1 and result.decisions == 1
    case = _case(db_session, "T-1")
    assert case is not None and (case.state, case.route) == ("eligible", "yot")
    decision = db_session.get(Decision, case.decision_id)
    assert decision is not None and decision.overrides_id is None
    assert any("Aged 15" in r["text"] for r in decision.reasons)
    assert decision.facts["date_of_birth"] == "2009-01-15"


def test_history_in_the_database_counts_for_the_rules(db_session: Session, admin: Any, org: Any) -> None:
    person = create_person(db_session, pnc_id="00/123456Z", date_of_birth=date(2009, 1, 15))
    create_encounter(
        db_session,
        person,
        org,
        occurred_at=datetime(2023, 6, 1, tzinfo=UTC),
    )
    result = _import(
        db_session, admin, to_csv([row(pnc_id="00/123456z", forenames="Someone", surname="Else")])
    )
    assert (result.people_created, result.people_matched) == (0, 1)
    case = _case(db_session, "T-1")
    assert case is not None and case.route == "yju" and case.person_id == person.id


def test_every_problem_in_every_row_is_reported_and_nothing_is_written(
    db_session: Session, admin: Any
) -> None:
    before = _counts(db_session)
    rows = [
        row(encounter_ref="ok-1"),
        row(encounter_ref="bad-2", date_of_birth="01/05/2009", gender="M"),
        row(encounter_ref="bad-3", programme="nope", offence="shoplifting"),
        row(encounter_ref="bad-4", offered="false"),
        row(encounter_ref="bad-5", offered="false", accepted="true", not_offered_reason="x"),
        row(
            encounter_ref="bad-6",
            offered="true",
            accepted="true",
            completed_on="2024-02-01",
            outcome_code="99",
        ),
        row(encounter_ref="ok-1"),
        row(encounter_ref="bad-8", occurred_at="yesterday", personal_use="yes"),
        row(encounter_ref="bad-9", supply_suspected="true", offered="true"),
        row(
            encounter_ref="bad-10",
            programme="divert",
            date_of_birth="2003-01-01",
            offered="true",
            accepted="true",
            escalated_on="2024-04-01",
        ),
    ]
    problems = _problems(db_session, admin, to_csv(rows))
    where = {(r, c) for r, c, _ in problems}
    assert {
        (3, "date_of_birth"),
        (3, "gender"),
        (4, "programme"),
        (4, "offence"),
        (5, "not_offered_reason"),
        (6, "accepted"),
        (7, "completed_on"),
        (7, "outcome_code"),
        (8, "encounter_ref"),
        (9, "occurred_at"),
        (9, "personal_use"),
        (10, "offered"),
        (11, "escalated_on"),
    } <= where
    messages = dict(((r, c), m) for r, c, m in problems)
    assert messages[(3, "date_of_birth")] == "Enter a date of birth in the format 2009-05-01"
    assert messages[(3, "gender")] == "Gender must be one of female, male, not_stated or other"
    assert messages[(5, "not_offered_reason")] == "Enter the reason the person was not offered diversion"
    assert messages[(6, "accepted")] == "Leave accepted blank when offered is false"
    assert "on or after the encounter" in messages[(7, "completed_on")]
    assert messages[(8, "encounter_ref")] == "Encounter reference ok-1 is also on row 2"
    assert "not eligible" in messages[(10, "offered")]
    assert (2, "encounter_ref") not in where
    assert _counts(db_session) == before


def test_identifiers_are_checked_as_the_form_and_the_api_check_them(db_session: Session, admin: Any) -> None:
    rows = [
        row(encounter_ref="pnc-free-text", pnc_id="ABC-123"),
        row(encounter_ref="pnc-no-letter", pnc_id="12/345678"),
        row(encounter_ref="district", postcode_district="OXFORD", area="4OX"),
    ]
    messages = {(r, c): m for r, c, m in _problems(db_session, admin, to_csv(rows))}
    assert messages == {
        (2, "pnc_id"): "Enter a PNC ID in the correct format, like 12/345678A",
        (3, "pnc_id"): "Enter a PNC ID in the correct format, like 12/345678A",
        (4, "postcode_district"): "Enter the first half of a postcode, like OX4",
        (4, "area"): "Enter the first half of a postcode, like OX4",
    }
    # What passes is written as the pages write it.
    _import(db_session, admin, to_csv([row(pnc_id=" 2012/45z ", postcode_district="ox 4")]))
    person = db_session.scalar(select(Person).join(Encounter).where(Encounter.external_ref == "T-1"))
    assert person is not None and (person.pnc_id, person.postcode_district) == ("2012/45Z", "OX4")


def test_header_problems_are_reported_by_column(db_session: Session, admin: Any) -> None:
    columns = [c for c in row() if c != "gender"] + ["colour"]
    problems = _problems(db_session, admin, to_csv([row()], columns))
    assert (1, "colour", "Unknown column; see seeds/import/README.md for the columns") in problems
    assert (1, "gender", "The column is missing") in problems
    assert _problems(db_session, admin, b"") == [
        (0, "", "The file is empty; the first row must name the columns")
    ]


def test_reimporting_the_same_file_changes_nothing(db_session: Session, admin: Any) -> None:
    _import(db_session, admin, SAMPLE.read_bytes())
    before = _counts(db_session)
    again = _import(db_session, admin, SAMPLE.read_bytes())
    assert (again.unchanged, again.encounters, again.decisions, again.cases, again.people_created) == (
        14,
        0,
        0,
        0,
        0,
    )
    assert _counts(db_session) == before
    # A file with a new row beside old ones adds only the new one.
    data = SAMPLE.read_bytes() + b"SAMPLE-0015" + SAMPLE.read_bytes().splitlines()[1][11:] + b"\n"
    more = _import(db_session, admin, data)
    assert (more.unchanged, more.encounters, more.people_matched) == (14, 1, 1)


def test_a_known_reference_with_different_content_is_a_problem(db_session: Session, admin: Any) -> None:
    _import(db_session, admin, to_csv([row(offered="true")]))
    before = _counts(db_session)
    problems = _problems(
        db_session,
        admin,
        to_csv([row(offered="false", not_offered_reason="Changed mind", setting="custody")]),
    )
    columns = {c for _, c, _ in problems}
    assert columns == {"offered", "setting"}
    assert any("was imported before with setting street, not custody" in m for _, _, m in problems)
    assert _counts(db_session) == before


def test_a_large_file_imports_quickly(db_session: Session, admin: Any) -> None:
    rows = [
        row(
            encounter_ref=f"L-{i}",
            forenames=f"Person{i % 1500}",
            date_of_birth=f"{2007 + i % 1500 % 3}-0{1 + i % 1500 % 9}-1{i % 1500 % 9}",
            occurred_at=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:15",
            offered=["", "true", "false"][i % 3],
            not_offered_reason="Not suitable" if i % 3 == 2 else "",
            # A person's second row comes while their first case is live: offered again, not a second place.
            accepted="true" if i % 3 == 1 and i < 1500 else "",
        )
        for i in range(2000)
    ]
    started = time.perf_counter()
    result = _import(db_session, admin, to_csv(rows))
    elapsed = time.perf_counter() - started
    assert result.encounters == 2000 and result.people_created == 1500
    assert elapsed < 20, elapsed
    assert _case(db_session, "L-1") is not None
    assert db_session.scalar(select(func.count()).select_from(Referral)) == result.cases


def test_the_command_imports_and_refuses_a_bad_file(
    app: Flask, db_session: Session, admin: Any, tmp_path: Any
) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([row(gender="x"), row(encounter_ref="T-2", surname="")]))
    failed = runner.invoke(args=["import", str(bad), "--user", admin.email])
    assert failed.exit_code != 0
    assert (
        "Row 2, gender: Gender must be one of" in failed.output
        and "Row 3, surname: Enter the surname" in failed.output
    )
    good = runner.invoke(args=["import", str(SAMPLE), "--user", admin.email])
    assert good.exit_code == 0, good.output
    assert "14 encounters" in good.output
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 14


def _upload(client: Any, data: bytes, name: str) -> Any:
    return client.submit(
        "/admin/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_the_upload_page_imports_a_file(client: Any, signed_in: Any, db_session: Session) -> None:
    sync_definitions(db_session)
    signed_in("admin")
    page = parse(client.get("/admin/import"))
    assert page.find("input", attrs={"type": "file"}) is not None
    response = _upload(client, SAMPLE.read_bytes(), "sample.csv")
    assert response.status_code == 200
    counts = parse(response).find(attrs={"data-testid": "import-counts"})
    assert counts is not None and "Encounters added" in counts.get_text() and "14" in counts.get_text()
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 14


def test_the_upload_page_lists_problems_and_imports_nothing(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    sync_definitions(db_session)
    signed_in("admin")
    response = _upload(
        client, to_csv([row(gender="x"), row(encounter_ref="T-2", date_of_birth="15/01/2009")]), "x.csv"
    )
    assert response.status_code == 400
    page = parse(response)
    assert page.find(attrs={"data-testid": "error-summary"}) is not None
    cells = [
        [td.get_text(strip=True) for td in tr.find_all("td")] for tr in page.select("#problems tbody tr")
    ]
    assert ["3", "date_of_birth", "Enter a date of birth in the format 2009-05-01"] in cells
    assert any(c[:2] == ["2", "gender"] for c in cells)
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 0
    empty = client.submit("/admin/import", {}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Select a CSV or Excel (.xlsx) file" in empty.get_data(as_text=True)


def test_only_administrators_can_import(client: Any, signed_in: Any) -> None:
    signed_in("supervisor")
    assert client.get("/admin/import").status_code == 403
