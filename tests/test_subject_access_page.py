"""The subject access export as a page: a required reason, JSON and PDF, and nothing of another
organisation's."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, audit

from .client import parse
from .factories import create_encounter, create_organisation, create_person, create_user


def _setting(db_session: Session, org: Any) -> tuple[Any, Any, Any]:
    elsewhere = create_organisation(db_session, name="Surrey Police")
    ours = create_person(db_session, org, given_name="Olwen", family_name="Oxbridge")
    create_encounter(db_session, ours, org, area="OXNRTH")
    theirs = create_person(db_session, elsewhere, given_name="Zebedee", family_name="Zanzibar")
    create_encounter(db_session, theirs, elsewhere, area="GLDFRD")
    stranger = create_user(db_session, "supervisor", elsewhere, name="Sid Stranger")
    # Another organisation's user looking at our record answers for it themselves.
    audit.record(db_session, stranger, "view", "person", ours.id, detail="looked by Sid Stranger")
    return ours, theirs, elsewhere


def test_the_export_needs_a_reason_and_a_person_we_may_see(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    ours, theirs, _ = _setting(db_session, org)
    signed_in("supervisor")
    page = parse(client.get(f"/subject-access?person={ours.id}"))
    assert page.select_one("input[name=person]")["value"] == str(ours.id)

    no_reason = client.submit("/subject-access", {"person": ours.id, "reason": "  ", "format": "pdf"})
    assert no_reason.status_code == 400
    assert [a.text.strip() for a in parse(no_reason).select(".govuk-error-summary a")] == [
        "Enter why this export is being made"
    ]
    not_ours = client.submit("/subject-access", {"person": theirs.id, "reason": "SAR-1", "format": "json"})
    assert not_ours.status_code == 400
    assert "No person with this record number that your organisation can see" in parse(not_ours).text
    assert not db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()


def test_json_and_pdf_hold_the_person_and_nothing_of_another_organisations(
    client: Any, signed_in: Any, db_session: Session, org: Any
) -> None:
    ours, _, _ = _setting(db_session, org)
    supervisor = signed_in("supervisor")
    response = client.submit(
        "/subject-access", {"person": ours.id, "reason": "Request SAR-42 by letter", "format": "json"}
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.json
    assert body["reason"] == "Request SAR-42 by letter"
    assert body["person"]["family_name"] == "Oxbridge"
    assert [e["area"] for e in body["encounters"]] == ["OXNRTH"]
    text = response.get_data(as_text=True)
    for foreign in ("Zanzibar", "GLDFRD", "Sid Stranger"):
        assert foreign not in text

    pdf = client.submit("/subject-access", {"person": ours.id, "reason": "Request SAR-42", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Oxbridge" in words and "OXNRTH" in words and "Request SAR-42" in words
    for foreign in ("Zanzibar", "GLDFRD", "Sid Stranger"):
        assert foreign not in words

    exports = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "export", AuditEntry.object_id == str(ours.id))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.user_id, e.detail) for e in exports] == [
        (supervisor.id, "subject access export (json): Request SAR-42 by letter"),
        (supervisor.id, "subject access export (pdf): Request SAR-42"),
    ]


def test_officers_do_not_export(client: Any, signed_in: Any) -> None:
    signed_in("officer")
    assert client.get("/subject-access").status_code == 403
