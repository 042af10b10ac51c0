"""The audit search page and its CSV, seen by two organisations' administrators."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, audit
from divert.queries import audit as audit_search

from .client import parse
from .factories import create_organisation, create_person


def _entry(session: Session, actor: Any, action: str, kind: str, object_id: Any, at: datetime) -> AuditEntry:
    entry = audit.record(session, actor, action, kind, object_id, detail=f"{action} by {actor.name}")
    entry.at = at
    session.flush()
    return entry


def _rows(page: Any) -> list[list[str]]:
    return [
        [c.get_text(" ", strip=True) for c in tr.select("td")]
        for tr in page.select("#audit-entries tbody tr")
    ]


def test_an_administrator_searches_their_organisations_trail(
    client: Any, signed_in: Any, make_user: Any, db_session: Session, org: Any
) -> None:
    elsewhere = create_organisation(db_session, name="Surrey Police")
    ours = create_person(db_session, org, family_name="Ours")
    theirs = create_person(db_session, elsewhere, family_name="Theirs")
    officer = make_user("officer", name="Ann Ours")
    stranger = make_user("officer", organisation=elsewhere, name="Bob Theirs")
    june, july = datetime(2026, 6, 10, 12, tzinfo=UTC), datetime(2026, 7, 10, 12, tzinfo=UTC)
    _entry(db_session, officer, "view", "person", ours.id, june)
    _entry(db_session, officer, "update", "person", ours.id, july)
    _entry(db_session, stranger, "view", "person", theirs.id, june)  # not ours to see
    _entry(db_session, stranger, "view", "person", ours.id, july)  # about a record we hold
    signed_in("admin")

    everything = parse(client.get("/admin/audit"))
    details = " ".join(" ".join(r) for r in _rows(everything))
    assert "view by Ann Ours" in details and "view by Bob Theirs" in details
    assert details.count("Bob Theirs") == 2  # his name in "Who" and in the detail, once: only one entry
    link = everything.find("a", string=f"Person {ours.id}")
    assert link["href"] == f"/people/{ours.id}"
    assert everything.find("a", string=f"Person {theirs.id}") is None

    by_ann = parse(client.get("/admin/audit", query_string={"user": officer.id}))
    assert len(_rows(by_ann)) == 2
    updates = parse(client.get("/admin/audit", query_string={"action": "update"}))
    assert [r[4] for r in _rows(updates)] == ["update by Ann Ours"]
    in_june = parse(
        client.get(
            "/admin/audit",
            query_string={"person": ours.id, "from_day": ["1", "6", "2026"], "to_day": ["30", "6", "2026"]},
        )
    )
    assert [r[4] for r in _rows(in_june)] == ["view by Ann Ours"]
    by_surrey = parse(client.get("/admin/audit", query_string={"organisation": elsewhere.id}))
    assert [r[4] for r in _rows(by_surrey)] == ["view by Bob Theirs"]
    assert "Bob Theirs" not in [o.text for o in everything.select("select[name=user] option")]


def test_the_csv_matches_the_search_and_is_audited(
    client: Any, signed_in: Any, make_user: Any, db_session: Session, org: Any
) -> None:
    person = create_person(db_session, org)
    officer = make_user("officer", name="Cat Csv")
    for day in (1, 2, 3):
        _entry(db_session, officer, "view", "person", person.id, datetime(2026, 5, day, 9, tzinfo=UTC))
    _entry(db_session, officer, "update", "person", person.id, datetime(2026, 5, 4, 9, tzinfo=UTC))
    # A typed-in detail that a spreadsheet would run as a formula is written as text.
    audit.record(db_session, officer, "note", "person", person.id, detail="=HYPERLINK(1)")
    admin = signed_in("admin")

    query = {"user": officer.id, "action": "view"}
    page = parse(client.get("/admin/audit", query_string=query))
    assert page.select_one("#audit-count").text.startswith("3 entries")
    href = page.find("a", string="Download these entries as CSV")["href"]
    response = client.get(href)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["When", "User", "Email", "Organisation", "Action"]
    assert [r[4] for r in rows[1:]] == ["view"] * 3
    assert [r[0] for r in rows[1:]] == [r[0] for r in _rows(page)]
    exported = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.object_type == "audit_log")
    ).one()
    assert exported.user_id == admin.id and "3 entries" in exported.detail

    notes = client.get("/admin/audit/export.csv", query_string={"action": "note"}).get_data(as_text=True)
    assert "'=HYPERLINK(1)" in notes


def test_bad_search_values_get_messages(client: Any, signed_in: Any) -> None:
    signed_in("admin")
    response = client.get(
        "/admin/audit",
        query_string={"person": "abc", "from_day": ["2", "6", "2026"], "to_day": ["1", "6", "2026"]},
    )
    assert response.status_code == 400
    errors = [a.text.strip() for a in parse(response).select(".govuk-error-summary a")]
    assert errors == [
        "Enter a person record number using digits only, like 1234",
        "The to date must be the same as or after the from date",
    ]


def test_the_audit_page_is_paginated(
    client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    officer = make_user("officer")
    for n in range(audit_search.PAGE_SIZE + 5):
        audit.record(db_session, officer, "search", "person", None, detail=f"search {n}")
    signed_in("admin")
    first = parse(client.get("/admin/audit", query_string={"user": officer.id}))
    assert len(_rows(first)) == audit_search.PAGE_SIZE
    following = first.select_one(".govuk-pagination__next a")["href"]
    assert "user=" in following and "page=2" in following
    assert len(_rows(parse(client.get(following)))) == 5


def test_only_administrators_search_the_audit_trail(client: Any, signed_in: Any) -> None:
    signed_in("supervisor")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
