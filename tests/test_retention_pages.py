"""The retention review page, its background job, the command line, and restriction of processing,
each tried by a second organisation as well."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, ChangeRecord, Job, Person
from divert.pathways.cases import offer
from divert.pathways.restriction import Restricted

from .client import parse
from .factories import create_encounter, create_organisation, create_person, create_user
from .pathways.helpers import open_case

LONG_AGO = datetime(2020, 3, 1, 12, tzinfo=UTC)
RECENT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _people(db_session: Session, org: Any) -> dict[str, Any]:
    """Two of our people never referred, one long ago (due) and one recently (not); and one of
    another force's, long ago (due, but not ours)."""
    elsewhere = create_organisation(db_session, name="Surrey Police", code="surrey")
    due = create_person(db_session, org, given_name="Dorothea", family_name="Duesworth", pnc_id="20/1111111A")
    create_encounter(db_session, due, org, occurred_at=LONG_AGO, notes="Dorothea was polite")
    kept = create_person(db_session, org, given_name="Kenelm", family_name="Keepsake")
    create_encounter(db_session, kept, org, occurred_at=RECENT)
    theirs = create_person(db_session, elsewhere, given_name="Zebedee", family_name="Zanzibar")
    create_encounter(db_session, theirs, elsewhere, occurred_at=LONG_AGO)
    return {"due": due, "kept": kept, "theirs": theirs, "elsewhere": elsewhere}


