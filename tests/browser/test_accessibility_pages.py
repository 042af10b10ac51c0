"""axe-core finds no WCAG 2.2 A/AA violation, of any impact, on the pages the journeys visit.

Each page is checked at desktop width (1280 px) and on a phone (375 px), with every <details> opened so
the forms inside are checked too. Each test walks a journey through the real pages, as test_journeys.py
does, checking every page it reaches (forms empty and with errors), and reports every violation found
on the way rather than stopping at the first page with one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from divert import session_factory
from divert.app.extensions import db
from divert.pathways.sweep import sweep
from divert.rules import BANK_HOLIDAYS

from .pages import (
    DESKTOP,
    OPEN_DETAILS,
    PHONE,
    EncounterAnswers,
    LiveServer,
    book_appointment,
    case_status,
    expand,
    fill_encounter,
    follow_navigation,
    open_signed_in,
    open_worklist_case,
    record_attendance,
    record_offer,
    submit_encounter,
    take_next_step,
    take_this_case,
    wcag_violations,
)

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
TODAY = datetime.now(ZoneInfo("Europe/London")).date()


class Audit:
    """Runs axe on each page at both widths and keeps every violation, to report them all at the end."""

    def __init__(self, axe_source: str) -> None:
        self.axe_source = axe_source
        self.problems: list[str] = []
        self.pages = 0

    def __call__(self, page: Page, what: str) -> None:
        page.evaluate(OPEN_DETAILS)
        original = page.viewport_size
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            for v in wcag_violations(page, self.axe_source):
                self.problems.append(
                    f"{what} ({page.url}) at {size['width']}px: {v['id']} ({v['impact']}): {v['help']}"
                    f" <{v['helpUrl']}>\n" + "\n".join(f"    {node}" for node in v["nodes"])
                )
        if original:
            page.set_viewport_size(original)
        self.pages += 1

    def verify(self) -> None:
        assert not self.problems, f"WCAG 2.2 A/AA violations on {len(self.problems)} page/width(s):\n" + (
            "\n".join(self.problems)
        )


@pytest.fixture
def audit(axe_source: str) -> Audit:
    return Audit(axe_source)


def _youth_possession(page: Page, given: str, family: str) -> None:
    fill_encounter(
        page,
        EncounterAnswers(
            given_name=given,
            family_name=family,
            date_of_birth=date(TODAY.year - 16, TODAY.month, min(TODAY.day, 28)) - timedelta(days=40),
            gender="Male",
            ethnicity="Mixed – White and Black Caribbean",
        ),
    )


def _when(day: date, at: str) -> str:
    return f"{day.day} {day:%B %Y} at {at}"


def test_the_officers_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    page = open_signed_in(new_context, live_server.users["officer"])
    audit(page, "officer home")
    page.goto("/encounters/new")
    audit(page, "encounter form, empty")
    submit_encounter(page)
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "encounter form with errors")

    _youth_possession(page, "Leo", "Audit")
    submit_encounter(page)
    audit(page, "decision page with the offer form")
    page.get_by_label("Offered diversion, and the person declined").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "decision page, offer form with errors")
    record_offer(page)
    audit(page, "confirmation")

    follow_navigation(page, "People")
    audit(page, "people search")
    page.get_by_label("Name or PNC ID").fill("Audit")
    page.get_by_role("button", name="Search").click()
    audit(page, "people search results")
    page.get_by_role("link", name="Leo Audit").first.click()
    audit(page, "person page")
    audit.verify()


def test_the_youth_caseworkers_and_yju_pages(
    new_context: NewContext, live_server: LiveServer, audit: Audit
) -> None:
    officer = open_signed_in(new_context, live_server.users["officer"])
    officer.goto("/encounters/new")
    _youth_possession(officer, "Finn", "Auditor")
    submit_encounter(officer)
    reference = record_offer(officer)

    page = open_signed_in(new_context, live_server.users["yot_caseworker"])
    audit(page, "caseworker home")
    follow_navigation(page, "Cases")
    for view in (
        "Assigned to me",
        "New referrals not yet taken",
        "All open cases",
        "Flagged for review",
        "Overdue work",
        "Closed cases",
    ):
        page.get_by_role("navigation", name="Worklists").get_by_role("link", name=view).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(view)
        audit(page, f"worklist '{view}'")
    open_worklist_case(page, "New referrals not yet taken", reference)
    audit(page, "case: referred to YOT, not taken")
    take_this_case(page)
    audit(page, "case: taken, with the success banner")
    expand(page.locator("details").filter(has_text="Book an appointment"))
    page.get_by_role("button", name="Book appointment").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "case: booking form with errors")
    yesterday = TODAY - timedelta(days=1)
    book_appointment(page, "Session", yesterday, "15:00")
    audit(page, "case: an appointment to record attendance for")
    take_next_step(page, "Non-engagement under review")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "case: next step with errors")
    record_attendance(page, _when(yesterday, "15:00"), "Attended")
    expect(case_status(page)).to_have_text("Engaged with YOT")
    audit(page, "case: engaged with YOT")
    take_next_step(page, "Completed drug education")
    audit(page, "case: completed (closed)")

    yju = open_signed_in(new_context, live_server.users["yju_decision_maker"])
    follow_navigation(yju, "Cases")
    yju.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="New referrals not yet taken"
    ).click()
    yju.get_by_test_id("worklist").get_by_role("row").filter(
        has_text="Thames Valley drug diversion (youth)"
    ).first.get_by_role("link").first.click()
    audit(yju, "case: awaiting YJU decision")
    audit.verify()


def test_the_supervisors_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    # A case with two missed sessions and the sweep's flag on it.
    officer = open_signed_in(new_context, live_server.users["officer"])
    officer.goto("/encounters/new")
    _youth_possession(officer, "Ezra", "Auditee")
    submit_encounter(officer)
    encounter_url = officer.url
    reference = record_offer(officer)
    caseworker = open_signed_in(new_context, live_server.users["yot_caseworker"])
    open_worklist_case(caseworker, "New referrals not yet taken", reference)
    take_this_case(caseworker)
    days = [TODAY - timedelta(days=3), TODAY - timedelta(days=2)]
    for day in days:
        book_appointment(caseworker, "Session", day, "17:00")
    for day in days:
        record_attendance(caseworker, _when(day, "17:00"), "Missed", "Ill", "No")
    assert db.engine is not None
    with session_factory(db.engine)() as session:
        sweep(session, TODAY + timedelta(days=1), BANK_HOLIDAYS)
        session.commit()

    page = open_signed_in(new_context, live_server.users["supervisor"])
    audit(page, "supervisor home")
    follow_navigation(page, "Cases")
    audit(page, "worklist 'All open cases' with reallocation")
    page.get_by_role("navigation", name="Worklists").get_by_role("link", name="Flagged for review").click()
    audit(page, "worklist 'Flagged for review'")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_test_id("flags")).to_be_visible()
    audit(page, "case: non-engagement flag")
    take_next_step(page, "Non-engagement under review", "Missed two sessions.")
    audit(page, "case: non-engagement under review")
    take_next_step(page, "Escalated to the traditional pathway")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "case: escalation decision with errors")

    page.get_by_role("link", name="Correct the last step").click()
    audit(page, "correction form")
    page.get_by_role("button", name="Correct the last step").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "correction form with errors")

    page.goto(encounter_url)
    audit(page, "decision page as a supervisor")
    page.get_by_role("link", name="Override this decision").first.click()
    audit(page, "override form")
    page.get_by_role("button", name="Override decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "override form with errors")

    # A near-duplicate record (one letter out), for the merge page to offer.
    page.goto("/encounters/new")
    fill_encounter(
        page,
        EncounterAnswers(
            given_name="Ezra",
            family_name="Auditea",
            date_of_birth=date(TODAY.year - 16, TODAY.month, min(TODAY.day, 28)) - timedelta(days=40),
            gender="Male",
            ethnicity="Mixed – White and Black Caribbean",
        ),
    )
    submit_encounter(page)
    page.get_by_test_id("possible-matches").get_by_role("link").first.click()
    page.get_by_role("link", name="Check for duplicate records of this person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Possible matches")
    audit(page, "merge page")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "merge page with errors")
    audit.verify()


def test_the_navigators_checkpoint_pages(
    new_context: NewContext, live_server: LiveServer, audit: Audit
) -> None:
    page = open_signed_in(new_context, live_server.users["navigator"])
    follow_navigation(page, "Cases")
    page.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="New referrals not yet taken"
    ).click()
    page.get_by_test_id("worklist").get_by_role("row").filter(
        has_text="Checkpoint (Durham deferred prosecution)"
    ).first.get_by_role("link").first.click()
    take_this_case(page)
    audit(page, "case: needs assessment form")
    page.get_by_role("button", name="Save needs assessment").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "case: needs assessment with errors")
    page.get_by_label("Alcohol", exact=True).select_option("high")
    page.get_by_role("button", name="Save needs assessment").click()
    audit(page, "case: contract form")
    page.get_by_role("button", name="Draw up and sign the contract").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    audit(page, "case: contract form with errors")
    contract = page.get_by_test_id("contract-form")
    contract.get_by_label("Alcohol", exact=True).check()
    contract.get_by_role("button", name="Draw up and sign the contract").click()
    expect(case_status(page)).to_have_text("Contract signed and running")
    audit(page, "case: contract running, with the variation form")
    vary = page.locator("details").filter(has_text="Vary the contract")
    vary.get_by_role("group", name="Remove conditions").get_by_label("Alcohol", exact=True).check()
    vary.get_by_role("combobox").select_option(label="Finances")
    vary.get_by_label("Reason for the variation").fill("Alcohol use has stopped; debts are the need now.")
    vary.get_by_role("button", name="Vary contract").click()
    audit(page, "case: varied contract")
    take_next_step(page, "Contract completed (no further action)")
    audit(page, "case: contract completed")
    audit.verify()


def test_the_coachs_divert_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    page = open_signed_in(new_context, live_server.users["coach"])
    follow_navigation(page, "Cases")
    page.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="New referrals not yet taken"
    ).click()
    page.get_by_test_id("worklist").get_by_role("row").filter(has_text="DIVERT").first.get_by_role(
        "link"
    ).first.click()
    take_this_case(page)
    audit(page, "case: coach contact made")
    for step in (
        "Met outside custody",
        "Goals set (education, training, employment)",
        "Placed in education, training, employment or a programme",
        "Closed after placement",
    ):
        take_next_step(page, step)
        expect(case_status(page)).to_have_text(step)
        audit(page, f"case: {step}")
    audit.verify()


def test_the_administrators_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    page = open_signed_in(new_context, live_server.users["admin"])
    for path, what in (
        ("/admin/users", "users"),
        ("/admin/users/new", "new user form"),
        ("/admin/programmes", "programmes"),
        ("/admin/reference", "reference data"),
        ("/admin/tokens", "API tokens"),
        ("/admin/tokens/new", "new API token form"),
        ("/admin/import", "bulk import upload"),
        ("/monitoring/population", "population baseline upload"),
    ):
        page.goto(path)
        audit(page, what)
        if path == "/admin/users/new":
            page.locator("main form button[type=submit]").click()
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            audit(page, "new user form with errors")
    page.goto("/admin/programmes")
    page.get_by_role("link", name="Version 1").first.click()
    audit(page, "a programme version")
    audit.verify()


def test_the_monitoring_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    for role in ("analyst", "supervisor"):
        page = open_signed_in(new_context, live_server.users[role])
        page.goto("/monitoring?period=year")
        audit(page, f"monitoring as {role}")
        page.goto("/monitoring/method")
        audit(page, f"how the figures are calculated, as {role}")
    audit.verify()


def test_the_error_pages(new_context: NewContext, live_server: LiveServer, audit: Audit) -> None:
    page = open_signed_in(new_context, live_server.users["analyst"])
    response = page.goto("/people")
    assert response is not None and response.status == 403
    audit(page, "403")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    audit(page, "404")
    audit.verify()


def test_the_check_itself_finds_a_violation(page: Page, live_server: LiveServer, axe_source: str) -> None:
    # A check that cannot fail proves nothing: an input without a label must be reported.
    page.goto("/sign-in")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    audit = Audit(axe_source)
    audit(page, "sign-in page with an unlabelled input")
    assert any(": label (" in problem for problem in audit.problems), audit.problems
