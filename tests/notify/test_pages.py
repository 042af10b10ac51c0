"""Reminders and notices through the pages: the case page, the home page, the words of messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import LONDON
from divert.background.outbox import send_due
from divert.models import MessageTemplate, OutboxMessage, StaffNotification
from divert.notify import LogSender

from ..client import form_fields, parse
from ..factories import PASSWORD, create_organisation, create_user
from ..pathways.helpers import open_case, refer, staff
from ..test_casework_pages import _receiving


def _post(client: Any, page: Any, selector: str, **values: Any) -> Any:
    form = page.select_one(selector)
    assert form is not None, selector
    return client.post(form["action"], data={**form_fields(form), **values})


def _page(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return parse(response)


def test_a_caseworker_records_consent_books_moves_and_sees_each_message(
    client: Any, org: Any, db_session: Session
) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    worker = create_user(db_session, "yot_caseworker", yot)
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    assert client.sign_in(worker.email, PASSWORD).status_code == 302

    # The new referral is on the receiving caseworker's home page.
    home = _page(client, "/home")
    assert f"New referral {case.reference} for your team" in home.select_one("[data-testid=notices]").text

    page = _page(client, f"/cases/{case.id}")
    assert "has not agreed to reminders" in page.select_one("[data-testid=consent]").text
    bad = _post(client, page, "form[action$='/reminders']", channel="sms", phone="123")
    assert bad.status_code == 400
    assert "Enter a UK mobile number" in parse(bad).select_one(".govuk-error-summary").text
    agreed = _post(
        client, page, "form[action$='/reminders']", channel="sms", phone="07700 900123", language="cy"
    )
    assert agreed.status_code == 302

    future = datetime.now(LONDON) + timedelta(days=4)
    page = _page(client, f"/cases/{case.id}")
    assert "by text message to 07700900123, in Welsh" in page.select_one("[data-testid=consent]").text
    booked = _post(
        client,
        page,
        "form[action$='/contacts']",
        **{
            "book-kind": "session",
            "book-day": [str(future.day), str(future.month), str(future.year)],
            "book-time": "15:00",
        },
    )
    assert booked.status_code == 302
    page = _page(client, f"/cases/{case.id}")
    rows = [r.text for r in page.select("[data-testid=messages] tbody tr")]
    assert len(rows) == 3 and all("Queued" in r and "Text message" in r for r in rows)

    later = future + timedelta(days=1)
    moved = _post(client, page, "form[action$='/move']", day=later.date().isoformat(), time="11:00")
    assert moved.status_code == 302
    assert _post(client, page, "form[action$='/move']", day="2026-13-40", time="11:00").status_code in {
        400,
        409,
    }
    send_due(db_session, LogSender())
    page = _page(client, f"/cases/{case.id}")
    statuses = sorted(
        r.select("td")[3].text.split()[0] for r in page.select("[data-testid=messages] tbody tr")
    )
    assert statuses == ["Cancelled"] * 3 + ["Queued", "Queued", "Sent"]

    stopped = _post(client, page, "form[action$='/reminders/withdraw']")
    assert stopped.status_code == 302
    assert not db_session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.referral_id == case.id,
            OutboxMessage.status == "queued",
            OutboxMessage.contact_id.is_not(None),
        )
    ).all()


def test_another_organisation_cannot_touch_the_reminders(client: Any, org: Any, db_session: Session) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    create_user(db_session, "yot_caseworker", yot)
    officer = staff(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    mine = db_session.scalar(select(StaffNotification).where(StaffNotification.referral_id == case.id))
    outsider = create_user(db_session, "yot_caseworker", create_organisation(db_session, kind="yot"))
    assert client.sign_in(outsider.email, PASSWORD).status_code == 302
    token = client.csrf_token("/home")
    for url in (f"/cases/{case.id}/reminders", f"/cases/{case.id}/reminders/withdraw"):
        response = client.post(url, data={"csrf_token": token, "channel": "sms", "phone": "07700900123"})
        assert response.status_code == 404, url
    # Someone else's notice cannot be dismissed, nor seen to exist.
    assert mine is not None and mine.user_id != outsider.id
    assert client.post(f"/notices/{mine.id}/read", data={"csrf_token": token}).status_code == 404
    assert yot.id != outsider.organisation_id


def test_a_notice_is_dismissed(client: Any, org: Any, db_session: Session) -> None:
    yot = _receiving(db_session, "tvp-youth-drugs", "yot")
    worker = create_user(db_session, "yot_caseworker", yot)
    officer = staff(db_session, "officer", org)
    refer(db_session, officer, open_case(db_session, "tvp-youth-drugs", officer))
    assert client.sign_in(worker.email, PASSWORD).status_code == 302
    home = _page(client, "/home")
    assert _post(client, home, "[data-testid=notices] form").status_code == 302
    assert _page(client, "/home").select_one("[data-testid=notices]") is None


def test_an_administrator_changes_the_words(client: Any, signed_in: Any, db_session: Session) -> None:
    signed_in("admin")
    page = _page(client, "/admin/messages")
    assert "Hello ((name)), your ((what))" in page.select_one("[data-testid=wording]").text
    refused = _post(
        client,
        page,
        "[data-testid=words-form]",
        kind="reminder_before",
        language="en",
        subject="Reminder",
        body="Your ((offence))",
    )
    assert refused.status_code == 400
    assert "Unknown placeholder ((offence))" in parse(refused).select_one(".govuk-error-summary").text
    saved = _post(
        client,
        page,
        "[data-testid=words-form]",
        kind="reminder_before",
        language="en",
        subject="Reminder",
        body="See you ((day)) at ((time)).",
    )
    assert saved.status_code == 200
    [template] = db_session.scalars(select(MessageTemplate)).all()
    assert (template.kind, template.programme_code, template.body) == (
        "reminder_before",
        "",
        "See you ((day)) at ((time)).",
    )
    assert "Edited" in parse(saved).select_one("[data-testid=wording]").text
