"""Reference codes kept in the browser: labels changed, offence categories added and stopped, with history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, ChangeRecord, OffenceCategory

from .client import parse
from .factories import PASSWORD, create_organisation, create_user


def _history(page: Any) -> list[list[str]]:
    return [
        [td.text.strip() for td in row.select("td")] for row in page.select("[data-testid=history] tbody tr")
    ]


def test_a_label_change_is_kept_in_the_history_with_who_made_it(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    admin = signed_in("admin")
    codes = parse(client.get("/admin/reference/codes"))
    assert _history(codes) == [["No changes yet."]]
    path = "/admin/reference/offences/theft"
    old = db_session.get(OffenceCategory, "theft")
    assert old is not None
    before = old.label
    blank = client.submit(path, {"label": "", "active": "y"})
    assert blank.status_code == 400
    assert "Enter a label" in parse(blank).select_one(".govuk-error-summary").text
    saved = client.submit(path, {"label": "Theft and handling", "active": "y"})
    assert saved.status_code == 302
    page = parse(client.get(path))
    assert page.select_one("input[name=label]")["value"] == "Theft and handling"
    (row,) = _history(page)
    assert row[1:] == [admin.name, "Offence category theft", "Label", before, "Theft and handling"]
    assert (
        db_session.scalar(
            select(AuditEntry.detail).where(
                AuditEntry.object_type == "offence_category", AuditEntry.user_id == admin.id
            )
        )
        == f"label: {before} -> Theft and handling"
    )
    # The list page shows every reference change, newest first.
    client.submit("/admin/reference/ethnicity/W1", {"label": "White – English, Welsh, Scottish or NI"})
    client.submit("/admin/reference/outcomes/22", {"label": "Diversion (outcome 22)"})
    rows = _history(parse(client.get("/admin/reference/codes")))
    assert [r[2] for r in rows] == ["Outcome code 22", "Ethnicity code W1", "Offence category theft"]


def test_an_offence_category_is_added_and_deactivated_never_deleted(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    signed_in("admin")
    bad = client.submit("/admin/reference/offences/new", {"slug": "Online Fraud", "label": "Online fraud"})
    assert bad.status_code == 400
    assert "Slug must be lower-case letters" in parse(bad).select_one(".govuk-error-summary").text
    taken = client.submit("/admin/reference/offences/new", {"slug": "theft", "label": "Theft again"})
    assert "already exists" in parse(taken).select_one(".govuk-error-summary").text
    added = client.submit("/admin/reference/offences/new", {"slug": "online_fraud", "label": "Online fraud"})
    assert added.status_code == 302
    assert "Online fraud" in parse(client.get("/admin/reference")).text
    # Unticking "in use" stops it being offered; the row stays for the records that use it.
    stopped = client.submit("/admin/reference/offences/online_fraud", {"label": "Online fraud"})
    assert stopped.status_code == 302
    category = db_session.get(OffenceCategory, "online_fraud")
    assert category is not None
    db_session.refresh(category)
    assert category is not None and category.active is False
    fields = db_session.execute(
        select(ChangeRecord.field, ChangeRecord.old_value, ChangeRecord.new_value)
        .where(ChangeRecord.object_type == "offencecategory", ChangeRecord.object_key == "online_fraud")
        .order_by(ChangeRecord.id)
    ).all()
    assert ("active", "True", "False") in [tuple(f) for f in fields]
    history = _history(parse(client.get("/admin/reference/offences/online_fraud")))
    assert history[0][3:] == ["Active", "True", "False"]


def test_only_administrators_change_reference_data(client: Any, db_session: Session) -> None:
    other = create_organisation(db_session, code="wmp", name="West Midlands Police")
    supervisor = create_user(db_session, "supervisor", other)
    client.sign_in(supervisor.email, PASSWORD)
    assert client.get("/admin/reference/codes").status_code == 403
    assert client.post("/admin/reference/offences/theft", data={"label": "x"}).status_code in (400, 403)
    category = db_session.get(OffenceCategory, "theft")
    assert category is not None and category.label != "x"


def test_a_new_offence_category_is_offered_to_officers_until_it_is_stopped(
    client: Any, signed_in: Any, db_session: Session, make_user: Any
) -> None:
    officer = make_user("officer")
    admin = signed_in("admin")
    client.submit("/admin/reference/offences/new", {"slug": "online_fraud", "label": "Online fraud"})
    client.post("/sign-out", data={"csrf_token": client.csrf_token()})
    client.sign_in(officer.email, PASSWORD)
    assert parse(client.get("/encounters/new")).select("option[value=online_fraud]")
    client.post("/sign-out", data={"csrf_token": client.csrf_token()})
    client.sign_in(admin.email, PASSWORD)
    client.submit("/admin/reference/offences/online_fraud", {"label": "Online fraud"})
    client.post("/sign-out", data={"csrf_token": client.csrf_token()})
    client.sign_in(officer.email, PASSWORD)
    assert not parse(client.get("/encounters/new")).select("option[value=online_fraud]")