def test_the_review_lists_only_what_is_due_of_our_records(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    people = _people(db_session, org)
    signed_in("admin")
    page = parse(client.get("/admin/retention?as_of=2026-12-01"))
    counts = page.select_one("[data-testid=retention-counts]")
    assert counts is not None
    assert [c.text.strip() for c in counts.select("tbody td")] == [
        "(no programme)", "Never referred", "Anonymised", "1",
    ]  # fmt: skip
    listed = page.select_one("[data-testid=retention-people]").text
    assert "Dorothea Duesworth" in listed
    for absent in ("Keepsake", "Zanzibar"):
        assert absent not in page.text
    # The listing names people, so it is audited.
    entry = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and str(people["due"].id) in entry.detail


def test_a_date_that_is_not_one_is_an_error_message(client: Any, signed_in: Any, db_session: Session) -> None:
    signed_in("admin")
    response = client.get("/admin/retention?as_of=2026-02-30")
    assert response.status_code == 400
    assert "Enter the review date as a real date" in parse(response).select_one(".govuk-error-summary").text


def test_confirming_runs_the_job_in_the_background_with_progress(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    people = _people(db_session, org)
    admin = signed_in("admin")
    no_confirm = client.submit(
        "/admin/retention?as_of=2026-12-01", {"as_of": "2026-12-01", "reason": "Annual"}
    )
    assert no_confirm.status_code == 400
    assert "Confirm that you have checked the list" in parse(no_confirm).text
    response = client.submit(
        "/admin/retention?as_of=2026-12-01",
        {"as_of": "2026-12-01", "reason": "Annual review 2026", "confirm": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_page = parse(client.get(response.headers["Location"]))
    assert job_page.select_one("[data-testid=job-state]").text.strip() == "Finished"
    assert job_page.select_one("[data-testid=job-progress]").text.strip() == "1 of 1"
    assert job_page.select_one("[data-testid=job-anonymised]").text.strip() == "1"
    db_session.expire_all()
    due, kept, theirs = (db_session.get(Person, people[k].id) for k in ("due", "kept", "theirs"))
    assert due is not None and due.anonymised_at is not None and due.pnc_id is None
    assert kept is not None and kept.anonymised_at is None
    assert theirs is not None and theirs.anonymised_at is None
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "anonymise", AuditEntry.object_id == str(due.id))
    ).one()
    assert entry.user_id == admin.id and "Annual review 2026" in entry.detail
    # The person page says the record was anonymised.
    shown = parse(client.get(f"/people/{due.id}"))
    assert shown.select_one("[data-testid=anonymised-banner]") is not None


def test_another_organisations_admin_cannot_see_or_anonymise_our_people(
    app: Flask, client: Any, db_session: Session, org: Any
) -> None:
    people = _people(db_session, org)
    ours = create_user(db_session, "admin", org)
    stranger = create_user(db_session, "admin", people["elsewhere"])
    client.sign_in(stranger.email, "correct-horse-battery")
    page = parse(client.get("/admin/retention?as_of=2026-12-01"))
    assert "Duesworth" not in page.text and "Zanzibar" in page.text
    client.submit(
        "/admin/retention?as_of=2026-12-01",
        {"as_of": "2026-12-01", "reason": "Their review", "confirm": "y"},
    )
    db_session.expire_all()
    assert db_session.get(Person, people["due"].id).anonymised_at is None  # type: ignore[union-attr]
    assert db_session.get(Person, people["theirs"].id).anonymised_at is not None  # type: ignore[union-attr]
    their_job = db_session.scalars(select(Job).where(Job.kind == "retention")).one()
    # Our admin cannot open their job; they cannot open the restriction page of our person.
    client.submit("/sign-out", {}, token_from="/home")
    client.sign_in(ours.email, "correct-horse-battery")
    assert client.get(f"/admin/retention/jobs/{their_job.id}").status_code == 404
    client.submit("/sign-out", {}, token_from="/home")
    client.sign_in(stranger.email, "correct-horse-battery")
    assert client.get(f"/people/{people['due'].id}/restriction").status_code == 404


def test_the_command_line_review_and_apply(app: Flask, db_session: Session, org: Any) -> None:
    people = _people(db_session, org)
    runner = app.test_cli_runner()
    review = runner.invoke(args=["retention", "review", "--as-of", "2026-12-01"])
    assert review.exit_code == 0, review.output
    assert "Due for review as of 2026-12-01: 2 people" in review.output
    assert "never_referred" in review.output and "Duesworth" not in review.output
    named = runner.invoke(args=["retention", "review", "--as-of", "2026-12-01", "--names"])
    assert "Dorothea Duesworth" in named.output and "Zanzibar" in named.output

    refused = runner.invoke(args=["retention", "apply", "--as-of", "2026-12-01"])
    assert refused.exit_code != 0 and "add --confirm" in refused.output and "Traceback" not in refused.output
    bad = runner.invoke(args=["retention", "apply", "--as-of", "2026-13-01", "--confirm"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "--as-of" in bad.output
    unknown = runner.invoke(args=["retention", "review", "--organisation", "nope"])
    assert unknown.exit_code != 0 and "No organisation with the code 'nope'" in unknown.output
    db_session.expire_all()
    assert db_session.get(Person, people["due"].id).anonymised_at is None  # type: ignore[union-attr]

    applied = runner.invoke(args=["retention", "apply", "--as-of", "2026-12-01", "--confirm"])
    assert applied.exit_code == 0, applied.output
    assert "Anonymised: 2; erased: 0" in applied.output
    again = runner.invoke(args=["retention", "review", "--as-of", "2026-12-01"])
    assert "Due for review as of 2026-12-01: 0 people" in again.output


def test_restriction_pauses_the_cases_and_shows_everywhere(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    officer = create_user(db_session, "officer", org)
    case = open_case(db_session, "tvp-adult-drugs", officer)
    person = case.person
    supervisor = signed_in("supervisor")
    form = parse(client.get(f"/people/{person.id}/restriction"))
    version = form.select_one("input[name=version]")["value"]
    empty = client.submit(f"/people/{person.id}/restriction", {"version": version, "reason": " "})
    assert empty.status_code == 400
    done = client.submit(
        f"/people/{person.id}/restriction", {"version": version, "reason": "Accuracy contested by letter"}
    )
    assert done.status_code == 302
    for url in (f"/people/{person.id}", f"/cases/{case.id}"):
        assert parse(client.get(url)).select_one("[data-testid=restricted-banner]") is not None, url
    db_session.expire_all()
    case = db_session.merge(case)
    with pytest.raises(Restricted):
        offer(db_session, officer, case, True)
    # Who, when and why are in the audit trail and the field history.
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "restrict", AuditEntry.object_id == str(person.id))
    ).one()
    assert entry.user_id == supervisor.id and entry.detail == "Accuracy contested by letter"
    history = db_session.scalars(
        select(ChangeRecord.new_value).where(
            ChangeRecord.object_type == "person", ChangeRecord.object_id == person.id,
            ChangeRecord.field == "restricted_reason",
        )
    ).all()  # fmt: skip
    assert history[-1] == "Accuracy contested by letter"

    version = parse(client.get(f"/people/{person.id}/restriction")).select_one("input[name=version]")["value"]
    lifted = client.submit(
        f"/people/{person.id}/restriction", {"version": version, "reason": "Checked: correct"}
    )
    assert lifted.status_code == 302
    assert parse(client.get(f"/people/{person.id}")).select_one("[data-testid=restricted-banner]") is None
    db_session.expire_all()
    offer(db_session, officer, db_session.merge(case), True)
